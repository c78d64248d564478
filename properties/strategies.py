"""Hypothesis strategies for particle configurations, matrices and parameters.

Every strategy draws a *seed* and the sizes with Hypothesis and then generates the arrays with
``numpy.random.default_rng(seed)`` inside ``st.composite``: Hypothesis shrinks the sizes and the
seed (towards small, simple cases) while the arrays stay reproducible from the drawn integers.
Use them in your own tests::

    from hypothesis import given
    from attnflow.properties import strategies as afs

    @given(afs.sphere_points(n=5, d=3, min_separation=0.2))
    def test_unit(x):
        assert abs((x * x).sum(axis=1) - 1).max() < 1e-12

Sizes (``n``, ``d``) and scalar parameters accept either a plain value or a Hypothesis strategy.

References
----------
Stationary sets and hemisphere starts: arXiv:2312.10794 (Geshkovski, Letrouit, Polyanskiy,
Rigollet), Thm. 5.1 and §6.  Equiangular configurations: arXiv:2512.01868, equiangular
reduction; ``derivations/equiangular.md``.  Gradient structure with
:math:`Q^\\top K = V = V^\\top`: ``derivations/energy.md`` and ``derivations/spectral.md``
(arXiv:2604.26085).
"""

from __future__ import annotations

import math

import numpy as np
from hypothesis import strategies as st
from hypothesis.strategies import SearchStrategy

from attnflow._base import validate

__all__ = [
    "seeds",
    "sizes",
    "betas",
    "step_sizes",
    "sphere_points",
    "hemisphere_points",
    "equiangular_points",
    "regular_simplex",
    "orthogonal_matrices",
    "symmetric_matrices",
    "qk_pairs",
    "random_orthogonal",
    "pairwise_separation",
    "antipodal_gap",
    "simplex_gap",
]

_MAX_TRIES = 200


# ----------------------------------------------------------------------------------------- helpers
def _strategy(value, name: str) -> SearchStrategy:
    if isinstance(value, SearchStrategy):
        return value
    if isinstance(value, (bool, np.bool_)) or value is None:
        raise ValueError(f"{name}: expected a number or a Hypothesis strategy, got {value!r}")
    return st.just(value)


def _check_size(value, name: str, lo: int) -> int:
    return validate.integer(name, value, minimum=lo)


def random_orthogonal(rng: np.random.Generator, d: int) -> np.ndarray:
    r"""A Haar-distributed orthogonal matrix.

    QR factorisation of a standard Gaussian matrix with the sign correction of Mezzadri:

    .. math:: G = QR,\quad O = Q\,\operatorname{diag}(\operatorname{sign} R_{kk}).

    Parameters
    ----------
    rng : numpy.random.Generator
    d : int
        Dimension (``>= 1``).

    References
    ----------
    F. Mezzadri, "How to generate random matrices from the classical compact groups",
    arXiv:math-ph/0609050, §5.
    """
    d = _check_size(d, "d", 1)
    q, r = np.linalg.qr(rng.standard_normal((d, d)))
    s = np.sign(np.diag(r))
    s[s == 0] = 1.0
    return q * s


def _uniform_sphere(rng: np.random.Generator, n: int, d: int) -> np.ndarray:
    x = rng.standard_normal((n, d))
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def pairwise_separation(x: np.ndarray) -> float:
    r"""Smallest pairwise chordal distance :math:`\min_{i\ne j}|x_i-x_j|` (``inf`` for one point)."""
    x = np.asarray(x, dtype=float)
    if x.shape[0] < 2:
        return math.inf
    g = x @ x.T
    sq = np.clip(2.0 - 2.0 * g, 0.0, None)
    np.fill_diagonal(sq, np.inf)
    return float(np.sqrt(sq.min()))


def antipodal_gap(x: np.ndarray) -> float:
    r"""Distance to the antipodal-pair set: :math:`\min_{i\ne j}|x_i+x_j|`.

    It vanishes iff some pair is antipodal (a stationary configuration of SA/USA).

    References
    ----------
    arXiv:2312.10794 §6.
    """
    x = np.asarray(x, dtype=float)
    if x.shape[0] < 2:
        return math.inf
    g = x @ x.T
    sq = np.clip(2.0 + 2.0 * g, 0.0, None)
    np.fill_diagonal(sq, np.inf)
    return float(np.sqrt(sq.min()))


def simplex_gap(x: np.ndarray) -> float:
    r"""Distance of the Gram matrix to that of a regular simplex:

    .. math:: \max_{i\ne j}\bigl|\langle x_i,x_j\rangle + \tfrac{1}{n-1}\bigr|,

    zero iff the points form a regular simplex (stationary for SA/USA at every :math:`\beta`).

    References
    ----------
    arXiv:2312.10794 §6.
    """
    x = np.asarray(x, dtype=float)
    n = x.shape[0]
    if n < 2:
        return math.inf
    g = x @ x.T + 1.0 / (n - 1)
    np.fill_diagonal(g, 0.0)
    return float(np.abs(g).max())


