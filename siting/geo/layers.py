"""Read and validate the geospatial layers (energy sources, demand, points of presence).

Cells are read as written (``007`` stays ``007``, ``NA`` is Namibia) and only the known numeric
columns are converted, here, where a blank, ``inf`` or text can be named by field and row.
Each reader returns a GeoDataFrame of WGS84 points indexed by the user's own id, or raises an
:class:`~siting.errors.InputError` naming the layer, field, row and rule. Layers may be CSV
files with ``latitude``/``longitude`` columns, any vector file GDAL reads (GeoJSON, GPKG,
shapefile), or (Geo)DataFrames. Polygons (e.g. demand regions) are reduced to a representative
point computed in an equal-area projection.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely
from pyproj import CRS
from pyproj.exceptions import CRSError
from shapely.validation import explain_validity

from ..errors import InputError, clip, decode_utf8, special_file

__all__ = ["LayerSpec", "SPECS", "split_layer_path", "read_layer", "read_energy_sources", "read_demand", "read_pops"]

WGS84 = "EPSG:4326"
EQUAL_AREA = "EPSG:6933"  # WGS 84 / NSIDC EASE-Grid 2.0 Global (equal area)


@dataclass(frozen=True)
class LayerSpec:
    """What a layer must and may carry; numbers outside ``required`` may be blank (a fallback)."""

    name: str
    id_column: str
    required: tuple[str, ...]
    positive: tuple[str, ...] = ()
    numeric: tuple[str, ...] = field(default=())
    optional: tuple[str, ...] = ()

    @property
    def columns(self) -> tuple[str, ...]:
        """Every column name the tool reads from this layer (targets of a column mapping)."""
        names = (self.id_column, *self.required, *self.numeric, *self.optional, "latitude", "longitude")
        return tuple(dict.fromkeys(names))


SPECS = {
    "energy_sources": LayerSpec(
        "energy_sources", "source_id", ("name", "fuel", "capacity_mw"), ("capacity_mw",),
        ("capacity_mw", "estimated_generation_gwh_2017", "price_usd_per_mwh", "water_limit_m3_per_year",
         "online_year", "lead_time_months", "hydro_dry_year_share", "hydro_critical_period_share"),
        ("country", "basin")),
    "demand": LayerSpec("demand", "region_id", ("name", "population"), ("population",),
                        ("population", "inference_mw", "latency_ms"), ("country",)),
    "pops": LayerSpec("pops", "pop_id", ()),
}
SHAPEFILE_SUFFIXES = (".shp", ".dbf", ".shx")
MOST_COLUMNS_LISTED = 20


def split_layer_path(source) -> tuple[Path, str | None]:
    """``path#layer`` -> (path, layer); a path that exists as written is never split.

    >>> split_layer_path("regions.gpkg#admin1")
    (PosixPath('regions.gpkg'), 'admin1')
    """
    text = str(source)
    if "#" not in text or _exists(Path(text)):
        return Path(text), None
    head, _, layer = text.rpartition("#")
    return Path(head), layer or None


def _exists(path: Path) -> bool:
    try:
        return path.exists()
    except OSError:  # e.g. a name too long for the file system
        return False


def _file_problem(path: Path) -> str | None:
    """Why ``path`` cannot be read as a layer (missing, unreachable, or a special file), else None."""
    try:
        if not path.exists():
            return f"file not found: {clip(path)}"
    except OSError as exc:
        return f"cannot open {clip(path)} ({exc.strerror})"
    kind = special_file(path)
    return f"{clip(path)} is {kind}, not a file: give a CSV or vector file" if kind else None


def _read_any(source, spec: LayerSpec) -> tuple[pd.DataFrame, Path | None]:
    """The layer as a table, and the file it came from (``None`` for a DataFrame)."""
    if isinstance(source, pd.DataFrame):
        return source.copy(), None
    path, layer = split_layer_path(source)
    problem = _file_problem(path)
    if problem:
        raise InputError(spec.name, "path", problem)
    if path.suffix.lower() in (".csv", ".txt"):
        return _read_csv(path, spec), path
    return _read_vector(path, layer, spec), path


def _read_csv(path: Path, spec: LayerSpec) -> pd.DataFrame:
    """Every cell as the text written (``007`` stays ``007``, ``NA`` stays ``NA``)."""
    try:
        text = decode_utf8(path.read_bytes())
    except ValueError as exc:
        raise InputError(spec.name, "path", f"{clip(path)}: {exc}") from None
    if not text.strip():
        return pd.DataFrame()
    _check_field_counts(text, path, spec)
    try:
        return pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False, index_col=False)
    except Exception as exc:  # any parser failure becomes one clear message
        raise InputError(spec.name, "path", f"cannot read {clip(path)}: {clip(exc, 200)}") from None


def _check_field_counts(text: str, path: Path, spec: LayerSpec) -> None:
    """Every record has as many fields as the header (pandas would shift a longer row's values
    into an index and fill a shorter one with blanks)."""
    reader = csv.reader(io.StringIO(text))
    try:
        n = len(next(reader))
        for record in reader:
            if record and len(record) != n:
                raise InputError(spec.name, "path", f"{clip(path)}: line {reader.line_num} has {len(record)} "
                                 f"fields, the header has {n}")
    except csv.Error as exc:
        raise InputError(spec.name, "path", f"cannot read {clip(path)}: line {reader.line_num}: {exc}") from None


def _read_vector(path: Path, layer: str | None, spec: LayerSpec) -> pd.DataFrame:
    """One layer of a vector file; a file with several layers needs ``path#layer``."""
    try:
        names = [str(n) for n in pyogrio.list_layers(path)[:, 0]]
    except Exception as exc:
        raise InputError(spec.name, "path", f"cannot read {clip(path)}: {clip(exc, 200)}") from None
    listed = ", ".join(clip(n, 40) for n in names[:MOST_COLUMNS_LISTED])
    if layer is None and len(names) > 1:
        raise InputError(spec.name, "path", f"{clip(path)} has {len(names)} layers ({listed}): name "
                         f"one as {clip(path)}#{clip(names[0], 40)}")
    if layer is not None and layer not in names:
        raise InputError(spec.name, "path", f"{clip(path)} has no layer {clip(layer)!r} (layers: {listed})")
    try:
        frame = gpd.read_file(path, layer=layer)
    except Exception as exc:  # any reader failure becomes one clear message
        raise InputError(spec.name, "path", f"cannot read {clip(path)}: {clip(exc, 200)}") from None
    if spec.id_column in frame:
        frame[spec.id_column] = frame[spec.id_column].map(_id_text)
    return frame


