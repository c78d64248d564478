r"""Propagation-of-chaos claim (arXiv:2605.16747, abstract only).

``chaos.attention_rate``
    a distinguished token driven by ``n`` context tokens deviates from its mean-field path by
    :math:`O(n^{-1/2})`.

``chaos.hardmax_rate``
    hardmax attention (:math:`\beta=\infty`), a contextual flow map outside the transformer class: the
    interaction error decays as :math:`n^{-1/d}` (:math:`d = 2, 3, 4`), significantly slower than
    :math:`n^{-1/2}` for :math:`d\ge3` (experiment in :mod:`attnflow.properties.claims._hardmax`).

The claims report the fitted slope, bootstrap confidence intervals and the theoretical value;
pass/fail is one-sided (the theorem is a bound).  One complete experiment per Hypothesis example
(``examples=0.2``, see :mod:`attnflow.properties.claims.wasserstein`); the experiment is
:func:`attnflow.properties.claims._experiments.chaos_experiment`.
"""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

from attnflow.properties.claims._experiments import (
    CHAOS_QUAD,
    CHAOS_REPLICATES,
    CHAOS_SIZES,
    chaos_experiment,
    chaos_reference,
)
from attnflow.properties.claims._hardmax import (
    CHAOS_HARDMAX_DT,
    CHAOS_HARDMAX_REPLICATES,
    CHAOS_HARDMAX_SIZES,
    CHAOS_HARDMAX_STEPS,
    hardmax_chaos_experiment,
)
from attnflow.properties.claims._stats import rms_slope_bootstrap
from attnflow.properties.registry import Measurement, claim, require
from attnflow.properties.strategies import seeds


#: Pre-asymptotic allowance on the slope, and the hard ceiling on the point estimate.
CHAOS_TOL = 0.05
CHAOS_CEILING = -0.3


@claim(
    id="chaos.attention_rate",
    title="propagation of chaos for attention: distinguished-token error vs context size n has slope <= -1/2 + tol",
    source="arXiv:2605.16747 (abstract only; the rate for transformers derived here)",
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


#: Pre-asymptotic allowance on the hardmax slopes (the extreme-value limit is reached at O(1/n^{1/d}) relative).
HARDMAX_TOL = 0.05
HARDMAX_DIMS = (2, 3, 4)


@claim(
    id="chaos.hardmax_rate",
    title="propagation of chaos for hardmax attention (beta = inf, outside the transformer class): the "
    "interaction error W_2(mu^n_T, Phi_T # mu^n_0) decays like n^{-1/d} for d = 2, 3, 4, slower than n^{-1/2} "
    "for d >= 3",
    source="arXiv:2605.16747 (propagation of chaos for contextual flow maps, general rate n^{-1/d}); hardmax "
    "attention arXiv:2508.09628; experiment in attnflow.properties.claims._hardmax",
    latex=r"W_2\bigl(\mu^n_T,\Phi_T\#\mu^n_0\bigr)\le\Bigl(\tfrac1n\textstyle\sum_i|x_i^n(T)-\Phi_T(x_i(0))|^2"
    r"\Bigr)^{1/2}\lesssim n^{-1/d},\quad \dot x_i = x_{\arg\max_j\langle x_i,x_j\rangle}-x_i",
    hypotheses=st.fixed_dictionaries({"seed": seeds()}),
    expect="holds",
    tolerance=f"per d in {HARDMAX_DIMS}, log-log slope of the RMS synchronous deviation over n in "
    f"{CHAOS_HARDMAX_SIZES} ({CHAOS_HARDMAX_REPLICATES} replicates, bootstrap): the bound holds iff the one-sided "
    f"99% lower confidence bound of the slope is <= -1/d + {HARDMAX_TOL}; outside the transformer class iff, for "
    f"d >= 3, that lower bound is > -1/2 (significantly slower than n^(-1/2)); W_2 by the exact solver "
    f"(n <= 256, 4 replicates) must not exceed the RMS deviation (it is a coupling's cost) by more than 1e-9. "
    f"Euler steps dt = {CHAOS_HARDMAX_DT}, T = {CHAOS_HARDMAX_DT * CHAOS_HARDMAX_STEPS:g}, the same scheme for "
    "the particles and the exact mean-field map (the scheme's error cancels)",
    measure="max over d of fitted slope - (-1/d)",
    examples=0.2,
)
def hardmax_rate(ex):
    extra, worst, msgs = {}, -np.inf, []
    for d in HARDMAX_DIMS:
        rms, w2 = hardmax_chaos_experiment(d, ex["seed"])
        rng = np.random.default_rng(ex["seed"] + d)
        slope, lo, hi = rms_slope_bootstrap(CHAOS_HARDMAX_SIZES, rms, rng)
        _, lo99, hi99 = rms_slope_bootstrap(CHAOS_HARDMAX_SIZES, rms, rng, level=0.98)
        ok_w = np.isfinite(w2)
        ratio = float(np.max(w2[ok_w] / rms[ok_w]))
        extra.update({f"d={d}: slope": slope, f"d={d}: CI low": lo, f"d={d}: CI high": hi,
                      f"d={d}: 99% lower bound": lo99, f"d={d}: max W2/RMS": ratio,
                      f"d={d}: RMS n={CHAOS_HARDMAX_SIZES[0]}": float(np.sqrt(np.mean(rms[:, 0] ** 2))),
                      f"d={d}: RMS n={CHAOS_HARDMAX_SIZES[-1]}": float(np.sqrt(np.mean(rms[:, -1] ** 2)))})
        worst = max(worst, slope + 1.0 / d)
        if lo99 > -1.0 / d + HARDMAX_TOL:
            msgs.append(f"d={d}: slope {slope:.3f} (95% CI [{lo:.3f}, {hi:.3f}]) significantly above -1/d = {-1 / d:.3f}")
        if d >= 3 and lo99 <= -0.5:
            msgs.append(f"d={d}: slope {slope:.3f} not significantly slower than n^(-1/2) (99% lower bound {lo99:.3f})")
        if ratio > 1 + 1e-9:
            msgs.append(f"d={d}: W_2 exceeds the coupling's RMS deviation (ratio {ratio:.6f})")
    require(not msgs, "; ".join(msgs))
    return Measurement(value=worst, fitted=extra["d=3: slope"], theory=-1.0 / 3, extra=extra)
