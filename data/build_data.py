"""Rebuild the default layers in this folder from the public reference data.

Run from the project root with the reference data beside it::

    python data/build_data.py ../shared/data

Only needed to refresh ``data/``; ``siting solve`` reads the files written here and never the
reference folder. What each output keeps, and from where, is in ``data/README.md``.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd

from siting.physics import pairwise_km

# cloud-region geographies that name a country other than GeoNames does
POP_COUNTRY_ALIASES = {"usa": "united states", "uk": "united kingdom", "uae": "united arab emirates",
                       "korea": "south korea", "kingdom of saudi arabia": "saudi arabia",
                       "people's republic of china": "china", "republic of china": "taiwan"}
FUELS = {"Hydro": "hydro", "Solar": "solar", "Wind": "wind", "Geothermal": "geothermal",
         "Nuclear": "nuclear"}


def main(shared: Path, out: Path) -> None:
    plants = pd.read_csv(shared / "energy_gppd" / "plants.csv")
    plants = plants[plants["primary_fuel"].isin(FUELS)].copy()
    plants["fuel"] = plants["primary_fuel"].map(FUELS)
    plants = plants.rename(columns={"gppd_idnr": "source_id"})
    plants[["source_id", "name", "country", "fuel", "capacity_mw", "latitude", "longitude",
            "estimated_generation_gwh_2017"]].to_csv(out / "energy_sources.csv", index=False)

    # keep_default_na=False: GeoNames writes North America's continent as "NA", which pandas would
    # otherwise read as a missing value (and write back blank)
    cities = pd.read_csv(shared / "demand_cities" / "cities.csv", keep_default_na=False, na_values=[""])
    cities = cities.rename(columns={"geonameid": "region_id", "country_iso3": "country"})
    cities[["region_id", "name", "country", "continent", "latitude", "longitude",
            "population"]].to_csv(out / "cities.csv", index=False)

    pops = pd.read_csv(shared / "cloud_regions" / "cloud_regions.csv")
    pops["pop_id"] = pops["provider"] + ":" + pops["region_id"]
    # a PoP's continent (for the fiber route type): its country's (GeoNames countryInfo, matched by
    # name), else (a geography such as "Europe") that of the nearest place in cities.csv
    countries = pd.read_csv(shared / "demand_cities" / "countries.csv", keep_default_na=False, na_values=[""])
    by_name = dict(zip(countries["name"].str.lower(), countries["continentcode"]))
    geo = pops["geography"].str.strip().str.lower().replace(POP_COUNTRY_ALIASES)
    near = pairwise_km(pops["longitude"], pops["latitude"], cities["longitude"], cities["latitude"]).argmin(axis=1)
    pops["continent"] = geo.map(by_name).fillna(pd.Series(cities["continent"].to_numpy()[near], index=pops.index))
    pops[["pop_id", "display_name", "geography", "continent", "latitude", "longitude"]].to_csv(
        out / "pops.csv", index=False)


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "../shared/data"), Path(__file__).parent)
