"""The plan as a map: one self-contained HTML page (Leaflet, inlined) and a static PNG.

The page is a fixed template (``assets/map.html`` and ``assets/map.js``) with the plan embedded as
JSON data in ``<script type="application/json">``; the script builds every popup and tooltip from
that data with DOM nodes and ``textContent``, so names from user layers are never parsed as HTML
or JavaScript. Leaflet, its CSS and the country outlines are inlined, so the file opens with no
network; OpenStreetMap tiles are an optional online base layer, off by default.
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import re
from importlib.resources import files
from pathlib import Path

import numpy as np
import pandas as pd

__all__ = ["render_map", "render_png", "map_data", "map_page", "countries", "script_json", "unwrap_longitudes",
           "FUEL_COLOURS"]

FUEL_COLOURS = {"hydro": "#1f77b4", "wind": "#2ca02c", "solar": "#ff7f0e",
                "geothermal": "#8c564b", "nuclear": "#9467bd"}
OTHER_COLOUR = "#000000"
STYLE = {"fiber_colour": "#555555", "satellite_colour": "#d62728", "region_colour": "#333333",
         "unmet_colour": "#d62728"}
COPIES_DEG = (-360.0, 0.0, 360.0)
_JSON_ESCAPES = str.maketrans({"<": "\\u003c", ">": "\\u003e", "&": "\\u0026",
                               "\u2028": "\\u2028", "\u2029": "\\u2029"})
_SLOT = re.compile(r"\{\{(\w+)\}\}")


def site_radius_px(it_mw):
    """Circle radius (screen pixels) of a site with ``it_mw`` MW of IT capacity."""
    return 4 + np.sqrt(np.maximum(it_mw, 0.0)) / 2


def region_radius_px(inference_mw):
    """Circle radius (screen pixels) of a demand region with ``inference_mw`` MW of demand."""
    return 2 + np.sqrt(np.maximum(inference_mw, 0.0)) / 3


def unwrap_longitudes(lon_deg) -> np.ndarray:
    """Longitudes (degrees) moved by multiples of 360 into one window of the smallest span.

    The window starts after the widest empty gap around the circle, and is centred within
    [-180, 180] where possible, so a plan around the Pacific is drawn around the Pacific.

    >>> unwrap_longitudes([170.0, -175.0, 160.0]).tolist()
    [170.0, 185.0, 160.0]
    >>> unwrap_longitudes([-10.0, 20.0]).tolist()
    [-10.0, 20.0]
    """
    lon = ((np.asarray(lon_deg, float) + 180.0) % 360.0) - 180.0
    if lon.size < 2:
        return lon
    order = np.sort(lon)
    gaps = np.append(np.diff(order), order[0] + 360.0 - order[-1])
    start = order[(np.argmax(gaps) + 1) % order.size]
    out = np.where(lon < start, lon + 360.0, lon)
    if (out.min() + out.max()) / 2 > 180.0:
        out -= 360.0
    return out


def script_json(obj) -> str:
    """JSON text that is safe inside an HTML ``<script>`` element and in JavaScript source.

    ``<``, ``>`` and ``&`` (which could end the element or open a comment) and U+2028/U+2029
    (line terminators in older JavaScript) are written as ``\\u`` escapes; JSON.parse reads
    them back unchanged.

    >>> script_json({"name": "</script><b>&"})
    '{"name":"\\\\u003c/script\\\\u003e\\\\u003cb\\\\u003e\\\\u0026"}'
    """
    text = json.dumps(obj, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    return text.translate(_JSON_ESCAPES)


def _asset(name: str) -> str:
    return (files("siting.outputs") / "assets" / name).read_text(encoding="utf-8")


def _asset_bytes(name: str) -> bytes:
    return (files("siting.outputs") / "assets" / name).read_bytes()


def countries() -> dict:
    """Country outlines shipped with the package (Natural Earth 1:110m, 0.1 degree precision)."""
    return json.loads(_asset("countries_110m.geojson"))


def _text(v) -> str:
    return "" if v is None or (isinstance(v, float) and np.isnan(v)) else str(v)


def _f(v, fmt: str) -> str:
    try:
        return format(float(v), fmt)
    except (TypeError, ValueError):
        return _text(v)


def _size_steps(max_mw: float) -> list[float]:
    """Up to three round IT capacities (MW) that span the plan's site sizes, for the legend."""
    steps = [mw for mw in (10, 30, 100, 300, 1000, 3000, 10000, 30000) if mw <= max(max_mw, 10)]
    return steps[-3:]


