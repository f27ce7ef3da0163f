"""LEO round trips over a real constellation: orbits, laser links, shortest paths, cached.

The closed-form :func:`siting.physics.rtt_leo_ms` stretches the great circle by a factor; this
module routes instead. For each time snapshot over one orbital period:

1. satellite positions of every Walker-delta shell in ``data/constellation.csv`` (circular
   orbits, Earth-fixed frame, Earth's rotation included);
2. "+grid" inter-satellite laser links: two in-plane neighbours and the same slot in the two
   adjacent planes (4 per satellite), within a shell only — **no cross-shell links**, so a
   ground pair is served by the best single shell; a link whose line dips below 80 km altitude
   is down in that snapshot (the polar shells' few planes are 45-60 deg apart at the equator);
3. up/down links between a ground point and every satellite seen above the minimum elevation
   (25 deg: Hypatia's setting and SpaceX's filings), as edges from virtual ground nodes that
   only send (sources) or only receive (targets), so no path relays through the ground;
4. :func:`scipy.sparse.csgraph.dijkstra` from the ground nodes of the smaller side, all in one
   call: one-way path length in km, hence ``rtt = 2 * km / c + overhead``.

Per (a, b) pair the median and the 95th percentile over the snapshots are reported (a real
snapshot's value: ``method="inverted_cdf"``); a pair with no path in a snapshot counts as
``inf`` there. Results are cached on disk per (constellation table, ground points, settings) in a
folder under the system temp dir (``SITING_CACHE_DIR`` overrides), never in an output folder.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import dijkstra

from ..errors import InputError, ScenarioError, clip
from ..paths import DATA_DIR
from ..physics import C_KM_PER_S, EARTH_RADIUS_KM

__all__ = ["MU_KM3_PER_S2", "EARTH_ROTATION_RAD_PER_S", "SHELLS_CSV", "load_shells", "period_s",
           "walker_ecef_km", "plus_grid_links", "ground_ecef_km", "elevation_deg", "RttStats",
           "path_km_snapshots", "rtt_constellation", "CacheWarning"]

MU_KM3_PER_S2 = 398_600.4418  # Earth's gravitational parameter (IERS / WGS84)
EARTH_ROTATION_RAD_PER_S = 7.292_115_9e-5  # WGS84 mean angular velocity
SHELLS_CSV = DATA_DIR / "constellation.csv"
SHELL_COLUMNS = ("shell", "planes", "sats_per_plane", "inclination_deg", "altitude_km", "phase_factor")
CACHE_VERSION = "2"  # bump when the routing changes what a cached file means
# a laser link must pass above the dense atmosphere: 80 km grazing altitude, the figure Hypatia
# (Kassing et al., IMC 2020) uses for its maximum ISL length (recalled, not re-checked)
ISL_MIN_ALTITUDE_KM = 80.0


def load_shells(path: str | Path = SHELLS_CSV) -> pd.DataFrame:
    """The constellation table: one Walker-delta shell a row, checked.

    >>> int(load_shells()[["planes", "sats_per_plane"]].prod(axis=1).sum())  # Starlink Gen1
    4408
    """
    try:
        table = pd.read_csv(path)
    except FileNotFoundError:
        raise ScenarioError(f"network.leo_shells: {clip(str(path))}: no such file (a CSV table of shells: "
                            f"{', '.join(SHELL_COLUMNS)})") from None
    except (OSError, UnicodeDecodeError, ValueError) as exc:  # a folder, no permission, not a CSV table
        why = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc).splitlines()[0]
        raise ScenarioError(f"network.leo_shells: {clip(str(path))}: cannot be read as a CSV table "
                            f"({clip(why, 200)})") from None
    for col in SHELL_COLUMNS:
        if col not in table:
            raise InputError("constellation", col, f"missing column (has: {', '.join(table.columns)})")
    for col, lo, hi in (("planes", 1, 1000), ("sats_per_plane", 1, 1000), ("inclination_deg", 0, 180),
                        ("altitude_km", 150, 2000), ("phase_factor", 0, 1000)):
        v = pd.to_numeric(table[col], errors="coerce")
        bad = ~v.between(lo, hi)
        if bad.any():
            row = table.index[np.argmax(bad.to_numpy())]
            raise InputError("constellation", col, f"must be a number in [{lo}, {hi}], got "
                             f"{table.loc[row, col]!r}", table.loc[row, "shell"])
    if table.empty:
        raise InputError("constellation", "shell", "the table has no shell")
    return table


def period_s(altitude_km):
    """Circular orbital period (s) at ``altitude_km`` above the mean Earth radius.

    >>> round(float(period_s(550)) / 60, 1)  # Starlink shell 1: about 95.5 minutes
    95.5
    """
    a = EARTH_RADIUS_KM + np.asarray(altitude_km, float)
    return 2 * np.pi * np.sqrt(a ** 3 / MU_KM3_PER_S2)


def walker_ecef_km(planes, sats_per_plane, inclination_deg, altitude_km, phase_factor, t_s):
    """Earth-fixed positions (km, shape ``(planes * sats_per_plane, 3)``) of a Walker-delta shell
    at time ``t_s``; satellite ``p * S + s`` is slot ``s`` of plane ``p``.

    >>> xyz = walker_ecef_km(72, 22, 53.0, 550, 1, 0.0)
    >>> xyz.shape, bool(np.allclose(np.linalg.norm(xyz, axis=1), EARTH_RADIUS_KM + 550))
    ((1584, 3), True)
    >>> round(float(np.degrees(np.arcsin(xyz[:, 2].max() / (EARTH_RADIUS_KM + 550)))), 0)  # max latitude
    53.0
    """
    P, S = int(planes), int(sats_per_plane)
    r = EARTH_RADIUS_KM + float(altitude_km)
    inc = np.radians(float(inclination_deg))
    n = 2 * np.pi / float(period_s(altitude_km))
    p, s = np.divmod(np.arange(P * S), S)
    raan = 2 * np.pi * p / P - EARTH_ROTATION_RAD_PER_S * t_s  # nodes drift west in the Earth frame
    u = 2 * np.pi * s / S + 2 * np.pi * float(phase_factor) * p / (P * S) + n * t_s
    cu, su, co, so = np.cos(u), np.sin(u), np.cos(raan), np.sin(raan)
    return r * np.column_stack([co * cu - so * su * np.cos(inc), so * cu + co * su * np.cos(inc),
                                su * np.sin(inc)])


def plus_grid_links(planes, sats_per_plane) -> np.ndarray:
    """The "+grid" laser links of one shell as index pairs (each link once): slot ``s`` to ``s+1``
    in its plane and to slot ``s`` of the next plane, wrapping round; 4 links per satellite.

    >>> links = plus_grid_links(72, 22)
    >>> links.shape, int(np.bincount(links.ravel()).min()), int(np.bincount(links.ravel()).max())
    ((3168, 2), 4, 4)
    """
    P, S = int(planes), int(sats_per_plane)
    p, s = np.divmod(np.arange(P * S), S)
    in_plane = np.column_stack([p * S + s, p * S + (s + 1) % S])
    cross = np.column_stack([p * S + s, ((p + 1) % P) * S + s])
    links = np.vstack([in_plane, cross] if P > 1 else [in_plane])
    return np.unique(np.sort(links, axis=1), axis=0) if min(P, S) <= 2 else links


def ground_ecef_km(lon, lat):
    """Earth-fixed positions (km) of ground points on the mean sphere, shape ``(n, 3)``.

    >>> ground_ecef_km([0], [90]).round(1).tolist()
    [[0.0, 0.0, 6371.0]]
    """
    lon, lat = np.radians(np.atleast_1d(np.asarray(lon, float))), np.radians(np.atleast_1d(np.asarray(lat, float)))
    return EARTH_RADIUS_KM * np.column_stack([np.cos(lat) * np.cos(lon), np.cos(lat) * np.sin(lon), np.sin(lat)])


def elevation_deg(ground_km, sats_km):
    """Elevation (deg) of every satellite seen from every ground point, shape ``(n_ground, n_sats)``,
    and the slant ranges (km).

    >>> el, km = elevation_deg(ground_ecef_km([0], [0]), np.array([[EARTH_RADIUS_KM + 550, 0, 0]]))
    >>> float(el[0, 0]), round(float(km[0, 0]), 1)
    (90.0, 550.0)
    """
    d = sats_km[None, :, :] - ground_km[:, None, :]
    rng = np.linalg.norm(d, axis=2)
    up = ground_km / np.linalg.norm(ground_km, axis=1, keepdims=True)
    sin_el = np.einsum("gnk,gk->gn", d, up) / rng
    return np.degrees(np.arcsin(np.clip(sin_el, -1.0, 1.0))), rng


def _snapshot_km(shells: pd.DataFrame, t_s: float, a_km: np.ndarray, b_km: np.ndarray,
                 min_elevation_deg: float) -> np.ndarray:
    """One-way shortest path (km) from every point a to every point b at time ``t_s``."""
    pos, links, offset = [], [], 0
    for sh in shells.itertuples():
        pos.append(walker_ecef_km(sh.planes, sh.sats_per_plane, sh.inclination_deg, sh.altitude_km,
                                  sh.phase_factor, t_s))
        links.append(plus_grid_links(sh.planes, sh.sats_per_plane) + offset)
        offset += sh.planes * sh.sats_per_plane
    sats, isl = np.vstack(pos), np.vstack(links)
    n, na, nb = len(sats), len(a_km), len(b_km)
    isl = isl[_clear_of_earth(sats[isl[:, 0]], sats[isl[:, 1]])]
    isl_km = np.linalg.norm(sats[isl[:, 0]] - sats[isl[:, 1]], axis=1)
    ga, sa = _visible(a_km, sats, min_elevation_deg)
    gb, sb = _visible(b_km, sats, min_elevation_deg)
    # nodes: satellites 0..n-1, sources (a) n..n+na-1, targets (b) after; ground nodes only send
    # (a -> satellite) or only receive (satellite -> b): no path relays through the ground
    rows = np.concatenate([isl[:, 0], isl[:, 1], n + ga[0], sb[0]])
    cols = np.concatenate([isl[:, 1], isl[:, 0], sa[0], n + na + gb[0]])
    w = np.concatenate([isl_km, isl_km, ga[1], sb[1]])
    graph = coo_matrix((w, (rows, cols)), shape=(n + na + nb,) * 2).tocsr()
    dist = dijkstra(graph, directed=True, indices=np.arange(n, n + na))
    return dist[:, n + na:]


def _clear_of_earth(p, q, min_altitude_km: float = ISL_MIN_ALTITUDE_KM) -> np.ndarray:
    """Whether each segment p-q (km, Earth-centred) stays ``min_altitude_km`` above the sphere:
    e.g. the cross-plane links of a shell with few planes cross the Earth near the equator.

    >>> r = EARTH_RADIUS_KM + 560
    >>> _clear_of_earth(np.array([[r, 0, 0], [r, 0, 0]]), np.array([[0, r, 0], [r * np.cos(0.2), r * np.sin(0.2), 0]]))
    array([False,  True])
    """
    d = q - p
    t = np.clip(-np.einsum("ij,ij->i", p, d) / np.maximum(np.einsum("ij,ij->i", d, d), 1e-12), 0.0, 1.0)
    return np.linalg.norm(p + t[:, None] * d, axis=1) >= EARTH_RADIUS_KM + min_altitude_km


def _visible(ground_km, sats, min_elevation_deg):
    """(ground index, slant km) and (satellite index, slant km) of every visible pair."""
    el, rng = elevation_deg(ground_km, sats)
    g, s = np.nonzero(el >= min_elevation_deg)
    return (g, rng[g, s]), (s, rng[g, s])


@dataclass(frozen=True)
class RttStats:
    """Round trips (ms) from points a (rows) to points b (columns) over the snapshots."""

    snapshots_ms: np.ndarray  # (T, n_a, n_b), inf where no path in that snapshot
    times_s: np.ndarray

    def percentile(self, q: float) -> np.ndarray:
        """The ``q``-th percentile over snapshots, a real snapshot's value (inf if unreachable)."""
        return np.percentile(self.snapshots_ms, q, axis=0, method="inverted_cdf")

    @property
    def median_ms(self) -> np.ndarray:
        return self.percentile(50)

    @property
    def p95_ms(self) -> np.ndarray:
        return self.percentile(95)


