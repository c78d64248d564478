r"""Clustering claims (arXiv:2312.10794: clustering of self-attention dynamics).

``cluster.wendel``
    Wendel's theorem for the probability that ``n`` iid uniform points on :math:`S^{d-1}` lie in an
    open hemisphere;
``cluster.stationary``
    antipodal pairs and regular simplices are stationary for SA and USA at every :math:`\beta`;
``cluster.hemisphere.monotone``
    from a hemisphere start, :math:`r(t)=\min_i\langle x_i(t),w\rangle` is non-decreasing (SA, USA, and
    any :math:`Q, K` with :math:`V = I`);
``cluster.hemisphere.rate``
    the collapse from a hemisphere is exponential with rate at least :math:`1/(2ne^{2\beta})`;
``cluster.d3.single``
    for :math:`d \ge 3` a generic start ends in one cluster.

The particle fields are the package kernels (:func:`attnflow.numerics.make_field`), integrated by
:func:`attnflow.numerics.integrate` (fixed-step RK4 or Dormand–Prince 5(4) with retraction).  Every
check runs the numba kernels single-threaded (:func:`single_thread`): for the tiny systems drawn here
(``n <= 8``) the parallel kernels are dominated by thread start-up, about 50x slower on a loaded
2-core machine.  Helpers: :mod:`attnflow.properties.claims._clustering`.
"""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st
from scipy.stats import binomtest

from attnflow.numerics import single_thread
from attnflow.numerics import integrate, make_field, velocity
from attnflow.numerics.fields import MODELS, time_scale
from attnflow.properties import strategies as afs
from attnflow.properties.claims._clustering import (
    d3_horizon,
    describe,
    diameter,
    hemisphere_rate_bound,
    hemisphere_speed_scale,
    in_open_hemisphere,
    integrate_until,
    min_inner,
    random_qk,
    relative_speed,
    stationary_configuration,
    wendel_probability,
)
from attnflow.properties.registry import Measurement, claim, fit_exponential_rate, rate_measurement, require
from attnflow.properties.strategies import seeds


#: Monte Carlo samples per example and the per-example false-alarm level of the binomial test.
WENDEL_SAMPLES = 200
WENDEL_ALPHA = 1e-6


@st.composite
def _wendel_examples(draw):
    # n > d: for d >= n the probability is 1 and the Monte Carlo check is trivial (unit-tested separately)
    d = draw(st.integers(2, 6))
    n = d + draw(st.integers(1, 8))
    return {"n": n, "d": d, "seed": draw(seeds())}


@claim(
    id="cluster.wendel",
    title="P(n iid uniform points on S^{d-1} lie in an open hemisphere) = 2^{-(n-1)} sum_{k<d} C(n-1,k)",
    source="Wendel 1962 (Math. Scand. 11); used in arXiv:2312.10794 §6",
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
        "model": draw(st.sampled_from(["sa", "usa"])),
        "d": d,
        "n": draw(st.integers(2, d + 1)),
        "n_large": n_large,
        "d_large": n_large - 1 + draw(st.integers(0, 1)),
        "n_polygon": draw(st.integers(3, 12)),
        "beta": draw(st.floats(0.0, 50.0, allow_nan=False)),
        "seed": draw(seeds()),
    }


