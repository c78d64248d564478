r"""Ensemble claims: batches of independent systems, and the time-rescaled models.

``ensemble.batch_equals_loop``
    For every generated model, the field of a batch of B independent systems (one call of the
    ensemble kernel ``<model>_velocity_ensemble``, or the circle's ``<model>_velocity_batched``) equals
    the fields of the systems evaluated one by one, and an RK4 run of the batch equals the runs of its
    systems (:func:`attnflow.numerics.simulate`).
``ensemble.rescaled_clock``
    ``usa_rescaled`` and ``kuramoto_rescaled`` (pair weight :math:`e^{\beta(s-1)}`) are USA and
    Kuramoto on the clock :math:`\tau = e^{-\beta}t`: :math:`F_{\mathrm{rescaled}} = e^{-\beta}F`, and
    they stay finite at any :math:`\beta\ge0` (checked against 50-digit mpmath sums up to
    :math:`\beta = 4000`, where :math:`e^{\beta}` overflows float64).

Independent routes: the one-system kernels (serial twins, the path a single small system takes)
and direct mpmath sums of the equations.

References
----------
arXiv 2312.10794 (SA; the authors' experiments run 2048 systems per batch), 2512.01868 (USA and its
circle form).
"""

from __future__ import annotations

import math

import mpmath as mp
import numpy as np
from hypothesis import strategies as st

from attnflow.numerics import fields, simulate
from attnflow.properties import strategies as afs
from attnflow.properties.registry import claim, require

__all__ = ["ensemble_models", "batch_vs_loop", "rescaled_field_mpmath"]

#: Batch vs loop: relative to max(1, max |F|).  The ensemble kernel runs the same serial function per
#: system, so the difference is 0 except for the parameter products of the keyed/heads models (one
#: BLAS call for the batch vs one per system), which may round differently.
BATCH_TOL = 1e-14
#: Rescaled vs e^{-beta} * unrescaled at moderate beta, absolute (the rescaled attention is a mean of
#: terms of size <= 1; the logits beta*s - beta and beta*(s - 1) round differently, by ~beta ulps).
CLOCK_TOL = 1e-12
#: Rescaled kernel vs the 50-digit mpmath sum, relative to max |F| (absolute where F underflows).
MPMATH_TOL = 1e-11


def ensemble_models() -> list:
    """Every declaration with a generated kernel: the registered built-in models and the auxiliary ones."""
    from attnflow.symbolic.codegen import generated_models

    return generated_models()


def _params(decl, rng, d: int) -> list[dict]:
    """Random parameters for ``decl`` (every normalisation variant), matrices N(0, 1/d)."""
    from attnflow.symbolic.models import Choice, Matrix, Real

    p = {}
    for par in decl.params:
        if isinstance(par, Matrix):
            p[par.name] = rng.standard_normal(tuple({"d": d, "H": 2, "m": 2}[k] for k in par.shape)) / math.sqrt(d)
        elif isinstance(par, Real):
            p[par.name] = float(par.default) if not par.required else (0.5 if par.lo is None else par.lo + 0.5)
    variants = [{}]
    for par in decl.params:
        if isinstance(par, Choice):
            variants = [{par.name: c} for c in par.choices]
    return [{**p, **v} for v in variants]


def _states(decl, rng, B: int, n: int, d: int) -> np.ndarray:
    if decl.manifold == "angles":
        return rng.uniform(-np.pi, np.pi, (B, n))
    x = rng.standard_normal((B, n, d))
    x /= np.linalg.norm(x, axis=-1, keepdims=True)
    return 2.0 * x if decl.manifold == "euclidean" else x


def batch_vs_loop(decl, x: np.ndarray, beta: float, **p) -> float:
    """max |F(batch) - stack(F(system b))| / max(1, max |F|) for one declaration at state ``x``."""
    got = fields.velocity(x, model=decl, beta=beta, t=0.3, **p)
    want = np.stack([fields.velocity(xb, model=decl, beta=beta, t=0.3, **p) for xb in x])
    return float(np.max(np.abs(got - want)) / max(1.0, float(np.max(np.abs(want)))))


