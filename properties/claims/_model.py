r"""Helpers of the generic per-model claims (:mod:`attnflow.properties.claims.model`).

Everything here is derived from a model declaration (:mod:`attnflow.symbolic.models`), so the same
checks apply to the built-in models and to a user's own:

* :func:`applicable_families` -- which claim families a declaration gets (and why not);
* :func:`draw_params` -- random parameters (matrices :math:`N(0, 1/d)`, the gradient-flow case
  :math:`Q = I`, :math:`K = V = V^\top` or symmetric heads when an energy is needed);
* :func:`oracle` -- the small-``n`` SymPy field :func:`attnflow.symbolic.models.velocity_matrix`,
  lambdified once per size for mpmath (50 digits) and NumPy: the route independent of the
  generated kernels (no shift, no streaming, no CSE, no templates);
* :func:`step_scale` -- a Lipschitz scale of the field from the declared weight, which sets the
  step sizes and horizons of the integration checks.

References
----------
arXiv 2312.10794 (the attention flow, its energy and stationary configurations);
derivations/energy.md (energy convention and dissipation identities).
"""

from __future__ import annotations

import functools
import math

import numpy as np
import sympy as sp

from attnflow.symbolic.models import (
    TANGENT,
    Choice,
    CircleModel,
    EuclideanModel,
    Matrix,
    Real,
    SphereModel,
    beta as BETA,
    s as S,
    velocity_matrix,
)
from attnflow.symbolic.models import H as HVEC
from attnflow.symbolic.models import AH, HH, XH

__all__ = ["FAMILIES", "applicable_families", "has_reference", "draw_params", "gradient_choices", "oracle", "oracle_velocity",
           "weight_values", "step_scale", "score_bound", "logit_scale", "has_dissipation", "symmetric_config_ok", "state",
           "DIGITS"]

#: Families of generic claims, in report order.
FAMILIES = ("kernel", "reference", "dissipation", "monotone", "stationary", "order", "cluster")
#: mpmath precision of the oracle.
DIGITS = 50
#: Sizes of the named dimensions other than ``d`` (heads H, hidden units m).
_DIMS = {"H": 2, "m": 2}


def has_dissipation(decl) -> bool:
    """True if the output map is the tangent projection of the attention (the gradient-flow form)."""
    if isinstance(decl, CircleModel):
        return "causal" not in decl.normalization_modes().values()
    if isinstance(decl, EuclideanModel):
        return False
    tangent = TANGENT.subs({HVEC: 0, XH: 0, HH: 0, AH: 0})
    return (decl.readout is None and decl.perceptron is None and not decl.time_dependent
            and sp.expand(decl.output - tangent) == 0)


def symmetric_config_ok(decl) -> bool:
    """True if antipodal pairs and regular simplices are equilibria by symmetry: a sphere (or
    non-causal circle) model whose weight depends on :math:`\\langle x_i, x_j\\rangle` only (no
    query/key/value, heads, read-out or perceptron) and whose output map is a multiple of the
    tangent projection :math:`P_{x_i}A_i` (then :math:`A_i\\parallel x_i` gives :math:`\\dot x_i = 0`)."""
    if isinstance(decl, CircleModel):
        return "causal" not in decl.normalization_modes().values()
    if isinstance(decl, EuclideanModel) or not isinstance(decl, SphereModel):
        return False
    if any(getattr(decl, f) is not None for f in ("query", "key", "value", "heads", "readout", "perceptron")):
        return False
    from attnflow.symbolic.models import XA, A, X

    out = sp.expand(decl.output)
    coeff = sp.simplify(out.coeff(A))
    return coeff != 0 and sp.simplify(out - coeff * (A - XA * X)) == 0


def gradient_choices(decl) -> list:
    """Values of the ``normalization`` choice (``[None]`` without one) under which the declared energy
    holds for drawn gradient-flow parameters (empty: no energy, or its hypothesis is never met)."""
    if decl.energy is None:
        return []
    choice = decl.param("normalization")
    options = list(choice.choices) if isinstance(choice, Choice) else [None]
    rng = np.random.default_rng(0)
    ok = []
    for opt in options:
        p = draw_params(decl, 3, rng, gradient=True, choice=opt)
        if decl.energy_condition is None or not decl.energy_condition(dict(p)):
            ok.append(opt)
    return ok


def has_reference(decl) -> bool:
    """True if the model has an independent NumPy reference (:data:`attnflow.numerics._reference.REFERENCES`)."""
    from attnflow.numerics._reference import REFERENCES

    return decl.name in REFERENCES