# ----------------------------------------------------------------------------------------- scalars
def seeds() -> SearchStrategy[int]:
    """Seeds for ``numpy.random.default_rng`` (shrink towards 0)."""
    return st.integers(min_value=0, max_value=2**32 - 1)


def sizes(min_value: int = 2, max_value: int = 8) -> SearchStrategy[int]:
    """Integer sizes (numbers of tokens ``n`` or dimensions ``d``) in ``[min_value, max_value]``."""
    _check_size(min_value, "min_value", 0)
    if max_value < min_value:
        raise ValueError(f"max_value: {max_value} < min_value {min_value}; swap them")
    return st.integers(min_value=min_value, max_value=max_value)


def betas(min_value: float = 0.0, max_value: float = 10.0) -> SearchStrategy[float]:
    r"""Inverse temperatures :math:`\beta \in [\text{min\_value}, \text{max\_value}]` (finite floats).

    ``min_value`` must be :math:`\ge 0` (the convention :math:`\beta\ge 0`).
    """
    if not (math.isfinite(min_value) and math.isfinite(max_value)) or min_value < 0 or max_value < min_value:
        raise ValueError(
            f"min_value/max_value: need 0 <= min_value <= max_value < inf, got {min_value}, {max_value}"
        )
    return st.floats(min_value=min_value, max_value=max_value, allow_nan=False, allow_infinity=False)


def step_sizes(min_value: float = 1e-3, max_value: float = 1.0) -> SearchStrategy[float]:
    r"""Step sizes :math:`h` drawn log-uniformly in ``[min_value, max_value]`` (``0 < min_value``).

    .. math:: h = h_{\min}\,(h_{\max}/h_{\min})^{u},\quad u\in[0,1].

    Time-discrete layers: the step size is a drawn parameter.
    """
    if not (0 < min_value <= max_value < math.inf):
        raise ValueError(f"min_value/max_value: need 0 < min_value <= max_value, got {min_value}, {max_value}")
    lo, hi = math.log(min_value), math.log(max_value)
    return st.floats(min_value=0.0, max_value=1.0, allow_nan=False).map(
        lambda u: float(min(max(math.exp(lo + u * (hi - lo)), min_value), max_value))
    )


# ----------------------------------------------------------------------------------------- points
@st.composite
def sphere_points(
    draw,
    n=sizes(2, 8),
    d=sizes(2, 5),
    min_separation: float = 0.0,
    avoid_stationary: float = 1e-3,
):
    r"""``n`` points on :math:`S^{d-1}` (array ``(n, d)``), uniform, then filtered.

    Kept only if :math:`\min_{i\ne j}|x_i-x_j|\ge` ``min_separation`` and, when ``avoid_stationary > 0``,
    the configuration is at least that far from the measure-zero stationary sets of SA/USA:

    .. math:: \min_{i\ne j}|x_i+x_j| \ge a,\qquad
              \max_{i\ne j}\bigl|\langle x_i,x_j\rangle+\tfrac1{n-1}\bigr| \ge a .

    Up to 200 fresh draws from the seeded generator are tried before the example is rejected.

    Parameters
    ----------
    n, d : int or strategy
        Number of points and ambient dimension (``n >= 1``, ``d >= 2``).
    min_separation : float
        Minimum pairwise chordal distance, in ``[0, 2)``.
    avoid_stationary : float
        Margin ``a`` to the antipodal-pair and regular-simplex sets (``0`` disables the filter).

    References
    ----------
    arXiv:2312.10794 §6 (a.e. initial configuration; stationary antipodal pairs and simplices).
    """
    if not (0.0 <= min_separation < 2.0):
        raise ValueError(f"min_separation: expected a distance in [0, 2), got {min_separation}")
    if not (avoid_stationary >= 0.0):
        raise ValueError(f"avoid_stationary: expected a margin >= 0, got {avoid_stationary}")
    n_ = _check_size(draw(_strategy(n, "n")), "n", 1)
    d_ = _check_size(draw(_strategy(d, "d")), "d", 2)
    rng = np.random.default_rng(draw(seeds()))
    for _ in range(_MAX_TRIES):
        x = _uniform_sphere(rng, n_, d_)
        if pairwise_separation(x) < min_separation:
            continue
        if avoid_stationary > 0 and (antipodal_gap(x) < avoid_stationary or simplex_gap(x) < avoid_stationary):
            continue
        return x
    from hypothesis import reject

    reject()


