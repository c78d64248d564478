r"""Noise claims: noisy Kuramoto threshold, ReLU noise constants, noise-driven synchronisation.

Claims (arXiv:2512.01868 §7, independent noise; arXiv:2604.26898, common noise):

``noise.kuramoto_threshold``
    noisy Kuramoto (:math:`\beta=0`): the uniform law is stable for :math:`\kappa<2` (the order
    parameter is :math:`O(n^{-1/2})`, with :math:`n\,\mathbb E r^2 \to 1/(1-\kappa/2)`); above, the
    stationary :math:`r` solves :math:`r = I_1(\kappa r)/I_0(\kappa r)`.
``noise.relu_constants``
    :math:`\lambda_1`, :math:`\bar\lambda` closed forms for ReLU vs their definitions by quadrature,
    and the table values of arXiv:2604.26898.
``noise.sync_energy``
    :math:`\mathbb E[E^D_\beta(\mu_t)] \le e^{(\varepsilon+\bar\lambda')t}E^D_\beta(\mu_0)` under the
    common-noise SDE where the hypotheses hold (ReLU, :math:`d>3`, :math:`\bar\lambda<0`,
    :math:`Q^\top K=\beta I`, :math:`V=I` so :math:`\varepsilon=0`).
``noise.sync_energy.odd_collapse``
    negative control: with the odd field (tanh, zero biases) pure common noise does *not* collapse
    the tokens (expect ``fails``).

Cost and profiles: the registry does not pass the profile to a check, so the stochastic claims run
one complete experiment per Hypothesis example with ``examples=0.2`` (one under ``quick``, 4 under
``ci``, 40 under ``thorough``, independent seeds).
"""

from __future__ import annotations

import math

import numpy as np
from hypothesis import strategies as st
from scipy import stats

from attnflow.numerics.noise import lambda_constants
from attnflow.properties.claims._noise import (
    KURAMOTO_BATCHES,
    KURAMOTO_DT,
    KURAMOTO_N,
    SYNC,
    collapse_experiment,
    kuramoto_r_star,
    kuramoto_run,
    kuramoto_susceptibility,
    relu_closed_forms,
    relu_constants_quadrature,
    sync_energy_experiment,
)
from attnflow.properties.registry import Measurement, claim, require
from attnflow.properties.strategies import seeds

__all__ = ["TABLE_RELU_64"]

SRC_NOISE = "arXiv:2604.26898 (noise-driven synchronisation)"


# ============================================================================================ Kuramoto
#: Below threshold the Euler-Maruyama bias is negligible (~ (1/kappa - 1/2) dt / 2), so a coarser step
#: buys a longer window: correlation time of n r^2 is 1/(2/kappa - 1) <= 3 (kappa <= 1.5) << batch length 25.
KURAMOTO_DT_BELOW, KURAMOTO_T_BELOW = 0.05, 240.0
KURAMOTO_BELOW, KURAMOTO_ABOVE = (1.0, 1.5), (3.0, 4.0)
#: Student-t quantile for batch means (7 degrees of freedom), two-sided false-alarm rate 1e-4 per comparison.
KURAMOTO_TQ = float(stats.t.ppf(1 - 0.5e-4, KURAMOTO_BATCHES - 1))


