"""`siting sweep` over `time.*` settings (issue 20): a build-out variant is solved as `siting solve`
solves it (its foresight, its schedule), post-checked period by period, and equals solving it alone."""

from __future__ import annotations

from pathlib import Path

import pytest

from siting.explore.sweep import VariantState, sweep
from siting.pipeline import solve_scenario

EXAMPLE = Path(__file__).parents[2] / "models" / "examples" / "southern_africa.yaml"
# without the satellite cells: with them the example's hydro colonies, served by satellite, wait
# for the V3 cells of 2028 whatever their lead time (measured: online 2028, 3,509.7 M$ against
# 2,066.4 M$ and online 2026 uncapped), which hides what this test is about
BASE = ["time.years=[2026,2027,2028]", "time.foresight=myopic", "solver.threads=1", "network.cell_capacity=false"]


def test_a_sweep_over_lead_times_equals_solving_each_build_out_alone(tmp_path):
    from distributed import Client, LocalCluster

    with LocalCluster(n_workers=1, threads_per_worker=1, processes=False, dashboard_address=":0") as cluster, \
            Client(cluster) as client:
        table = sweep(EXAMPLE, {"time.lead_time_months.hydro": [0, 24]}, base_overrides=BASE, scheduler=client,
                      cache_dir=None, out=tmp_path / "sweep", progress=False)
    assert (table["state"] == VariantState.SOLVED).all(), table["error"].tolist()
    for row, months in zip(table.itertuples(), (0, 24)):
        run = solve_scenario(EXAMPLE, overrides=[*BASE, f"time.lead_time_months.hydro={months}"])
        assert row.objective_musd == pytest.approx(run.plan.report.objective, rel=1e-9)
        # building starts a year before 2026 (time.first_build_years = 1): a hydro plant with no
        # lead time takes power in 2026; 24 months later it is ready in 2027 at the earliest
        hydro = run.plan.sites[run.plan.sites["fuel"] == "hydro"]
        assert len(hydro) and hydro["online_year"].min() == (2026 if months == 0 else 2027)
    slow, fast = table["objective_musd"].iloc[1], table["objective_musd"].iloc[0]
    assert slow > fast  # a year of waiting for the hydro leaves 2026's demand to dearer or unmet supply
