r"""Wasserstein distances between empirical measures on the sphere, on the circle and in R^d.

Every function returns :math:`W_p` itself (the metric), **not** the transport cost :math:`W_p^p`
that POT's ``emd2`` returns.  The exact solvers are

* equal-size clouds with uniform weights: the optimal plan is a permutation, so
  :math:`W_p^p = \\min_\\sigma \\frac1n \\sum_i c(x_i, y_{\\sigma(i)})` is solved as an assignment
  problem (:func:`scipy.optimize.linear_sum_assignment`, a Jonker--Volgenant solver);
* weights or unequal sizes: POT's network simplex ``ot.emd2``; hitting its iteration cap
  (``numItermax``) raises :class:`RuntimeError` instead of POT's warning;
* one side a single Dirac mass: the closed form :math:`W_p^p(\\mu, \\delta_z) = \\sum_i a_i c(x_i, z)`;
* angles on the circle :math:`\\mathbb{T} = \\mathbb{R}/2\\pi\\mathbb{Z}` with arc-length cost:
  POT's circular solver (``ot.binary_search_circle``) after the change of variable
  :math:`u = \\theta/2\\pi \\bmod 1`;
* the sliced distance :func:`sliced_wasserstein` is a different quantity (a lower bound of
  :math:`W_p`) and is never returned by :func:`wasserstein`.

Ground costs :math:`c = d^p`: ``"chordal"`` :math:`d = |x-y|` on :math:`S^{d-1}` (rows validated as
unit vectors), ``"geodesic"`` :math:`d = \\arccos\\langle x, y\\rangle` on :math:`S^{d-1}`, and
``"euclidean"`` :math:`d = |x-y|` for arbitrary points of :math:`\\mathbb{R}^d` (no unit-norm check).

References
----------
Peyré & Cuturi, *Computational Optimal Transport* (2019) (computation); arXiv:2411.04551, Lemma 5.2
(coupling inequality); Dirac identity :math:`W_2^2(\mu,\delta_x) = 2(1-\langle m_\mu,x\rangle)` (used for
arXiv:2504.14697 as restated in arXiv:2512.01868). POT: Flamary et al., JMLR 22 (2021).
"""

from __future__ import annotations

import warnings

import numpy as np
from scipy.optimize import linear_sum_assignment
from scipy.spatial.distance import cdist

from attnflow._base.validate import real_array

__all__ = [
    "METRICS",
    "UNIT_NORM_TOL",
    "cost_matrix",
    "wasserstein",
    "wasserstein_circle",
    "sliced_wasserstein",
]

#: Ground metrics accepted by :func:`wasserstein`.
METRICS = ("chordal", "geodesic", "euclidean")
#: Largest accepted deviation | |x_i| - 1 | for points declared to lie on the sphere.
UNIT_NORM_TOL = 1e-8
_WEIGHT_SUM_TOL = 1e-8
_POT_OPTIMAL = 1  # ot.lp result codes: 0 infeasible, 1 optimal, 2 unbounded, 3 max iterations


# ----------------------------------------------------------------------------------------------
# validation
# ----------------------------------------------------------------------------------------------
def _check_metric(metric: str) -> str:
    if metric not in METRICS:
        raise ValueError(f"metric: unknown metric {metric!r}; choose one of {', '.join(METRICS)}")
    return metric


def _check_p(p) -> float:
    try:
        p = float(p)
    except (TypeError, ValueError):
        raise ValueError(f"p: must be a real number >= 1, got {p!r}") from None
    if not np.isfinite(p) or p < 1:
        raise ValueError(f"p: W_p is a metric only for 1 <= p < inf, got {p}; pass p >= 1")
    return p


def _as_points(x, name: str, metric: str) -> np.ndarray:
    arr = real_array(name, x)
    if arr.ndim != 2 or arr.shape[0] < 1 or arr.shape[1] < 1:
        raise ValueError(
            f"{name}: expected an array of shape (n, d) with n >= 1, d >= 1, got shape {arr.shape}; "
            "reshape a single point to (1, d)"
        )
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name}: contains NaN or inf; pass finite coordinates")
    if metric in ("chordal", "geodesic"):
        if arr.shape[1] < 2:
            raise ValueError(f"{name}: points on S^(d-1) need d >= 2, got d = {arr.shape[1]}")
        dev = float(np.max(np.abs(np.linalg.norm(arr, axis=1) - 1.0)))
        if dev > UNIT_NORM_TOL:
            raise ValueError(
                f"{name}: rows must be unit vectors for metric={metric!r} (max ||x_i| - 1| = {dev:.3g} > "
                f"{UNIT_NORM_TOL:g}); normalise with x / np.linalg.norm(x, axis=1, keepdims=True) "
                "or use metric='euclidean'"
            )
    return arr