@claim(
    id="noise.kuramoto_threshold",
    title="noisy Kuramoto (beta = 0): uniform law stable for kappa < 2 (r = O(n^-1/2)); above, r = I1(kr)/I0(kr)",
    source="arXiv:2512.01868 §7 (independent noise); threshold and self-consistency derived here",
    latex=r"\kappa<2:\ n\,\mathbb E r^2\to\frac{1}{1-\kappa/2};\qquad \kappa>2:\ r=\frac{I_1(\kappa r)}{I_0(\kappa r)}",
    hypotheses=st.fixed_dictionaries({"seed": seeds()}),
    expect="holds",
    tolerance="t = Student-t quantile of 8 batch means (7 dof, two-sided 1e-4: t = 7.88) times their SE. "
    "kappa in {1, 1.5} (start synchronised; dt = 0.05, T = 240, batches of 25 after t = 40): "
    "|n<r^2>/chi_dt - 1| <= t SE + 0.1 with chi_dt the Euler-Maruyama chain's linear susceptibility "
    "(3.77 at kappa = 1.5 vs the SDE's 1/(1 - kappa/2) = 4: the scheme's O(dt) bias is removed exactly, "
    "not absorbed in the tolerance); 0.1 for O(n^-1/2) nonlinear corrections and residual batch correlation. "
    "The statement itself is r = O(n^-1/2); the susceptibility is the derived constant. "
    "kappa in {3, 4} (start uniform; dt = 0.025, T = 120): |<r> - r*| <= t SE + 5/n + dt/(2 kappa) "
    "(finite-n bias O(1/n); Euler-Maruyama inflates the stationary angular variance by ~ r dt/2, "
    "lowering r by <= dt/(4 kappa), doubled). n = 1000",
    measure="max |deviation| / allowed",
    examples=0.2,
)
def kuramoto_threshold(ex):
    seed = ex["seed"]
    extra, bad, worst = {}, [], 0.0
    for j, kappa in enumerate(KURAMOTO_BELOW):
        res = kuramoto_run(kappa, seed + j, dt=KURAMOTO_DT_BELOW, t_final=KURAMOTO_T_BELOW)
        chi = kuramoto_susceptibility(kappa, KURAMOTO_DT_BELOW)
        dev = abs(res["nr2"] / chi - 1.0)
        allowed = KURAMOTO_TQ * res["nr2_se"] / chi + 0.1
        worst = max(worst, dev / allowed)
        extra[f"k={kappa:g} n<r^2>"] = res["nr2"]
        extra[f"k={kappa:g} chi_dt"] = chi
        extra[f"k={kappa:g} 1/(1-k/2)"] = kuramoto_susceptibility(kappa)
        if dev > allowed:
            bad.append(f"kappa={kappa}: n<r^2> = {res['nr2']:.3f} +- {res['nr2_se']:.3f} vs the scheme's linear "
                       f"susceptibility {chi:.3f} (SDE: {1 / (1 - kappa / 2):.3f})")
    for j, kappa in enumerate(KURAMOTO_ABOVE):
        res = kuramoto_run(kappa, seed + 10 + j)
        rs = kuramoto_r_star(kappa)
        dev = abs(res["r"] - rs)
        allowed = KURAMOTO_TQ * res["r_se"] + 5.0 / KURAMOTO_N + KURAMOTO_DT / (2.0 * kappa)
        worst = max(worst, dev / allowed)
        extra[f"k={kappa:g} <r>"] = res["r"]
        extra[f"k={kappa:g} r*"] = rs
        if dev > allowed:
            bad.append(f"kappa={kappa}: <r> = {res['r']:.4f} +- {res['r_se']:.4f} vs root r* = {rs:.4f}")
    require(not bad, "; ".join(bad))
    return Measurement(value=worst, extra=extra)


# ============================================================================================ ReLU constants
#: arXiv:2604.26898 table: ReLU, d = 64, sigma_U = sigma_W = 0.1 (three printed significant digits).
TABLE_RELU_64 = {"kappa1": 2.28e-2, "dkappa1": 7.81e-3, "lambda1": -0.480, "lambda_bar": -0.899}


@st.composite
def _relu_examples(draw):
    return {"d": draw(st.integers(2, 256)),
            "sigma_U": draw(st.floats(0.0, 1.0, allow_nan=False)),
            "sigma_W": draw(st.floats(0.0, 1.0, allow_nan=False))}


@claim(
    id="noise.relu_constants",
    title="ReLU noise constants: closed forms of lambda_1, lambda_bar = their quadrature definitions; table values",
    source=SRC_NOISE,
    latex=r"\lambda_1=-\tfrac1{2d}-(\sigma_U^2+2\sigma_W^2)\tfrac{d-1}4,\ "
    r"\bar\lambda=\tfrac1d-(\sigma_U^2+2\sigma_W^2)\tfrac{d-3}2",
    hypotheses=_relu_examples(),
    expect="holds",
    tolerance="|closed form - quadrature| <= 1e-10 (1 + |value|): quad's requested relative accuracy is 1e-13 and "
    "the constants are sums of <= 4 such terms times d <= 256; the finite-difference kappa'(1) within "
    "1e-5 kappa'(1) + 1e-9 (Richardson-extrapolated backward quotients, h = 1e-6: O(h) truncation, "
    "~1e-16/h rounding); the d = 64 table within half a unit of its third "
    "printed digit",
    measure="max |closed form - quadrature|",
)
def relu_constants(ex):
    d, su, sw = ex["d"], ex["sigma_U"], ex["sigma_W"]
    lam1, lbar = relu_closed_forms(d, su, sw)
    q = relu_constants_quadrature(d, su, sw)
    lib = lambda_constants(d, su, sw, "relu")
    errs = {"lambda1": abs(lam1 - q["lambda1"]) / (1 + abs(lam1)),
            "lambda_bar": abs(lbar - q["lambda_bar"]) / (1 + abs(lbar)),
            "library lambda1": abs(lib.lambda1 - q["lambda1"]) / (1 + abs(lam1)),
            "library lambda_bar": abs(lib.lambda_bar - q["lambda_bar"]) / (1 + abs(lbar))}
    fd_err = abs(q["dkappa1_fd"] - q["dkappa1"])
    msgs = [f"{k}: {v:.2e}" for k, v in errs.items() if v > 1e-10]
    if fd_err > 1e-5 * q["dkappa1"] + 1e-9:
        msgs.append(f"kappa'(1): quadrature {q['dkappa1']:.10g} vs kernel derivative {q['dkappa1_fd']:.10g}")
    t = relu_constants_quadrature(64, 0.1, 0.1)
    for key, printed in TABLE_RELU_64.items():
        half_unit = 0.5 * 10 ** (math.floor(math.log10(abs(printed))) - 2)
        if abs(t[key] - printed) > half_unit * (1 + 1e-9):
            msgs.append(f"table {key}: computed {t[key]:.6g} vs printed {printed:g}")
    require(not msgs, f"d={d}, sigma_U={su}, sigma_W={sw}: " + "; ".join(msgs))
    return Measurement(value=max(errs.values()), extra={"|kappa'(1) fd - quad|": fd_err})


