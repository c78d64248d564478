r"""Observables of token configurations, vectorised over leading (batch, time) axes.

Every function takes points ``x`` of shape ``(..., n, d)`` — unit vectors on :math:`S^{d-1}`, or
the unit directions of any state (:func:`directions`: :math:`(\cos\theta_i, \sin\theta_i)` for
angles) — and reduces the last two axes, so a whole saved trajectory ``(T, n, d)`` or a batch of
trajectories ``(T, B, n, d)`` is one call. With the Gram matrix
:math:`G_{ij} = \langle x_i, x_j\rangle` and the :math:`\binom n2` pairs :math:`i<j`:

=========================  ================================================================
:func:`pair_fraction`      :math:`\binom n2^{-1}\#\{i<j : G_{ij}\ge 1-\delta\}` — the statistic
                           plotted in the phase diagrams of arXiv 2512.01868 and 2312.10794
:func:`gram_mean`          :math:`\binom n2^{-1}\sum_{i<j} G_{ij}`
:func:`gram_min`           :math:`\min_{i<j} G_{ij}`
:func:`cluster_count`      connected components of the graph :math:`G_{ij}\ge 1-\delta`
                           (single linkage; the criterion of ``Trajectory.cluster_count``)
:func:`cluster_rank`       :math:`\operatorname{rank}\mathbf 1[G > 1-\varepsilon]`,
                           :math:`\varepsilon = 10^{-4}` (the count of the authors' scripts)
:func:`time_to_cluster`    first saved time with :math:`\min_{i<j}G_{ij}\ge 1-\delta` (NaN: never)
:func:`energy`             interaction energy of the model at every leading index
:func:`order_parameter`    :math:`|\frac1n\sum_j e^{i\theta_j}|` on the circle
:func:`ensemble_mean`      mean and standard error over an ensemble of systems
=========================  ================================================================

Standard errors. The pairs of one system are strongly correlated (one token enters
:math:`n-1` pairs, and the whole system clusters or not together), so treating the
:math:`B\binom n2` pairs of an ensemble as independent Bernoulli draws underestimates the error
by up to a factor :math:`\sqrt{\binom n2}`. The honest estimate first reduces each system to its
own statistic :math:`s_b` (e.g. its pair fraction) — the :math:`s_b` of independently seeded
systems are i.i.d. — and then takes :math:`\bar s \pm \hat\sigma(s)/\sqrt B`
(:func:`ensemble_mean`).

References
----------
- B. Geshkovski, C. Letrouit, Y. Polyanskiy, P. Rigollet, *A mathematical perspective on
  Transformers*, arXiv:2312.10794 (the phase diagram of the fraction of pairs with
  :math:`\langle x_i, x_j\rangle \ge 0.999` over :math:`(t, \beta)`).
- arXiv:2512.01868 (SA/USA clustering; the same pair statistic with :math:`\delta = 10^{-3}`).
- The authors' scripts, ``phase-diagrams.py`` of the repository borjanG/2023-transformers-rotf:
  pair fraction over ordered pairs :math:`i\ne j` with the strict test :math:`G_{ij} > 0.999`,
  pooled over the batch; cluster count ``torch.linalg.matrix_rank`` of :math:`G > 0.9999`.
"""

from __future__ import annotations

import math

import numpy as np

from attnflow._base.validate import real_array

__all__ = [
    "directions",
    "gram",
    "pair_fraction",
    "gram_mean",
    "gram_min",
    "cluster_count",
    "cluster_rank",
    "time_to_cluster",
    "energy",
    "order_parameter",
    "ensemble_mean",
    "DEFAULT_DELTA",
    "AUTHORS_RANK_EPS",
]

#: The clustering threshold of arXiv 2512.01868 / 2312.10794: a pair is clustered when
#: :math:`\langle x_i, x_j\rangle \ge 1 - 10^{-3} = 0.999`.
DEFAULT_DELTA = 1e-3

#: The authors' cluster-count threshold: :math:`\operatorname{rank}\mathbf 1[G > 1 - 10^{-4}]`.
AUTHORS_RANK_EPS = 1e-4


def _points(x, name: str = "x") -> np.ndarray:
    a = real_array(name, x)
    if a.ndim < 2:
        raise ValueError(f"{name}: expected points of shape (..., n, d), got shape {a.shape}")
    if a.shape[-2] < 1 or a.shape[-1] < 1:
        raise ValueError(f"{name}: expected n >= 1 points of dimension d >= 1, got shape {a.shape}")
    return a


def _pairs(x, name: str = "x") -> np.ndarray:
    a = _points(x, name)
    if a.shape[-2] < 2:
        raise ValueError(f"{name}: pair statistics need n >= 2 points, got n = {a.shape[-2]}")
    return a