@st.composite
def hemisphere_points(draw, n=sizes(2, 8), d=sizes(2, 5), margin: float = 0.1):
    r"""A hemisphere configuration: ``(x, w)`` with :math:`|w|=1` and :math:`\langle x_i,w\rangle > m`.

    Heights :math:`t_i=\langle x_i,w\rangle` are uniform in :math:`(m + (1-m)/100,\ 1)` and the tangent
    directions uniform on the unit sphere of :math:`w^\perp`:

    .. math:: x_i = t_i\,w + \sqrt{1-t_i^2}\,u_i,\quad u_i\perp w,\ |u_i|=1 .

    Parameters
    ----------
    n, d : int or strategy
    margin : float
        :math:`m\in[0,1)`; every point satisfies :math:`\langle x_i,w\rangle > m` strictly.

    References
    ----------
    arXiv:2312.10794 Thm. 5.1 (hemisphere starts cluster exponentially); ``derivations/energy.md``
    (``cluster.hemisphere.identity``).
    """
    if not (0.0 <= margin < 1.0):
        raise ValueError(f"margin: expected a value in [0, 1), got {margin}")
    n_ = _check_size(draw(_strategy(n, "n")), "n", 1)
    d_ = _check_size(draw(_strategy(d, "d")), "d", 2)
    rng = np.random.default_rng(draw(seeds()))
    w = _uniform_sphere(rng, 1, d_)[0]
    lo = margin + (1.0 - margin) / 100.0
    t = rng.uniform(lo, 1.0, size=n_)
    u = rng.standard_normal((n_, d_))
    u -= np.outer(u @ w, w)
    u /= np.linalg.norm(u, axis=1, keepdims=True)
    x = t[:, None] * w + np.sqrt(1.0 - t**2)[:, None] * u
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    return x, w


def _equiangular(rng: np.random.Generator, n: int, d: int, rho: float) -> np.ndarray:
    g = (1.0 - rho) * np.eye(n) + rho * np.ones((n, n))
    low = np.linalg.cholesky(g)  # rows are vectors in R^n with Gram g
    if d > n:
        low = np.hstack([low, np.zeros((n, d - n))])
    elif d < n:
        # rank of g is n (rho > -1/(n-1)) so d >= n is required; callers guarantee it.
        raise ValueError(f"d: equiangular points with rho > -1/(n-1) need d >= n, got d={d} < n={n}")
    x = low @ random_orthogonal(rng, d).T
    return x / np.linalg.norm(x, axis=1, keepdims=True)


@st.composite
def equiangular_points(draw, n=sizes(2, 8), d=None, rho=None, margin: float = 1e-3):
    r"""Equiangular unit vectors: ``(x, rho)`` with :math:`\langle x_i,x_j\rangle=\rho` for :math:`i\ne j`.

    The Gram matrix :math:`G=(1-\rho)I+\rho\,\mathbf 1\mathbf 1^\top` is positive definite iff
    :math:`-1/(n-1)<\rho<1`; the rows of its Cholesky factor :math:`G=LL^\top` are embedded in
    :math:`\mathbb R^d` (``d >= n``) and rotated by a Haar orthogonal matrix.

    Parameters
    ----------
    n : int or strategy
        Number of vectors (``>= 2``).
    d : int, strategy or None
        Ambient dimension (``>= n``); default ``n``.
    rho : float, strategy or None
        The common inner product; default uniform in :math:`(-1/(n-1)+m,\ 1-m)`.
    margin : float
        :math:`m`, distance kept from both ends of the admissible interval.

    References
    ----------
    arXiv:2512.01868 (equiangular reduction); ``derivations/equiangular.md``,
    ``derivations/long_context.md``.
    """
    if not (0.0 < margin < 0.5):
        raise ValueError(f"margin: expected a value in (0, 0.5), got {margin}")
    n_ = _check_size(draw(_strategy(n, "n")), "n", 2)
    d_ = n_ if d is None else _check_size(draw(_strategy(d, "d")), "d", 2)
    if d_ < n_:
        raise ValueError(f"d: equiangular points need d >= n (got d={d_}, n={n_}); draw d from sizes(n, ...)")
    lo, hi = -1.0 / (n_ - 1) + margin, 1.0 - margin
    if rho is None:
        r = draw(st.floats(min_value=lo, max_value=hi, allow_nan=False))
    else:
        r = float(draw(_strategy(rho, "rho")))
        if not (-1.0 / (n_ - 1) < r < 1.0):
            raise ValueError(f"rho: need -1/(n-1) < rho < 1 for n={n_}, got {r}")
    rng = np.random.default_rng(draw(seeds()))
    return _equiangular(rng, n_, d_, r), r