def path_km_snapshots(a_lon, a_lat, b_lon, b_lat, shells: pd.DataFrame, *, snapshots: int = 16,
                      min_elevation_deg: float = 25.0) -> tuple[np.ndarray, np.ndarray]:
    """One-way path length (km) per snapshot, shape ``(snapshots, n_a, n_b)``, and the times (s)
    spread evenly over one orbital period of the lowest shell. Dijkstra runs from the smaller
    side (the problem is symmetric)."""
    a_km, b_km = ground_ecef_km(a_lon, a_lat), ground_ecef_km(b_lon, b_lat)
    swap = len(a_km) > len(b_km)
    src, dst = (b_km, a_km) if swap else (a_km, b_km)
    times = np.arange(snapshots) * float(period_s(shells["altitude_km"].min())) / snapshots
    km = np.stack([_snapshot_km(shells, t, src, dst, min_elevation_deg) for t in times])
    return (km.transpose(0, 2, 1) if swap else km), times


def _cache_dir() -> Path:
    root = os.environ.get("SITING_CACHE_DIR") or Path(tempfile.gettempdir()) / f"siting-cache-{os.getuid()}"
    return Path(root) / "constellation"


def _key(shells: pd.DataFrame, coords, snapshots: int, min_elevation_deg: float) -> str:
    h = hashlib.sha256(CACHE_VERSION.encode())
    h.update(np.ascontiguousarray(shells[list(SHELL_COLUMNS[1:])].to_numpy(float)).tobytes())
    for c in coords:
        h.update(np.ascontiguousarray(np.asarray(c, float)).tobytes() + b"|")
    h.update(repr((int(snapshots), float(min_elevation_deg))).encode())
    return h.hexdigest()[:32]