# ============================================================================================ sync energy


@claim(
    id="noise.sync_energy",
    title="noise-driven synchronisation: E[E^D(mu_t)] <= exp((eps + lambda_bar') t) E^D(mu_0) (ReLU, d > 3, lambda_bar < 0)",
    source=SRC_NOISE,
    latex=r"\mathbb E[E^D_\beta(\mu_t)]\le e^{(\varepsilon+\bar\lambda')t}E^D_\beta(\mu_0),\quad"
    r"\bar\lambda'=-\inf_{u\in[-1,1)}\frac{\beta e^{\beta u}G(u)}{e^\beta-e^{\beta u}},\ \varepsilon=0",
    hypotheses=st.fixed_dictionaries({"seed": seeds()}),
    expect="holds",
    tolerance="one-sided at every saved time: mean over 24 replicates - 4 SE <= (1 + 0.02) x bound (4 SE: "
    "false alarm < 1e-4 per time; 2% for the Euler-Maruyama weak error O(dt), dt = 0.02, and the finite "
    "width m = 256 of the random field); hypotheses checked: d = 8 > 3, lambda_bar < 0, "
    "Q^T K = beta I, V = I (eps = 0)",
    measure="max over t > 0 of (mean - 4 SE) / bound",
    examples=0.2,
)
def sync_energy(ex):
    p = SYNC
    c = lambda_constants(p["d"], p["sigma_U"], p["sigma_W"], "relu")
    require(p["d"] > 3 and c.lambda_bar < 0, f"hypotheses violated: d = {p['d']}, lambda_bar = {c.lambda_bar}")
    res = sync_energy_experiment(ex["seed"])
    bound = np.exp(res["lambda_bar_prime"] * res["times"]) * res["E0"]
    ratio = (res["mean"] - 4.0 * res["se"]) / bound
    k = int(np.argmax(ratio))
    require(ratio[k] <= 1.02, f"t = {res['times'][k]:.2f}: E[E^D] = {res['mean'][k]:.4g} +- {res['se'][k]:.2g} "
            f"> bound {bound[k]:.4g} (lambda_bar' = {res['lambda_bar_prime']:.4f})")
    return Measurement(value=float(ratio[1:].max()),
                       extra={"lambda_bar'": res["lambda_bar_prime"], "lambda_bar": c.lambda_bar,
                              "E[E^D(T)] / E^D(0)": float(res["mean"][-1] / res["E0"]),
                              "bound(T) / E^D(0)": float(bound[-1] / res["E0"])})


# ============================================================================================ odd control
COLLAPSE_FRACTION = 0.01


@claim(
    id="noise.sync_energy.odd_collapse",
    title="negative control: with an odd random field (tanh, zero biases) common noise does not collapse the tokens",
    source=SRC_NOISE + " (negative control: odd fields keep the antipodal set invariant)",
    latex=r"\sigma\ \text{odd},\ b_U=b_W=0:\ \ \mathbb E[E^D_\beta(\mu_T)] \not\le 10^{-2}E^D_\beta(\mu_0)",
    # a negative control is shrunk after it fails: a small seed space keeps the shrink to a few runs
    hypotheses=st.fixed_dictionaries({"seed": st.sampled_from(range(8))}),
    expect="fails",
    tolerance=f"the collapse statement E[E^D(mu_T)] <= {COLLAPSE_FRACTION} E^D(mu_0) at T = 20 (pure common noise, "
    "d = 8, n = 16, 3 replicates) must FAIL for tanh with zero biases; the same check holds for ReLU with "
    "sigma_U = sigma_W = 0.3 (lambda_bar < 0), where E^D falls by ~1e-9 (tested)",
    measure="E[E^D(mu_T)] / E^D(mu_0)",
    examples=0.2,
)
def odd_collapse(ex):
    res = collapse_experiment(ex["seed"], "tanh", 0.0)
    require(res["ratio"] <= COLLAPSE_FRACTION,
            f"no collapse: E[E^D(mu_T)]/E^D(mu_0) = {res['ratio']:.3f} > {COLLAPSE_FRACTION}; "
            f"{100 * res['antipodal_pairs']:.0f}% of token pairs nearly antipodal; lambda_bar(tanh) = "
            f"{res['lambda_bar']:.3f} > 0")
    return Measurement(value=res["ratio"], extra={"antipodal pair fraction": res["antipodal_pairs"]})