def _as_weights(a, n: int, name: str) -> np.ndarray | None:
    """Validated probability weights (renormalised to sum exactly 1), or None for uniform."""
    if a is None:
        return None
    w = real_array(name, a)
    if w.shape != (n,):
        raise ValueError(f"{name}: expected weights of shape ({n},), got {w.shape}; one weight per point")
    if not np.all(np.isfinite(w)):
        raise ValueError(f"{name}: weights contain NaN or inf; pass finite nonnegative weights")
    if np.any(w < 0):
        raise ValueError(f"{name}: weights must be nonnegative (min {w.min():.3g}); pass a probability vector")
    s = float(w.sum())
    if abs(s - 1.0) > _WEIGHT_SUM_TOL:
        raise ValueError(f"{name}: weights must sum to 1 (sum = {s!r}); divide by their sum")
    return w / s


def _is_uniform(w: np.ndarray | None, n: int) -> bool:
    return w is None or bool(np.max(np.abs(w - 1.0 / n)) <= 1e-14)


def _uniform(w: np.ndarray | None, n: int) -> np.ndarray:
    return np.full(n, 1.0 / n) if w is None else w


# ----------------------------------------------------------------------------------------------
# ground cost
# ----------------------------------------------------------------------------------------------
def _distance(x: np.ndarray, y: np.ndarray, metric: str) -> np.ndarray:
    if metric == "geodesic":
        # arccos<x,y> for unit vectors, evaluated as 2 atan2(|x-y|, |x+y|): exact at coincident and
        # antipodal points where arccos of a clipped inner product loses half the digits.
        return 2.0 * np.arctan2(cdist(x, y, "euclidean"), cdist(x, -y, "euclidean"))
    return cdist(x, y, "euclidean")


def _cost(x: np.ndarray, y: np.ndarray, p: float, metric: str) -> np.ndarray:
    if p == 2.0 and metric != "geodesic":
        return cdist(x, y, "sqeuclidean")
    dist = _distance(x, y, metric)
    return dist if p == 1.0 else dist**p


def cost_matrix(x, y, p=2, metric: str = "chordal") -> np.ndarray:
    r"""Ground-cost matrix :math:`C_{ij} = d(x_i, y_j)^p`.

    .. math::
        d_{\mathrm{chord}}(x, y) = |x - y|, \qquad
        d_{\mathrm{geo}}(x, y) = \arccos\langle x, y\rangle = 2\,\operatorname{atan2}(|x-y|, |x+y|)

    (the second form is used: it equals the first for unit vectors and keeps full precision for
    nearly equal and nearly antipodal points).

    Parameters
    ----------
    x, y : array_like, shapes (n, d) and (m, d)
        Points (unit rows for ``"chordal"``/``"geodesic"``).
    p : float >= 1
        Exponent of the cost.
    metric : {"chordal", "geodesic", "euclidean"}

    Returns
    -------
    ndarray, shape (n, m)

    References
    ----------
    Chordal vs geodesic: :math:`(2/\pi) d_g \le |x-y| \le d_g` (elementary: :math:`|x-y| = 2\sin(d_g/2)`).
    """
    metric = _check_metric(metric)
    p = _check_p(p)
    xx = _as_points(x, "x", metric)
    yy = _as_points(y, "y", metric)
    if xx.shape[1] != yy.shape[1]:
        raise ValueError(f"y: dimension {yy.shape[1]} differs from x's {xx.shape[1]}; pass points in the same R^d")
    return _cost(xx, yy, p, metric)


# ----------------------------------------------------------------------------------------------
# W_p
# ----------------------------------------------------------------------------------------------
def _emd_cost(a: np.ndarray, b: np.ndarray, C: np.ndarray, num_iter_max: int) -> float:
    import ot

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # the cap is reported through result_code
        cost, log = ot.emd2(a, b, C, numItermax=int(num_iter_max), log=True)
    code = int(log.get("result_code", _POT_OPTIMAL))
    if code != _POT_OPTIMAL:
        if code == 3:
            raise RuntimeError(
                f"num_iter_max: POT's network simplex stopped at numItermax={int(num_iter_max)} before "
                "optimality; the returned cost would be wrong - pass a larger num_iter_max"
            )
        raise RuntimeError(f"POT emd2 failed (result_code={code}: {log.get('warning')!r})")
    return float(cost)


