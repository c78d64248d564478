r"""Clustering claims that need no particle integrator (theory notes 03-clustering.md §3.1).

``cluster.wendel``: Wendel's theorem for the probability that ``n`` iid uniform points on
:math:`S^{d-1}` lie in an open hemisphere; ``cluster.stationary``: antipodal pairs and regular
simplices are stationary for SA and USA at every :math:`\beta`.
"""

from __future__ import annotations

import math

import numpy as np
from hypothesis import strategies as st
from scipy.optimize import linprog
from scipy.stats import binomtest

from attnflow.numerics import velocity
from attnflow.numerics._reference import velocity_ref
from attnflow.properties.registry import Measurement, claim, require
from attnflow.properties.strategies import regular_simplex, seeds

#: Monte Carlo samples per example and the per-example false-alarm level of the binomial test.
WENDEL_SAMPLES = 200
WENDEL_ALPHA = 1e-6


def wendel_probability(n: int, d: int) -> float:
    r"""Wendel's formula :math:`P_{n,d} = 2^{-(n-1)}\sum_{k=0}^{d-1}\binom{n-1}{k}` (equals 1 for ``d >= n``).

    References
    ----------
    J. G. Wendel, "A problem in geometric probability", Math. Scand. 11 (1962) 109-111;
    theory notes 03-clustering.md §3.1 item 7.
    """
    if n < 1 or d < 1:
        raise ValueError(f"n, d: expected positive sizes, got n={n}, d={d}")
    return sum(math.comb(n - 1, k) for k in range(d)) / 2 ** (n - 1)


def in_open_hemisphere(x: np.ndarray, perceptron_steps: int = 30) -> bool:
    r"""Whether :math:`\exists w:\ \langle x_i,w\rangle>0\ \forall i`, decided with verified certificates.

    By Gordan's theorem exactly one of the two systems is solvable:

    .. math:: \exists w:\ Xw>0 \qquad\text{or}\qquad \exists\lambda\ge0,\ \textstyle\sum_i\lambda_i=1,\ X^\top\lambda=0 .

    1. a few perceptron steps from the mean direction look for a separating :math:`w` (verified
       exactly: :math:`\min_i\langle x_i,w\rangle>0`);
    2. otherwise the Gordan LP (``scipy.optimize.linprog``, HiGHS) looks for :math:`\lambda`; a
       solution is verified (:math:`\lambda\ge0`, :math:`|X^\top\lambda|\le10^{-9}`);
    3. if that LP is infeasible, the primal LP :math:`Xw\ge1` (strictness by scaling) must return a
       verified :math:`w`.  Inconsistent answers raise ``RuntimeError`` (never a silent guess).

    References
    ----------
    Gordan's theorem of the alternative (e.g. Schrijver, *Theory of Linear and Integer Programming*, §7.8);
    theory notes 03-clustering.md §3.1 item 6 (hemisphere starts).
    """
    x = np.asarray(x, dtype=float)
    if x.ndim != 2 or x.shape[0] < 1:
        raise ValueError(f"x: expected an (n, d) array of points, got shape {x.shape}")
    n, d = x.shape
    w = x.sum(axis=0)
    for _ in range(perceptron_steps):
        s = x @ w
        k = int(np.argmin(s))
        if s[k] > 0:
            return True
        w = w + x[k]
    a_eq = np.vstack([x.T, np.ones((1, n))])
    b_eq = np.concatenate([np.zeros(d), [1.0]])
    alt = linprog(np.zeros(n), A_eq=a_eq, b_eq=b_eq, bounds=[(0, None)] * n, method="highs")
    if alt.status == 0:
        lam = alt.x
        if np.min(lam) < -1e-12 or np.linalg.norm(x.T @ lam) > 1e-9:
            raise RuntimeError("Gordan LP returned an unverifiable certificate")
        return False
    if alt.status != 2:
        raise RuntimeError(f"Gordan LP: {alt.message}")
    res = linprog(np.zeros(d), A_ub=-x, b_ub=-np.ones(n), bounds=[(None, None)] * d, method="highs")
    if res.status != 0 or not np.min(x @ res.x) > 0:
        raise RuntimeError("hemisphere LPs disagree: neither a separating w nor a Gordan certificate")
    return True


