r"""Wasserstein claims: solver identities, empirical rates, propagation of chaos, mean-field clustering.

Claims (theory notes ``claims.md``):

``wasserstein.coupling``
    :math:`W_2(S_\#\mu,\psi_\#\mu)\le\|S-\psi\|_{L^2(\mu)}` for drawn maps and points (05 §5.4).
``wasserstein.dirac``
    :math:`W_2^2(\mu,\delta_x)=2(1-\langle m_\mu,x\rangle)`: assignment and POT network simplex vs the
    formula (05 §5.1, 03 §3.1 item 9).
``wasserstein.empirical_rate``
    two-sample mean :math:`W_2` between uniform samples on :math:`S^{k}` decays like :math:`n^{-1/2}`
    (:math:`k=1`), :math:`\sqrt{\log n/n}` (:math:`k=2`), :math:`n^{-1/k}` (:math:`k\ge3`) (05 §5.2).
``chaos.attention_rate``
    a distinguished token driven by ``n`` context tokens deviates from its mean-field path by
    :math:`O(n^{-1/2})` (05 §5.3).
``meanfield.clustering_rate``
    USA from an :math:`L^2` density at small :math:`\beta`: :math:`\log(1-|m_{\mu_t}|)` decays at least
    linearly, with a proven rate :math:`\ge 1/100` (03 §3.1 item 9).

Rate claims report the fitted slope or rate, a 95 % confidence interval from the replicates and the
theoretical value; pass/fail is one-sided where the theorem is a bound.

Cost and profiles: the registry does not pass the profile to a check, so each rate claim runs one
complete experiment (all sizes, all replicates) per Hypothesis example and uses ``examples=0.2``:
one experiment under ``quick``, 4 under ``ci``, 40 under ``thorough`` (independent seeds).

The particle experiments use the single-threaded RK4 kernel :func:`weighted_attention_flow` below
(weighted empirical measures, needed for the quadrature reference of the chaos experiment); it is
checked against ``attnflow.numerics.fields`` in the tests.
"""

from __future__ import annotations

import math

import numpy as np
from hypothesis import strategies as st
from numba import njit
from scipy import stats
from scipy.optimize import linear_sum_assignment

from attnflow.numerics.wasserstein import wasserstein
from attnflow.properties.registry import Measurement, claim, fit_exponential_rate, require
from attnflow.properties.strategies import random_orthogonal, seeds

__all__ = [
    "slope_ci",
    "mean_ci",
    "weighted_attention_flow",
    "vmf_sample",
    "vmf_quadrature",
    "two_sample_w2",
    "empirical_theory_slope",
    "rms_slope_bootstrap",
    "chaos_reference",
    "bounded_difference_replicates",
    "empirical_rate_experiment",
    "chaos_experiment",
    "clustering_experiment",
    "EMPIRICAL_DIMS",
    "EMPIRICAL_SIZES",
    "CHAOS_SIZES",
]

#: Intrinsic dimensions k of S^k in wasserstein.empirical_rate and the sizes n.
EMPIRICAL_DIMS = (1, 2, 3, 4, 5)
EMPIRICAL_SIZES = (64, 128, 256, 512, 1024)
#: Context sizes of chaos.attention_rate.
CHAOS_SIZES = (32, 64, 128, 256, 512)


# ============================================================================================ stats
def slope_ci(x, y_reps, level: float = 0.95) -> tuple[float, float, float]:
    r"""Log-log slope of replicate curves with a Student-t confidence interval.

    Each replicate :math:`r` gives a least-squares slope :math:`p_r` of :math:`\log y_{r,k}` against
    :math:`\log x_k`; the estimate is :math:`\bar p` and the interval
    :math:`\bar p \pm t_{R-1,(1+\ell)/2}\, s_p/\sqrt R`.

    Parameters
    ----------
    x : array_like, shape (K,)
        Positive sizes.
    y_reps : array_like, shape (R, K)
        Positive values, one row per independent replicate (``R >= 2``).
    level : float

    Returns
    -------
    (slope, lo, hi)

    References
    ----------
    Theory notes 05-wasserstein.md §5.2 (rates as log-log slopes); issue 6 (CI from replicates).
    """
    lx = np.log(np.asarray(x, dtype=float))
    ly = np.log(np.asarray(y_reps, dtype=float))
    if ly.ndim != 2 or ly.shape[1] != lx.size or ly.shape[0] < 2:
        raise ValueError(f"y_reps: expected shape (R >= 2, {lx.size}), got {ly.shape}")
    lc = lx - lx.mean()
    slopes = (ly - ly.mean(axis=1, keepdims=True)) @ lc / float(lc @ lc)
    return mean_ci(slopes, level)


