r"""Experiments behind the rate claims ``wasserstein.empirical_rate``, ``chaos.attention_rate`` and
``meanfield.clustering_rate``: each function runs one complete experiment (all sizes, all replicates)
from one seed.

The particle experiments use :func:`attnflow.numerics.meanfield.weighted_attention_flow` (weighted
empirical measures, needed for the quadrature reference of the chaos experiment).

References
----------
arXiv:2605.16747 (abstract: propagation of chaos; the n^{-1/2} rate check derived here);
Fournier & Guillin, PTRF 162 (2015), Thm 1 (empirical rates); arXiv:2504.14697 (as
restated in arXiv:2512.01868); Fournier & Guillin, PTRF 162 (2015).
"""

from __future__ import annotations

import numpy as np

from attnflow.numerics.meanfield import vmf_quadrature, vmf_sample, weighted_attention_flow
from attnflow.numerics.wasserstein import wasserstein
from attnflow.properties.strategies import random_orthogonal

__all__ = [
    "EMPIRICAL_DIMS",
    "EMPIRICAL_SIZES",
    "two_sample_w2",
    "empirical_theory_slope",
    "empirical_rate_experiment",
    "CHAOS_SIZES",
    "CHAOS_TOKEN",
    "CHAOS_QUAD",
    "CHAOS_REPLICATES",
    "chaos_reference",
    "chaos_experiment",
    "MF_BETA",
    "MF_N",
    "MF_REPLICATES",
    "clustering_experiment",
]


#: Intrinsic dimensions k of S^k in wasserstein.empirical_rate and the sizes n.
EMPIRICAL_DIMS = (1, 2, 3, 4, 5)
EMPIRICAL_SIZES = (64, 128, 256, 512, 1024)


def two_sample_w2(rng: np.random.Generator, k: int, n: int) -> float:
    r""":math:`W_2` (chordal) between two independent samples of size ``n`` of the uniform law on :math:`S^k`.

    References
    ----------
    Fournier & Guillin, PTRF 162 (2015), Thm 1.
    """
    if int(k) != k or k < 1 or int(n) != n or n < 1:
        raise ValueError(f"k/n: need integers k >= 1 (S^k) and n >= 1, got k={k}, n={n}")
    x = rng.standard_normal((n, k + 1))
    y = rng.standard_normal((n, k + 1))
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    y /= np.linalg.norm(y, axis=1, keepdims=True)
    return wasserstein(x, y)


def empirical_theory_slope(k: int, sizes=EMPIRICAL_SIZES) -> float:
    r"""Theoretical log-log slope of :math:`\mathbb E W_2` on :math:`S^k` over ``sizes``.

    :math:`-1/2` (:math:`k=1`); the least-squares slope of :math:`\tfrac12\log(\log n/n)` over the sizes
    (:math:`k=2`, the log factor of Ajtai--Komlós--Tusnády); :math:`-1/k` (:math:`k\ge3`).

    References
    ----------
    Fournier & Guillin, PTRF 162 (2015), Thm 1; Ajtai, Komlós & Tusnády (1984); claim
    ``wasserstein.empirical_rate``.
    """
    if k == 1:
        return -0.5
    if k == 2:
        n = np.asarray(sizes, dtype=float)
        lx = np.log(n) - np.log(n).mean()
        ly = 0.5 * np.log(np.log(n) / n)
        return float(lx @ (ly - ly.mean()) / (lx @ lx))
    return -1.0 / k


def empirical_rate_experiment(seed: int, replicates: int = 4, dims=EMPIRICAL_DIMS, sizes=EMPIRICAL_SIZES) -> dict:
    """Mean two-sample W2 for every (k, n): ``{k: array (replicates, len(sizes))}``.

    References
    ----------
    Fournier & Guillin, PTRF 162 (2015), Thm 1.
    """
    rng = np.random.default_rng(seed)
    return {k: np.array([[two_sample_w2(rng, k, n) for n in sizes] for _ in range(replicates)]) for k in dims}


#: Context sizes of chaos.attention_rate.
CHAOS_SIZES = (32, 64, 128, 256, 512)
CHAOS_BETA, CHAOS_T, CHAOS_DT, CHAOS_KAPPA = 1.0, 2.0, 0.2, 2.0
CHAOS_AXIS = np.array([0.0, 0.0, 1.0])
CHAOS_TOKEN = np.array([1.0, 0.4, -0.3]) / np.linalg.norm([1.0, 0.4, -0.3])
CHAOS_QUAD = (24, 48)
CHAOS_REPLICATES = 24


