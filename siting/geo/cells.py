"""Satellite service cells: every site in one hexagonal ground cell, and each cell's capacity.

Cells are H3 hexagons (the ``h3`` package, Uber's hierarchical hexagonal grid: a well-kept
library with exact, documented cell geometry; we do not hand-roll a hexagon grid). The default
resolution 5 (mean hexagon 252.9 km², edge ≈ 9.9 km) is the H3 resolution nearest Starlink's
planning cell, "a hexagon inscribed in a 15-mile (24 km) circle, ~379 km²" (Pekhterev,
SatMagazine, Nov 2021; resolution 4 is 1,770 km²); the starlink.com availability map is
reported to draw an H3-like hex grid (sebsebmc/starlink-coverage issue 26). No public source
found states SpaceX's resolution: it is a scenario setting (``network.cell_h3_resolution``).

A cell's capacity per direction (Gbps) = beams that can serve it x Gbps per beam, where the
beams are ``min(satellites in view x beams per satellite per cell, beams per cell)``: up to 8
co-frequency beams may land on one cell within EPFD limits, "from one or more satellites"
(Puchol, 2022). Satellites in view above the minimum elevation come from the constellation of
:mod:`siting.geo.constellation`, over its snapshots of one orbital period (median or another
percentile). Geometry stays here: the model sees one cell position per site and a capacity per
cell.
"""

from __future__ import annotations

import h3
import numpy as np
import pandas as pd

from ..errors import InputError
from ..paths import DATA_DIR
from .constellation import elevation_deg, ground_ecef_km, period_s, walker_ecef_km

__all__ = ["GENERATIONS_CSV", "H3_MAX_RESOLUTION", "load_generations", "site_cells", "satellites_in_view",
           "generation_by_year", "cell_capacity_gbps"]

GENERATIONS_CSV = DATA_DIR / "satellite_generations.csv"
H3_MAX_RESOLUTION = 15  # H3 resolutions are 0..15 (h3geo.org resolution table)


def load_generations(path=GENERATIONS_CSV) -> pd.DataFrame:
    """Per satellite generation: Gbps per beam down and up, beams per satellite per cell, beams
    per cell (the EPFD ceiling), the year most cells are served by it (``year_in_service``), with
    sources; indexed by ``generation``.

    >>> load_generations().loc["gen1", ["gbps_per_beam_down", "gbps_per_beam_up", "beams_per_cell"]].tolist()
    [1.0, 0.25, 8.0]
    """
    table = pd.read_csv(path)
    for col in ("gbps_per_beam_down", "gbps_per_beam_up", "beams_per_satellite_per_cell", "beams_per_cell",
                "year_in_service"):
        v = pd.to_numeric(table[col], errors="coerce")
        bad = ~(v > 0)
        if bad.any():
            row = int(np.argmax(bad.to_numpy()))
            raise InputError("satellite_generations", col, f"must be a number > 0, got {table[col].iloc[row]!r}",
                             table["generation"].iloc[row])
    return table.set_index("generation")


def site_cells(lon, lat, resolution: int) -> tuple[np.ndarray, np.ndarray]:
    """The H3 cell of every point: (position of its cell in the cell list, the cell ids in order
    of first appearance). Two points in one hexagon share a position.

    >>> pos, ids = site_cells([-73.60, -73.61, 2.35], [45.50, 45.50, 48.85], 5)
    >>> pos.tolist(), len(ids), ids[0]
    ([0, 0, 1], 2, '852baa47fffffff')
    """
    if not isinstance(resolution, (int, np.integer)) or not 0 <= resolution <= H3_MAX_RESOLUTION:
        raise InputError("network", "cell_h3_resolution",
                         f"{resolution!r} is not an H3 resolution (an integer 0..{H3_MAX_RESOLUTION})")
    lon, lat = np.atleast_1d(np.asarray(lon, float)), np.atleast_1d(np.asarray(lat, float))
    cells = [h3.latlng_to_cell(float(b), float(a), int(resolution)) for a, b in zip(lon, lat)]
    ids, first, pos = np.unique(np.asarray(cells, dtype=object), return_index=True, return_inverse=True)
    order = np.argsort(first, kind="stable")  # number cells by first appearance
    rank = np.empty(len(ids), np.int64)
    rank[order] = np.arange(len(ids))
    return rank[pos].astype(np.int64), np.asarray(ids[order].tolist(), dtype=object)


def satellites_in_view(lon, lat, shells: pd.DataFrame, *, snapshots: int = 16,
                       min_elevation_deg: float = 25.0) -> np.ndarray:
    """Satellites above ``min_elevation_deg`` seen from each point, per snapshot: shape
    ``(snapshots, n)``; snapshots spread evenly over one orbital period of the lowest shell
    (the times :func:`siting.geo.constellation.path_km_snapshots` uses).

    One equatorial plane of 45 satellites at 550 km, seen from (0, 0) at t = 0: the one
    overhead and its two neighbours 8 deg away (elevation 26.6 deg) are above 25 deg, the next
    (16 deg away) is below the horizon:

    >>> ring = pd.DataFrame({"planes": [1], "sats_per_plane": [45], "inclination_deg": [0.0],
    ...                      "altitude_km": [550.0], "phase_factor": [0]})
    >>> satellites_in_view([0.0], [0.0], ring, snapshots=1).tolist()
    [[3]]
    """
    ground = ground_ecef_km(lon, lat)
    times = np.arange(snapshots) * float(period_s(shells["altitude_km"].min())) / snapshots
    out = np.zeros((snapshots, len(ground)), np.int64)
    for i, t in enumerate(times):
        sats = np.vstack([walker_ecef_km(sh.planes, sh.sats_per_plane, sh.inclination_deg, sh.altitude_km,
                                         sh.phase_factor, t) for sh in shells.itertuples()])
        el, _ = elevation_deg(ground, sats)
        out[i] = (el >= min_elevation_deg).sum(axis=1)
    return out


def generation_by_year(years, in_service, floor: str) -> list[str]:
    """Per year, the newest generation in service by then (``in_service``: generation -> year it
    serves most cells), never older than ``floor`` (the scenario's generation).

    >>> generation_by_year([2024, 2026, 2030], {"gen1": 2021, "v2mini": 2025, "v3": 2028}, "gen1")
    ['gen1', 'v2mini', 'v3']
    >>> generation_by_year([2024, 2030], {"gen1": 2021, "v2mini": 2025, "v3": 2028}, "v2mini")
    ['v2mini', 'v3']
    """
    order = sorted(in_service, key=lambda g: (in_service[g], g))
    low = order.index(floor)
    return [order[max([low] + [i for i, g in enumerate(order) if in_service[g] <= y])] for y in years]


def cell_capacity_gbps(sats_in_view, beams_per_satellite, beams_per_cell, gbps_per_beam):
    """Capacity of a cell in one direction (Gbps): ``min(n_view * beams_per_satellite,
    beams_per_cell) * gbps_per_beam``; vectorised over cells.

    >>> cell_capacity_gbps([3, 20, 0], 1, 8, 0.25).tolist()  # Gen1 uplink: 3 beams, the EPFD cap of 8, none
    [0.75, 2.0, 0.0]
    """
    n = np.asarray(sats_in_view, float)
    return np.minimum(n * float(beams_per_satellite), float(beams_per_cell)) * float(gbps_per_beam)