def mean_ci(values, level: float = 0.95) -> tuple[float, float, float]:
    r"""Mean of independent replicates and its Student-t interval :math:`\bar v\pm t\,s/\sqrt R`.

    References
    ----------
    Issue 6 (confidence intervals from replicates).
    """
    v = np.asarray(values, dtype=float).ravel()
    if v.size < 2 or not np.all(np.isfinite(v)):
        raise ValueError(f"values: need >= 2 finite replicates, got {v.size}")
    m = float(v.mean())
    half = float(stats.t.ppf(0.5 + level / 2, v.size - 1) * v.std(ddof=1) / math.sqrt(v.size))
    return m, m - half, m + half


# ============================================================================================ flows
@njit(cache=True)
def _field(x, w, beta, usa, out):
    # each pair (i, j) once: the kernel e^{beta <x_i, x_j>} is symmetric
    n, d = x.shape
    z = np.zeros(n)
    for i in range(n):
        for k in range(d):
            out[i, k] = 0.0
    shift = beta if beta >= 0 else -beta  # e^{beta s - |beta|} <= 1 for |s| <= 1
    for i in range(n):
        e = math.exp(beta - shift)  # s = <x_i, x_i> = 1
        z[i] += w[i] * e
        for k in range(d):
            out[i, k] += w[i] * e * x[i, k]
        for j in range(i + 1, n):
            if w[i] == 0.0 and w[j] == 0.0:
                continue
            s = 0.0
            for k in range(d):
                s += x[i, k] * x[j, k]
            e = math.exp(beta * s - shift)
            z[i] += w[j] * e
            z[j] += w[i] * e
            for k in range(d):
                out[i, k] += w[j] * e * x[j, k]
                out[j, k] += w[i] * e * x[i, k]
    for i in range(n):
        scale = math.exp(shift) if usa else 1.0 / z[i]
        p = 0.0
        for k in range(d):
            out[i, k] *= scale
            p += out[i, k] * x[i, k]
        for k in range(d):
            out[i, k] -= p * x[i, k]


@njit(cache=True)
def _rk4(x0, w, beta, usa, dt, steps, save_every):
    n, d = x0.shape
    n_save = steps // save_every + 1
    saved = np.empty((n_save, n, d))
    x = x0.copy()
    saved[0] = x
    k1 = np.empty_like(x)
    k2 = np.empty_like(x)
    k3 = np.empty_like(x)
    k4 = np.empty_like(x)
    y = np.empty_like(x)
    s = 1
    for step in range(steps):
        _field(x, w, beta, usa, k1)
        y[:] = x + 0.5 * dt * k1
        _field(y, w, beta, usa, k2)
        y[:] = x + 0.5 * dt * k2
        _field(y, w, beta, usa, k3)
        y[:] = x + dt * k3
        _field(y, w, beta, usa, k4)
        x += dt / 6.0 * (k1 + 2.0 * k2 + 2.0 * k3 + k4)
        for i in range(n):
            r = 0.0
            for k in range(d):
                r += x[i, k] * x[i, k]
            r = math.sqrt(r)
            for k in range(d):
                x[i, k] /= r
        if (step + 1) % save_every == 0:
            saved[s] = x
            s += 1
    return saved


