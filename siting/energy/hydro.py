"""Firm hydro power on a dry year: the share of a mean year's firm power a hydro source keeps.

``energy.hydro_firm_basis``: ``mean`` (the plant layer's average year, share 1), ``dry_year``
(the driest recorded year) or ``critical_period`` (the worst multi-year sequence planners firm
hydro on: Brazil's *garantia física*, BPA's critical period). Shares by country from
``data/hydro_dry_year.csv`` (a global ``*`` row otherwise); a source's own share in the layer
column ``hydro_dry_year_share`` / ``hydro_critical_period_share`` overrides it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..errors import InputError
from ..paths import DATA_DIR

__all__ = ["DRY_YEAR_CSV", "BASES", "share_column", "load_dry_year_table", "firm_share"]

DRY_YEAR_CSV = DATA_DIR / "hydro_dry_year.csv"
BASES = ("mean", "dry_year", "critical_period")


def share_column(basis: str) -> str:
    """The table and layer column of a basis's share.

    >>> share_column("dry_year")
    'hydro_dry_year_share'
    """
    return f"hydro_{basis}_share"


def _check_shares(values, layer: str, field: str, ids) -> None:
    """Every given share in (0, 1]: one error naming the field and the first bad row."""
    v = pd.to_numeric(pd.Series(list(values), dtype=object), errors="coerce").to_numpy(float)
    given = ~pd.isna(pd.Series(list(values), dtype=object)).to_numpy()
    bad = np.flatnonzero(given & ~((v > 0) & (v <= 1)))
    if bad.size:
        raise InputError(layer, field, f"{list(values)[bad[0]]!r} is not a share in (0, 1]", list(ids)[bad[0]])


def load_dry_year_table(path=DRY_YEAR_CSV) -> pd.DataFrame:
    """Dry-year and critical-period shares of mean firm power by country (ISO3; ``*`` global),
    checked in (0, 1].

    >>> float(load_dry_year_table().loc["NOR", "hydro_dry_year_share"])
    0.69
    """
    table = pd.read_csv(path, keep_default_na=False, na_values=[""])
    for basis in BASES[1:]:
        col = f"{basis}_share"
        _check_shares(table[col], "hydro_dry_year", col, table["country"])
    if "*" not in set(table["country"]):
        raise InputError("hydro_dry_year", "country", "no global '*' row")
    return table.set_index("country").rename(columns=lambda c: f"hydro_{c}" if c.endswith("_share") else c)


def firm_share(basis: str, fuel, country, own=None, ids=None, table: pd.DataFrame | None = None) -> np.ndarray:
    """Share of mean firm power each source keeps on ``basis``: 1 for non-hydro fuels and on
    ``mean``; else the source's own share (``own``, blank: none), its country's, or the global.

    >>> firm_share("dry_year", ["hydro", "hydro", "wind", "hydro"], ["NOR", "BRA", "NOR", "BRA"],
    ...            own=[None, None, None, 0.5]).tolist()
    [0.69, 0.65, 1.0, 0.5]
    >>> firm_share("mean", ["hydro"], ["NOR"]).tolist()
    [1.0]
    """
    fuel = np.asarray(list(fuel), dtype=object)
    out = np.ones(len(fuel))
    if basis == "mean":
        return out
    if basis not in BASES:
        raise InputError("energy", "hydro_firm_basis", f"{basis!r} is not one of {', '.join(BASES)}")
    table = load_dry_year_table() if table is None else table
    col = share_column(basis)
    by_country = table[col].to_dict()
    glob = float(table.loc["*", col])
    share = np.array([float(by_country.get(c, glob)) if isinstance(c, str) else glob for c in country])
    if own is not None:
        own = list(own)
        _check_shares(own, "energy_sources", col, ids if ids is not None else range(len(own)))
        mine = pd.to_numeric(pd.Series(own, dtype=object), errors="coerce").to_numpy(float)
        share = np.where(np.isfinite(mine), mine, share)
    hydro = fuel == "hydro"
    out[hydro] = share[hydro]
    return out
