"""Read and validate the geospatial layers (energy sources, demand, points of presence).

Each reader returns a GeoDataFrame of WGS84 points indexed by the user's own id, or raises an
:class:`~siting.errors.InputError` naming the layer, field, row and rule. Layers may be CSV
files with ``latitude``/``longitude`` columns, any vector file GDAL reads (GeoJSON, GPKG,
shapefile), or (Geo)DataFrames. Polygons (e.g. demand regions) are reduced to a representative
point computed in an equal-area projection.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
from pyproj import CRS
from pyproj.exceptions import CRSError
from shapely.validation import explain_validity

from .errors import InputError

__all__ = ["LayerSpec", "SPECS", "read_layer", "read_energy_sources", "read_demand", "read_pops"]

WGS84 = "EPSG:4326"
EQUAL_AREA = "EPSG:6933"  # WGS 84 / NSIDC EASE-Grid 2.0 Global (equal area)


@dataclass(frozen=True)
class LayerSpec:
    name: str
    id_column: str
    required: tuple[str, ...]
    positive: tuple[str, ...] = ()
    numeric: tuple[str, ...] = field(default=())


SPECS = {
    "energy_sources": LayerSpec(
        "energy_sources", "source_id", ("name", "fuel", "capacity_mw"), ("capacity_mw",),
        ("capacity_mw", "estimated_generation_gwh_2017", "price_usd_per_mwh")),
    "demand": LayerSpec("demand", "region_id", ("name", "population"), ("population",),
                        ("population", "inference_mw", "latency_ms")),
    "pops": LayerSpec("pops", "pop_id", ()),
}


def _read_any(source, spec: LayerSpec) -> pd.DataFrame:
    if isinstance(source, pd.DataFrame):
        return source.copy()
    path = Path(source)
    if not path.exists():
        raise InputError(spec.name, "path", f"file not found: {path}")
    try:
        if path.suffix.lower() in (".csv", ".txt"):
            return pd.read_csv(path)
        return gpd.read_file(path)
    except Exception as exc:  # any reader failure becomes one clear message
        raise InputError(spec.name, "path", f"cannot read {path}: {exc}") from None


def _check_crs(frame: gpd.GeoDataFrame, spec: LayerSpec) -> gpd.GeoDataFrame:
    if frame.crs is None:
        raise InputError(spec.name, "crs", "no CRS given: set one (WGS84 is EPSG:4326) so the "
                         "coordinates can be placed")
    try:
        crs = CRS.from_user_input(frame.crs)
    except CRSError as exc:
        raise InputError(spec.name, "crs", f"unknown CRS ({exc})") from None
    if crs.equals(CRS.from_epsg(4326)):
        return frame
    try:
        return frame.to_crs(WGS84)
    except Exception as exc:
        raise InputError(spec.name, "crs", f"cannot reproject {crs.name} to WGS84: {exc}") from None


def _to_points(frame: pd.DataFrame, spec: LayerSpec) -> gpd.GeoDataFrame:
    ids = frame[spec.id_column].tolist()
    if isinstance(frame, gpd.GeoDataFrame) and getattr(frame, "_geometry_column_name", None) in frame:
        gdf = _check_crs(frame, spec)
        geom = gdf.geometry
        for i, g in zip(ids, geom):
            if g is None or g.is_empty:
                raise InputError(spec.name, "geometry", "empty or missing geometry", i)
            if not g.is_valid:
                raise InputError(spec.name, "geometry", f"invalid geometry ({explain_validity(g)}); "
                                 "repair it first, e.g. with shapely.make_valid", i)
            if g.geom_type not in ("Point", "Polygon", "MultiPolygon"):
                raise InputError(spec.name, "geometry", f"{g.geom_type} is not a point or polygon", i)
        if (geom.geom_type != "Point").any():
            # representative point of each polygon, computed in an equal-area projection
            reps = geom.to_crs(EQUAL_AREA).representative_point().to_crs(WGS84)
            geom = gpd.GeoSeries(np.where(geom.geom_type == "Point", geom, reps), crs=WGS84)
        lon, lat = geom.x.to_numpy(), geom.y.to_numpy()
        out = pd.DataFrame(gdf.drop(columns=gdf.geometry.name))
    else:
        for col in ("latitude", "longitude"):
            if col not in frame:
                raise InputError(spec.name, col, "missing column (need latitude and longitude in "
                                 "WGS84 degrees, or a geometry)")
        lon = _numeric(frame, "longitude", spec, ids)
        lat = _numeric(frame, "latitude", spec, ids)
        out = pd.DataFrame(frame.drop(columns=["latitude", "longitude"]))
    _check_coordinates(lon, lat, spec, ids)
    out["longitude"], out["latitude"] = lon, lat
    return gpd.GeoDataFrame(out, geometry=gpd.points_from_xy(lon, lat), crs=WGS84)


def _numeric(frame: pd.DataFrame, column: str, spec: LayerSpec, ids) -> np.ndarray:
    values = pd.to_numeric(frame[column], errors="coerce").to_numpy(dtype=float)
    bad = np.flatnonzero(np.isnan(values) & frame[column].notna().to_numpy())
    if bad.size:
        raise InputError(spec.name, column, f"not a number: {frame[column].iloc[bad[0]]!r}",
                         ids[bad[0]])
    return values


def _check_coordinates(lon, lat, spec: LayerSpec, ids) -> None:
    for name, values in (("longitude", lon), ("latitude", lat)):
        bad = np.flatnonzero(~np.isfinite(values))
        if bad.size:
            raise InputError(spec.name, name, "missing (NaN) coordinate", ids[bad[0]])
    bad = np.flatnonzero(np.abs(lat) > 90)
    if bad.size:
        i = bad[0]
        hint = (" - latitude and longitude look swapped" if abs(lon[i]) <= 90 else "")
        raise InputError(spec.name, "latitude", f"{lat[i]} is outside [-90, 90]{hint}", ids[i])
    bad = np.flatnonzero(np.abs(lon) > 180)
    if bad.size:
        raise InputError(spec.name, "longitude", f"{lon[bad[0]]} is outside [-180, 180] "
                         "(coordinates must be WGS84 degrees)", ids[bad[0]])


def read_layer(source, layer: str) -> gpd.GeoDataFrame:
    """Read and validate one layer (``energy_sources``, ``demand`` or ``pops``)."""
    spec = SPECS[layer]
    frame = _read_any(source, spec)
    if spec.id_column not in frame:
        raise InputError(layer, spec.id_column, "missing id column")
    for col in spec.required:
        if col not in frame:
            raise InputError(layer, col, "missing required column")
    ids = frame[spec.id_column]
    if ids.isna().any():
        raise InputError(layer, spec.id_column, "missing id", f"position {int(np.argmax(ids.isna()))}")
    dup = ids[ids.duplicated()]
    if len(dup):
        raise InputError(layer, spec.id_column, "duplicate id", dup.iloc[0])
    frame = frame.reset_index(drop=True)
    ids = frame[spec.id_column].tolist()
    for col in spec.required:
        missing = np.flatnonzero(frame[col].isna().to_numpy())
        if missing.size:
            raise InputError(layer, col, "missing value", ids[missing[0]])
    for col in spec.numeric:
        if col in frame:
            frame[col] = _numeric(frame, col, spec, ids)
    for col in spec.positive:
        bad = np.flatnonzero(~(frame[col].to_numpy() > 0))
        if bad.size:
            raise InputError(layer, col, f"must be > 0 (got {frame[col].iloc[bad[0]]})", ids[bad[0]])
    for col in ("inference_mw", "latency_ms", "price_usd_per_mwh"):
        if col in frame:
            v = frame[col].to_numpy()
            bad = np.flatnonzero(np.isfinite(v) & ~(v > 0))
            if bad.size:
                raise InputError(layer, col, f"must be > 0 (got {v[bad[0]]})", ids[bad[0]])
    gdf = _to_points(frame, spec)
    return gdf.set_index(spec.id_column, drop=False).rename_axis(None)


def read_energy_sources(source) -> gpd.GeoDataFrame:
    return read_layer(source, "energy_sources")


def read_demand(source) -> gpd.GeoDataFrame:
    return read_layer(source, "demand")


def read_pops(source) -> gpd.GeoDataFrame:
    return read_layer(source, "pops")