def weighted_attention_flow(x0, w, *, beta, model: str, dt: float, steps: int, save_every: int | None = None):
    r"""RK4 + normalisation for attention driven by a *weighted* empirical measure (single thread).

    .. math::
        \text{SA: } \dot x_i = P_{x_i}\frac{\sum_j w_j e^{\beta\langle x_i,x_j\rangle}x_j}
        {\sum_j w_j e^{\beta\langle x_i,x_j\rangle}},\qquad
        \text{USA: } \dot x_i = P_{x_i}\sum_j w_j e^{\beta\langle x_i,x_j\rangle}x_j,

    i.e. the characteristics of the continuity equation :math:`\partial_t\mu+\operatorname{div}(\mu\,v[\mu])=0`
    for :math:`\mu=\sum_j w_j\delta_{x_j}` (uniform :math:`w_j = 1/n` gives the particle systems SA/USA of
    01 §1.1-1.2). A token with :math:`w_i = 0` is a test particle: it moves with the flow but exerts no
    force. Exponentials are shifted by :math:`|\beta|` (no overflow). Each RK4 step is followed by
    :math:`x_i\leftarrow x_i/|x_i|`.

    Parameters
    ----------
    x0 : array_like (n, d), unit rows
    w : array_like (n,), nonnegative weights (sum 1 for SA; 1/n for the USA particle system)
    beta : float
    model : {"sa", "usa"}
    dt : float > 0
    steps : int >= 0
    save_every : int, optional
        Save every ``save_every`` steps (default: only the initial and final states).

    Returns
    -------
    ndarray, shape (n_saved, n, d)

    References
    ----------
    Theory notes 01-models.md §1.1-1.2, 05-wasserstein.md §5.3; arXiv:2312.10794 (SA, USA),
    arXiv:2512.01868 (mean-field continuity equation).
    """
    x0 = np.ascontiguousarray(x0, dtype=np.float64)
    w = np.ascontiguousarray(w, dtype=np.float64)
    if x0.ndim != 2 or w.shape != (x0.shape[0],):
        raise ValueError(f"w: expected one weight per row of x0 {x0.shape}, got shape {w.shape}")
    if np.any(w < 0) or not np.all(np.isfinite(w)):
        raise ValueError("w: weights must be finite and nonnegative")
    if model not in ("sa", "usa"):
        raise ValueError(f"model: expected 'sa' or 'usa', got {model!r}")
    steps = int(steps)
    every = steps if save_every is None else int(save_every)
    if steps < 0 or every < 1 or (steps and steps % every):
        raise ValueError(f"save_every: must divide steps={steps} (got {save_every!r})")
    return _rk4(x0, w, float(beta), model == "usa", float(dt), steps, max(every, 1))


# ============================================================================================ vMF
def _frame(axis: np.ndarray) -> np.ndarray:
    """Orthonormal matrix whose last column is ``axis``."""
    q, _ = np.linalg.qr(np.column_stack([axis, np.eye(3)]))
    q = q[:, [1, 2, 0]]
    if q[:, 2] @ axis < 0:
        q[:, 2] *= -1
    return q


def vmf_sample(rng: np.random.Generator, n: int, kappa: float, axis) -> np.ndarray:
    r"""``n`` iid samples of the von Mises--Fisher law on :math:`S^2`, density :math:`\propto e^{\kappa\langle a,y\rangle}`.

    Exact inversion of the height :math:`w=\langle a,y\rangle` (density :math:`\propto e^{\kappa w}` on
    :math:`[-1,1]`): :math:`w = 1+\kappa^{-1}\log(u+(1-u)e^{-2\kappa})`, azimuth uniform.

    References
    ----------
    A. T. A. Wood, "Simulation of the von Mises Fisher distribution", Comm. Stat. Sim. 23 (1994);
    theory notes 05-wasserstein.md §5.3 (non-uniform initial law).
    """
    if int(n) != n or n < 1 or not (kappa > 0 and math.isfinite(kappa)):
        raise ValueError(f"n/kappa: need an integer n >= 1 and a finite kappa > 0, got n={n}, kappa={kappa}")
    u = rng.uniform(size=n)
    w = 1.0 + np.log(u + (1.0 - u) * math.exp(-2.0 * kappa)) / kappa
    phi = rng.uniform(0.0, 2.0 * math.pi, size=n)
    s = np.sqrt(np.clip(1.0 - w * w, 0.0, None))
    y = np.column_stack([s * np.cos(phi), s * np.sin(phi), w])
    y = y @ _frame(np.asarray(axis, dtype=float)).T
    return y / np.linalg.norm(y, axis=1, keepdims=True)