@claim(
    id="noise.drift",
    title="the drift of the noisy sphere dynamics (attention_drift, NumPy and numba backends) is the projected "
    "SA / USA field of the NumPy reference",
    source="arXiv:2604.26898 (noisy attention dynamics on the sphere); fields: arXiv:2312.10794 (SA), "
    "arXiv:2512.01868 (USA)",
    latex=r"f_i=P_{x_i}\frac1n\sum_j e^{\beta\langle x_i,x_j\rangle}x_j\ (\text{USA}),\quad "
    r"P_{x_i}\frac{\sum_j e^{\beta\langle x_i,x_j\rangle}x_j}{\sum_k e^{\beta\langle x_i,x_k\rangle}}\ (\text{SA})",
    hypotheses=st.fixed_dictionaries({"n": st.integers(2, 12), "d": st.integers(2, 5),
                                      "beta": st.floats(-4.0, 8.0, allow_nan=False), "seed": seeds()}),
    expect="holds",
    tolerance="max |P drift - reference| <= 1e-10 max(1, max |reference|): sums of n <= 12 terms of size "
    "<= e^{|beta|} <= 3e3, equal up to summation order and the shift (~1e-13 relative)",
    measure="max |drift - reference| / scale",
)
def drift(ex):
    from attnflow.numerics._reference import project, velocity_ref
    from attnflow.numerics.noise import attention_drift

    rng = np.random.default_rng(ex["seed"])
    x = rng.standard_normal((ex["n"], ex["d"]))
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    worst = 0.0
    for model in ("usa", "sa"):
        ref = velocity_ref(x, model, ex["beta"])
        scale = max(1.0, float(np.max(np.abs(ref))))
        for backend in ("numpy", "numba"):
            v = project(x, np.asarray(attention_drift(ex["beta"], model, backend=backend)(0.0, x)))
            err = float(np.max(np.abs(v - ref))) / scale
            require(err <= 1e-10, f"{model} drift ({backend} backend) differs from the reference by {err:.3e}")
            worst = max(worst, err)
    return worst


@claim(
    id="noise.layer",
    title="one deep-wide layer with common noise is LN(Y + sqrt(h) G(Y)), Y = LN(X + h Attn(X)), as its "
    "equation states (noise increment sqrt(h), attention step h)",
    source="arXiv:2604.26898 (deep-wide Transformer with random MLP layers; noise-driven synchronisation)",
    latex=r"Y=\mathrm{LN}(X+h\,\mathrm{Attn}(X)),\quad X'=\mathrm{LN}(Y+\sqrt h\,G(Y)),\quad "
    r"G(y)=m^{-1/2}W\sigma(Uy/\sqrt d+b_U)+b_W",
    hypotheses=st.fixed_dictionaries({"n": st.integers(2, 10), "d": st.integers(2, 5), "m": st.integers(1, 32),
                                      "h": st.floats(1e-3, 0.5), "beta": st.floats(0.0, 4.0), "seed": seeds()}),
    expect="holds",
    tolerance="max |layer - equation| <= 1e-12: the same float64 operations up to summation order (~1e-15); "
    "the equation is evaluated from the NumPy reference attention (attnflow.numerics._reference)",
    measure="max |layer - equation|",
)
def layer(ex):
    from attnflow.numerics._reference import softmax_attention
    from attnflow.numerics.noise import deep_wide_step, draw_layer_weights

    rng = np.random.default_rng(ex["seed"])
    n, d, m, h = ex["n"], ex["d"], ex["m"], ex["h"]
    x = rng.standard_normal((n, d))
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    w = draw_layer_weights(1, m, d, 0.5, 0.5, seed=ex["seed"])
    U, bU, W, bW = (a[0] for a in w)
    got = deep_wide_step(x, type(w)(U, bU, W, bW), h=h, beta=ex["beta"])

    def ln(v):
        return v / np.linalg.norm(v, axis=1, keepdims=True)

    y = ln(x + h * softmax_attention(x, ex["beta"])[0])
    g = np.maximum(y @ U.T / math.sqrt(d) + bU, 0.0) @ W.T / math.sqrt(m) + bW
    want = ln(y + math.sqrt(h) * g)
    err = float(np.max(np.abs(got - want)))
    require(err <= 1e-12, f"deep-wide layer differs from its equation by {err:.3e}")
    return err