def applicable_families(decl) -> dict[str, str]:
    """``{family: why}`` for the families the declaration gets (see the module docstring of
    :mod:`attnflow.properties.claims.model` for the rules)."""
    fam = {"kernel": "every model"}
    if has_reference(decl):
        fam["reference"] = "a NumPy reference of the model's equation (numerics._reference)"
    grad = gradient_choices(decl) if has_dissipation(decl) else []
    if grad:
        fam["dissipation"] = "a declared energy with the tangent-projection output"
        fam["monotone"] = "a gradient flow (F' = w checked by the dissipation claim)"
    if symmetric_config_ok(decl):
        fam["stationary"] = "weight of <x_i, x_j> only, output along P_x A"
    if not (isinstance(decl, SphereModel) and decl.perceptron is not None):
        fam["order"] = "a smooth field"
    if not isinstance(decl, CircleModel):
        fam["cluster"] = "tokens in R^d, d >= 3"
    return fam


def draw_params(decl, d: int, rng: np.random.Generator, *, gradient: bool = False, choice=None) -> dict:
    """Random parameters of ``decl`` for dimension ``d``.

    Matrices have iid :math:`N(0, 1/d)` entries (``H = 2`` heads, ``m = 2`` hidden units); with
    ``gradient=True`` square matrices are symmetrised and a declared ``energy_score`` V gets
    :math:`Q = I`, :math:`K = V` (the gradient-flow case :math:`Q^\\top K = V = V^\\top`).  Reals take
    their default (or ``lo + 0.5``); the ``normalization`` choice is ``choice`` or its default.
    """
    p: dict = {}
    dims = {"d": d, **_DIMS}
    for par in decl.params:
        if isinstance(par, Matrix):
            a = rng.standard_normal(tuple(dims.get(k, 2) for k in par.shape)) / math.sqrt(d)
            if gradient and a.ndim >= 2 and a.shape[-1] == a.shape[-2]:
                a = 0.5 * (a + np.swapaxes(a, -1, -2))
            p[par.name] = a
        elif isinstance(par, Real):
            p[par.name] = float(par.default) if not par.required else (0.5 if par.lo is None else par.lo + 0.5)
        elif isinstance(par, Choice):
            p[par.name] = choice if choice in par.choices else par.default
    if gradient and getattr(decl, "energy_score", None) is not None:
        p[decl.query] = np.eye(d)
        p[decl.key] = p[decl.energy_score].copy()
    return p


def state(decl, rng: np.random.Generator, n: int, d: int) -> np.ndarray:
    """A random state: unit rows (sphere), radii in [0.5, 2] (Euclidean) or uniform angles (circle)."""
    if isinstance(decl, CircleModel):
        return rng.uniform(-np.pi, np.pi, n)
    x = rng.standard_normal((n, d))
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    if isinstance(decl, EuclideanModel):
        x *= rng.uniform(0.5, 2.0, (n, 1))
    return x


@functools.lru_cache(maxsize=64)
def _oracle(decl, n: int, d: int, choice):
    syms, vel = velocity_matrix(decl, n, d, normalization=choice, heads=_DIMS["H"], hidden=_DIMS["m"])
    order = []  # (name, symbols in value order)
    for name, val in syms.items():
        if isinstance(val, sp.Matrix):
            order.append((name, list(val)))
        elif isinstance(val, list) and val and isinstance(val[0], sp.Matrix):
            order.append((name, [e for m in val for e in m]))
        elif isinstance(val, list):
            order.append((name, list(val)))
        else:
            order.append((name, [val]))
    return order, list(vel)


@functools.lru_cache(maxsize=64)
def _oracle_numpy(decl, n: int, d: int, choice):
    order, exprs = _oracle(decl, n, d, choice)
    flat = [sym for _, group in order for sym in group]
    return sp.lambdify(flat, exprs, modules="numpy", cse=True)


def _flat_values(order, x, beta: float, params: dict, t: float) -> list:
    vals = []
    for name, group in order:
        if name in ("x", "theta"):
            v = np.asarray(x, dtype=float).ravel()
        elif name == "beta":
            v = [beta]
        elif name == "t":
            v = [t]
        else:
            v = np.asarray(params[name], dtype=float).ravel()
        if len(v) != len(group):
            raise RuntimeError(f"oracle: {name} has {len(v)} values for {len(group)} symbols")
        vals.extend(float(e) for e in v)
    return vals


def oracle_velocity(decl, x, beta: float, params: dict, t: float = 0.0, *, precise: bool = True) -> np.ndarray:
    """The SymPy field at ``x`` (shape of ``x``): the float64 inputs substituted exactly as
    :data:`DIGITS`-digit SymPy Floats into the explicit sums, which then evaluate in mpmath
    arithmetic (``precise``), or the NumPy lambdification (for the reference integration of the
    order check)."""
    x = np.asarray(x, dtype=float)
    n = x.shape[0]
    d = 2 if x.ndim == 1 else x.shape[1]
    choice = params.get("normalization") if isinstance(decl.param("normalization"), Choice) else None
    order, exprs = _oracle(decl, n, d, choice)
    vals = _flat_values(order, x, beta, params, t)
    if precise:
        flat = [sym for _, group in order for sym in group]
        sub = {sym: sp.Float(v, DIGITS) for sym, v in zip(flat, vals)}
        out = [sp.N(e.xreplace(sub), DIGITS) for e in exprs]
        return np.array([float(e) for e in out]).reshape(x.shape)
    f = _oracle_numpy(decl, n, d, choice)
    return np.array(f(*vals), dtype=float).reshape(x.shape)