def wasserstein(
    x,
    y,
    p=2,
    a=None,
    b=None,
    metric: str = "chordal",
    *,
    method: str = "auto",
    num_iter_max: int = 10_000_000,
) -> float:
    r"""Exact Wasserstein distance :math:`W_p(\mu, \nu)` between two discrete measures.

    .. math::
        W_p(\mu, \nu) = \Big(\min_{\pi \in \Pi(a, b)} \sum_{i,j} \pi_{ij}\, d(x_i, y_j)^p\Big)^{1/p},
        \qquad \mu = \sum_i a_i \delta_{x_i},\ \nu = \sum_j b_j \delta_{y_j}.

    Returns :math:`W_p`, **not** :math:`W_p^p` (POT's ``emd2`` returns the latter). Solvers
    (``method="auto"``): one single point on either side -> closed form
    :math:`W_p^p(\mu, \delta_z) = \sum_i a_i d(x_i, z)^p` (on the sphere, chordal, :math:`p=2`:
    :math:`2(1 - \langle m_\mu, z\rangle)` with :math:`m_\mu = \sum_i a_i x_i`); equal sizes and
    uniform weights -> assignment problem :math:`\min_\sigma \frac1n\sum_i d(x_i, y_{\sigma(i)})^p`;
    otherwise POT's exact network simplex.

    Parameters
    ----------
    x, y : array_like, shapes (n, d) and (m, d)
        Support points. For ``metric="chordal"`` or ``"geodesic"`` every row must be a unit vector
        (within ``UNIT_NORM_TOL``).
    p : float >= 1
        Order of the distance.
    a, b : array_like, optional
        Nonnegative weights summing to 1 (default uniform).
    metric : {"chordal", "geodesic", "euclidean"}
        Chordal :math:`|x-y|` (default, as in the cited sources), geodesic :math:`\arccos\langle x,y\rangle`,
        or Euclidean points of :math:`\mathbb{R}^d` without the unit-norm check.
    method : {"auto", "assignment", "emd", "dirac"}
        Force a solver (``"assignment"`` needs equal sizes and uniform weights, ``"dirac"`` a single
        point on one side).
    num_iter_max : int
        Iteration cap passed to POT as ``numItermax``; reaching it raises :class:`RuntimeError`.

    Returns
    -------
    float
        :math:`W_p(\mu, \nu)`.

    Raises
    ------
    ValueError
        Bad shapes, non-finite values, rows off the sphere, bad weights, unknown metric/method, p < 1.
    RuntimeError
        POT's network simplex reached ``numItermax``.

    References
    ----------
    Dirac identity :math:`W_2^2(\mu,\delta_x) = \int|y-x|^2d\mu` (used for
    arXiv:2504.14697 as restated in arXiv:2512.01868). Peyré & Cuturi, *Computational Optimal
    Transport* (2019), §3.
    """
    metric = _check_metric(metric)
    p = _check_p(p)
    if method not in ("auto", "assignment", "emd", "dirac"):
        raise ValueError(f"method: unknown method {method!r}; choose auto, assignment, emd or dirac")
    xx = _as_points(x, "x", metric)
    yy = _as_points(y, "y", metric)
    if xx.shape[1] != yy.shape[1]:
        raise ValueError(f"y: dimension {yy.shape[1]} differs from x's {xx.shape[1]}; pass points in the same R^d")
    n, m = xx.shape[0], yy.shape[0]
    wa = _as_weights(a, n, "a")
    wb = _as_weights(b, m, "b")
    if method == "auto":
        if m == 1 or n == 1:
            method = "dirac"
        elif n == m and _is_uniform(wa, n) and _is_uniform(wb, m):
            method = "assignment"
        else:
            method = "emd"

    if method == "dirac":
        if m == 1:
            pts, w, z = xx, _uniform(wa, n), yy
        elif n == 1:
            pts, w, z = yy, _uniform(wb, m), xx
        else:
            raise ValueError("method: 'dirac' needs a single point in x or y; use method='auto'")
        cost = float(w @ _cost(pts, z, p, metric)[:, 0])
    elif method == "assignment":
        if n != m or not (_is_uniform(wa, n) and _is_uniform(wb, m)):
            raise ValueError("method: 'assignment' needs equal sizes and uniform weights; use method='auto'")
        C = _cost(xx, yy, p, metric)
        rows, cols = linear_sum_assignment(C)
        cost = float(C[rows, cols].sum() / n)
    else:
        if int(num_iter_max) < 1:
            raise ValueError(f"num_iter_max: must be a positive integer, got {num_iter_max!r}")
        C = _cost(xx, yy, p, metric)
        cost = _emd_cost(_uniform(wa, n), _uniform(wb, m), C, num_iter_max)
    return max(cost, 0.0) ** (1.0 / p)