@st.composite
def _batch_examples(draw):
    return {"seed": draw(afs.seeds()), "B": draw(st.integers(1, 5)), "n": draw(st.integers(1, 9)),
            "d": draw(st.integers(2, 4)), "beta": draw(st.floats(-4.0, 8.0, allow_nan=False))}


@claim(
    id="ensemble.batch_equals_loop",
    title="a batch of B independent systems evolves exactly as the B systems run one by one",
    source="arXiv:2312.10794 (the authors' experiments batch 2048 systems); attnflow's ensemble kernels",
    latex=r"F\big((x^{(b)})_{b\le B}\big) = \big(F(x^{(b)})\big)_{b\le B},\qquad "
          r"\Phi^{\mathrm{RK4}}_{h}\big((x^{(b)})_b\big) = \big(\Phi^{\mathrm{RK4}}_{h}(x^{(b)})\big)_b",
    hypotheses=_batch_examples(),
    expect="holds",
    tolerance=f"relative {BATCH_TOL:g} (bit for bit except the BLAS products of the parameter matrices), "
              "for every generated model and normalisation variant; RK4 (10 steps of 0.05 e^{-max(beta, 0)}) of sa and usa",
    measure="max relative difference batch vs loop",
    describe=lambda ex: repr(ex),
)
def batch_equals_loop(ex):
    rng = np.random.default_rng(ex["seed"])
    worst = 0.0
    for decl in ensemble_models():
        for p in _params(decl, rng, ex["d"]):
            x = _states(decl, rng, ex["B"], ex["n"], ex["d"])
            try:
                err = batch_vs_loop(decl, x, ex["beta"], **p)
            except ValueError as exc:  # a vanishing attention output (Peri-LN, nGPT) or an overflow: not this claim
                if "vanishes" in str(exc) or "overflows" in str(exc):
                    continue
                raise
            require(err <= BATCH_TOL, f"{decl.name} {p.get('normalization', '')}: batch vs loop {err:.3e}")
            worst = max(worst, err)
    x = _states(ensemble_models()[0], rng, ex["B"], ex["n"], ex["d"])
    dt = 0.05 * math.exp(-max(ex["beta"], 0.0))  # the USA field is of size e^beta: keep RK4 stable
    for model in ("sa", "usa"):
        run = simulate(model, x, beta=ex["beta"], t_final=10 * dt, dt=dt, energy=False)
        for b in range(ex["B"]):
            one = simulate(model, x[b], beta=ex["beta"], t_final=10 * dt, dt=dt, energy=False)
            err = float(np.max(np.abs(run.states[:, b] - one.states)))
            require(err <= BATCH_TOL, f"{model}: RK4 batch vs system {b}: {err:.3e}")
            worst = max(worst, err)
    return worst


def rescaled_field_mpmath(x: np.ndarray, beta: float, manifold: str) -> np.ndarray:
    r"""The time-rescaled USA field by direct 50-digit sums (float64 result).

    .. math:: \dot x_i = P_{x_i}\Big(\frac1n\sum_j e^{\beta(\langle x_i,x_j\rangle-1)}x_j\Big),\qquad
              \dot\theta_i = -\frac1n\sum_j e^{\beta(\cos(\theta_i-\theta_j)-1)}\sin(\theta_i-\theta_j).
    """
    with mp.workdps(50):
        b = mp.mpf(beta)
        if manifold == "angles":
            th = [mp.mpf(float(t)) for t in x]
            n = len(th)
            return np.array([float(-sum(mp.exp(b * (mp.cos(ti - tj) - 1)) * mp.sin(ti - tj) for tj in th) / n)
                             for ti in th])
        X = [[mp.mpf(float(v)) for v in row] for row in x]
        n, d = len(X), len(X[0])
        out = np.empty((n, d))
        for i, xi in enumerate(X):
            a = [mp.mpf(0)] * d
            for xj in X:
                w = mp.exp(b * (mp.fsum(u * v for u, v in zip(xi, xj)) - 1)) / n
                a = [ak + w * v for ak, v in zip(a, xj)]
            xa = mp.fsum(u * v for u, v in zip(xi, a))
            out[i] = [float(ak - xa * u) for ak, u in zip(a, xi)]
        return out