def _threshold(value, name: str) -> float:
    if isinstance(value, bool):
        raise ValueError(f"{name}: must be a number in (0, 2), got {value!r}")
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name}: must be a number in (0, 2), got {value!r}") from None
    if not math.isfinite(v) or not 0.0 < v < 2.0:
        raise ValueError(f"{name}: must lie in (0, 2) (a threshold on 1 - <x_i, x_j>), got {value!r}")
    return v


def _upper(n: int) -> tuple[np.ndarray, np.ndarray]:
    return np.triu_indices(n, k=1)


def directions(x, manifold: str = "sphere") -> np.ndarray:
    r"""Unit directions :math:`u_i` of states, shape ``(..., n, k)``.

    .. math::

        u_i = x_i\ (\text{sphere}),\qquad u_i = (\cos\theta_i, \sin\theta_i)\ (\text{angles}),\qquad
        u_i = x_i / |x_i|\ (\text{euclidean } x_i = r_i\theta_i),

    so that :math:`\langle u_i, u_j\rangle = \cos(\theta_i - \theta_j)` on the circle.

    Parameters
    ----------
    x : array_like
        States ``(..., n, d)`` (sphere, euclidean) or angles ``(..., n)``.
    manifold : {"sphere", "angles", "euclidean"}

    References
    ----------
    arXiv:2512.01868 (USA on the circle, the embedding :math:`\theta \mapsto e^{i\theta}`).
    """
    a = np.asarray(x, dtype=np.float64)
    if manifold == "angles":
        return np.stack([np.cos(a), np.sin(a)], axis=-1)
    if manifold == "sphere":
        return a
    if manifold == "euclidean":
        return a / np.linalg.norm(a, axis=-1, keepdims=True)
    raise ValueError(f"manifold: unknown manifold {manifold!r}; use sphere, angles or euclidean")


def gram(x) -> np.ndarray:
    r"""Gram matrices :math:`G_{ij} = \langle x_i, x_j\rangle`, shape ``(..., n, n)``.

    References
    ----------
    arXiv:2312.10794, §1 (the inner products that drive the dynamics and the clustering).
    """
    a = _points(x)
    return a @ np.swapaxes(a, -1, -2)


def pair_fraction(x, delta: float = DEFAULT_DELTA) -> np.ndarray:
    r"""Fraction of pairs :math:`i<j` with :math:`\langle x_i, x_j\rangle \ge 1 - \delta`.

    .. math::

        p_\delta(x) = \binom n2^{-1}\,\#\{(i, j) : i < j,\ \langle x_i, x_j\rangle \ge 1-\delta\},

    the quantity whose :math:`(t, \beta)` phase diagram arXiv 2312.10794 (its phase-diagram figure)
    and 2512.01868 plot with :math:`\delta = 10^{-3}` (averaged over an ensemble, see
    :func:`ensemble_mean`). The authors' script counts ordered pairs :math:`i\ne j` with the strict
    test :math:`> 0.999`; on a symmetric Gram matrix the ordered count is twice ours, so the
    fractions agree except for pairs exactly at the threshold.

    Parameters
    ----------
    x : array_like, shape (..., n, d)
        Unit vectors (:func:`directions` for other states), n >= 2.
    delta : float
        Threshold in (0, 2); default :data:`DEFAULT_DELTA` = 1e-3.

    Returns
    -------
    ndarray, shape (...)

    References
    ----------
    arXiv:2312.10794 and arXiv:2512.01868 (the plotted statistic).
    """
    a = _pairs(x)
    delta = _threshold(delta, "delta")
    iu, ju = _upper(a.shape[-2])
    g = gram(a)[..., iu, ju]
    return np.mean(g >= 1.0 - delta, axis=-1)


def gram_mean(x) -> np.ndarray:
    r"""Mean inner product over the pairs :math:`i<j`.

    .. math::

        \bar G(x) = \binom n2^{-1}\sum_{i<j}\langle x_i, x_j\rangle
        = \frac{|\sum_i x_i|^2 - \sum_i |x_i|^2}{n(n-1)}

    (computed from the Gram matrix, not from the identity, so it holds for non-unit rows too).

    Returns
    -------
    ndarray, shape (...)

    References
    ----------
    arXiv:2312.10794, §1; arXiv:2512.01868 (inner-product statistics of clustering).
    """
    a = _pairs(x)
    iu, ju = _upper(a.shape[-2])
    return np.mean(gram(a)[..., iu, ju], axis=-1)


