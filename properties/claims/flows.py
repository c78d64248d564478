r"""Constructive normalizing flows (arXiv 2602.08606): a perceptron field with piecewise-constant weights
realising a Knöthe--Rosenblatt map.

``flows.perceptron_exact``
    the closed-form flow of the pieces (:func:`attnflow.numerics.flows.flow_map`) equals the adaptive
    ODE solution of the same piecewise-constant field and the piecewise-linear interpolant of the KR map;
``flows.polar_factors``
    the aligned factor is the gradient of a convex function (symmetric, positive semidefinite Jacobian)
    and the shear factor is incompressible (Jacobian determinant 1), in an arbitrary direction;
``flows.kr_rate``
    :math:`\|\Phi_N - T\|_\infty` within the a-priori bound and decaying like :math:`N^{-2}` in the number of
    pieces; :math:`W_2(\Phi_N\#\mu,T\#\mu)\le\|\Phi_N-T\|_{L^2(\mu)}`;
``flows.kr_w2_rate``
    explored: the fitted decay of :math:`L^1`, :math:`L^2` and :math:`W_2` errors against the number of pieces
    (the abstract states no rate);
``flows.banana_rate``
    explored: the same for the KR map of :math:`N(0, I_2)` onto the Gaussian banana (an unbounded source:
    nodes on :math:`[-2\sqrt{\log K}, 2\sqrt{\log K}]`).

The explicit pair and the KR map are :mod:`attnflow.symbolic.transport` (``derivations/transport.md``).
"""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

from attnflow.numerics import flows as F
from attnflow.properties.registry import Measurement, claim, require
from attnflow.properties.strategies import seeds

SRC = "arXiv:2602.08606 (constructive conditional normalizing flows; abstract)"
KS = (4, 8, 16, 32)


@claim(
    id="flows.perceptron_exact",
    title="the perceptron flow with 2(K+1) pieces is exactly the piecewise-linear KR interpolant T_K",
    source=SRC + " (the compressible part realised exactly; shear flows); derivations/transport.md",
    latex=r"\Phi_{2(K+1)} = T_K = (h_K(x_1),\ x_2 + m_K(x_1))\ \text{on}\ [-1,1]^2",
    hypotheses=st.fixed_dictionaries({"K": st.integers(1, 12), "b": st.floats(0.25, 2.0), "seed": seeds()}),
    expect="holds",
    tolerance="1e-9 between the closed form and DOP853 (rtol 1e-12, atol 1e-13, one solve per piece); 1e-12 "
    "between the closed form and the interpolant formula (a few roundings per piece)",
    measure="max |closed form - ODE|",
)
def perceptron_exact(ex):
    pieces = F.kr_flow_pieces(ex["K"], ex["b"])
    x = np.random.default_rng(ex["seed"]).uniform(-1.0, 1.0, size=(64, 2))
    closed = F.flow_map(pieces, x)
    ode = F.integrate_flow(pieces, x)
    h, m, _, _ = F.kr_profiles(float(ex["b"]))
    nodes = np.linspace(-1.0, 1.0, ex["K"] + 1)
    target = np.column_stack([F.pl_interpolant(nodes, h(nodes), x[:, 0]),
                              x[:, 1] + F.pl_interpolant(nodes, m(nodes), x[:, 0])])
    e_ode = float(np.abs(closed - ode).max())
    e_pl = float(np.abs(closed - target).max())
    require(e_ode <= 1e-9 and e_pl <= 1e-12, f"closed form vs ODE {e_ode:.3g}, vs interpolant {e_pl:.3g}")
    return Measurement(value=e_ode, extra={"closed form vs interpolant": e_pl, "pieces": float(len(pieces))})


def _jacobian(pieces, x, h=1e-6):
    cols = []
    for k in range(x.shape[1]):
        dx = np.zeros_like(x)
        dx[:, k] = h
        cols.append((F.flow_map(pieces, x + dx) - F.flow_map(pieces, x - dx)) / (2 * h))
    return np.stack(cols, axis=-1)  # (n, d, d): J[i, :, k] = d Phi / d x_k