def vmf_quadrature(n_height: int, n_azimuth: int, kappa: float, axis) -> tuple[np.ndarray, np.ndarray]:
    r"""Product quadrature for the von Mises--Fisher law on :math:`S^2`: nodes and weights.

    .. math::
        \int f\,d\mu_\kappa \approx \sum_{k,j} \frac{g_k e^{\kappa t_k}}{\sum_l g_l e^{\kappa t_l}}
        \frac{1}{N_\varphi} f\big(\sqrt{1-t_k^2}\cos\varphi_j, \sqrt{1-t_k^2}\sin\varphi_j, t_k\big),

    Gauss--Legendre :math:`(t_k, g_k)` in the height and the periodic trapezoid rule
    :math:`\varphi_j = 2\pi(j+\tfrac12)/N_\varphi` in the azimuth: spectrally accurate for smooth ``f``.

    References
    ----------
    Atkinson & Han, *Spherical Harmonics and Approximations on the Unit Sphere* (2012), §5.
    """
    if min(int(n_height), int(n_azimuth)) < 1 or not (kappa >= 0 and math.isfinite(kappa)):
        raise ValueError(f"n_height/n_azimuth/kappa: need positive node counts and kappa >= 0, got "
                         f"{n_height}, {n_azimuth}, {kappa}")
    t, g = np.polynomial.legendre.leggauss(int(n_height))
    wt = g * np.exp(kappa * (t - 1.0))
    wt /= wt.sum()
    phi = 2.0 * math.pi * (np.arange(n_azimuth) + 0.5) / n_azimuth
    s = np.sqrt(1.0 - t * t)
    y = np.stack([np.outer(s, np.cos(phi)), np.outer(s, np.sin(phi)), np.outer(t, np.ones_like(phi))], axis=-1)
    y = y.reshape(-1, 3) @ _frame(np.asarray(axis, dtype=float)).T
    w = np.repeat(wt / n_azimuth, n_azimuth)
    return y / np.linalg.norm(y, axis=1, keepdims=True), w


# ============================================================================================ coupling
@st.composite
def _coupling_examples(draw):
    n = draw(st.integers(1, 40))
    d = draw(st.integers(2, 6))
    return {"n": n, "d": d, "weighted": draw(st.booleans()), "near": draw(st.booleans()),
            "seed": draw(seeds())}


def _sphere_map(rng, d, scale):
    a = np.eye(d) + scale * rng.standard_normal((d, d))
    b = scale * rng.standard_normal(d)

    def f(x):
        y = x @ a.T + b
        return y / np.linalg.norm(y, axis=1, keepdims=True)

    return f


@claim(
    id="wasserstein.coupling",
    title="W2(S#mu, psi#mu) <= ||S - psi||_{L2(mu)} for any maps S, psi (couple x -> (Sx, psi x))",
    source="arXiv:2411.04551, Lemma 5.2; theory notes 05-wasserstein.md §5.4",
    latex=r"W_2(S_\#\mu,\psi_\#\mu)\le\|S-\psi\|_{L^2(\mu)}=\Big(\int|S(x)-\psi(x)|^2d\mu(x)\Big)^{1/2}",
    hypotheses=_coupling_examples(),
    expect="holds",
    tolerance="W2 <= (1 + 1e-12) ||S - psi|| + 1e-14: the solver's optimum is never above the identity "
    "pairing's cost in exact arithmetic; summing n <= 40 squared distances costs a few ulps",
    measure="max W2 / ||S - psi||",
)
def coupling(ex):
    rng = np.random.default_rng(ex["seed"])
    n, d = ex["n"], ex["d"]
    x = rng.standard_normal((n, d))
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    a = rng.dirichlet(np.ones(n)) if ex["weighted"] and n > 1 else None
    s_map = _sphere_map(rng, d, 1.0)
    # "near": psi = small perturbation of S, where the identity pairing is often optimal (equality case)
    psi_map = (lambda y, _s=s_map, _p=_sphere_map(rng, d, 0.01): _p(_s(y))) if ex["near"] else _sphere_map(rng, d, 1.0)
    sx, px = s_map(x), psi_map(x)
    w = np.full(n, 1.0 / n) if a is None else a
    l2 = math.sqrt(float(w @ np.sum((sx - px) ** 2, axis=1)))
    w2 = wasserstein(sx, px, a=a, b=a)
    require(w2 <= (1.0 + 1e-12) * l2 + 1e-14, f"W2 = {w2:.17g} > ||S - psi||_L2 = {l2:.17g}")
    return Measurement(value=w2 / l2 if l2 > 0 else 1.0, extra={"L2 - W2": l2 - w2})


