"""The plan's record and its files: tables, GeoJSON, maps, plots, safe folders, the audit."""