@claim(
    id="flows.polar_factors",
    title="aligned pieces give the gradient of a convex function (symmetric PSD Jacobian); shear pieces have det 1",
    source=SRC + " (polar-like decomposition: compressible and incompressible factors)",
    latex=r"D\Phi_{\rm grad} = D\Phi_{\rm grad}^\top \succeq 0,\qquad \det D\Phi_{\rm shear} = 1",
    hypotheses=st.fixed_dictionaries({"seed": seeds(), "K": st.integers(1, 8), "angle": st.floats(0.0, 6.28)}),
    expect="holds",
    tolerance="central differences with h = 1e-6 (error ~ h^2 |D^3 Phi| + 1e-16 / h ~ 1e-10 away from the kinks; "
    "points within 1e-4 of a kink image are dropped; slopes O(1), so rounding in the differences is ~1e-10): asymmetry, negative eigenvalue and |det - 1| below 1e-6",
    measure="max(asymmetry, |det - 1|)",
)
def polar_factors(ex):
    rng = np.random.default_rng(ex["seed"])
    e = np.array([np.cos(ex["angle"]), np.sin(ex["angle"])])
    a = np.array([-e[1], e[0]])
    steps = rng.uniform(0.5, 1.5, ex["K"])  # K intervals of comparable lengths covering [-1, 1]
    nodes = np.concatenate([[-1.0], -1.0 + 2.0 * np.cumsum(steps) / steps.sum()])
    gaps = np.diff(nodes)  # slopes in [0.2, 3] (monotone) and N(0, 1) (shear): Jacobian entries O(1)
    vals = rng.normal() + np.concatenate([[0.0], np.cumsum(rng.uniform(0.2, 3.0, len(gaps)) * gaps)])
    grad = F.monotone_pieces(nodes, vals, e)
    shear = F.shear_pieces(nodes, np.concatenate([[0.0], np.cumsum(rng.normal(size=len(gaps)) * gaps)]), a, e)
    x = rng.uniform(-1.0, 1.0, size=(200, 2))
    s = x @ e
    keep = np.min(np.abs(s[:, None] - nodes[None, :]), axis=1) > 1e-4
    s2 = x @ a
    keep &= np.min(np.abs(s2[:, None] - nodes[None, :]), axis=1) > 1e-4
    x = x[keep]
    Jg = _jacobian(grad, x)
    asym = float(np.abs(Jg - np.swapaxes(Jg, 1, 2)).max())
    eig = float(np.linalg.eigvalsh((Jg + np.swapaxes(Jg, 1, 2)) / 2).min())
    Js = _jacobian(shear, x)
    det = float(np.abs(np.linalg.det(Js) - 1.0).max())
    require(asym <= 1e-6 and eig >= -1e-6 and det <= 1e-6,
            f"gradient factor: asymmetry {asym:.3g}, smallest eigenvalue {eig:.3g}; shear: |det - 1| = {det:.3g}")
    return Measurement(value=max(asym, det), extra={"smallest eigenvalue": eig})


def _errors(b, seed):
    return [F.kr_errors(K, b, n=300, seed=seed) for K in KS]