# ============================================================================================ dirac
@st.composite
def _dirac_examples(draw):
    return {"n": draw(st.integers(1, 60)), "d": draw(st.integers(2, 6)), "weighted": draw(st.booleans()),
            "seed": draw(seeds())}


@claim(
    id="wasserstein.dirac",
    title="W2^2(mu, delta_x) = 2(1 - <m_mu, x>) on the sphere (chordal): assignment and POT vs the formula",
    source="arXiv:2504.14697 as restated in arXiv:2512.01868; theory notes 03-clustering.md §3.1 item 9, "
    "05-wasserstein.md §5.1 [derived]",
    latex=r"W_2^2(\mu,\delta_x)=\int|y-x|^2d\mu(y)=2\bigl(1-\langle m_\mu,x\rangle\bigr),\quad m_\mu=\int y\,d\mu",
    hypotheses=_dirac_examples(),
    expect="holds",
    tolerance="|solver - formula| <= 1e-12 (1 + formula): both sides are sums of n <= 60 O(1) terms "
    "(~1e-15 each); the network simplex and the assignment are exact LP solvers",
    measure="max |W2^2 (solvers) - 2(1 - <m, x>)|",
)
def dirac(ex):
    import ot

    rng = np.random.default_rng(ex["seed"])
    n, d = ex["n"], ex["d"]
    y = rng.standard_normal((n, d))
    y /= np.linalg.norm(y, axis=1, keepdims=True)
    x = rng.standard_normal(d)
    x /= np.linalg.norm(x)
    a = rng.dirichlet(np.ones(n)) if ex["weighted"] else np.full(n, 1.0 / n)
    formula = 2.0 * (1.0 - float((a @ y) @ x))
    cmat = np.sum((y - x) ** 2, axis=1)[:, None]
    pot = float(ot.emd2(a, np.ones(1), cmat))  # POT's network simplex, W2^2 directly
    ours = wasserstein(y, x[None, :], a=a, method="emd") ** 2
    errs = {"POT emd2": abs(pot - formula), "wasserstein(emd)": abs(ours - formula)}
    if not ex["weighted"]:
        # the Dirac as n equal atoms: an n x n assignment problem (scipy, independent of POT)
        c = np.sum((y[:, None, :] - x[None, None, :]) ** 2, axis=2) * np.ones((1, n))
        r, cidx = linear_sum_assignment(c)
        errs["assignment"] = abs(float(c[r, cidx].sum()) / n - formula)
    worst = max(errs.values())
    require(worst <= 1e-12 * (1.0 + formula),
            "; ".join(f"{k}: |diff| = {v:.3e}" for k, v in errs.items()) + f" (formula {formula:.15g})")
    return Measurement(value=worst, extra={"W2^2": formula})


# ============================================================================================ empirical rate
def two_sample_w2(rng: np.random.Generator, k: int, n: int) -> float:
    r""":math:`W_2` (chordal) between two independent samples of size ``n`` of the uniform law on :math:`S^k`.

    References
    ----------
    Theory notes 05-wasserstein.md §5.1-5.2.
    """
    if int(k) != k or k < 1 or int(n) != n or n < 1:
        raise ValueError(f"k/n: need integers k >= 1 (S^k) and n >= 1, got k={k}, n={n}")
    x = rng.standard_normal((n, k + 1))
    y = rng.standard_normal((n, k + 1))
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    y /= np.linalg.norm(y, axis=1, keepdims=True)
    return wasserstein(x, y)


def bounded_difference_replicates(n: int, mean_w2sq: float, rel: float = 0.1, delta: float = 0.05,
                                  diameter: float = 2.0) -> int:
    r"""Replicates :math:`R` that the bounded-differences inequality asks for a relative accuracy ``rel``.

    Two samples of size :math:`n` (:math:`2n` points; moving one changes :math:`W_2^2` by at most
    :math:`\Delta^2/n`); the mean of :math:`R` independent copies then satisfies (McDiarmid)

    .. math:: P\bigl(|\overline{W_2^2}-\mathbb E W_2^2|\ge s\bigr)\le 2\exp\Bigl(-\frac{R\,n\,s^2}{\Delta^4}\Bigr),

    so :math:`R = \lceil \Delta^4\log(2/\delta)/(n s^2)\rceil` with :math:`s = \mathrm{rel}\cdot\mathbb E W_2^2`.

    References
    ----------
    Theory notes 05-wasserstein.md §5.2 (bounded differences); McDiarmid (1989).
    """
    s = rel * mean_w2sq
    return int(math.ceil(diameter**4 * math.log(2.0 / delta) / (n * s * s)))