@st.composite
def _wendel_examples(draw):
    # n > d: for d >= n the probability is 1 and the Monte Carlo check is trivial (unit-tested separately)
    d = draw(st.integers(2, 6))
    n = d + draw(st.integers(1, 8))
    return {"n": n, "d": d, "seed": draw(seeds())}


@claim(
    id="cluster.wendel",
    title="P(n iid uniform points on S^{d-1} lie in an open hemisphere) = 2^{-(n-1)} sum_{k<d} C(n-1,k)",
    source="Wendel 1962 (Math. Scand. 11); used in arXiv:2312.10794 §6; theory notes 03-clustering.md §3.1 item 7",
    latex=r"\mathbb P\bigl(\exists w:\ \langle x_i,w\rangle>0\ \forall i\le n\bigr)=2^{-(n-1)}\sum_{k=0}^{d-1}\binom{n-1}{k}",
    hypotheses=_wendel_examples(),
    expect="holds",
    tolerance=f"exact binomial test of {WENDEL_SAMPLES} Monte Carlo samples per example, fail if p-value "
    f"< {WENDEL_ALPHA:g} (false-alarm rate <= 2e-4 even over 200 thorough examples); membership decided "
    "exactly by a verified separating w or a verified Gordan certificate (LP, HiGHS)",
    measure="min binomial p-value",
    aggregate="min",
    examples=0.6,
)
def wendel(ex):
    n, d = ex["n"], ex["d"]
    rng = np.random.default_rng(ex["seed"])
    hits = 0
    for _ in range(WENDEL_SAMPLES):
        x = rng.standard_normal((n, d))
        x /= np.linalg.norm(x, axis=1, keepdims=True)
        hits += in_open_hemisphere(x)
    p = wendel_probability(n, d)
    test = binomtest(hits, WENDEL_SAMPLES, p)
    pval = float(test.pvalue)
    ci = test.proportion_ci(confidence_level=1.0 - WENDEL_ALPHA, method="exact")  # Clopper-Pearson
    require(pval >= WENDEL_ALPHA,
            f"n={n}, d={d}: {hits}/{WENDEL_SAMPLES} in a hemisphere vs Wendel's {p:.4f} (p-value {pval:.2e}; "
            f"Clopper-Pearson {1 - WENDEL_ALPHA:g} interval [{ci.low:.4f}, {ci.high:.4f}])")
    return Measurement(value=pval, extra={"|freq - P|": abs(hits / WENDEL_SAMPLES - p)})


@st.composite
def _stationary_examples(draw):
    """One draw covers every kind: a small antipodal pair and simplex, a simplex with n >= 256 tokens
    (the SA field takes its blocked BLAS path there) and a batch of rotated regular polygons on the circle."""
    d = draw(st.integers(2, 8))
    n_large = draw(st.integers(256, 300))
    return {
        "model": draw(st.sampled_from(["SA", "USA"])),
        "d": d,
        "n": draw(st.integers(2, d + 1)),
        "n_large": n_large,
        "d_large": n_large - 1 + draw(st.integers(0, 1)),
        "n_polygon": draw(st.integers(3, 12)),
        "beta": draw(st.floats(0.0, 50.0, allow_nan=False)),
        "seed": draw(seeds()),
    }


def stationary_configuration(kind: str, n: int, d: int, seed: int) -> np.ndarray:
    r"""A stationary configuration, randomly rotated: an antipodal pair :math:`\{x,-x\}` (``n = 2``),
    a regular simplex (:math:`\langle x_i,x_j\rangle=-1/(n-1)`, ``kind`` ``"simplex"`` or
    ``"simplex_large"``), or (``"polygon"``) angles of shape ``(3, n)``: three rotated regular
    ``n``-gons on the circle, :math:`\theta_j = \phi + 2\pi j/n`.

    References
    ----------
    arXiv:2312.10794 §6; theory notes 03-clustering.md §3.1.
    """
    rng = np.random.default_rng(seed)
    if kind == "antipodal":
        x = rng.standard_normal(d)
        x /= np.linalg.norm(x)
        return np.stack([x, -x])
    if kind in ("simplex", "simplex_large"):
        return regular_simplex(n, d, rng=np.random.default_rng(seed))
    if kind == "polygon":
        phases = rng.uniform(0.0, 2 * np.pi, size=(3, 1))
        return np.mod(phases + 2 * np.pi * np.arange(n) / n, 2 * np.pi)
    raise ValueError(f"kind: expected 'antipodal', 'simplex', 'simplex_large' or 'polygon', got {kind!r}")