def regular_simplex(n: int, d: int, rng: np.random.Generator | None = None) -> np.ndarray:
    r"""``n`` unit vectors in :math:`\mathbb R^d` forming a regular simplex (``n <= d + 1``).

    .. math:: x_i = \frac{e_i - \frac1n\mathbf 1}{|e_i - \frac1n\mathbf 1|},\qquad
              \langle x_i,x_j\rangle = -\frac{1}{n-1}\ (i\ne j),

    computed in the :math:`(n-1)`-dimensional subspace :math:`\mathbf 1^\perp` and embedded in
    :math:`\mathbb R^d` by a random (``rng``) or identity isometry.

    References
    ----------
    arXiv:2312.10794 §6 (stationary configurations).
    """
    n = _check_size(n, "n", 2)
    d = _check_size(d, "d", 1)
    if n > d + 1:
        raise ValueError(f"n: a regular simplex in R^{d} has at most d+1={d + 1} vertices, got n={n}")
    c = np.eye(n) - 1.0 / n
    # orthonormal basis of 1^perp (n-1 vectors) from the SVD of the centring matrix
    _, _, vt = np.linalg.svd(c)
    basis = vt[: n - 1]  # (n-1, n), rows orthonormal, orthogonal to 1
    y = c @ basis.T  # (n, n-1)
    y /= np.linalg.norm(y, axis=1, keepdims=True)
    x = np.zeros((n, d))
    x[:, : n - 1] = y
    if rng is not None:
        x = x @ random_orthogonal(rng, d).T
    return x


# ----------------------------------------------------------------------------------------- matrices
@st.composite
def orthogonal_matrices(draw, d=sizes(2, 5)):
    """Haar orthogonal ``(d, d)`` matrices (see :func:`random_orthogonal`)."""
    d_ = _check_size(draw(_strategy(d, "d")), "d", 1)
    return random_orthogonal(np.random.default_rng(draw(seeds())), d_)


@st.composite
def symmetric_matrices(draw, spectrum):
    r"""Symmetric matrices with a prescribed spectrum by random orthogonal conjugation.

    .. math:: V = O\,\operatorname{diag}(\lambda_1,\dots,\lambda_d)\,O^\top,\qquad O \text{ Haar}.

    Parameters
    ----------
    spectrum : sequence of float or strategy of sequences
        The eigenvalues :math:`\lambda_k` (finite); ``d = len(spectrum)``.

    References
    ----------
    arXiv:2604.26085 (spectral selection with :math:`V=V^\top`); ``derivations/spectral.md``.
    """
    lam = np.asarray(draw(_strategy(spectrum, "spectrum")) if isinstance(spectrum, SearchStrategy) else spectrum,
                     dtype=float)
    if lam.ndim != 1 or lam.size < 1 or not np.all(np.isfinite(lam)):
        raise ValueError(f"spectrum: expected a non-empty 1-D sequence of finite numbers, got {lam!r}")
    o = random_orthogonal(np.random.default_rng(draw(seeds())), lam.size)
    v = (o * lam) @ o.T
    return 0.5 * (v + v.T)


@st.composite
def qk_pairs(draw, v, condition: float = 4.0):
    r"""Pairs ``(Q, K)`` with :math:`Q^\top K = V` for a given (symmetric) ``V``.

    :math:`Q = O_1\,\operatorname{diag}(s)\,O_2` with :math:`s_k` log-uniform in
    :math:`[\kappa^{-1/2},\kappa^{1/2}]` (condition number at most :math:`\kappa`), and

    .. math:: K = Q^{-\top} V \quad\Longrightarrow\quad Q^\top K = V .

    Parameters
    ----------
    v : array_like (d, d) or strategy of arrays
        The target :math:`V` (for the gradient-flow structure it must be symmetric; any square
        matrix is accepted here).
    condition : float
        Upper bound :math:`\kappa\ge 1` on the condition number of :math:`Q`.

    References
    ----------
    arXiv:2312.10794 §3 and arXiv:2604.26085; ``derivations/energy.md``
    (``energy.dissipation.qkv_symmetric``: the energy identity requires :math:`Q^\top K = V = V^\top`),
    ``derivations/spectral.md``.
    """
    validate.real("condition", condition, lo=1.0)
    vv = np.asarray(draw(v) if isinstance(v, SearchStrategy) else v, dtype=float)
    if vv.ndim != 2 or vv.shape[0] != vv.shape[1] or not np.all(np.isfinite(vv)):
        raise ValueError(f"v: expected a finite square matrix, got shape {vv.shape}")
    d = vv.shape[0]
    rng = np.random.default_rng(draw(seeds()))
    half = 0.5 * math.log(condition)
    s = np.exp(rng.uniform(-half, half, size=d))
    q = (random_orthogonal(rng, d) * s) @ random_orthogonal(rng, d)
    k = np.linalg.solve(q.T, vv)
    return q, k
