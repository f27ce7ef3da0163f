"""SSLP (:mod:`siting.inputs.sslp`) stated as a two-stage problem of the solver layer
(:class:`~siting.solve.twostage.TwoStage`): the benchmark of the stochastic engine against the
published optima. Its own small formulation (it is not a siting model)::

    min  sum_j c_j x_j + sum_s p_s [ sum_j q0_j o_sj - sum_ij q_ij y_sij ]
    s.t. sum_j x_j <= v
         sum_i d_ij y_sij - o_sj <= u x_j        for all s, j
         sum_j y_sij = h_si                      for all s, i
         x_j, y_sij in {0,1},  o_sj >= 0
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from ..inputs.sslp import SSLPInstance
from ..solve.twostage import Scenario, TwoStage

__all__ = ["two_stage"]


def two_stage(inst: SSLPInstance) -> TwoStage:
    """The instance as a :class:`TwoStage`: first stage x_j (binary, cost c_j, one row
    sum_j x_j <= v); per scenario the columns y_ij (binary, cost -q_ij; client-major: column
    i*m + j) then o_j (overflow, cost q0_j) and rows: capacity sum_i d_ij y_ij - o_j - u x_j <= 0
    (m rows), then assignment sum_j y_ij = h_i (n rows)."""
    m, n = inst.n_servers, inst.n_clients
    ny = n * m
    i_idx, j_idx = np.divmod(np.arange(ny), m)
    cap = sp.csr_array((inst.demand.reshape(-1), (j_idx, np.arange(ny))), shape=(m, ny))
    cap = sp.hstack([cap, -sp.eye_array(m)])
    assign = sp.hstack([sp.csr_array((np.ones(ny), (i_idx, np.arange(ny))), shape=(n, ny)), sp.csr_array((n, m))])
    W = sp.csr_array(sp.vstack([cap, assign]))
    T = sp.csr_array(sp.vstack([-inst.capacity * sp.eye_array(m), sp.csr_array((n, m))]))
    q = np.concatenate([-inst.revenue.reshape(-1), inst.overflow_penalty])
    integer = np.r_[np.ones(ny, bool), np.zeros(m, bool)]
    upper = np.r_[np.ones(ny), np.full(m, np.inf)]
    scenarios = []
    for s in range(inst.n_scenarios):
        h = inst.presence[s].astype(float)
        scenarios.append(Scenario.build(inst.probability[s], q, T, W, np.r_[np.full(m, -np.inf), h],
                                        np.r_[np.zeros(m), h], np.zeros(ny + m), upper, integer,
                                        inst.scenario_names[s]))
    return TwoStage.build(inst.fixed_cost, np.ones((1, m)), [-np.inf], [float(inst.max_servers)], scenarios,
                          col_lower=np.zeros(m), col_upper=np.ones(m), integer=np.ones(m, bool))