def _id_text(value):
    """A vector file's id as text: ``7`` and ``7.0`` both become ``'7'``; blanks stay blank."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, float) and not np.isfinite(value):
        return None if np.isnan(value) else repr(value)
    if isinstance(value, (float, np.floating)) and float(value).is_integer():
        return str(int(value))
    return str(value.item() if hasattr(value, "item") else value)


def _map_columns(frame: pd.DataFrame, mapping: dict[str, str], spec: LayerSpec) -> pd.DataFrame:
    """Rename the file's columns to the names the tool reads (``layers.columns.<layer>``)."""
    key = f"layers.columns.{spec.name}"
    for src, dst in mapping.items():
        if src not in frame:
            raise InputError(spec.name, src, f"{key} maps {clip(src)!r} to {dst!r}, but there is no "
                             f"column {clip(src)!r} (the file has: {_listed(frame.columns)})")
        if dst in frame and dst != src:
            raise InputError(spec.name, dst, f"{key} maps {clip(src)!r} to {dst!r}, but the file "
                             f"already has a column {dst!r}: map only one")
    return frame.rename(columns=mapping)


def _listed(columns) -> str:
    names = [clip(c, 40) for c in columns]
    more = len(names) - MOST_COLUMNS_LISTED
    return ", ".join(names[:MOST_COLUMNS_LISTED]) + (f", ... and {more} more" if more > 0 else "")


def _check_columns(frame: pd.DataFrame, spec: LayerSpec, origin: Path | None) -> None:
    for col in (spec.id_column, *spec.required):
        if col in frame:
            continue
        rule = "missing id column" if col == spec.id_column else "missing required column"
        hint = f" (the file has: {_listed(frame.columns) or 'no columns'})"
        if origin is not None and origin.suffix.lower() in SHAPEFILE_SUFFIXES and len(col) > 10:
            hint += (f"; a shapefile (DBF) cuts column names to 10 characters, so map yours in the "
                     f"scenario: layers: {{columns: {{{spec.name}: {{{col[:10]}: {col}}}}}}}")
        raise InputError(spec.name, col, rule + hint)