def _circle_field_np(theta: np.ndarray, beta: float) -> np.ndarray:
    diff = theta[..., :, None] - theta[..., None, :]
    return -np.mean(np.exp(beta * (np.cos(diff) - 1.0)) * np.sin(diff), axis=-1)


def relative_speed(x: np.ndarray, model: str, beta: float) -> float:
    r""":math:`\max_i|\dot x_i|` relative to the unprojected attention sum (SA: weights sum to 1; USA: scale of
    :math:`\frac1n\sum_j e^{\beta\langle x_i,x_j\rangle}x_j` plus :math:`e^\beta/n`; Kuramoto on angles: in
    units of :math:`e^{\beta}`), the larger of the plain-NumPy field and the generated kernel
    (:func:`attnflow.numerics.velocity`), so both implementations are held to the claim.

    References
    ----------
    arXiv:2312.10794 §2 (SA, USA); theory notes 01-models.md §1.4, 03-clustering.md §3.1.
    """
    if model == "SA":
        fields = (velocity_ref(x, "sa", beta), velocity(x, model="sa", beta=beta))
        scale = 1.0
    elif model == "USA":
        raw = np.exp(beta * (x @ x.T)) @ x / x.shape[0]  # unprojected sums (1/n) sum_j e^{beta<x_i,x_j>} x_j
        scale = float(np.linalg.norm(raw, axis=1).max()) + np.exp(beta) / x.shape[0]
        fields = (velocity_ref(x, "usa", beta), velocity(x, model="usa", beta=beta))
    elif model == "kuramoto":
        scale = float(np.exp(beta))
        fields = (_circle_field_np(x, beta) * scale, velocity(x, model="kuramoto", beta=beta))
    else:
        raise ValueError(f"model: expected 'SA', 'USA' or 'kuramoto', got {model!r}")
    return max(float(np.abs(f).max()) if model == "kuramoto" else float(np.linalg.norm(f, axis=1).max())
               for f in fields) / scale


@claim(
    id="cluster.stationary",
    title="antipodal pairs and regular simplices are stationary for SA and USA (regular polygons for "
    "Kuramoto on the circle) at every beta",
    source="arXiv:2312.10794 §6 (stationary configurations); theory notes 03-clustering.md §3.1",
    latex=r"x=\{x,-x\}\ \text{or}\ \langle x_i,x_j\rangle=-\tfrac1{n-1}\ (i\ne j)\ \Longrightarrow\ "
    r"P_{x_i}\textstyle\sum_j A_{ij}x_j=0\ \ \forall i,\ \forall\beta\ge0",
    hypotheses=_stationary_examples(),
    expect="holds",
    tolerance="max_i |x_i'| <= 1e-12 relative to the size of the unprojected sum (e^beta/n for USA, e^beta "
    "for Kuramoto), for both the plain-NumPy field and the generated kernel: a tangent projection of O(1) "
    "vectors built from a rotated exact construction has round-off ~ 1e-15 d (d <= 300 here)",
    measure="max relative speed",
)
def stationary(ex):
    cases = {
        "antipodal": (stationary_configuration("antipodal", 2, ex["d"], ex["seed"]), ex["model"]),
        "simplex": (stationary_configuration("simplex", ex["n"], ex["d"], ex["seed"]), ex["model"]),
        "simplex_large": (stationary_configuration("simplex_large", ex["n_large"], ex["d_large"], ex["seed"]),
                          ex["model"]),
        "polygon": (stationary_configuration("polygon", ex["n_polygon"], 2, ex["seed"]), "kuramoto"),
    }
    speeds = {}
    for kind, (x, model) in cases.items():
        speeds[kind] = relative_speed(x, model, ex["beta"])
        require(speeds[kind] <= 1e-12, f"{kind} is not stationary for {model}: relative speed {speeds[kind]:.3e}")
    return Measurement(value=max(speeds.values()), extra={f"speed[{k}]": v for k, v in speeds.items()})


