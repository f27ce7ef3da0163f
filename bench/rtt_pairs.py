"""Fiber and LEO round trips for city pairs beside published figures; constellation timings.

    python bench/rtt_pairs.py [--snapshots 12,16,32]

The model's columns come from :func:`siting.geo.constellation.compare_rtt` with the default
network settings. "published" is the figure a source reports for that pair, with its kind
(fiber: a measured or advertised cable RTT; LEO: a simulated or measured Starlink RTT). Figures
marked "(unverified)" are quoted from the design notes (/work/shared/DEFAULTS.md) and were not
re-checked against the paper; treat them as approximate.
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np
import pandas as pd

from siting.geo.constellation import compare_rtt, load_shells, rtt_constellation
from siting.inputs.inputs import from_layers
from siting.scenario import load_scenario

# (pair, lat_a, lon_a, lat_b, lon_b, published figure)
PAIRS = [
    ("Seattle-New York", 47.606, -122.332, 40.713, -74.006,
     "fiber 38 ms over a perfect great-circle path, 78 ms measured Internet (DEFAULTS.md); LEO ~36 ms "
     "with ground relays, Handley HotNets 2018 (unverified)"),
    ("New York-London", 40.713, -74.006, 51.507, -0.128,
     "fiber 58.95 ms RTT, Hibernia Express cable as advertised (2015); LEO below fiber past ~3,000 km, "
     "Handley HotNets 2018"),
    ("Paris-Luanda", 48.857, 2.352, -8.839, 13.289,
     "LEO 85-117 ms over the 53 deg shell, Hypatia, Kassing et al. IMC 2020 (unverified)"),
    ("Seattle (same place)", 47.606, -122.332, 47.606, -122.322,
     "LEO access median ~26 ms measured, SpaceX network update 2024 (US; access to the nearest PoP)"),
    ("Sydney-London", -33.869, 151.209, 51.507, -0.128,
     "fiber ~250-280 ms typical Internet RTT (EST, no single published figure found offline)"),
    ("Longyearbyen-Alert (polar)", 78.223, 15.647, 82.502, -62.348,
     "no published figure; only the 70 deg and 97.6 deg shells reach these latitudes"),
]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--snapshots", default="12,16,32")
    args = ap.parse_args()
    net = load_scenario().network
    p = pd.DataFrame(PAIRS, columns=["pair", "lat_a", "lon_a", "lat_b", "lon_b", "published"])
    t = compare_rtt(p["lon_a"], p["lat_a"], p["lon_b"], p["lat_b"], net)
    t.insert(0, "pair", p["pair"])
    pd.set_option("display.width", 200)
    print(t.round(1).to_string(index=False))
    print("\npublished figures:")
    for name, pub in zip(p["pair"], p["published"]):
        print(f"  {name}: {pub}")

    print("\nsnapshot count (median RTT ms of each pair; default 16):")
    shells = load_shells()
    for n in map(int, args.snapshots.split(",")):
        st = rtt_constellation(p["lon_a"], p["lat_a"], p["lon_b"], p["lat_b"], shells=shells, snapshots=n,
                               cache=False)
        i = np.arange(len(p))
        print(f"  {n:3d}: " + " ".join(f"{v:6.1f}" for v in st.median_ms[i, i]))

    sc = load_scenario()
    inp = from_layers(sc)
    s, r = inp.sites, inp.regions
    t0 = time.perf_counter()
    rtt_constellation(r["longitude"], r["latitude"], s["longitude"], s["latitude"], cache=False)
    cold = time.perf_counter() - t0
    rtt_constellation(r["longitude"], r["latitude"], s["longitude"], s["latitude"])  # fills the cache
    t0 = time.perf_counter()
    rtt_constellation(r["longitude"], r["latitude"], s["longitude"], s["latitude"])
    print(f"\ndefault scenario ({len(s)} sites x {len(r)} regions, {sc.network.leo_snapshots} snapshots, "
          f"{int((shells['planes'] * shells['sats_per_plane']).sum())} satellites): {cold:.2f} s uncached; "
          f"a cache hit {time.perf_counter() - t0:.3f} s; load average {os.getloadavg()}")


if __name__ == "__main__":
    main()