def _blank(series: pd.Series) -> np.ndarray:
    """True where a cell is empty: missing, or text that is only whitespace."""
    text = series.map(lambda v: isinstance(v, str) and not v.strip())
    return (series.isna() | text.astype(bool)).to_numpy()


def _check_ids(frame: pd.DataFrame, spec: LayerSpec) -> list:
    ids = frame[spec.id_column]
    blank = _blank(ids)
    if blank.any():
        n = int(np.argmax(blank)) + 1  # counted as a person counts: the first data row is 1
        raise InputError(spec.name, spec.id_column, f"missing id in data row {n} (line {n + 1} of a CSV "
                         "file with one header line)")
    dup = ids[ids.duplicated()]
    if len(dup):
        raise InputError(spec.name, spec.id_column, "duplicate id", dup.iloc[0])
    return ids.tolist()


def _check_text(frame: pd.DataFrame, spec: LayerSpec, ids: list) -> None:
    """No NUL character in any text cell; no blank in a required column."""
    for col in frame.columns:
        nul = frame[col].map(lambda v: isinstance(v, str) and "\x00" in v).to_numpy(bool)
        if nul.any():
            raise InputError(spec.name, str(col), "contains a NUL character", ids[int(np.argmax(nul))])
    for col in spec.required:
        missing = np.flatnonzero(_blank(frame[col]))
        if missing.size:
            raise InputError(spec.name, col, "missing value", ids[missing[0]])


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


def _to_points(frame: pd.DataFrame, spec: LayerSpec, ids: list) -> gpd.GeoDataFrame:
    if isinstance(frame, gpd.GeoDataFrame) and getattr(frame, "_geometry_column_name", None) in frame:
        gdf = _check_crs(frame, spec)
        _check_geometries(gdf.geometry, spec, ids)
        geom = _representative_points(gdf.geometry)
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


def _check_geometries(geom: gpd.GeoSeries, spec: LayerSpec, ids: list) -> None:
    for i, g in zip(ids, geom):
        if g is None or g.is_empty:
            raise InputError(spec.name, "geometry", "empty or missing geometry", i)
        if not g.is_valid:
            raise InputError(spec.name, "geometry", f"invalid geometry ({explain_validity(g)}); "
                             "repair it first, e.g. with shapely.make_valid", i)
        if g.geom_type not in ("Point", "Polygon", "MultiPolygon"):
            raise InputError(spec.name, "geometry", f"{g.geom_type} is not a point or polygon", i)


def _half_turn(xy: np.ndarray) -> np.ndarray:
    """Longitudes turned by 180 degrees into [-180, 180) (its own inverse)."""
    return np.column_stack([np.mod(xy[:, 0], 360.0) - 180.0, xy[:, 1]])


def _representative_points(geom: gpd.GeoSeries) -> gpd.GeoSeries:
    """Points as given; each polygon's representative point computed in an equal-area projection.

    A polygon spanning more than 180 degrees of longitude crosses the antimeridian (e.g. Fiji,
    179E..179W): it is turned half a turn so it no longer crosses, and its point turned back.
    """
    polygon = (geom.geom_type != "Point").to_numpy()
    if not polygon.any():
        return geom
    bounds = geom.bounds
    crossing = polygon & ((bounds["maxx"] - bounds["minx"]) > 180).to_numpy()
    shapes = geom.to_numpy().copy()
    shapes[crossing] = shapely.transform(shapes[crossing], _half_turn)
    reps = gpd.GeoSeries(shapes, crs=WGS84).to_crs(EQUAL_AREA).representative_point().to_crs(WGS84)
    points = reps.to_numpy().copy()
    points[crossing] = shapely.transform(points[crossing], _half_turn)
    return gpd.GeoSeries(np.where(polygon, points, geom.to_numpy()), crs=WGS84)