def empirical_theory_slope(k: int, sizes=EMPIRICAL_SIZES) -> float:
    r"""Theoretical log-log slope of :math:`\mathbb E W_2` on :math:`S^k` over ``sizes``.

    :math:`-1/2` (:math:`k=1`); the least-squares slope of :math:`\tfrac12\log(\log n/n)` over the sizes
    (:math:`k=2`, the log factor of Ajtai--Komlós--Tusnády); :math:`-1/k` (:math:`k\ge3`).

    References
    ----------
    Fournier & Guillin, PTRF 162 (2015), Thm 1; Ajtai, Komlós & Tusnády (1984); theory notes
    05-wasserstein.md §5.2, claims.md (wasserstein.empirical_rate).
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
    Theory notes 05-wasserstein.md §5.2.
    """
    rng = np.random.default_rng(seed)
    return {k: np.array([[two_sample_w2(rng, k, n) for n in sizes] for _ in range(replicates)]) for k in dims}


#: Replicates per (k, n) and the pre-asymptotic allowance of wasserstein.empirical_rate.
EMPIRICAL_REPLICATES = 4
EMPIRICAL_ALLOWANCE = 0.08


@claim(
    id="wasserstein.empirical_rate",
    title="two-sample mean W2 on S^k decays like n^{-1/2} (k = 1), sqrt(log n / n) (k = 2), n^{-1/k} (k >= 3)",
    source="Fournier & Guillin 2015, Thm 1; Ajtai-Komlos-Tusnady 1984 (k = 2); theory notes 05-wasserstein.md §5.2",
    latex=r"\mathbb E\,W_2(\mu_n,\nu_n)\asymp n^{-1/2}\ (k=1),\ \sqrt{\log n/n}\ (k=2),\ n^{-1/k}\ (k\ge3)"
    r"\quad\text{on }S^k",
    hypotheses=st.fixed_dictionaries({"seed": seeds()}),
    expect="holds",
    tolerance=f"|fitted - theory| <= {EMPIRICAL_ALLOWANCE} + 95% CI half-width, per k: the rates are "
    "asymptotic; for k >= 3 the mean W2 mixes the local n^{-1/k} term with a global n^{-1/2} term and for "
    "k = 2 the log factor's local slope drifts (-0.42..-0.44 over 64..1024), so the local slope over "
    "n = 64..1024 may deviate by a few hundredths; 0.08 is about a quarter of the gap between "
    "neighbouring theories (-1/3 vs -1/4) so a wrong dimension dependence still fails. Replicates: the "
    "bounded-differences bound of 05 §5.2 asks for 1e2..1e6 replicates (reported as R_bd) - far beyond "
    f"budget - so {EMPIRICAL_REPLICATES} replicates per (k, n) are used and the CI comes from their spread",
    measure="max |fitted - theory| / (allowance + CI half-width)",
    examples=0.2,
)
def empirical_rate(ex):
    data = empirical_rate_experiment(ex["seed"], EMPIRICAL_REPLICATES)
    extra, worst, bad = {}, 0.0, []
    fits = []
    for k, y in data.items():
        p, lo, hi = slope_ci(EMPIRICAL_SIZES, y)
        th = empirical_theory_slope(k)
        half = (hi - lo) / 2
        ratio = abs(p - th) / (EMPIRICAL_ALLOWANCE + half)
        worst = max(worst, ratio)
        fits.append((p, th))
        extra[f"S^{k} slope"] = p
        extra[f"S^{k} CI low"] = lo
        extra[f"S^{k} CI high"] = hi
        extra[f"S^{k} theory"] = th
        extra[f"S^{k} R_bd"] = float(bounded_difference_replicates(EMPIRICAL_SIZES[-1], float(np.mean(y[:, -1] ** 2))))
        if ratio > 1:
            bad.append(f"S^{k}: slope {p:.3f} [{lo:.3f}, {hi:.3f}] vs theory {th:.3f}")
    require(not bad, "; ".join(bad))
    p5, t5 = fits[-1]
    return Measurement(value=worst, fitted=p5, theory=t5, extra=extra)


