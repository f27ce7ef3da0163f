"""The ``auto`` strategy's rule: pick a strategy by the problem's structure.

Benders pays where the problem is facility location: few integer columns, and nearly every row
a link of one continuous column to the integer ones (``x_ij <= d_j y_i``), which Benders turns
into bounds of its subproblem, so that the subproblem keeps only the few coupling rows. Measured
(:func:`~siting.solve.benders.split`, rows the subproblem keeps / integer columns):

==========================  =========  ============  ======================================
problem                     sub rows   integer cols  fastest to a proven optimum
==========================  =========  ============  ======================================
OR-Library cap41 (16x50)    7.5 %      1.9 %         either (< 0.1 s)
OR-Library capa (100x1000)  1.1 %      0.1 %         benders (lp_start: see bench/orlib_cap)
default scenario            31 %       7.0 %         lp_start
generated 10x100..300x3000  31-52 %    2.7-4.0 %     lp_start
==========================  =========  ============  ======================================

Everything else (and any problem without both integer and continuous columns) gets
``lp_start``, today's default.
"""

from __future__ import annotations

from .benders import split
from .report import StandardForm, Strategy

__all__ = ["SUB_ROWS_SHARE", "INTEGER_SHARE", "choose"]

SUB_ROWS_SHARE = 0.10  # benders when its subproblem keeps at most this share of the rows ...
INTEGER_SHARE = 0.05  # ... and at most this share of the columns is integer


def choose(sf: StandardForm) -> tuple[Strategy, str]:
    """The strategy for ``sf`` and why, in words for the progress log."""
    rows, cols = sf.shape
    n_int = int(sf.integer.sum())
    if n_int == 0 or n_int == cols or rows == 0:
        return Strategy.LP_START, "not a mixed-integer problem"
    s = split(sf)
    sub, share = s.sub_rows.size / rows, n_int / cols
    why = (f"the subproblem keeps {sub:.1%} of the rows ({s.b_col.size:,} become bounds), "
           f"{share:.1%} of the columns are integer")
    if sub <= SUB_ROWS_SHARE and share <= INTEGER_SHARE:
        return Strategy.BENDERS, why + ": facility-location structure"
    return Strategy.LP_START, why