def _mpl(text: str) -> str:
    """Text for matplotlib with ``$`` escaped, so a name is never read as mathtext."""
    return text.replace("$", r"\$")


def _short(text: str, width: int = 24) -> str:
    """``text`` cut to ``width`` characters (with an ellipsis), for the PNG legend."""
    return text if len(text) <= width else text[:width - 1] + "\u2026"


def _round(v: float) -> float:
    return round(float(v), 4)


def map_data(plan, inp) -> dict:
    """Everything the map draws, as plain JSON-able data: positions, sizes, colours and texts.

    Longitudes are unwrapped (see :func:`unwrap_longitudes`) over the plan's sites and regions;
    radii are screen pixels; ``rows`` are the popup's (label, text) pairs.
    """
    sites, regions = plan.sites.reset_index(drop=True), plan.regions.reset_index(drop=True)
    lon = unwrap_longitudes(np.concatenate([sites["longitude"].to_numpy(float),
                                            regions["longitude"].to_numpy(float)]))
    site_lon = pd.Series(lon[:len(sites)], index=sites["site_id"].to_numpy())
    region_lon = pd.Series(lon[len(sites):], index=regions["region_id"].to_numpy())
    site_xy = inp.sites.set_index("site_id")[["latitude", "longitude"]]
    reg_xy = inp.regions.set_index("region_id")[["latitude", "longitude"]]

    site_items = []
    for i, s in sites.iterrows():
        fuel = _text(s.get("fuel", ""))
        site_items.append({
            "lat": _round(s["latitude"]), "lon": _round(site_lon.iloc[i]),
            "radius": _round(site_radius_px(s["it_mw"])), "fuel": fuel, "it_mw": _round(s["it_mw"]),
            "colour": FUEL_COLOURS.get(fuel, OTHER_COLOUR), "name": _text(s["name"]),
            "rows": [["site", _text(s["name"])], ["id", _text(s["site_id"])], ["fuel", fuel],
                     ["IT MW", _f(s["it_mw"], ".0f")], ["cooling", _text(s.get("cooling"))],
                     ["inference MW", _f(s["inference_mw"], ".1f")],
                     ["training MW", _f(s["training_mw"], ".1f")],
                     ["power used / firm MW", f"{_f(s['power_used_mw'], '.0f')} / {_f(s['firm_mw'], '.0f')}"],
                     ["energy $/MWh", _f(s.get("price_usd_per_mwh"), ".1f")],
                     ["backhaul", _text(s.get("backhaul"))], ["satellite Gbps", _f(s.get("sat_gbps"), ".0f")],
                     ["PV cost M$", _f(s["total_musd"], ",.0f")]]})
        if plan.schedule is not None:  # a build-out: the period control sizes each site by its MW then
            built = plan.schedule[plan.schedule["site_id"] == s["site_id"]]
            site_items[-1]["radius_by_year"] = {str(int(y)): (_round(site_radius_px(mw)) if mw > 0 else 0)
                                                for y, mw in zip(built["year"], built["it_mw"])}
            site_items[-1]["rows"].insert(3, ["online year", _f(s.get("online_year"), ".0f")])
    region_items = []
    for i, r in regions.iterrows():
        region_items.append({
            "lat": _round(r["latitude"]), "lon": _round(region_lon.iloc[i]),
            "radius": _round(region_radius_px(r["inference_mw"])), "unmet": bool(r["unmet_mw"] > 1e-6),
            "name": _text(r["name"]),
            "rows": [["region", _text(r["name"])], ["inference MW", _f(r["inference_mw"], ".1f")],
                     ["served MW", _f(r["served_mw"], ".1f")], ["by satellite MW", _f(r["satellite_mw"], ".1f")],
                     ["unmet MW", _f(r["unmet_mw"], ".1f")], ["sites", _text(r["n_sites"])],
                     ["latency limit ms", _f(r["latency_ms"], ".0f")]]})
    link_items = []
    for a in plan.assignments.itertuples():
        s, r = site_xy.loc[a.site_id], reg_xy.loc[a.region_id]
        lon_s = site_lon.get(a.site_id, s["longitude"])
        lon_r = region_lon.get(a.region_id, r["longitude"])
        lon_r += 360.0 * np.round((lon_s - lon_r) / 360.0)  # the short way round
        link_items.append({
            "latlngs": [[_round(s["latitude"]), _round(lon_s)], [_round(r["latitude"]), _round(lon_r)]],
            "satellite": a.link != "fiber", "weight": _round(1 + 3 * min(a.share_of_region, 1.0)),
            "label": f"{_text(a.region_name)} <- {_text(a.site_name)}: {a.mw:.1f} MW over {_text(a.link)}, "
                     f"{a.rtt_ms:.0f} ms"})

    lats = [p["lat"] for p in site_items + region_items]
    lons = [p["lon"] for p in site_items + region_items]
    fuels = sorted({p["fuel"] for p in site_items})
    max_mw = float(sites["it_mw"].max()) if len(sites) else 0.0
    return {
        "title": f"siting plan: {_text(plan.summary.get('scenario', 'scenario'))}",
        "bounds": [[min(lats), min(lons)], [max(lats), max(lons)]] if lats else None,
        "copies_deg": list(COPIES_DEG), "style": STYLE,
        "legend": {"fuels": [{"fuel": f or "unknown", "colour": FUEL_COLOURS.get(f, OTHER_COLOUR)} for f in fuels],
                   "sizes": [{"mw": mw, "label": f"{mw:,} MW", "radius": _round(site_radius_px(mw))}
                             for mw in _size_steps(max_mw)]},
        "sites": site_items, "regions": region_items, "links": link_items,
        "years": [] if plan.schedule is None else sorted(int(y) for y in plan.schedule["year"].unique())}