# ============================================================================================ chaos
CHAOS_BETA, CHAOS_T, CHAOS_DT, CHAOS_KAPPA = 1.0, 2.0, 0.2, 2.0
CHAOS_AXIS = np.array([0.0, 0.0, 1.0])
CHAOS_TOKEN = np.array([1.0, 0.4, -0.3]) / np.linalg.norm([1.0, 0.4, -0.3])
CHAOS_QUAD = (24, 48)
CHAOS_REPLICATES = 24
#: Pre-asymptotic allowance on the slope, and the hard ceiling on the point estimate.
CHAOS_TOL = 0.05
CHAOS_CEILING = -0.3


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
    Theory notes 05-wasserstein.md §5.3; arXiv:2605.16747 [abstract].
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
    Theory notes 05-wasserstein.md §5.3.
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


def rms_slope_bootstrap(sizes, err, rng: np.random.Generator, n_boot: int = 1000, level: float = 0.95):
    r"""Log-log slope of the RMS error :math:`\sqrt{\overline{e^2}}` over sizes, with a bootstrap interval.

    Replicates (rows of ``err``) are resampled with replacement; the percentile interval of the refitted
    slope is returned with the slope of the full data.

    References
    ----------
    Efron & Tibshirani, *An Introduction to the Bootstrap* (1993), §13; theory notes 05-wasserstein.md §5.3.
    """
    err = np.asarray(err, dtype=float)
    lx = np.log(np.asarray(sizes, dtype=float))
    lc = lx - lx.mean()

    def fit(e2):
        ly = 0.5 * np.log(e2)
        return (ly - ly.mean(axis=-1, keepdims=True)) @ lc / float(lc @ lc)

    slope = float(fit(np.mean(err**2, axis=0)))
    idx = rng.integers(0, err.shape[0], size=(n_boot, err.shape[0]))
    boots = fit(np.mean(err[idx] ** 2, axis=1))
    lo, hi = np.quantile(boots, [0.5 - level / 2, 0.5 + level / 2])
    return slope, float(lo), float(hi)


@claim(
    id="chaos.attention_rate",
    title="propagation of chaos for attention: distinguished-token error vs context size n has slope <= -1/2 + tol",
    source="arXiv:2605.16747 [abstract; rate for transformers derived]; theory notes 05-wasserstein.md §5.3",
    latex=r"\bigl(\mathbb E|x_0^{(n)}(T)-\bar x_0(T)|^2\bigr)^{1/2}\lesssim n^{-1/2}",
    hypotheses=st.fixed_dictionaries({"seed": seeds()}),
    expect="holds",
    tolerance=f"one-sided: fails iff the slope is significantly above -1/2 + {CHAOS_TOL}, i.e. the one-sided 99% "
    f"bootstrap lower confidence bound of the RMS slope exceeds -1/2 + {CHAOS_TOL}, or the point estimate exceeds "
    f"{CHAOS_CEILING} (about 4 bootstrap SE above -1/2 with {CHAOS_REPLICATES} replicates: SE ~ 0.045, nested "
    f"samples). {CHAOS_TOL} covers the O(1/n) self-consistency bias next to the n^(-1/2) fluctuation. The "
    f"quadrature reference ({CHAOS_QUAD[0]}x{CHAOS_QUAD[1]} nodes) must agree with a 16x32 rule to 1e-6 "
    "(~1e-4 of the smallest RMS error); both finite-n and reference use RK4 with dt = 0.2, so the scheme's "
    "O(dt^4) error cancels to O(dt^4 n^(-1/2))",
    measure="fitted slope - (-1/2)",
    examples=0.2,
)
def attention_rate(ex):
    ref_gap = float(np.linalg.norm(chaos_reference() - chaos_reference((16, 32))))
    require(ref_gap <= 1e-6, f"quadrature reference not converged: 24x48 vs 16x32 differ by {ref_gap:.2e}")
    err = chaos_experiment(ex["seed"])
    slope, lo, hi = rms_slope_bootstrap(CHAOS_SIZES, err, np.random.default_rng(ex["seed"]))
    _, lo99, _ = rms_slope_bootstrap(CHAOS_SIZES, err, np.random.default_rng(ex["seed"]), level=0.98)
    rms = np.sqrt(np.mean(err**2, axis=0))
    require(lo99 <= -0.5 + CHAOS_TOL and slope <= CHAOS_CEILING,
            f"RMS error slope {slope:.3f} (95% CI [{lo:.3f}, {hi:.3f}], one-sided 99% lower bound {lo99:.3f}) "
            f"is significantly above -1/2 + {CHAOS_TOL}; RMS errors "
            + ", ".join(f"n={n}: {e:.3g}" for n, e in zip(CHAOS_SIZES, rms)))
    return Measurement(value=slope + 0.5, fitted=slope, theory=-0.5,
                       extra={"CI low": lo, "CI high": hi, "99% lower bound": lo99, "RMS error n=32": float(rms[0]),
                              "RMS error n=512": float(rms[-1]), "reference gap": ref_gap})


