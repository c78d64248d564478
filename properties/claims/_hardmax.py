r"""The hardmax propagation-of-chaos experiment (claim ``chaos.hardmax_rate``; numerics in
:mod:`attnflow.numerics.hardmax`).

For each size :math:`n` and replicate, :math:`n` tokens are drawn from :math:`\mu_0` uniform on one corner
cube :math:`[\tfrac12,1]^d` (one cluster; the other cubes of
:func:`~attnflow.numerics.hardmax.corner_cubes_sample` decouple, each orthant selecting inside itself),
moved by ``CHAOS_HARDMAX_STEPS`` Euler steps of the hardmax field
(:func:`~attnflow.numerics.hardmax.corner_hardmax_flow`), and compared with the same initial tokens
pushed by the exact (Euler) mean-field map:

.. math:: e_n = W_2\bigl(\mu^n_T,\ \Phi_T\#\mu^n_0\bigr),\qquad \mu^n_T = \tfrac1n\textstyle\sum_i\delta_{x_i^n(T)},

(the initial sampling error cancels; :math:`e_n` is the error of the interaction alone, at most the
synchronous-coupling RMS deviation).

References
----------
arXiv 2605.16747 (propagation of chaos, general rate :math:`n^{-1/d}`); arXiv 2508.09628 (hardmax).
"""

from __future__ import annotations

import numpy as np

from attnflow.numerics.hardmax import corner_hardmax_flow, corner_meanfield_map
from attnflow.numerics.wasserstein import wasserstein

__all__ = ["CHAOS_HARDMAX_SIZES", "CHAOS_HARDMAX_REPLICATES", "CHAOS_HARDMAX_W2_SIZES",
           "CHAOS_HARDMAX_W2_REPLICATES", "CHAOS_HARDMAX_DT", "CHAOS_HARDMAX_STEPS", "hardmax_chaos_experiment"]

#: Context sizes (a factor 32; the profiles scale the number of seeds, each running d = 2, 3, 4).
CHAOS_HARDMAX_SIZES = (64, 128, 256, 512, 1024, 2048)
#: Independent replicates per size.
CHAOS_HARDMAX_REPLICATES = 24
#: Sizes and replicates at which W_2 is also computed by the exact solver (assignment, O(n^3)).
CHAOS_HARDMAX_W2_SIZES = (64, 128, 256)
CHAOS_HARDMAX_W2_REPLICATES = 4
#: Euler step and number of steps (T = 1).
CHAOS_HARDMAX_DT = 0.25
CHAOS_HARDMAX_STEPS = 4


def hardmax_chaos_experiment(d: int, seed: int, sizes=CHAOS_HARDMAX_SIZES,
                             replicates: int = CHAOS_HARDMAX_REPLICATES) -> tuple[np.ndarray, np.ndarray]:
    r"""``(rms, w2)``: the synchronous RMS deviation
    :math:`(\frac1n\sum_i|x_i^n(T) - \Phi_T(x_i(0))|^2)^{1/2}`, shape ``(replicates, len(sizes))``, and
    :math:`W_2(\mu_T^n, \Phi_T\#\mu_0^n)` by :func:`attnflow.numerics.wasserstein.wasserstein` (exact,
    Euclidean cost) for the first ``CHAOS_HARDMAX_W2_REPLICATES`` replicates at the sizes of
    ``CHAOS_HARDMAX_W2_SIZES`` (NaN elsewhere).  The RMS deviation is the cost of one coupling, so
    :math:`W_2 \le` RMS."""
    rng = np.random.default_rng(seed)
    rms = np.empty((replicates, len(sizes)))
    w2 = np.full_like(rms, np.nan)
    for r in range(replicates):
        for k, n in enumerate(sizes):
            x0 = rng.uniform(0.5, 1.0, size=(int(n), int(d)))
            xn = corner_hardmax_flow(x0, CHAOS_HARDMAX_DT, CHAOS_HARDMAX_STEPS)
            xm = corner_meanfield_map(x0, CHAOS_HARDMAX_DT, CHAOS_HARDMAX_STEPS)
            rms[r, k] = float(np.sqrt(np.mean(np.sum((xn - xm) ** 2, axis=1))))
            if r < CHAOS_HARDMAX_W2_REPLICATES and n in CHAOS_HARDMAX_W2_SIZES:
                w2[r, k] = wasserstein(xn, xm, p=2, metric="euclidean")
    return rms, w2
