"""Solve the N-1 model by scenario generation: only the recourse blocks that bind.

Building every failure group's recourse block at once grows the model with the square of the
candidates (the default's 250 candidates refuse it); the loop here starts with no block, adds
the blocks of the failure groups the independent post-check
(:func:`siting.outputs.audit_n_minus_1.n_minus_1_check`) finds short, and repeats until every failure
passes.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import pandas as pd

from ..errors import InputError
from ..inputs.periods import one_period_only
from ..outputs.audit import require_clean
from ..outputs.audit_n_minus_1 import n_minus_1_check
from ..pipeline import solve_inputs

__all__ = ["solve_n_minus_1"]


def solve_n_minus_1(inp, opts, *, max_rounds: int = 10, progress: Callable[[str], None] | None = None):
    """Solve the N-1 model by scenario generation: start with no recourse block, add the blocks
    of the failure groups the post-check finds short, repeat until every failure passes.

    Each round's model is a relaxation of the full N-1 model (fewer blocks), so the final plan,
    which passes every failure, is optimal for the full model within the solver's gap, and its
    bound is a valid bound. Returns ``(plan, inputs of the last round, rounds)``, ``rounds`` a
    table of groups added, objective and bound per round.
    """
    say = progress or (lambda _m: None)
    one_period_only(inp.periods, "the N-1 loop")  # a build-out's studies are not yet over periods (issue 20)
    if inp.n_minus_1_share is None:
        raise InputError("demand", "n_minus_1_share", "is off (null); set a share in (0, 1] to solve N-1")
    groups: tuple = ()
    log = []
    for rnd in range(1, max_rounds + 1):
        cur = dataclasses.replace(inp, n_minus_1_groups=groups)
        plan = solve_inputs(cur, opts, check=False)  # a round's plan may fail groups without a block
        check = n_minus_1_check(plan, cur)
        short = tuple(int(g) for g in check.loc[~check["meets"], "failed_group"])
        log.append({"round": rnd, "blocks": len(groups), "objective_musd": plan.report.objective,
                    "bound_musd": plan.report.best_bound, "short_groups": len(short)})
        say(f"N-1 round {rnd}: {len(groups)} blocks, objective {plan.report.objective:,.1f} M$, "
            f"{len(short)} failure groups short")
        if not short:
            require_clean(plan, inp)  # every rule, every failure group
            return plan, cur, pd.DataFrame(log)
        if set(short) <= set(groups):
            raise RuntimeError(f"N-1: groups {short} have recourse blocks yet fail the post-check")
        groups = tuple(sorted(set(groups) | set(short)))
    raise RuntimeError(f"N-1: still short after {max_rounds} rounds ({len(groups)} blocks)")