@st.composite
def _clock_examples(draw):
    return {"seed": draw(afs.seeds()), "n": draw(st.integers(2, 6)), "d": draw(st.integers(2, 4)),
            "beta": draw(st.floats(0.05, 20.0, allow_nan=False)),
            "big_beta": draw(st.sampled_from([700.0, 1000.0, 4000.0]) | st.floats(50.0, 4000.0, allow_nan=False))}


@claim(
    id="ensemble.rescaled_clock",
    title="usa_rescaled and kuramoto_rescaled are USA and Kuramoto on the clock tau = e^{-beta} t, finite at any beta",
    source="arXiv:2512.01868 (USA and its circle form); time change of an autonomous ODE",
    latex=r"F^{\mathrm{resc}}_\beta = e^{-\beta}F_\beta,\qquad x^{\mathrm{resc}}(t) = x(e^{-\beta}t)",
    hypotheses=_clock_examples(),
    expect="holds",
    tolerance=f"F_resc = e^-beta F within {CLOCK_TOL:g} absolute (the rescaled attention is a mean of terms <= 1) and "
              f"e^beta E_resc = E within {CLOCK_TOL:g} relative, for beta in [0.05, 20] (and "
              "n = 256 on the sphere: the blocked BLAS path); F_resc equals the 50-digit mpmath sum within "
              f"{MPMATH_TOL:g} (relative to max |F|) for beta up to 4000, all entries finite",
    measure="max relative error",
    describe=lambda ex: repr(ex),
)
def rescaled_clock(ex):
    rng = np.random.default_rng(ex["seed"])
    n, d, beta = ex["n"], ex["d"], ex["beta"]
    x = rng.standard_normal((n, d))
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    th = rng.uniform(-np.pi, np.pi, n)
    worst = 0.0
    big_x = rng.standard_normal((256, d))  # n^2 = PARALLEL_MIN_PAIRS: the blocked BLAS path
    big_x /= np.linalg.norm(big_x, axis=1, keepdims=True)
    for resc, base, state in (("usa_rescaled", "usa", x), ("kuramoto_rescaled", "kuramoto", th),
                              ("usa_rescaled", "usa", big_x)):
        got = fields.velocity(state, model=resc, beta=beta)
        want = math.exp(-beta) * fields.velocity(state, model=base, beta=beta)
        # absolute: the rescaled attention sums terms of size <= 1 (weights e^{beta(s-1)} <= 1, mean); the
        # tangent projection may cancel most of it, so a relative error of F itself is not meaningful
        err = float(np.max(np.abs(got - want)))
        require(err <= CLOCK_TOL, f"{resc}: F_resc vs e^-beta F_{base} at beta={beta}: {err:.3e}")
        worst = max(worst, err)
        e_resc, e_base = fields.energy(state, model=resc, beta=beta), fields.energy(state, model=base, beta=beta)
        err = abs(math.exp(beta) * e_resc - e_base) / abs(e_base)
        require(err <= CLOCK_TOL, f"{resc}: e^beta E_resc vs E_{base} at beta={beta}: {err:.3e}")
        worst = max(worst, err)
        if state is big_x:
            continue
        big = ex["big_beta"]
        v = fields.velocity(state, model=resc, beta=big)
        require(bool(np.all(np.isfinite(v))), f"{resc}: non-finite field at beta={big}")
        ref = rescaled_field_mpmath(state, big, "angles" if state.ndim == 1 else "sphere")
        err = float(np.max(np.abs(v - ref)) / max(1.0, float(np.max(np.abs(ref)))))
        require(err <= MPMATH_TOL, f"{resc}: kernel vs mpmath at beta={big}: {err:.3e}")
        worst = max(worst, err)
    return worst