def _cache_store(path: Path, km, times) -> None:
    """Keep the round trips for next time; a cache folder that cannot be written costs only the
    reuse (the run goes on uncached, with a warning naming the folder and SITING_CACHE_DIR)."""
    tmp = path.with_suffix(f".{os.getpid()}.tmp.npz")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        np.savez_compressed(tmp, km=km, times_s=times)
        os.replace(tmp, path)
    except OSError as exc:
        with contextlib.suppress(OSError):
            tmp.unlink()
        warnings.warn(f"the constellation's round trips are not cached: cannot write {path.parent} "
                      f"({exc.strerror or exc}); set SITING_CACHE_DIR to a writable folder to reuse them",
                      CacheWarning, stacklevel=3)


class CacheWarning(UserWarning):
    """A cache could not be used; the run goes on without it."""


def rtt_constellation(a_lon, a_lat, b_lon, b_lat, *, shells: pd.DataFrame | None = None,
                      snapshots: int = 16, min_elevation_deg: float = 25.0, overhead_ms: float = 15.0,
                      cache: bool = True) -> RttStats:
    """Round trips (ms) over the constellation between points a and b, every snapshot, cached.

    ``rtt = 2 * path_km / c + overhead_ms`` (the overhead: scheduling and processing, the same
    figure the closed form uses). New York - London over Starlink Gen1 with the defaults:

    >>> st = rtt_constellation([-74.006], [40.713], [-0.128], [51.507], cache=False)
    >>> 50 < float(st.median_ms[0, 0]) <= float(st.p95_ms[0, 0]) < 70
    True
    """
    shells = load_shells() if shells is None else shells
    coords = (a_lon, a_lat, b_lon, b_lat)
    path = _cache_dir() / f"{_key(shells, coords, snapshots, min_elevation_deg)}.npz"
    km = None
    if cache and path.is_file():
        try:
            with np.load(path) as f:
                km, times = f["km"], f["times_s"]
        except (OSError, ValueError, KeyError, EOFError):  # unreadable or torn: computed again
            km = None
    if km is None:
        km, times = path_km_snapshots(*coords, shells, snapshots=snapshots,
                                      min_elevation_deg=min_elevation_deg)
        if cache:
            _cache_store(path, km, times)
    return RttStats(2e3 * np.asarray(km, float) / C_KM_PER_S + overhead_ms, np.asarray(times))