@claim(
    id="flows.kr_rate",
    title="KR map by a perceptron flow: sup error <= (Delta^2/8) sqrt(max|h''|^2 + max|m''|^2), slope -2 in pieces",
    source=SRC + " (no rate in the abstract); the bound from derivations/transport.md (flows.interpolation.sharp)",
    latex=r"\|\Phi_N - T\|_{L^\infty(\mu)}\le\frac{\Delta^2}{8}\sqrt{\|h''\|_\infty^2+\|m''\|_\infty^2},\ "
          r"N = 2(K+1),\ \Delta = 2/K;\quad W_2(\Phi_N\#\mu,T\#\mu)\le\|\Phi_N-T\|_{L^2(\mu)}",
    hypotheses=st.fixed_dictionaries({"b": st.floats(0.25, 2.0), "seed": seeds()}),
    expect="holds",
    tolerance="the bound one-sided with relative slack 1e-9; fitted log-log slope of the sup error against the "
    f"number of pieces over K = {', '.join(map(str, KS))} within -2 +- 0.15 (N = 2K + 2 steepens the "
    "pre-asymptotic slope slightly); W2 of n = 300 samples at most the L2 error on the same samples (+1e-12)",
    measure="fitted slope - (-2)",
)
def kr_rate(ex):
    errs = _errors(ex["b"], ex["seed"])
    for K, e in zip(KS, errs):
        require(e["linf"] <= e["bound"] * (1 + 1e-9), f"K={K}: sup error {e['linf']:.4g} > bound {e['bound']:.4g}")
        require(e["w2"] <= e["l2_samples"] * (1 + 1e-12) + 1e-15,
                f"K={K}: W2 {e['w2']:.4g} > L2 error on the samples {e['l2_samples']:.4g}")
    n = np.array([e["pieces"] for e in errs])
    slope = float(np.polyfit(np.log(n), np.log([e["linf"] for e in errs]), 1)[0])
    require(abs(slope + 2.0) <= 0.15, f"sup-error slope {slope:.3f} against pieces, expected -2")
    return Measurement(value=slope + 2.0, fitted=slope, theory=-2.0,
                       extra={"sup error K=32": errs[-1]["linf"], "bound K=32": errs[-1]["bound"],
                              "W2 K=32": errs[-1]["w2"]})


@claim(
    id="flows.kr_w2_rate",
    title="explored: decay of the L1, L2 and W2 errors of the KR perceptron flow against the number of pieces",
    source=SRC + " (the abstract states no rate; the Maurey construction is not implemented)",
    latex=r"\|\Phi_N - T\|_{L^p(\mu)},\ W_2(\Phi_N\#\mu, T\#\mu)\ \sim\ N^{-s}",
    hypotheses=st.fixed_dictionaries({"b": st.floats(0.25, 2.0), "seed": seeds()}),
    expect="explore",
    tolerance="none (explore): fitted log-log slopes over K = 4..32 reported beside the interpolation order -2",
    measure="fitted W2 slope",
)
def kr_w2_rate(ex):
    errs = _errors(ex["b"], ex["seed"])
    n = np.log([e["pieces"] for e in errs])
    fit = {k: float(np.polyfit(n, np.log([e[k] for e in errs]), 1)[0]) for k in ("l1", "l2", "w2")}
    return Measurement(value=fit["w2"], fitted=fit["w2"], theory=-2.0,
                       extra={"L1 slope": fit["l1"], "L2 slope": fit["l2"], "W2 K=32": errs[-1]["w2"]})


@claim(
    id="flows.banana_rate",
    title="explored: Gaussian to banana, errors of the (K+2)-piece shear flow in L1, L2(N(0, I)) and W2 vs pieces",
    source=SRC + " (no rate in the abstract); the pair of derivations/transport.md (flows.kr.gaussian_banana)",
    latex=r"\|\Phi_N - T_G\|_{L^p(N(0,I_2))},\ W_2(\Phi_N\#\mu, T_G\#\mu)\ \sim\ N^{-s},\quad T_G = (x_1, x_2+b(x_1^2-1))",
    hypotheses=st.fixed_dictionaries({"b": st.floats(0.25, 2.0), "seed": seeds()}),
    expect="explore",
    tolerance="none (explore): fitted log-log slopes over K = 4..64 reported; the interpolation order is -2 up to "
    "the log K growth of the node interval",
    measure="fitted L2 slope",
)
def banana_rate(ex):
    errs = [F.banana_errors(K, ex["b"], n=300, seed=ex["seed"]) for K in (4, 8, 16, 32, 64)]
    n = np.log([e["pieces"] for e in errs])
    fit = {k: float(np.polyfit(n, np.log([e[k] for e in errs]), 1)[0]) for k in ("l1", "l2", "w2")}
    return Measurement(value=fit["l2"], fitted=fit["l2"], theory=-2.0,
                       extra={"L1 slope": fit["l1"], "W2 slope": fit["w2"], "L2 K=64": errs[-1]["l2"],
                              "W2 K=64": errs[-1]["w2"]})
