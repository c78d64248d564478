r"""Wasserstein claims: solver identities and empirical rates.

``wasserstein.coupling``
    :math:`W_2(S_\#\mu,\psi_\#\mu)\le\|S-\psi\|_{L^2(\mu)}` for drawn maps and points (arXiv:2411.04551, Lemma 5.2).
``wasserstein.dirac``
    :math:`W_2^2(\mu,\delta_x)=2(1-\langle m_\mu,x\rangle)`: assignment and POT network simplex vs the
    formula (chordal identity derived here; used for arXiv:2504.14697).
``wasserstein.empirical_rate``
    two-sample mean :math:`W_2` between uniform samples on :math:`S^{k}` decays like :math:`n^{-1/2}`
    (:math:`k=1`), :math:`\sqrt{\log n/n}` (:math:`k=2`), :math:`n^{-1/k}` (:math:`k\ge3`) (Fournier & Guillin 2015, Thm 1).

The rate claim reports the fitted slope, a 95 % confidence interval from the replicates and the
theoretical value.  Cost and profiles: the registry does not pass the profile to a check, so the rate
claim runs one complete experiment (all sizes, all replicates) per Hypothesis example and uses
``examples=0.2``: one experiment under ``quick``, 4 under ``ci``, 40 under ``thorough`` (independent
seeds).  Experiment and statistics: :mod:`attnflow.properties.claims._experiments`,
:mod:`attnflow.properties.claims._stats`.
"""

from __future__ import annotations

import math

import numpy as np
from hypothesis import strategies as st
from scipy.optimize import linear_sum_assignment

from attnflow.numerics.wasserstein import wasserstein
from attnflow.properties.claims._experiments import EMPIRICAL_SIZES, empirical_rate_experiment, empirical_theory_slope
from attnflow.properties.claims._stats import bounded_difference_replicates, slope_ci
from attnflow.properties.claims._wasserstein import sphere_map
from attnflow.properties.registry import Measurement, claim, require
from attnflow.properties.strategies import seeds


#: Replicates per (k, n) and the pre-asymptotic allowance of wasserstein.empirical_rate.
EMPIRICAL_REPLICATES = 4
EMPIRICAL_ALLOWANCE = 0.08


@st.composite
def _coupling_examples(draw):
    n = draw(st.integers(1, 40))
    d = draw(st.integers(2, 6))
    return {"n": n, "d": d, "weighted": draw(st.booleans()), "near": draw(st.booleans()),
            "seed": draw(seeds())}


