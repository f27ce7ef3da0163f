"""Failure groups: candidate sites that fail together (geography, read before the model).

Sites within ``failure_group_km`` of each other (chained), sharing a layer's ``failure_group``
label or its river ``basin`` (hydro plants on one river fail together in a drought) form one
group; N-1 (``demand.n_minus_1_share``) plans survive the loss of any one group. A merged source
keeps its seed plant's basin.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components

from ..errors import InputError
from ..physics import pairwise_km

__all__ = ["failure_groups"]


def failure_groups(lon, lat, within_km: float | None = None, labels=None, basins=None) -> np.ndarray:
    """Failure-group label (0..G-1) per site: sites within ``within_km`` of each other (chained),
    sharing a ``labels`` value or a river basin (``basins``; blank: none) fail together.

    >>> failure_groups([0, 0.5, 10], [0, 0, 0], within_km=60).tolist()
    [0, 0, 1]
    >>> failure_groups([0, 5, 10], [0, 0, 0], labels=["a", None, "a"]).tolist()
    [0, 1, 0]
    >>> failure_groups([0, 5], [0, 0]).tolist()
    [0, 1]
    >>> failure_groups([0, 5, 10], [0, 0, 0], labels=["a", None, None], basins=[None, "Nile", "Nile"]).tolist()
    [0, 1, 1]
    """
    lon, lat = np.asarray(lon, float), np.asarray(lat, float)
    n = lon.size
    same = sp.csr_matrix((n, n), dtype=bool)
    if within_km is not None:
        same = same + sp.csr_matrix(pairwise_km(lon, lat, lon, lat) <= within_km)
    for field, values in (("failure_group", labels), ("basin", basins)):
        if values is None:
            continue
        lab = pd.Series(list(values), dtype=object)
        if len(lab) != n:
            raise InputError("energy_sources", field, f"{len(lab)} labels for {n} sites")
        code = pd.factorize(lab.where(lab.notna() & (lab.astype(str).str.strip() != "")))[0]
        given = np.flatnonzero(code >= 0)
        first = pd.Series(given).groupby(code[given]).transform("first").to_numpy()
        same = same + sp.csr_matrix((np.ones(given.size, bool), (given, first)), shape=(n, n))
    return connected_components(same, directed=False)[1].astype(np.int64)