def _number(value) -> float:
    """One cell as a float; blank -> NaN; ``ValueError`` for text, booleans and inf/nan written out.

    >>> _number(" 1e3 "), _number(""), _number(None)
    (1000.0, nan, nan)
    """
    if isinstance(value, (bool, np.bool_)):
        raise ValueError("not a number")
    if isinstance(value, str):
        text = value.strip()
        if not text:
            return np.nan
        number = float(text)
    elif pd.isna(value):
        return np.nan  # a DataFrame's missing value, like a blank cell
    else:
        number = float(value)
    if not np.isfinite(number):
        raise ValueError("not a finite number")
    return number


def _numeric(frame: pd.DataFrame, column: str, spec: LayerSpec, ids) -> np.ndarray:
    """A column as floats (NaN where blank); a cell that is not a finite number names its row."""
    cells = frame[column].tolist()
    values = np.empty(len(cells))
    for i, cell in enumerate(cells):
        try:
            values[i] = _number(cell)
        except (TypeError, ValueError, OverflowError) as exc:
            reason = str(exc) if str(exc) == "not a finite number" else "not a number"
            raise InputError(spec.name, column, f"{reason}: {clip(repr(cell))}", ids[i]) from None
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


def _check_numbers(frame: pd.DataFrame, spec: LayerSpec, ids: list) -> pd.DataFrame:
    """Numeric columns as floats: blank only where a fallback exists, > 0 where required."""
    for col in spec.numeric:
        if col in frame:
            frame[col] = _numeric(frame, col, spec, ids)
    for col in spec.positive:
        bad = np.flatnonzero(~(frame[col].to_numpy() > 0))
        if bad.size:
            raise InputError(spec.name, col, f"must be > 0 (got {frame[col].iloc[bad[0]]})", ids[bad[0]])
    for col in ("inference_mw", "latency_ms", "price_usd_per_mwh"):
        if col in frame:
            v = frame[col].to_numpy()
            bad = np.flatnonzero(np.isfinite(v) & ~(v > 0))
            if bad.size:
                raise InputError(spec.name, col, f"must be > 0 (got {v[bad[0]]})", ids[bad[0]])
    if "lead_time_months" in frame:  # time to power (time: block); 0 is ready at once
        v = frame["lead_time_months"].to_numpy()
        bad = np.flatnonzero(np.isfinite(v) & ~(v >= 0))
        if bad.size:
            raise InputError(spec.name, "lead_time_months", f"must be >= 0 (got {v[bad[0]]})", ids[bad[0]])
    if "water_limit_m3_per_year" in frame:  # 0 is a limit: no water at all
        v = frame["water_limit_m3_per_year"].to_numpy()
        bad = np.flatnonzero(np.isfinite(v) & ~(v >= 0))
        if bad.size:
            raise InputError(spec.name, "water_limit_m3_per_year", f"must be >= 0 (got {v[bad[0]]})", ids[bad[0]])
    return frame


def read_layer(source, layer: str, columns: dict[str, str] | None = None) -> gpd.GeoDataFrame:
    """Read and validate one layer (``energy_sources``, ``demand`` or ``pops``).

    ``source`` is a DataFrame or a path (``path#layer`` names one layer of a multi-layer file);
    ``columns`` maps the file's column names to the ones the tool reads.
    """
    spec = SPECS[layer]
    frame, origin = _read_any(source, spec)
    frame = _map_columns(frame, columns or {}, spec)
    if frame.empty:
        raise InputError(layer, "rows", f"{clip(origin) if origin else 'the layer'} has no rows")
    _check_columns(frame, spec, origin)
    frame = frame.reset_index(drop=True)
    ids = _check_ids(frame, spec)
    _check_text(frame, spec, ids)
    frame = _check_numbers(frame, spec, ids)
    gdf = _to_points(frame, spec, ids)
    return gdf.set_index(spec.id_column, drop=False).rename_axis(None)


def read_energy_sources(source, columns: dict[str, str] | None = None) -> gpd.GeoDataFrame:
    return read_layer(source, "energy_sources", columns)


def read_demand(source, columns: dict[str, str] | None = None) -> gpd.GeoDataFrame:
    return read_layer(source, "demand", columns)


def read_pops(source, columns: dict[str, str] | None = None) -> gpd.GeoDataFrame:
    return read_layer(source, "pops", columns)