def _css_with_inline_images(css: str) -> str:
    """Leaflet's CSS with ``url(images/x.png)`` as data URIs (images not shipped: ``none``)."""
    shipped = {p.name for p in (files("siting.outputs") / "assets" / "leaflet" / "images").iterdir()}

    def inline(m: re.Match) -> str:
        name = m.group(1)
        if name not in shipped:
            return "none"
        data = base64.b64encode(_asset_bytes(f"leaflet/images/{name}")).decode("ascii")
        return f"url(data:image/png;base64,{data})"
    return re.sub(r"url\(images/([\w.-]+)\)", inline, css)


def _csp_hash(script: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(script.encode("utf-8")).digest()).decode("ascii") + "'"


def map_page(data: dict) -> str:
    """The self-contained HTML page for :func:`map_data` output (Leaflet and outlines inlined)."""
    leaflet_js = _asset("leaflet/leaflet.js").replace("//# sourceMappingURL=leaflet.js.map", "")
    map_js = _asset("map.js")
    for name, text, end in (("leaflet.js", leaflet_js, "</script"), ("map.js", map_js, "</script")):
        if end in text.lower():
            raise ValueError(f"asset {name} contains {end!r} and cannot be inlined")
    # Only the two shipped scripts may run: an injected script would be refused (and logged).
    csp = ("default-src 'none'; style-src 'unsafe-inline'; img-src data: https://tile.openstreetmap.org; "
           f"script-src {_csp_hash(leaflet_js)} {_csp_hash(map_js)}")
    slots = {"csp": html.escape(csp), "title": html.escape(data["title"]),
             "leaflet_css": _css_with_inline_images(_asset("leaflet/leaflet.css")), "map_css": _asset("map.css"),
             "plan_json": script_json(data), "countries_json": script_json(countries()),
             "leaflet_js": leaflet_js, "map_js": map_js}
    return _SLOT.sub(lambda m: slots[m.group(1)], _asset("map.html"))  # one pass: data is never re-scanned


def render_map(plan, inp, path) -> None:
    """Write ``path``: one HTML file that draws the plan with no network (Leaflet inlined)."""
    Path(path).write_text(map_page(map_data(plan, inp)), encoding="utf-8")


def _mercator_y(lat_deg):
    """Web-Mercator northing in degree-like units (equal to longitude degrees at the equator)."""
    lat = np.radians(np.clip(np.asarray(lat_deg, float), -85.0, 85.0))
    return np.degrees(np.log(np.tan(np.pi / 4 + lat / 2)))


def _rings(geometry: dict):
    polys = [geometry["coordinates"]] if geometry["type"] == "Polygon" else geometry["coordinates"]
    for poly in polys:
        yield np.asarray(poly[0], float)


def render_png(plan, inp, path, *, width_in: float = 14.0, height_in: float = 8.0, dpi: int = 100) -> None:
    """Write ``path``: a static PNG of the same map (Web Mercator), ``width_in`` x ``height_in`` inches."""
    import warnings

    with warnings.catch_warnings():  # a name in a script the font lacks is drawn as boxes, quietly
        warnings.filterwarnings("ignore", message="Glyph .* missing from")
        warnings.filterwarnings("ignore", message=".*missing from font")
        _render_png(plan, inp, path, width_in, height_in, dpi)