def gram_min(x) -> np.ndarray:
    r"""Smallest inner product over the pairs :math:`i<j`.

    .. math::

        m(x) = \min_{i<j}\langle x_i, x_j\rangle,\qquad \text{one cluster at } \delta \iff m(x)\ge 1-\delta.

    Returns
    -------
    ndarray, shape (...)

    References
    ----------
    arXiv:2312.10794, §1; arXiv:2512.01868.
    """
    a = _pairs(x)
    iu, ju = _upper(a.shape[-2])
    return np.min(gram(a)[..., iu, ju], axis=-1)


def cluster_count(x, delta: float = DEFAULT_DELTA) -> np.ndarray:
    r"""Number of clusters under single linkage at :math:`1-\delta`.

    Tokens :math:`i, j` are linked when :math:`\langle x_i, x_j\rangle \ge 1-\delta`; the clusters
    are the connected components of that graph, i.e. the classes of the transitive closure

    .. math::

        i \sim j \iff \exists\, i = k_0, k_1, \dots, k_m = j:\ \langle x_{k_l}, x_{k_{l+1}}\rangle \ge 1-\delta .

    This is the project's criterion (``attnflow.numerics.Trajectory.cluster_count`` with
    ``tol = delta``). Computed by minimum-label propagation on the boolean adjacency, vectorised over
    the leading axes (at most n - 1 sweeps).

    Returns
    -------
    ndarray of int64, shape (...)

    References
    ----------
    arXiv:2512.01868 (clusters at :math:`\langle x_i, x_j\rangle \ge 0.999`); arXiv:2312.10794.
    """
    a = _points(x)
    delta = _threshold(delta, "delta")
    n = a.shape[-2]
    adj = gram(a) >= 1.0 - delta
    idx = np.arange(n)
    adj[..., idx, idx] = True
    labels = np.broadcast_to(idx, adj.shape[:-1]).copy()
    big = np.int64(n)
    for _ in range(n):
        new = np.min(np.where(adj, labels[..., None, :], big), axis=-1)
        if np.array_equal(new, labels):
            break
        labels = new
    roots = labels == idx  # a component's minimum index is its own label
    return np.sum(roots, axis=-1).astype(np.int64)


def cluster_rank(x, eps: float = AUTHORS_RANK_EPS) -> np.ndarray:
    r"""The authors' cluster count: the rank of the thresholded Gram matrix.

    .. math::

        k_\varepsilon(x) = \operatorname{rank} A,\qquad A_{ij} = \mathbf 1[\langle x_i, x_j\rangle > 1-\varepsilon],

    with the default :math:`\varepsilon = 10^{-4}` and the strict test of the authors' scripts
    (``phase-diagrams.py``: ``torch.linalg.matrix_rank((IP > 0.9999).float())``; NumPy's
    ``matrix_rank`` uses the same default tolerance :math:`\sigma_{\max}\,n\,\epsilon_{\text{mach}}`).
    When the relation is an equivalence (well-separated clusters) :math:`A` is block diagonal with
    all-ones blocks and its rank is the number of clusters; otherwise it can differ from
    :func:`cluster_count` (e.g. a chain :math:`a \sim b \sim c` with :math:`a \not\sim c`).

    Returns
    -------
    ndarray of int64, shape (...)

    References
    ----------
    arXiv:2312.10794 (the authors' scripts for its figures).
    """
    a = _points(x)
    eps = _threshold(eps, "eps")
    adj = (gram(a) > 1.0 - eps).astype(np.float64)
    return np.asarray(np.linalg.matrix_rank(adj), dtype=np.int64)


def time_to_cluster(x, times, delta: float = DEFAULT_DELTA) -> np.ndarray:
    r"""First saved time at which all tokens form one cluster; NaN if never.

    .. math::

        t^*(x) = \min\{t_k : \min_{i<j}\langle x_i(t_k), x_j(t_k)\rangle \ge 1-\delta\},\qquad
        t^* = \text{NaN if the set is empty},

    resolved on the saved times (``Trajectory.time_to_cluster`` returns None where this is NaN).

    Parameters
    ----------
    x : array_like, shape (T, ..., n, d)
        Saved states, time first (as ``Trajectory.states``).
    times : array_like, shape (T,)
        The saved times.
    delta : float

    Returns
    -------
    ndarray, shape (...)

    References
    ----------
    arXiv:2512.01868 (time to a single cluster); arXiv:2312.10794.
    """
    a = _pairs(x)
    t = np.asarray(times, dtype=np.float64)
    if a.ndim < 3 or t.ndim != 1 or t.shape[0] != a.shape[0]:
        raise ValueError(f"times: need one time per saved state (axis 0 of x), got times {t.shape} and x {a.shape}")
    delta = _threshold(delta, "delta")
    one = gram_min(a) >= 1.0 - delta  # (T, ...)
    hit = np.any(one, axis=0)
    first = np.argmax(one, axis=0)
    return np.where(hit, t[first], np.nan)