def score_bound(decl, params: dict) -> float:
    r"""An upper bound of :math:`|s_{ij}|`: :math:`\|Q\|\|K\|` (identity where not declared),
    :math:`\max_h\|M_h\|` for heads, 1 otherwise (unit tokens)."""
    if getattr(decl, "heads", None) is not None:
        return max(1.0, max(float(np.linalg.norm(m, 2)) for m in params[decl.heads]))
    bound = 1.0
    for f in ("query", "key"):
        name = getattr(decl, f, None)
        if name is not None:
            bound *= float(np.linalg.norm(params[name], 2))
    return max(1.0, bound)


@functools.lru_cache(maxsize=256)
def _logit_slope_fn(decl):
    pw = decl.pair_weight()
    if pw is None:
        return None
    reals = [p.sym() for p in decl.real_params]
    return sp.lambdify([S, *reals], sp.diff(pw[1], BETA), "numpy")


def logit_scale(decl, params: dict) -> float:
    r"""An upper bound of :math:`|\partial_\beta L(s)|` over the scores, :math:`w = C e^{L}`.

    For an exponential-form weight :math:`L(s) = \beta\,\ell(s)` this is :math:`\max_{|s|\le\bar s}|\ell(s)|`
    (:math:`\bar s` = :func:`score_bound`; e.g. :math:`\bar s` for :math:`e^{\beta s}`, :math:`2\bar s` for the
    time-rescaled :math:`e^{\beta(s-1)}`), so :math:`|\beta| = K/\text{logit\_scale}` keeps every logit within
    :math:`K`; :func:`score_bound` for other weights.
    """
    smax = score_bound(decl, params)
    fn = _logit_slope_fn(decl)
    if fn is None:
        return smax
    reals = [float(params.get(p.name, p.default)) for p in decl.real_params]
    s = np.linspace(-smax, smax, 81)
    vals = np.broadcast_to(np.asarray(fn(s, *reals), dtype=np.float64), s.shape)
    return max(smax, float(np.max(np.abs(vals))))


@functools.lru_cache(maxsize=256)
def _weight_fn(decl):
    reals = [p.sym() for p in decl.real_params]
    w = decl.weight
    return sp.lambdify([S, BETA, *reals], [w, sp.diff(w, S)], modules="numpy"), [p.name for p in decl.real_params]


def weight_values(decl, beta: float, params: dict, s: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The declared pair weight :math:`w(s)` and :math:`w'(s)` on the scores ``s``."""
    f, names = _weight_fn(decl)
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        w, dw = f(s, beta, *[params[k] for k in names])
    return np.broadcast_to(np.asarray(w, float), s.shape), np.broadcast_to(np.asarray(dw, float), s.shape)


def step_scale(decl, beta: float, params: dict) -> float:
    r"""A Lipschitz scale :math:`L` of the field, from the declared weight on the score range.

    .. math::
        L = (2 + \max|w| + \bar s\max|w'|)\,c_M\ (\text{mean, causal}),\qquad
        L = (2 + 2\bar s\max|w'/w|)\,c_M\ (\text{softmax}),

    over scores :math:`|s|\le\bar s` (:func:`score_bound`), with :math:`c_M = 1+\max\|M\|` over
    the matrix parameters (times H for heads).  Step sizes are chosen as fractions of :math:`1/L`.
    """
    norms = [float(np.linalg.norm(m, 2)) for k, v in params.items() if isinstance(decl.param(k), Matrix)
             for m in (np.asarray(v, float).reshape(-1, *np.shape(v)[-2:]) if np.ndim(v) >= 2 else [])]
    c_m = (1.0 + max(norms, default=0.0)) * (_DIMS["H"] if getattr(decl, "heads", None) else 1)
    smax = score_bound(decl, params)
    s = np.linspace(-smax, smax, 201)
    w, dw = weight_values(decl, beta, params, s)
    if not (np.all(np.isfinite(w)) and np.all(np.isfinite(dw))):
        return math.inf
    mode = decl.normalization_for(params)
    if mode == "softmax" and float(np.min(np.abs(w))) > 0:
        lip = 2.0 + 2.0 * smax * float(np.max(np.abs(dw / w)))
    else:
        lip = 2.0 + float(np.max(np.abs(w))) + smax * float(np.max(np.abs(dw)))
    return lip * c_m
