r"""Propagation-of-chaos claim (arXiv:2605.16747, abstract only).

``chaos.attention_rate``
    a distinguished token driven by ``n`` context tokens deviates from its mean-field path by
    :math:`O(n^{-1/2})`.

The claim reports the fitted slope, bootstrap confidence intervals and the theoretical value;
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