# ============================================================================================ mean field
MF_N, MF_BETA, MF_KAPPA, MF_T, MF_DT, MF_REPLICATES = 300, 0.5, 1.0, 9.0, 0.15, 4
MF_WINDOW = (1e-9, 1e-2)


def clustering_experiment(seed: int, replicates: int = MF_REPLICATES, n: int = MF_N,
                          beta: float = MF_BETA) -> tuple[np.ndarray, np.ndarray]:
    r"""USA from ``n`` iid samples of a vMF density (:math:`\kappa=1`, an :math:`L^2` density with
    :math:`m_{\mu_0}\ne0`) on :math:`S^2` (random axis), RK4 with :math:`dt = 0.15` up to :math:`T = 9`:
    times and :math:`1-|m_{\mu_t}|` per replicate.

    :math:`1-|m|` is evaluated as :math:`W_2^2(\mu,\delta_u)/2` with :math:`u=m/|m|` (03 §3.1 item 9),
    a sum of small squared distances that stays accurate down to :math:`10^{-15}` (unlike ``1 - norm``).

    References
    ----------
    arXiv:2504.14697 (as restated in arXiv:2512.01868); theory notes 03-clustering.md §3.1 item 9.
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


@claim(
    id="meanfield.clustering_rate",
    title="USA from an L2 density at small beta: log(1 - |m_t|) decays at least linearly (proven rate >= 1/100)",
    source="arXiv:2504.14697 (quantitative clustering, mean field), restated in arXiv:2512.01868; theory "
    "notes 03-clustering.md §3.1 item 9",
    latex=r"|\beta|<\beta_0:\ W_2(\mu_t,\delta_{x_\infty})\le C_0e^{-t/100}\ (t\ge T_0);\quad"
    r"\min_x W_2^2(\mu_t,\delta_x)=2(1-|m_{\mu_t}|)",
    hypotheses=st.fixed_dictionaries({"seed": seeds()}),
    expect="holds",
    tolerance="one-sided: the lower end of the 95% t-interval of the fitted rate of 1 - |m_t| (fitted where "
    f"{MF_WINDOW[0]:g} <= 1 - |m_t| <= {MF_WINDOW[1]:g}, {MF_REPLICATES} replicates of n = {MF_N}) must be >= "
    "1/100, the proven lower bound (2 x 1/100 for the squared distance 1 - |m| = W2^2/2 would be the "
    "literal translation; 1/100 is the weaker check); the linearised rate 2 e^beta is reported beside it",
    measure="CI lower end of the fitted rate",
    aggregate="min",
    examples=0.2,
)
def clustering_rate(ex):
    times, gaps = clustering_experiment(ex["seed"])
    rates, spans = [], []
    for g in gaps:
        sel = (g >= MF_WINDOW[0]) & (g <= MF_WINDOW[1])
        require(sel.sum() >= 5, f"1 - |m_t| entered the window [{MF_WINDOW[0]:g}, {MF_WINDOW[1]:g}] at only "
                f"{int(sel.sum())} saved times (final value {g[-1]:.3g}): no linear decay of log(1 - |m_t|)")
        rates.append(fit_exponential_rate(times[sel], g[sel]))
        spans.append(float(times[sel][-1] - times[sel][0]))
    rate, lo, hi = mean_ci(rates)
    require(lo >= 0.01, f"fitted rate {rate:.4g} (95% CI [{lo:.4g}, {hi:.4g}]) below the proven 1/100")
    return Measurement(value=lo, fitted=rate, theory=0.01,
                       extra={"CI low": lo, "CI high": hi, "linearised 2e^beta": 2 * math.exp(MF_BETA),
                              "fit window length": min(spans)})
