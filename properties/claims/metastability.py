r"""Metastability claim (arXiv:2410.06833: metastability of self-attention dynamics).

``metastability.escape``
    (explore) the time at which :math:`k` well-separated clusters start to interact grows like
    :math:`e^{c\beta}`; the fitted :math:`c` is reported beside :math:`1-\alpha` of arXiv:2410.06833.

Caps and escape times: :mod:`attnflow.properties.claims._clustering`.
"""

from __future__ import annotations

import math

import numpy as np
from hypothesis import strategies as st

from attnflow.numerics import single_thread
from attnflow.properties import strategies as afs
from attnflow.properties.claims._clustering import META_RTOL, cap_alpha, cap_configuration, describe, escape_time
from attnflow.properties.registry import Measurement, claim, fit_exponential_rate


META_LOG_T_MAX = 7.0  # largest predicted log escape time (cost control)
META_BETAS = 5


@st.composite
def _meta_examples(draw):
    k = draw(st.integers(2, 3))
    theta = draw(st.floats(math.pi / 3, 2 * math.pi / 3 if k == 2 else 0.55 * math.pi, allow_nan=False))
    return {
        "k": k,
        "per_cap": draw(st.integers(1, 3)),
        "d": draw(st.integers(3, 4)),
        "theta": theta,
        "eps": draw(st.floats(0.005, 0.03, allow_nan=False)),
        "model": draw(st.sampled_from(["sa", "usa"])),
        "seed": draw(afs.seeds()),
    }


@claim(
    id="metastability.escape",
    title="escape time from k well-separated caps: log T_esc grows linearly in beta (slope vs 1 - alpha)",
    source="arXiv:2410.06833 (metastability: T_2 >= (eps/n) e^{(1-alpha) beta}); arXiv:2512.01868",
    latex=r"T_2\ \ge\ \frac{\varepsilon}{n}e^{(1-\alpha)\beta},\qquad \alpha=\max\{\langle x,y\rangle:"
    r"x\in S_i(2\varepsilon),\,y\in S_j(2\varepsilon),\,i\ne j\}\quad(\text{slope of }\log T_{\rm esc}"
    r"\text{ in }\beta\ \text{vs}\ 1-\alpha)",
    hypotheses=_meta_examples(),
    expect="explore",
    tolerance="explore, no pass/fail on the constant: escape times on 5 equally spaced beta with predicted "
    f"log-time (1 - cos theta) beta <= {META_LOG_T_MAX:g} (affordable range; the theorem's hypothesis "
    "1 - alpha - 8 eps - log(2 n^2/eps)/beta > 0 needs beta ~ 50-100 here and is NOT met), adaptive "
    f"Dormand-Prince rtol {META_RTOL:g} (event resolved on accepted steps, relative time error < 1%); the "
    "fitted slope is reported beside 1 - alpha (the theorem's exponent) and 1 - <w_i, w_j> (the interaction "
    "exponent of collapsed caps)",
    measure="fitted slope of log T_esc in beta",
    examples=0.4,
    describe=describe,
)
def metastability_escape(ex):
    k, per_cap, d, theta, eps = ex["k"], ex["per_cap"], ex["d"], ex["theta"], ex["eps"]
    x0, w, labels = cap_configuration(k, d, per_cap, theta, eps, ex["seed"])
    gap = 1.0 - math.cos(theta)
    beta_max = min(META_LOG_T_MAX / gap, 14.0)
    betas = np.linspace(max(1.5, beta_max - 5.0), beta_max, META_BETAS)
    times = []
    with single_thread():
        for b in betas:
            t = escape_time(x0, w, labels, float(b), eps, model=ex["model"], t_max=1e6)
            if t is None:
                raise RuntimeError(f"no escape before t = 1e6 at beta = {b:.4g}")
            times.append(t)
    times = np.array(times)
    slope = -fit_exponential_rate(betas, times)
    alpha = cap_alpha(theta, eps)
    n = k * per_cap
    hyp = 1.0 - alpha - 8.0 * eps - math.log(2.0 * n * n / eps) / betas[-1]
    lower = eps / n * np.exp((1.0 - alpha) * betas)
    return Measurement(
        value=slope,
        fitted=slope,
        theory=1.0 - alpha,
        extra={
            "1 - <w_i, w_j>": gap,
            "slope / (1 - <w_i, w_j>)": slope / gap,
            "min T_esc / ((eps/n) e^((1-alpha) beta))": float(np.min(times / lower)),
            "theorem hypothesis margin at beta_max (needs > 0)": hyp,
            "beta_max": float(betas[-1]),
        },
    )
