"""An HTML map (Leaflet via folium) of a plan that a person can open, with popups."""

from __future__ import annotations

import html

import folium
import numpy as np

__all__ = ["render_map"]

FUEL_COLOURS = {"hydro": "#1f77b4", "wind": "#2ca02c", "solar": "#ff7f0e",
                "geothermal": "#8c564b", "nuclear": "#9467bd"}


def _table(fields: dict) -> str:
    rows = "".join(f"<tr><th style='text-align:left'>{html.escape(str(k))}</th>"
                   f"<td>{html.escape(str(v))}</td></tr>" for k, v in fields.items())
    return f"<table>{rows}</table>"


def render_map(plan, inp, path) -> None:
    """Write ``path``: sites sized by IT MW, regions (red where demand is unmet), links."""
    fmap = folium.Map(location=[20, 0], zoom_start=2, tiles="OpenStreetMap", world_copy_jump=True)
    links = folium.FeatureGroup(name="links (dashed: satellite)")
    site_xy = inp.sites.set_index("site_id")[["latitude", "longitude"]]
    reg_xy = inp.regions.set_index("region_id")[["latitude", "longitude"]]
    for a in plan.assignments.itertuples():
        s, r = site_xy.loc[a.site_id], reg_xy.loc[a.region_id]
        lon_r = r["longitude"]
        if abs(lon_r - s["longitude"]) > 180:  # draw the short way round
            lon_r += 360 if s["longitude"] > lon_r else -360
        folium.PolyLine([(s["latitude"], s["longitude"]), (r["latitude"], lon_r)],
                        weight=1 + 3 * min(a.share_of_region, 1.0), opacity=0.6,
                        color="#555" if a.link == "fiber" else "#d62728",
                        dash_array=None if a.link == "fiber" else "6 6",
                        tooltip=f"{a.region_name} <- {a.site_name}: {a.mw:.1f} MW over {a.link}, "
                                f"{a.rtt_ms:.0f} ms").add_to(links)
    regions = folium.FeatureGroup(name="demand regions")
    for r in plan.regions.itertuples():
        folium.CircleMarker((r.latitude, r.longitude), radius=2 + np.sqrt(r.inference_mw) / 3,
                            color="#d62728" if r.unmet_mw > 1e-6 else "#333", fill=True,
                            fill_opacity=0.4, weight=1,
                            popup=folium.Popup(_table({
                                "region": r.name, "inference MW": f"{r.inference_mw:.1f}",
                                "served MW": f"{r.served_mw:.1f}",
                                "by satellite MW": f"{r.satellite_mw:.1f}",
                                "unmet MW": f"{r.unmet_mw:.1f}", "sites": r.n_sites,
                                "latency limit ms": f"{r.latency_ms:.0f}"}), max_width=300)
                            ).add_to(regions)
    sites = folium.FeatureGroup(name="compute colonies")
    for s in plan.sites.itertuples():
        folium.CircleMarker((s.latitude, s.longitude), radius=4 + np.sqrt(s.it_mw) / 2,
                            color=FUEL_COLOURS.get(getattr(s, "fuel", ""), "#000"), fill=True,
                            fill_opacity=0.8,
                            popup=folium.Popup(_table({
                                "site": s.name, "id": s.site_id, "fuel": getattr(s, "fuel", ""),
                                "IT MW": f"{s.it_mw:.0f}", "cooling": s.cooling,
                                "inference MW": f"{s.inference_mw:.1f}",
                                "training MW": f"{s.training_mw:.1f}",
                                "power used / firm MW": f"{s.power_used_mw:.0f} / {s.firm_mw:.0f}",
                                "energy $/MWh": f"{getattr(s, 'price_usd_per_mwh', float('nan')):.1f}",
                                "backhaul": s.backhaul, "satellite Gbps": f"{s.sat_gbps:.0f}",
                                "PV cost M$": f"{s.total_musd:,.0f}"}), max_width=320),
                            tooltip=s.name).add_to(sites)
    for layer in (links, regions, sites):
        layer.add_to(fmap)
    folium.LayerControl().add_to(fmap)
    fmap.save(str(path))
