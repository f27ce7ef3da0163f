"""RFC 7946 checks for the GeoJSON the tool writes (independent of the writer)."""

GEOMETRIES = {"Point", "LineString", "MultiLineString", "Polygon", "MultiPolygon", "MultiPoint"}


def _positions(geom):
    t, c = geom["type"], geom["coordinates"]
    if t == "Point":
        return [c]
    if t in ("LineString", "MultiPoint"):
        return c
    if t in ("MultiLineString", "Polygon"):
        return [p for part in c for p in part]
    return [p for poly in c for ring in poly for p in ring]


def rfc7946_problems(doc) -> list[str]:
    bad = []
    if doc.get("type") != "FeatureCollection":
        bad.append("top level is not a FeatureCollection")
    if "crs" in doc:
        bad.append("has a 'crs' member (RFC 7946 4: WGS84 only, no crs)")
    for i, f in enumerate(doc.get("features", [])):
        if f.get("type") != "Feature" or "properties" not in f or "geometry" not in f:
            bad.append(f"feature {i}: not a Feature with geometry and properties")
            continue
        if "id" in f and not isinstance(f["id"], (str, int, float)):
            bad.append(f"feature {i}: id is not a string or number")
        g = f["geometry"]
        if g["type"] not in GEOMETRIES:
            bad.append(f"feature {i}: geometry type {g['type']}")
            continue
        for p in _positions(g):
            if len(p) not in (2, 3) or not (-180 <= p[0] <= 180) or not (-90 <= p[1] <= 90):
                bad.append(f"feature {i}: position {p} is not lon, lat in WGS84")
        lines = ([g["coordinates"]] if g["type"] == "LineString" else
                 g["coordinates"] if g["type"] == "MultiLineString" else [])
        for line in lines:
            if len(line) < 2:
                bad.append(f"feature {i}: line with fewer than two positions")
            for a, b in zip(line, line[1:]):
                if abs(a[0] - b[0]) > 180:
                    bad.append(f"feature {i}: segment crosses the antimeridian unsplit (3.1.9)")
    return bad