def energy(x, *, model="sa", beta: float, **params) -> np.ndarray:
    r"""Interaction energy of ``model`` at every leading index of ``x``.

    .. math::

        E(x) = \frac{1}{2\beta}\sum_{i,j=1}^n e^{\beta\langle x_i, x_j\rangle}\quad(\texttt{sa}, \texttt{usa}),

    and in general the declared pair energy of the model
    (:func:`attnflow.numerics.energy`, which evaluates it by fused log-sum-exps).

    Parameters
    ----------
    x : array_like
        States ``(..., n, d)`` (sphere, euclidean) or angles ``(..., n)`` for circle models.
    model, beta, **params
        As for :func:`attnflow.numerics.energy`.

    Returns
    -------
    ndarray, shape (...)

    References
    ----------
    arXiv:2312.10794 (the energy of SA), arXiv:2512.01868 (USA); derivations/energy.md.
    """
    from attnflow.numerics import fields

    spec = fields.model_spec(model)
    a = np.asarray(x, dtype=np.float64)
    core = 1 if spec.manifold == "angles" else 2
    if a.ndim < core:
        raise ValueError(f"x: expected states with {core} trailing axes, got shape {a.shape}")
    lead = a.shape[: a.ndim - core]
    flat = a.reshape((-1,) + a.shape[a.ndim - core :])
    out = np.array([fields.energy(s, model=model, beta=beta, **params) for s in flat], dtype=np.float64)
    return out.reshape(lead)


def order_parameter(theta) -> np.ndarray:
    r"""Kuramoto order parameter of angles, over the last axis.

    .. math::

        r(\theta) = \Big|\frac1n\sum_{j=1}^n e^{i\theta_j}\Big| \in [0, 1],

    1 exactly when all angles coincide (mod :math:`2\pi`).

    Parameters
    ----------
    theta : array_like, shape (..., n)

    Returns
    -------
    ndarray, shape (...)

    References
    ----------
    arXiv:2512.01868 (USA on the circle, a Kuramoto-type model).
    """
    th = np.asarray(theta, dtype=np.float64)
    if th.ndim < 1 or th.shape[-1] < 1:
        raise ValueError(f"theta: expected angles of shape (..., n) with n >= 1, got shape {th.shape}")
    return np.hypot(np.mean(np.cos(th), axis=-1), np.mean(np.sin(th), axis=-1))


def ensemble_mean(values, axis: int = 0, *, skipna: bool = False) -> tuple[np.ndarray, np.ndarray]:
    r"""Mean and standard error over an ensemble of independent systems.

    ``values`` holds one statistic per system (e.g. :func:`pair_fraction` of each system):

    .. math::

        \bar s = \frac1B\sum_{b=1}^B s_b,\qquad
        \mathrm{SE} = \sqrt{\frac{1}{B(B-1)}\sum_{b=1}^B (s_b - \bar s)^2}.

    Reducing each system first is what makes the error honest: the pairs of one system are
    correlated, the systems are independent (module docstring). ``SE`` is NaN for B < 2.

    Parameters
    ----------
    values : array_like
        Per-system statistics, the systems along ``axis``.
    axis : int
        The ensemble axis.
    skipna : bool
        Ignore NaN entries (e.g. :func:`time_to_cluster` of systems that never clustered), counting
        B per entry; otherwise NaN propagates.

    Returns
    -------
    (mean, se) : tuple of ndarray
        Shapes of ``values`` without ``axis``.

    References
    ----------
    arXiv:2312.10794 (ensemble averages of the phase diagram); any statistics text for the
    standard error of the mean of i.i.d. samples.
    """
    v = np.asarray(values, dtype=np.float64)
    if v.ndim == 0:
        raise ValueError("values: need at least one axis (the ensemble)")
    if skipna:
        count = np.sum(~np.isnan(v), axis=axis)
        with np.errstate(invalid="ignore", divide="ignore"):
            mean = np.nansum(v, axis=axis) / count
            dev = np.where(np.isnan(v), 0.0, v - np.expand_dims(mean, axis))
            var = np.sum(dev**2, axis=axis) / (count - 1)
            se = np.sqrt(var / count)
        mean = np.where(count > 0, mean, np.nan)
        se = np.where(count > 1, se, np.nan)
        return mean, se
    b = v.shape[axis]
    mean = np.mean(v, axis=axis)
    if b < 2:
        return mean, np.full_like(mean, np.nan)
    se = np.std(v, axis=axis, ddof=1) / math.sqrt(b)
    return mean, se