# ----------------------------------------------------------------------------------------------
# circle
# ----------------------------------------------------------------------------------------------
def _as_angles(t, name: str) -> np.ndarray:
    arr = real_array(name, t)
    if arr.ndim != 1 or arr.shape[0] < 1:
        raise ValueError(f"{name}: expected a 1-D array of angles (radians) with n >= 1, got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name}: contains NaN or inf; pass finite angles")
    return arr


def _circle_sorted(u: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sort positions on [0, 1) with their weights; make the cumulative weight end at >= 1 exactly.

    POT 0.9.7's ``binary_search_circle`` evaluates quantiles up to level 1 and returns a wrong cost
    (off by O(1)) when ``cumsum(weights)[-1]`` is 1 - ulp; the last weight is nudged up by a few ulps.
    """
    u = np.where(u >= 1.0, 0.0, u)  # np.mod(-tiny, 1.0) == 1.0
    order = np.argsort(u, kind="stable")
    u, w = u[order], w[order].copy()
    for _ in range(64):
        total = np.cumsum(w)[-1]
        if total >= 1.0:
            break
        w[-1] = np.nextafter(w[-1] + (1.0 - total), np.inf)
    return u, w


def wasserstein_circle(theta, phi, p=2, a=None, b=None, *, eps: float = 1e-13) -> float:
    r"""Wasserstein distance on the circle :math:`\mathbb{T} = \mathbb{R}/2\pi\mathbb{Z}` with arc-length cost.

    .. math::
        d(\theta, \varphi) = \min_{k \in \mathbb{Z}} |\theta - \varphi + 2\pi k|, \qquad
        W_p^p(\mu, \nu) = (2\pi)^p \inf_{s \in \mathbb{R}} \int_0^1
            \big|F_u^{-1}(q) - (F_v - s)^{-1}(q)\big|^p \, dq,

    where :math:`F_u, F_v` are the distribution functions of :math:`u = \theta/2\pi \bmod 1` and
    :math:`v = \varphi/2\pi \bmod 1` on :math:`[0, 1)` (POT's circle works in these units, so its
    cost is multiplied by :math:`(2\pi)^p`). The convex minimisation over the shift :math:`s` is
    POT's ``binary_search_circle`` (stopping tolerance ``eps``); it ends at the exact minimiser when
    the one-sided derivatives change sign. Returns :math:`W_p` (not :math:`W_p^p`). The geodesic
    distance of :math:`S^1 \subset \mathbb{R}^2`; for the chordal cost embed the angles as
    :math:`(\cos\theta, \sin\theta)` and call :func:`wasserstein`.

    Parameters
    ----------
    theta, phi : array_like, shapes (n,) and (m,)
        Angles in radians (any real values; taken mod :math:`2\pi`).
    p : float >= 1
    a, b : array_like, optional
        Probability weights (default uniform).
    eps : float
        Stopping tolerance of the shift search, in units of the full turn.

    Returns
    -------
    float

    References
    ----------
    Delon, Salomon & Sobolevski, SIAM J. Appl. Math. 70 (2010);
    Hundrieser, Klatt & Munk (2022), as implemented in POT (``ot.binary_search_circle``).
    """
    import ot

    p = _check_p(p)
    th = _as_angles(theta, "theta")
    ph = _as_angles(phi, "phi")
    wa = _uniform(_as_weights(a, th.shape[0], "a"), th.shape[0])
    wb = _uniform(_as_weights(b, ph.shape[0], "b"), ph.shape[0])
    if not (np.isfinite(eps) and eps > 0):
        raise ValueError(f"eps: must be a positive tolerance, got {eps!r}")
    u, wa = _circle_sorted(np.mod(th / (2.0 * np.pi), 1.0), wa)
    v, wb = _circle_sorted(np.mod(ph / (2.0 * np.pi), 1.0), wb)
    cost01 = float(
        np.asarray(ot.binary_search_circle(u, v, wa, wb, p=p, eps=eps, require_sort=False)).reshape(-1)[0]
    )
    return max(cost01, 0.0) ** (1.0 / p) * (2.0 * np.pi)


# ----------------------------------------------------------------------------------------------
# sliced
# ----------------------------------------------------------------------------------------------
def _quantile_cost(u: np.ndarray, v: np.ndarray, wa, wb, p: float) -> np.ndarray:
    """W_p^p between 1-D projections, column by column (u: (n, k), v: (m, k))."""
    if wa is None and wb is None and u.shape[0] == v.shape[0]:
        return np.mean(np.abs(np.sort(u, axis=0) - np.sort(v, axis=0)) ** p, axis=0)
    import ot

    n, m = u.shape[0], v.shape[0]
    return np.asarray(ot.wasserstein_1d(u, v, _uniform(wa, n), _uniform(wb, m), p=p))


def _random_directions(d: int, n_projections: int, seed=None) -> np.ndarray:
    """Uniform random unit vectors of R^d as the columns of a (d, n_projections) array."""
    from attnflow._base.validate import memory

    memory("n_projections", 8.0 * 4 * d * n_projections, f"{n_projections} projections in R^{d}: use fewer")
    rng = np.random.default_rng(seed)
    g = rng.standard_normal((d, n_projections))
    return g / np.linalg.norm(g, axis=0, keepdims=True)


def sliced_wasserstein(
    x, y, p=2, a=None, b=None, *, n_projections: int = 200, seed=None, metric: str = "chordal"
) -> float:
    r"""Monte-Carlo sliced Wasserstein distance :math:`\mathrm{SW}_p` (a lower bound of :math:`W_p`).

    .. math::
        \mathrm{SW}_p(\mu, \nu) = \Big(\frac1K \sum_{k=1}^{K} W_p^p(\langle\theta_k,\cdot\rangle_\#\mu,
        \langle\theta_k,\cdot\rangle_\#\nu)\Big)^{1/p}, \qquad \theta_k \sim \mathrm{Unif}(S^{d-1}).

    Projections are 1-Lipschitz for :math:`|x-y|`, so every term is at most :math:`W_p^p` and
    :math:`\mathrm{SW}_p \le W_p^{\mathrm{chord}} \le W_p^{\mathrm{geo}}` holds for every draw;
    the Monte-Carlo error of the average is :math:`O(K^{-1/2})`. Never use it in place of
    :math:`W_p` in an inequality proved for :math:`W_p`.

    Parameters
    ----------
    x, y : array_like, shapes (n, d), (m, d)
    p : float >= 1
    a, b : array_like, optional
        Probability weights (default uniform).
    n_projections : int
        Number :math:`K` of random directions.
    seed : int or numpy.random.Generator, optional
        Seed of the directions (``numpy.random.default_rng(seed)``).
    metric : {"chordal", "euclidean"}
        Only validation differs (unit rows for ``"chordal"``).

    Returns
    -------
    float

    References
    ----------
    Bonneel, Rabin, Peyré & Pfister, J. Math. Imaging Vis. 51 (2015).
    """
    metric = _check_metric(metric)
    if metric == "geodesic":
        raise ValueError("metric: sliced_wasserstein projects linearly; use 'chordal' or 'euclidean'")
    p = _check_p(p)
    if int(n_projections) != n_projections or n_projections < 1:
        raise ValueError(f"n_projections: must be a positive integer, got {n_projections!r}")
    xx = _as_points(x, "x", metric)
    yy = _as_points(y, "y", metric)
    if xx.shape[1] != yy.shape[1]:
        raise ValueError(f"y: dimension {yy.shape[1]} differs from x's {xx.shape[1]}; pass points in the same R^d")
    wa = _as_weights(a, xx.shape[0], "a")
    wb = _as_weights(b, yy.shape[0], "b")
    if _is_uniform(wa, xx.shape[0]):
        wa = None
    if _is_uniform(wb, yy.shape[0]):
        wb = None
    theta = _random_directions(xx.shape[1], int(n_projections), seed)
    costs = _quantile_cost(xx @ theta, yy @ theta, wa, wb, p)
    return float(np.mean(costs)) ** (1.0 / p)