def _chaos_reference(quad=CHAOS_QUAD) -> np.ndarray:
    y, w = vmf_quadrature(quad[0], quad[1], CHAOS_KAPPA, CHAOS_AXIS)
    x0 = np.vstack([CHAOS_TOKEN, y])
    w0 = np.concatenate([[0.0], w])
    steps = int(round(CHAOS_T / CHAOS_DT))
    return weighted_attention_flow(x0, w0, beta=CHAOS_BETA, model="sa", dt=CHAOS_DT, steps=steps)[-1, 0]


_REF_CACHE: dict = {}


def chaos_reference(quad=CHAOS_QUAD) -> np.ndarray:
    r"""Mean-field position of the distinguished token at time ``T`` (cached).

    The law :math:`\mu_0` (von Mises--Fisher, :math:`\kappa=2`) is replaced by the product quadrature of
    :func:`vmf_quadrature`; the quadrature nodes are characteristics of the continuity equation and carry
    their weights, so the pushed-forward quadrature integrates the smooth field spectrally accurately
    (checked against a coarser rule in the claim). The token is a weight-0 test particle.

    References
    ----------
    arXiv:2605.16747 (abstract).
    """
    key = tuple(quad)
    if key not in _REF_CACHE:
        _REF_CACHE[key] = _chaos_reference(quad)
    return _REF_CACHE[key]


def chaos_experiment(seed: int, replicates: int = CHAOS_REPLICATES, sizes=CHAOS_SIZES) -> np.ndarray:
    r"""Errors :math:`|x^{(n)}_0(T) - \bar x_0(T)|` of the distinguished token, shape ``(replicates, len(sizes))``.

    For each replicate, ``max(sizes)`` context tokens are drawn iid from :math:`\mu_0` (vMF on
    :math:`S^2`, :math:`\kappa = 2`) and the first ``n`` of them (nested samples) drive the token under SA
    (:math:`\beta = 1`, RK4, :math:`dt = 0.2`, :math:`T = 2`); the reference :math:`\bar x_0(T)` is
    :func:`chaos_reference` (same scheme, so the discretisation error cancels to :math:`O(dt^4 n^{-1/2})`).

    References
    ----------
    arXiv:2605.16747 (abstract: propagation of chaos).
    """
    rng = np.random.default_rng(seed)
    ref = chaos_reference()
    steps = int(round(CHAOS_T / CHAOS_DT))
    err = np.empty((replicates, len(sizes)))
    for r in range(replicates):
        ctx = vmf_sample(rng, max(sizes), CHAOS_KAPPA, CHAOS_AXIS)
        for j, n in enumerate(sizes):
            x0 = np.vstack([CHAOS_TOKEN, ctx[:n]])
            w = np.concatenate([[0.0], np.full(n, 1.0 / n)])
            xt = weighted_attention_flow(x0, w, beta=CHAOS_BETA, model="sa", dt=CHAOS_DT, steps=steps)[-1, 0]
            err[r, j] = np.linalg.norm(xt - ref)
    return err


MF_N, MF_BETA, MF_KAPPA, MF_T, MF_DT, MF_REPLICATES = 300, 0.5, 1.0, 9.0, 0.15, 4


def clustering_experiment(seed: int, replicates: int = MF_REPLICATES, n: int = MF_N,
                          beta: float = MF_BETA) -> tuple[np.ndarray, np.ndarray]:
    r"""USA from ``n`` iid samples of a vMF density (:math:`\kappa=1`, an :math:`L^2` density with
    :math:`m_{\mu_0}\ne0`) on :math:`S^2` (random axis), RK4 with :math:`dt = 0.15` up to :math:`T = 9`:
    times and :math:`1-|m_{\mu_t}|` per replicate.

    :math:`1-|m|` is evaluated as :math:`W_2^2(\mu,\delta_u)/2` with :math:`u=m/|m|` (arXiv:2504.14697; chordal identity derived here),
    a sum of small squared distances that stays accurate down to :math:`10^{-15}` (unlike ``1 - norm``).

    References
    ----------
    arXiv:2504.14697 (as restated in arXiv:2512.01868).
    """
    rng = np.random.default_rng(seed)
    steps = int(round(MF_T / MF_DT))
    every = 2
    out = []
    for _ in range(replicates):
        axis = random_orthogonal(rng, 3)[:, 0]
        x0 = vmf_sample(rng, n, MF_KAPPA, axis)
        traj = weighted_attention_flow(x0, np.full(n, 1.0 / n), beta=beta, model="usa", dt=MF_DT, steps=steps,
                                       save_every=every)
        gap = []
        for x in traj:
            m = x.mean(axis=0)
            u = m / np.linalg.norm(m)
            gap.append(wasserstein(x, u[None, :]) ** 2 / 2.0)
        out.append(gap)
    times = np.arange(steps // every + 1) * every * MF_DT
    return times, np.array(out)
