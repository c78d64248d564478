r"""Helpers of the necessity claims of arXiv 2504.14697 (``meanfield.necessity.*``).

References
----------
arXiv 2504.14697 (quantitative clustering in mean-field transformers: necessity of the hypotheses), restated in
arXiv 2512.01868.
"""

from __future__ import annotations

import functools
import math

import numpy as np

__all__ = ["A2", "NEC_T", "NEC_T_BETA", "NEC_W2", "NEC_N", "two_atoms", "nearest_dirac_w2", "circle_density",
           "circle_flow", "clusters", "two_clusters"]

#: The paper's two-atom example: mu_0 = A2 delta_e + (1 - A2) delta_{-e}.
A2 = 2.0 / 3.0
#: Horizon and threshold of the clustering conclusion checked by the necessity claims.
NEC_T, NEC_W2 = 8.0, 0.1
#: Horizon of the beta-bound claims (small beta reaches one Dirac to rounding by then).
NEC_T_BETA = 40.0
#: Circle density for the beta bound: w(theta) ~ 1 + 0.9 cos(theta) + 0.4 cos(2 theta) on NEC_N nodes.
NEC_N, NEC_A1, NEC_A2 = 64, 0.9, 0.4


def two_atoms(d, seed):
    r"""The paper's :math:`\tfrac23\delta_e + \tfrac13\delta_{-e}` with a seeded random unit ``e`` in R^d: ``(x (2, d), w (2,))``."""
    rng = np.random.default_rng(seed)
    e = rng.standard_normal(d)
    e /= np.linalg.norm(e)
    return np.vstack([e, -e]), np.array([A2, 1.0 - A2])


def nearest_dirac_w2(x, w):
    """min_z W2(mu, delta_z), mu = sum_j w_j delta_{x_j}: W2 to the Dirac at m/|m| (attnflow.numerics.wasserstein)."""
    from attnflow.numerics import wasserstein

    m = w @ x
    return float(wasserstein(x, (m / np.linalg.norm(m))[None, :], a=w))


def circle_density():
    r"""The circle initialisation of ``meanfield.necessity.beta_bound``: ``NEC_N`` equispaced nodes with
    weights :math:`\propto 1 + 0.9\cos\theta + 0.4\cos 2\theta` (trapezoid quadrature of an :math:`L^2`
    density, :math:`R_0 = 0.45^2 > 0`); returns ``(x (n, 2), w (n,))``."""
    th = 2 * np.pi * (np.arange(NEC_N) + 0.5) / NEC_N
    w = 1 + NEC_A1 * np.cos(th) + NEC_A2 * np.cos(2 * th)
    return np.stack([np.cos(th), np.sin(th)], 1), w / w.sum()


def clusters(x, gap=0.3):
    """Number of clusters of points on the circle: angular gaps larger than ``gap``."""
    ang = np.sort(np.mod(np.arctan2(x[:, 1], x[:, 0]), 2 * np.pi))
    return int((np.diff(np.concatenate([ang, [ang[0] + 2 * np.pi]])) > gap).sum())


def circle_flow(beta):
    """USA from :func:`circle_density` up to ``NEC_T_BETA`` (RK4, dt = min(0.1, e^-beta): h lambda <= 2 < 2.78 for the
    in-cluster rate lambda = 2 e^beta, the stiffest mode): final atoms
    (a copy of a per-process cache: Hypothesis replays the same beta while shrinking)."""
    return _circle_flow(float(beta)).copy()


@functools.lru_cache(maxsize=32)
def _circle_flow(beta):
    from attnflow.numerics.meanfield import weighted_attention_flow

    x, w = circle_density()
    steps = int(math.ceil(NEC_T_BETA / min(0.1, math.exp(-beta))))
    return weighted_attention_flow(x, w, beta=beta, model="usa", dt=NEC_T_BETA / steps, steps=steps)[-1]


def two_clusters(x, w):
    """Split atoms by the sign of <x, m> (m the barycentre): centres (2, d) (mass-weighted mean directions),
    masses (2,), and the largest angle of an atom to its centre."""
    m = w @ x
    side = x @ m >= 0
    centres, masses, spread = [], [], 0.0
    for s in (side, ~side):
        if not s.any():
            return np.vstack([m / np.linalg.norm(m)] * 2), np.array([1.0, 0.0]), float("inf")
        c = w[s] @ x[s]
        c = c / np.linalg.norm(c)
        centres.append(c)
        masses.append(w[s].sum())
        spread = max(spread, float(np.max(2 * np.arctan2(np.linalg.norm(x[s] - c, axis=1),
                                                         np.linalg.norm(x[s] + c, axis=1)))))
    return np.vstack(centres), np.array(masses), spread
