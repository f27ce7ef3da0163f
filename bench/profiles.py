"""Time the hourly profiles and their reduction to representative days (issue 12).

    python bench/profiles.py [--sites 10,100,1000] [--days 4]

Solar and wind profiles for the first N solar / wind plants of the default layer, then the reduction to
representative days on all 2N columns. Prints the load average beside the times (the machine is shared).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import pandas as pd

from siting.energy import profiles
from siting.paths import DATA_DIR


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sites", default="10,100,1000")
    ap.add_argument("--days", type=int, default=4)
    args = ap.parse_args()
    plants = pd.read_csv(DATA_DIR / "energy_sources.csv")
    for n in map(int, args.sites.split(",")):
        sol = plants[plants["fuel"] == "solar"].head(n)
        win = plants[plants["fuel"] == "wind"].head(n)
        t0 = time.perf_counter()
        s = profiles.scale_to_mean(profiles.solar_cf(sol["latitude"], sol["longitude"]), np.full(len(sol), 0.22))
        t1 = time.perf_counter()
        w = profiles.wind_cf(win["latitude"], win["longitude"], np.full(len(win), 0.33), win["source_id"])
        t2 = time.perf_counter()
        cf, weights = profiles.representative_days(np.vstack([s, w]), args.days)
        t3 = time.perf_counter()
        load = Path("/proc/loadavg").read_text().split()[0]
        print(f"{len(sol)} solar + {len(win)} wind: solar {t1 - t0:.2f} s, wind {t2 - t1:.2f} s, "
              f"representative days ({args.days}) {t3 - t2:.2f} s; weights {weights.tolist()} (load {load})")


if __name__ == "__main__":
    main()