@claim(
    id="cluster.stationary",
    title="antipodal pairs and regular simplices are stationary for SA and USA (regular polygons for "
    "Kuramoto on the circle) at every beta",
    source="arXiv:2312.10794 §6 (stationary configurations)",
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


MONO_T_NATURAL = 3.0  # horizon in units of the model's time scale
MONO_STEP = 0.02  # h L, RK4
MONO_TOL = 1e-10


@st.composite
def _monotone_examples(draw):
    model = draw(st.sampled_from(["sa", "usa", "qkv"]))
    x, w = draw(afs.hemisphere_points(n=afs.sizes(2, 8), d=afs.sizes(2, 5), margin=0.0))
    beta = draw(st.floats(0.0, 5.0, allow_nan=False))
    return {"model": model, "x0": x, "w": w, "beta": beta, "seed": draw(afs.seeds())}


@claim(
    id="cluster.hemisphere.monotone",
    title="from a hemisphere start, min_i <x_i(t), w> is non-decreasing (SA, USA, any Q, K with V = I)",
    source="arXiv:2312.10794 (hemisphere argument behind the single-cluster theorems, Part 2) for SA; "
    "the extension to USA and to Q, K with V = I derived here (the argument only needs positive weights)",
    latex=r"\langle x_i(0),w\rangle>0\ \forall i\ \Longrightarrow\ t\mapsto\min_i\langle x_i(t),w\rangle"
    r"\ \text{is non-decreasing (SA, USA, and }e^{\beta\langle Qx_i,Kx_j\rangle}\text{ weights with }V=I)",
    hypotheses=_monotone_examples(),
    expect="holds",
    tolerance=f"per RK4 step r(t_(k+1)) >= r(t_k) - {MONO_TOL:g}: the exact flow is monotone, so a step can only "
    f"lose its local error; with h L = {MONO_STEP} (L the field's Lipschitz scale: 1 + 2 beta for SA, "
    "e^beta (1 + 2 beta) for USA, 1 + 2 beta |Q||K| for Q, K) the RK4 local error is <= (hL)^5/120 ~ 3e-11 "
    "in the worst case (<< 1e-12 in practice), and once r stalls (tokens merged) the steps only add "
    "round-off ~ d eps ~ 1e-15; a genuine decrease is O(h r') >> 1e-10 (the reversed-flow control is caught); horizon 3 time units of the model (3 e^-beta for USA); beta in [0, 5]",
    measure="max decrease of min_i <x_i, w> over one step (negative: increase)",
    describe=describe,
)
def hemisphere_monotone(ex):
    model, x0, w, beta = ex["model"], ex["x0"], ex["w"], ex["beta"]
    params = {}
    q = k = None
    spec = MODELS[model]
    if spec.keyed:  # a query/key model (qkv): random Q, K with the identity as value matrix
        q, k = random_qk(ex["seed"], x0.shape[1])
        params = {spec.query: q, spec.key: k, spec.value: np.eye(x0.shape[1])}
    s, lip = hemisphere_speed_scale(model, beta, q, k)
    with single_thread():
        velocity(x0, model=model, beta=beta, **params)  # validates shapes and unit norms
        f = make_field(model, beta=beta, **params)
        res = integrate(f, x0, MONO_T_NATURAL / s, method="rk4", dt=MONO_STEP / lip)
    r = res.states @ w
    rmin = r.min(axis=1)
    drops = rmin[:-1] - rmin[1:]
    worst = int(np.argmax(drops))
    require(drops[worst] <= MONO_TOL,
            f"min_i <x_i, w> decreased by {drops[worst]:.3e} between t = {res.times[worst]:.6g} and "
            f"{res.times[worst + 1]:.6g} ({model}, beta = {beta:.4g})")
    return Measurement(value=float(drops[worst]), extra={"r(T) - r(0)": float(rmin[-1] - rmin[0])})


RATE_WINDOW = (1e-8, 1e-4)  # diameters used for the fit
RATE_T_NATURAL_MAX = 2000.0
RATE_RTOL = 1e-10


@st.composite
def _rate_examples(draw):
    model = draw(st.sampled_from(["sa", "usa"]))
    x, w = draw(afs.hemisphere_points(n=afs.sizes(2, 8), d=afs.sizes(2, 5), margin=0.0))
    beta = draw(st.floats(0.0, 3.0, allow_nan=False))
    return {"model": model, "x0": x, "w": w, "beta": beta}


@claim(
    id="cluster.hemisphere.rate",
    title="hemisphere starts collapse exponentially, with rate >= 1/(2 n e^{2 beta})",
    source="arXiv:2312.10794 (hemisphere collapse, Part 2)",
    latex=r"\langle x_i(0),w\rangle>0\ \forall i\ \Longrightarrow\ |x_i(t)-x^*|\le Ce^{-\lambda t},\quad "
    r"\lambda\ge\frac{1}{2ne^{2\beta}}",
    hypotheses=_rate_examples(),
    expect="holds",
    tolerance="one-sided, no slack: the log-linear fit of the diameter max|x_i - x_j| over the late window "
    f"{RATE_WINDOW[0]:g} <= diameter <= {RATE_WINDOW[1]:g} must be >= 1/(2 n e^(2 beta)). Adaptive "
    f"Dormand-Prince with rtol {RATE_RTOL:g} (error relative to the diameter ~1e-6 at its smallest), the "
    "fitted rate is accurate to ~1e-6 relative, while the bound is 1e-5..1e-1 of the observed rate "
    "(linearisation: 1 for SA, e^beta for USA); beta in [0, 3] and horizon 2000 time units (2000 e^-beta "
    "for USA) keep metastable plateaus affordable (observed collapse times < 20)",
    measure="min fitted rate / bound",
    aggregate="min",
    describe=describe,
)
def hemisphere_rate(ex):
    model, x0, beta = ex["model"], ex["x0"], ex["beta"]
    n = x0.shape[0]
    s, _ = hemisphere_speed_scale(model, beta)
    lo, hi = RATE_WINDOW

    def stop(times, states):
        hit = np.nonzero(diameter(states) < lo)[0]
        return int(hit[0]) if hit.size else None

    with single_thread():
        f = make_field(model, beta=beta)
        times, states, t_stop = integrate_until(f, x0, stop, rtol=RATE_RTOL, first_chunk=10.0 / s,
                                                t_max=RATE_T_NATURAL_MAX / s)
    require(t_stop is not None,
            f"diameter still {diameter(states[-1]):.3e} > {lo:g} at t = {times[-1]:.6g}: no collapse within the horizon")
    diam = diameter(states)
    sel = (diam >= lo) & (diam <= hi)
    if sel.sum() < 5:
        raise RuntimeError(f"only {int(sel.sum())} saved states in the fitting window; lower the tolerance")
    fitted = fit_exponential_rate(times[sel], diam[sel])
    bound = hemisphere_rate_bound(n, beta)
    m = rate_measurement(fitted, bound, side=">=", rtol=0.0, value=fitted / bound)
    linear = time_scale(model, beta)
    return Measurement(value=m.value, fitted=fitted, theory=bound,
                       extra={"fitted / linearised rate (SA 1, USA e^beta)": fitted / linear,
                              "collapse time (diameter 1e-8)": t_stop})


D3_TOL = 1e-3
D3_RTOL = 1e-8
D3_BETA_MAX = 3.0


@st.composite
def _d3_examples(draw):
    model = draw(st.sampled_from(["sa", "usa"]))
    x = draw(afs.sphere_points(n=afs.sizes(2, 8), d=afs.sizes(3, 5), avoid_stationary=0.05))
    beta = draw(st.floats(0.0, D3_BETA_MAX, allow_nan=False))
    return {"model": model, "x0": x, "beta": beta}


@claim(
    id="cluster.d3.single",
    title="d >= 3: a generic start ends in a single cluster (SA and USA)",
    source="arXiv:2312.10794 (single cluster for every beta when d >= 3: Łojasiewicz inequality + strict "
    "saddles; Markdahl et al., Criscitiello et al.)",
    latex=r"d\ge3,\ \beta\ge0,\ \text{a.e. }x(0)\in(S^{d-1})^n:\ \ \exists x^*:\ x_i(t)\to x^*\ \forall i",
    hypotheses=_d3_examples(),
    expect="holds",
    tolerance=f"one cluster = min_ij <x_i, x_j> >= 1 - {D3_TOL:g} (the 0.999 criterion of 2512.01868) reached "
    f"before the horizon 50 + 100 e^(2 beta) (times n e^-beta for USA): metastable plateaus last "
    f"O(e^(beta (1 - cos theta))) <= O(e^(2 beta)), so beta is LIMITED to [0, {D3_BETA_MAX:g}] (larger beta is "
    f"metastable for times too long to afford: seen > 1.6e5 at beta = 8). Starts at least 0.05 from the "
    f"stationary antipodal/simplex sets; adaptive Dormand-Prince, rtol {D3_RTOL:g} (the cluster criterion is "
    "1e5 times coarser than the integration error)",
    measure="max time to one cluster / horizon",
    describe=describe,
)
def d3_single(ex):
    model, x0, beta = ex["model"], ex["x0"], ex["beta"]
    n = x0.shape[0]
    s, _ = hemisphere_speed_scale(model, beta)
    horizon = d3_horizon(model, beta, n)

    def stop(times, states):
        hit = np.nonzero(min_inner(states) >= 1.0 - D3_TOL)[0]
        return int(hit[0]) if hit.size else None

    with single_thread():
        f = make_field(model, beta=beta)
        times, states, t_stop = integrate_until(f, x0, stop, rtol=D3_RTOL, first_chunk=10.0 / s, t_max=horizon)
    final = states[-1]
    require(t_stop is not None,
            f"not one cluster at t = {times[-1]:.6g} (horizon): min <x_i, x_j> = {float(min_inner(final)):.6f}")
    return Measurement(value=t_stop / horizon, extra={"time to one cluster": t_stop})