def compare_rtt(lon_a, lat_a, lon_b, lat_b, net, route=None) -> pd.DataFrame:
    """Fiber and LEO round trips (ms) side by side for point pairs, with the scenario's ``network``
    settings: great-circle km, the vacuum bound, fiber over the Internet path (``route``: each
    pair's route type for ``fiber_stretch_model: route``), the closed-form LEO figure and the
    constellation's median and 95th percentile. One row per pair.
    """
    from ..physics import haversine_km

    lon_a, lat_a, lon_b, lat_b = (np.atleast_1d(np.asarray(v, float)) for v in (lon_a, lat_a, lon_b, lat_b))
    d = haversine_km(lon_a, lat_a, lon_b, lat_b)
    stats = rtt_constellation(lon_a, lat_a, lon_b, lat_b, shells=load_shells(net.leo_shells),
                              snapshots=net.leo_snapshots, min_elevation_deg=net.leo_min_elevation_deg,
                              overhead_ms=net.leo_overhead_ms)
    i = np.arange(len(d))
    return pd.DataFrame({
        "great_circle_km": d, "vacuum_rtt_ms": 2e3 * d / C_KM_PER_S,
        "fiber_rtt_ms": net.fiber_rtt_ms(d, 0.0, route),
        "leo_formula_rtt_ms": net.leo_rtt_ms(d),
        "leo_median_rtt_ms": stats.median_ms[i, i], "leo_p95_rtt_ms": stats.p95_ms[i, i]})