@claim(
    id="wasserstein.coupling",
    title="W2(S#mu, psi#mu) <= ||S - psi||_{L2(mu)} for any maps S, psi (couple x -> (Sx, psi x))",
    source="arXiv:2411.04551, Lemma 5.2",
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
    s_map = sphere_map(rng, d, 1.0)
    # "near": psi = small perturbation of S, where the identity pairing is often optimal (equality case)
    psi_map = (lambda y, _s=s_map, _p=sphere_map(rng, d, 0.01): _p(_s(y))) if ex["near"] else sphere_map(rng, d, 1.0)
    sx, px = s_map(x), psi_map(x)
    w = np.full(n, 1.0 / n) if a is None else a
    l2 = math.sqrt(float(w @ np.sum((sx - px) ** 2, axis=1)))
    w2 = wasserstein(sx, px, a=a, b=a)
    require(w2 <= (1.0 + 1e-12) * l2 + 1e-14, f"W2 = {w2:.17g} > ||S - psi||_L2 = {l2:.17g}")
    return Measurement(value=w2 / l2 if l2 > 0 else 1.0, extra={"L2 - W2": l2 - w2})


@st.composite
def _dirac_examples(draw):
    return {"n": draw(st.integers(1, 60)), "d": draw(st.integers(2, 6)), "weighted": draw(st.booleans()),
            "seed": draw(seeds())}


@claim(
    id="wasserstein.dirac",
    title="W2^2(mu, delta_x) = 2(1 - <m_mu, x>) on the sphere (chordal): POT, scipy assignment and wasserstein (emd, dirac, assignment) vs the formula; geodesic W1 to a Dirac = sum a_i arccos<y_i, x>",
    source="arXiv:2504.14697 as restated in arXiv:2512.01868; chordal identity "
    "W2^2(mu, delta_x) = 2(1 - <m_mu, x>) derived here",
    latex=r"W_2^2(\mu,\delta_x)=\int|y-x|^2d\mu(y)=2\bigl(1-\langle m_\mu,x\rangle\bigr),\quad m_\mu=\int y\,d\mu",
    hypotheses=_dirac_examples(),
    expect="holds",
    tolerance="|solver - formula| <= 1e-12 (1 + formula): both sides are sums of n <= 60 O(1) terms "
    "(~1e-15 each); the network simplex and the assignment are exact LP solvers; the geodesic check uses "
    "arccos only when every |<y_i, x>| < 0.99 (condition number <= 7)",
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
    closed = wasserstein(y, x[None, :], a=a, method="dirac") ** 2  # the package's Dirac closed form
    errs = {"POT emd2": abs(pot - formula), "wasserstein(emd)": abs(ours - formula),
            "wasserstein(dirac)": abs(closed - formula)}
    # geodesic ground cost: W1(mu, delta_x) = sum_i a_i arccos<y_i, x> (well conditioned away from 0, pi)
    cosines = np.clip(y @ x, -1.0, 1.0)
    if np.all(np.abs(cosines) < 0.99):
        geo = float(a @ np.arccos(cosines))
        errs["wasserstein(geodesic, p = 1)"] = abs(wasserstein(y, x[None, :], a=a, p=1, metric="geodesic") - geo)
    if not ex["weighted"]:
        # the Dirac as n equal atoms: an n x n assignment problem (scipy, independent of POT), and the
        # package's assignment route on the same problem
        c = np.sum((y[:, None, :] - x[None, None, :]) ** 2, axis=2) * np.ones((1, n))
        r, cidx = linear_sum_assignment(c)
        errs["assignment"] = abs(float(c[r, cidx].sum()) / n - formula)
        atoms = np.repeat(x[None, :], n, axis=0)
        errs["wasserstein(assignment)"] = abs(wasserstein(y, atoms, method="assignment") ** 2 - formula)
    worst = max(errs.values())
    require(worst <= 1e-12 * (1.0 + formula),
            "; ".join(f"{k}: |diff| = {v:.3e}" for k, v in errs.items()) + f" (formula {formula:.15g})")
    return Measurement(value=worst, extra={"W2^2": formula})


@claim(
    id="wasserstein.empirical_rate",
    title="two-sample mean W2 on S^k decays like n^{-1/2} (k = 1), sqrt(log n / n) (k = 2), n^{-1/k} (k >= 3)",
    source="Fournier & Guillin 2015, Thm 1; Ajtai-Komlos-Tusnady 1984 (k = 2)",
    latex=r"\mathbb E\,W_2(\mu_n,\nu_n)\asymp n^{-1/2}\ (k=1),\ \sqrt{\log n/n}\ (k=2),\ n^{-1/k}\ (k\ge3)"
    r"\quad\text{on }S^k",
    hypotheses=st.fixed_dictionaries({"seed": seeds()}),
    expect="holds",
    tolerance=f"|fitted - theory| <= {EMPIRICAL_ALLOWANCE} + 95% CI half-width, per k: the rates are "
    "asymptotic; for k >= 3 the mean W2 mixes the local n^{-1/k} term with a global n^{-1/2} term and for "
    "k = 2 the log factor's local slope drifts (-0.42..-0.44 over 64..1024), so the local slope over "
    "n = 64..1024 may deviate by a few hundredths; 0.08 is about a quarter of the gap between "
    "neighbouring theories (-1/3 vs -1/4) so a wrong dimension dependence still fails. Replicates: the "
    "bounded-differences bound (McDiarmid) asks for 1e2..1e6 replicates (reported as R_bd) - far beyond "
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