def _render_png(plan, inp, path, width_in: float, height_in: float, dpi: int) -> None:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.collections import LineCollection, PolyCollection
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D

    data = map_data(plan, inp)
    fig = Figure(figsize=(width_in, height_in), dpi=dpi)
    FigureCanvasAgg(fig)
    ax = fig.add_axes((0.01, 0.01, 0.80, 0.93))  # keep in step with ``box`` below
    ax.set_facecolor("#d7e6f2")
    polys = [np.column_stack([ring[:, 0] + off, _mercator_y(ring[:, 1])])
             for f in countries()["features"] for ring in _rings(f["geometry"]) for off in data["copies_deg"]]
    ax.add_collection(PolyCollection(polys, facecolors="#f3f0e8", edgecolors="#9a9a9a", linewidths=0.4,
                                     zorder=1))
    for satellite in (False, True):
        segs = [np.array([[p[1], _mercator_y(p[0])] for p in a["latlngs"]])
                for a in data["links"] if a["satellite"] == satellite]
        widths = [a["weight"] * 0.75 for a in data["links"] if a["satellite"] == satellite]
        if segs:
            colour = STYLE["satellite_colour" if satellite else "fiber_colour"]
            ax.add_collection(LineCollection(segs, colors=colour, linewidths=widths, alpha=0.6, zorder=2,
                                             linestyles=(0, (4, 4)) if satellite else "solid"))
    px_to_pt = 72.0 / dpi
    reg, sit = data["regions"], data["sites"]
    if reg:
        ax.scatter([r["lon"] for r in reg], _mercator_y([r["lat"] for r in reg]),
                   s=[(2 * r["radius"] * px_to_pt) ** 2 for r in reg], facecolors="none", linewidths=0.8,
                   edgecolors=[STYLE["unmet_colour" if r["unmet"] else "region_colour"] for r in reg], zorder=3)
    if sit:
        ax.scatter([s["lon"] for s in sit], _mercator_y([s["lat"] for s in sit]),
                   s=[(2 * s["radius"] * px_to_pt) ** 2 for s in sit], c=[s["colour"] for s in sit],
                   alpha=0.8, edgecolors=[s["colour"] for s in sit], linewidths=1.0, zorder=4)
    if data["bounds"]:
        (s_lat, w_lon), (n_lat, e_lon) = data["bounds"]
        cx, half = (w_lon + e_lon) / 2, max(e_lon - w_lon, 10.0) / 2 + 5.0
        y0, y1 = _mercator_y(s_lat), _mercator_y(n_lat)
        cy, half_y = (y0 + y1) / 2, max(y1 - y0, 10.0) / 2 + 5.0
    else:
        cx, half, cy, half_y = 0.0, 180.0, 20.0, 80.0
    box = (0.80 * width_in) / (0.93 * height_in)  # width / height of the axes
    half, half_y = max(half, half_y * box), max(half_y, half / box)
    ax.set_xlim(cx - half, cx + half)
    ax.set_ylim(cy - half_y, cy + half_y)
    ax.set_aspect("equal", adjustable="box")
    ax.set_xticks([])
    ax.set_yticks([])
    handles = [Line2D([], [], ls="", marker="o", ms=9, color=f["colour"], label=_mpl(_short(f["fuel"])))
               for f in data["legend"]["fuels"]]
    handles += [Line2D([], [], ls="", marker="o", mfc="none", mec="#444", ms=2 * z["radius"] * px_to_pt,
                       label=f"site {z['label']} IT") for z in data["legend"]["sizes"]]
    handles += [Line2D([], [], color=STYLE["fiber_colour"], lw=2, label="fiber"),
                Line2D([], [], color=STYLE["satellite_colour"], lw=2, ls=(0, (4, 4)), label="satellite"),
                Line2D([], [], ls="", marker="o", mfc="none", mec=STYLE["region_colour"], ms=7,
                       label="demand region"),
                Line2D([], [], ls="", marker="o", mfc="none", mec=STYLE["unmet_colour"], ms=7,
                       label="region with unmet demand")]
    ax.legend(handles=handles, loc="center left", bbox_to_anchor=(1.01, 0.5), fontsize=9, frameon=False,
              labelspacing=1.4, handlelength=3.5, borderaxespad=0.0)
    fig.suptitle(_mpl(data["title"]), fontsize=13, y=0.985)
    ax.text(0.005, 0.005, "Countries: Natural Earth (public domain)", transform=ax.transAxes, fontsize=7,
            color="#666", zorder=5)
    fig.savefig(path, format="png")
