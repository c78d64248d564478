r"""Model declarations: one object holds everything that defines a particle model.

A declaration states the pair interaction in SymPy -- the score :math:`s_{ij}`, the pair weight
:math:`w(s)`, the normalisation (softmax over :math:`j`, the mean :math:`1/n`, or a causal
position softmax), the value and read-out maps, the output map (by default the tangent projection)
-- together with its parameters, the pair energy :math:`F(s)` when the model is a gradient flow,
and its source.  Everything else is derived from it: the small-``n`` SymPy field
(:mod:`attnflow.symbolic.models._oracle`), the generated numba kernel
(:mod:`attnflow.symbolic.codegen`), the model registry and parameter validation of
:mod:`attnflow.numerics`, the CLI's model choices and the export catalogue.

Sphere models (:class:`SphereModel`), for unit vectors :math:`x_i\in S^{d-1}`:

.. math::
    \dot x_i = \Phi\big(A_i, H_i, x_i\big),\qquad
    A_i = R\,\frac{1}{N_i}\sum_j w(s_{ij})\, V x_j,\qquad s_{ij} = \langle Qx_i, Kx_j\rangle,

with :math:`N_i=\sum_j w(s_{ij})` (``"softmax"``) or :math:`N_i=n` (``"mean"``), the read-out
:math:`R` (identity unless ``readout`` is given), the perceptron output
:math:`H_i = W\sigma(Ux_i+b)` (zero unless ``perceptron`` is given) and the output map
:math:`\Phi`, linear in its vector arguments (default :math:`P_{x_i}(A_i+H_i)`).  With ``heads``
the score, value and weights are summed over heads :math:`h` with :math:`K=V=M_h`.

Circle models (:class:`CircleModel`) are the same on :math:`x=(\cos\theta,\sin\theta)`, written in
angles: :math:`s = \cos(\theta_i-\theta_j)` and the projected value
:math:`\langle e_i, P_{x_i}x_j\rangle = -\sin(\theta_i-\theta_j)` are *derived* from the embedding.

Euclidean models (:class:`EuclideanModel`) act on :math:`x = r\theta` with the attention computed on
the directions :math:`\theta_i = x_i/|x_i|` (the normalisation schemes of arXiv 2510.22026).

Energy convention: with pair energy :math:`F` the energy is :math:`E=\tfrac12\sum_{i,j}F(s_{ij})`
on the sphere and :math:`E=\tfrac1{2n^2}\sum_{i,j}F(s_{ij})` on the circle; the model is a
gradient flow when :math:`F'=w` (proved by :meth:`Model.gradient_flow_proof`), with
:math:`\tfrac{d}{dt}E = \sum_i Z_i|\dot x_i|^2` (softmax, :math:`Z_i=\sum_j w(s_{ij})`),
:math:`n\sum_i|\dot x_i|^2` (mean) and :math:`\tfrac1n\sum_i\dot\theta_i^2` (circle, mean).

References
----------
arXiv 2312.10794 (SA, energy, eq. (1.3)), 2512.01868 (USA, survey), 2605.09213 (causal ALiBi),
2510.22026 (normalisation schemes), 2605.04279 (multi-head), 2411.04551 (attention + perceptron),
derivations/energy.md (the dissipation identities).
"""

from __future__ import annotations

import dataclasses
import functools
import re
from collections.abc import Callable, Mapping
from typing import Any, ClassVar

import sympy as sp

from attnflow.symbolic.models import _symbols as S
from attnflow.symbolic.models._consistency import (
    check_energy_meaning,
    check_functions,
    check_params,
    check_real,
    check_weight,
)
from attnflow.symbolic.models._params import Choice, Matrix, Param, Real, as_params

__all__ = ["Model", "SphereModel", "CircleModel", "EuclideanModel", "Perceptron", "TANGENT", "exp_form",
           "NORMALIZATIONS"]

#: The default output map: the tangent projection of the attention plus perceptron output,
#: :math:`P_x(A + H) = A + H - \langle x, A + H\rangle x`.
TANGENT = S.A + S.H - (S.XA + S.XH) * S.X

#: Normalisations a declaration may use.
NORMALIZATIONS = {
    "softmax": "A_i = sum_j w_ij v_j / sum_j w_ij",
    "mean": "A_i = (1/n) sum_j w_ij v_j",
    "causal": "A_j = sum_{k<j} p(j-k) w_jk v_k / sum_{k<j} p(j-k)  (circle models)",
}

_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
_VECTORS = (S.A, S.H, S.X)


def exp_form(expr: sp.Expr, var: sp.Symbol = S.s) -> tuple[sp.Expr, sp.Expr] | None:
    r"""Write ``expr`` as :math:`C\,e^{L}` with :math:`C` free of ``var``; ``(C, L)`` or None.

    Used to evaluate exponential weights and energies in shifted, log-sum-exp form.
    """
    expr = sp.sympify(expr)
    factors = sp.Mul.make_args(sp.powsimp(expr))
    exps = [f for f in factors if isinstance(f, sp.exp) and f.has(var)]
    rest = [f for f in factors if f not in exps]
    if len(exps) != 1 or any(f.has(var) for f in rest):
        return None
    return sp.Mul(*rest), exps[0].args[0]


@dataclasses.dataclass(frozen=True)
class Perceptron:
    r"""The perceptron term :math:`H_i = W\,\sigma(Ux_i + b)` of a sphere model.

    ``W``, ``U``, ``b`` name matrix parameters of shapes ``(d, m)``, ``(m, d)``, ``(m,)``;
    ``activation`` is :math:`\sigma(u)` in the symbol ``u`` (default the ReLU :math:`\max(u, 0)`).
    """

    W: str = "W"
    U: str = "U"
    b: str = "b"
    activation: sp.Expr = sp.Max(S.u, 0)


@dataclasses.dataclass(frozen=True, eq=False)
class Model:
    """Common part of every declaration (see the module docstring for the equations).

    Parameters
    ----------
    name : str
        Lower-case identifier shared by the API, the CLI, the kernels and the claims.
    weight : sympy.Expr
        The pair weight :math:`w(s)` in the score ``s`` (and ``beta``, parameters).
    normalization : str or dict
        ``"softmax"``, ``"mean"`` (``"causal"`` on the circle), or a dict ``{choice: mode}``
        selected by the :class:`Choice` parameter named ``"normalization"``.
    energy : sympy.Expr, optional
        The pair energy :math:`F(s)`, with :math:`F' = w`; only where the field dissipates it (not
        causal, no perceptron term or read-out, a positive attention coefficient of the output,
        ``energy_score`` with query/key/value, not on :class:`EuclideanModel`; see
        :mod:`attnflow.symbolic.models._consistency`, checked when the declaration is made).
    params : sequence of Param or dict
        The parameters (a dict ``{sympy.Symbol: default}`` declares real scalars).
    source : str
        Where the model comes from (arXiv id and label).
    description : str
        The equation in words and symbols (shown by the CLI and ``MODELS[name].description``).
    energy_condition : callable, optional
        ``energy_condition(params) -> str | None``: the hypothesis under which ``energy`` is the
        model's energy, checked on numeric parameters (None: always).  A message names the
        offending parameter.
    draw_params : callable, optional
        ``draw_params(d, seed, **options) -> dict``: random parameters from a seed (CLI).
    t_min : float, optional
        A time-dependent model is defined for ``t > t_min`` only.
    claims : tuple of str
        Claim-id globs (``attnflow check --claim`` semantics) of the claims that exercise the
        model's kernels (the export catalogue verifies a kernel by them).
    """

    name: str
    weight: sp.Expr
    normalization: str | Mapping[str, str] = "softmax"
    energy: sp.Expr | None = None
    params: Any = ()
    source: str = ""
    description: str = ""
    energy_condition: Callable[[dict], str | None] | None = None
    draw_params: Callable[..., dict] | None = None
    t_min: float | None = None
    claims: tuple[str, ...] = ()

    manifold: ClassVar[str] = ""
    energy_scale: ClassVar[sp.Expr] = sp.Rational(1, 2)

    def __post_init__(self):
        if not isinstance(self.name, str) or not _NAME.match(self.name):
            raise ValueError(f"name: a model name is a lower-case identifier (letters, digits, _), got {self.name!r}")
        object.__setattr__(self, "params", as_params(self.params))
        check_params(self)
        object.__setattr__(self, "weight", self._expr("weight", self.weight))
        if self.energy is not None:
            object.__setattr__(self, "energy", self._expr("energy", self.energy))
        modes = self.normalization_modes()
        allowed = self._allowed_normalizations()
        bad = [m for m in modes.values() if m not in allowed]
        if bad:
            raise ValueError(f"normalization: {bad[0]!r} is not one of {', '.join(allowed)} for {type(self).__name__}")
        if isinstance(self.normalization, Mapping):
            choice = self.param("normalization")
            if not isinstance(choice, Choice) or set(choice.choices) != set(self.normalization):
                raise ValueError("normalization: a dict of normalisations needs a Choice parameter 'normalization' "
                                 "with exactly those choices")
        check_weight(self)
        if not isinstance(self.source, str) or not isinstance(self.description, str):
            raise ValueError("source, description: must be strings")
        if isinstance(self.claims, str) or not all(isinstance(c, str) for c in self.claims):
            raise ValueError("claims: expected a tuple of claim-id globs (strings)")
        object.__setattr__(self, "claims", tuple(self.claims))

    # -- helpers for subclasses ----------------------------------------------------------------

    def _allowed_normalizations(self) -> tuple[str, ...]:
        return ("softmax", "mean")

    def _scalar_symbols(self) -> set[sp.Symbol]:
        return {S.s, S.beta, S.t} | {p.sym() for p in self.params if isinstance(p, Real)}

    def _expr(self, what: str, expr) -> sp.Expr:
        if isinstance(expr, str) or not isinstance(expr, (sp.Expr, int, float)):
            raise ValueError(f"{what}: expected a SymPy expression in s, beta and the parameters, got "
                             f"{type(expr).__name__} (strings are never parsed)")
        expr = sp.sympify(expr)
        check_real(what, expr)
        check_functions(what, expr)
        unknown = sorted((expr.free_symbols - self._scalar_symbols()), key=str)
        if unknown:
            raise ValueError(f"{what}: unknown symbol(s) {', '.join(map(str, unknown))}; declare them in params "
                             "(params={sym: default}) or use attnflow.models.s / beta")
        return expr

    # -- derived properties --------------------------------------------------------------------

    @property
    def has_energy(self) -> bool:
        return self.energy is not None

    @property
    def gradient_flow(self) -> bool:
        return self.energy is not None and self.energy_condition is None

    @property
    def time_dependent(self) -> bool:
        return False

    def param(self, name: str) -> Param | None:
        return next((p for p in self.params if p.name == name), None)

    @functools.cached_property
    def param_names(self) -> tuple[str, ...]:
        return tuple(p.name for p in self.params)

    @functools.cached_property
    def required(self) -> tuple[str, ...]:
        return tuple(p.name for p in self.params if p.required)

    @property
    def optional(self) -> dict[str, Any]:
        return {p.name: p.default for p in self.params if not p.required}

    @functools.cached_property
    def real_params(self) -> tuple[Real, ...]:
        return tuple(p for p in self.params if isinstance(p, Real))

    @functools.cached_property
    def matrix_params(self) -> tuple[Matrix, ...]:
        return tuple(p for p in self.params if isinstance(p, Matrix))

    def normalization_modes(self) -> dict[str | None, str]:
        """``{choice value: mode}``; ``{None: mode}`` for a fixed normalisation."""
        if isinstance(self.normalization, Mapping):
            return dict(self.normalization)
        return {None: self.normalization}

    def normalization_for(self, params: Mapping | None = None) -> str:
        """The normalisation mode for validated parameters ``params``."""
        if isinstance(self.normalization, Mapping):
            return self.normalization[(params or {}).get("normalization", self.param("normalization").default)]
        return self.normalization

    def pair_weight(self) -> tuple[sp.Expr, sp.Expr] | None:
        """``(C, L)`` with :math:`w = C e^{L}` (shifted evaluation), or None (evaluated directly)."""
        return exp_form(self.weight)

    def pair_energy(self) -> tuple[sp.Expr, sp.Expr] | None:
        """``(C, L)`` with :math:`F = C e^{L}` (log-sum-exp evaluation), or None."""
        return None if self.energy is None else exp_form(self.energy)

    def gradient_flow_proof(self):
        r"""Proof record of :math:`F'(s) = w(s)` (the gradient-flow identity of the declaration)."""
        from attnflow.symbolic.proof import prove_zero

        if self.energy is None:
            raise ValueError(f"energy: model {self.name!r} declares no pair energy")
        return prove_zero(sp.diff(self.energy, S.s) - self.weight)

    def check_energy(self, params: Mapping, what: str = "energy") -> None:
        """Raise ``ValueError`` if the model has no ``what`` or ``params`` violate its hypothesis."""
        if self.energy is None:
            raise ValueError(f"model: {self.name!r} has no {what}")
        if self.energy_condition is not None:
            msg = self.energy_condition(dict(params))
            if msg:
                raise ValueError(msg.replace("{what}", what))


def _check_output(output) -> sp.Expr:
    if isinstance(output, str) or not isinstance(output, sp.Expr):
        raise ValueError("output: expected a SymPy expression linear in A, H, X (e.g. A - XA*X)")
    output = sp.expand(output)
    for term in sp.Add.make_args(output):
        vec = [v for v in _VECTORS if term.has(v)]
        if len(vec) != 1 or sp.degree(term, vec[0]) != 1:
            raise ValueError(f"output: every term must be linear in exactly one of A, H, X; got the term {term}")
    return output


@dataclasses.dataclass(frozen=True, eq=False)
class SphereModel(Model):
    """A model on the unit sphere (see the module docstring).

    Additional parameters
    ---------------------
    query, key, value : str, optional
        Names of ``(d, d)`` matrix parameters Q, K, V in :math:`s=\\langle Qx_i,Kx_j\\rangle` and the
        value :math:`Vx_j` (identity when omitted).
    heads : str, optional
        Name of an ``(H, d, d)`` matrix parameter :math:`M`: heads with key = value = :math:`M_h`.
    readout : str, optional
        Name of a ``(d, d)`` matrix applied to the normalised attention output.
    perceptron : Perceptron, optional
        The perceptron term :math:`H_i`.
    output : sympy.Expr
        The output map, linear in ``A``, ``H``, ``X`` (default :data:`TANGENT`).
    energy_score : str, optional
        Name of a matrix parameter :math:`V`: the energy is :math:`\\tfrac12\\sum F(\\langle x_i, Vx_j\\rangle)`
        (valid under ``energy_condition``, e.g. :math:`Q^\\top K = V = V^\\top`).
    """

    query: str | None = None
    key: str | None = None
    value: str | None = None
    heads: str | None = None
    readout: str | None = None
    perceptron: Perceptron | None = None
    output: sp.Expr = TANGENT
    energy_score: str | None = None

    manifold: ClassVar[str] = "sphere"

    def __post_init__(self):
        super().__post_init__()
        object.__setattr__(self, "output", _check_output(self.output))
        check_functions("output", self.output)
        unknown = self.output.free_symbols - {S.A, S.H, S.X, S.XA, S.XH, S.AA, S.HH, S.AH, S.t, S.beta} \
            - {p.sym() for p in self.real_params}
        if unknown:
            raise ValueError(f"output: unknown symbol(s) {', '.join(sorted(map(str, unknown)))}")
        for field, shape in (("query", ("d", "d")), ("key", ("d", "d")), ("value", ("d", "d")),
                             ("readout", ("d", "d")), ("heads", ("H", "d", "d")), ("energy_score", ("d", "d"))):
            name = getattr(self, field)
            if name is None:
                continue
            p = self.param(name)
            if not isinstance(p, Matrix) or tuple(p.shape) != shape:
                raise ValueError(f"{field}: {name!r} must be a Matrix parameter of shape {shape}")
        if self.heads is not None and (self.key or self.value or self.query):
            raise ValueError("heads: a multi-head model takes its keys and values from the heads (no query/key/value)")
        if self.perceptron is not None:
            for field, shape in (("W", ("d", "m")), ("U", ("m", "d")), ("b", ("m",))):
                name = getattr(self.perceptron, field)
                p = self.param(name)
                if not isinstance(p, Matrix) or tuple(p.shape) != shape:
                    raise ValueError(f"perceptron: {name!r} must be a Matrix parameter of shape {shape}")
            act = sp.sympify(self.perceptron.activation)
            if act.free_symbols - {S.u}:
                raise ValueError("perceptron: the activation is a function of u only")
            check_functions("perceptron", act)
        elif self.output.has(S.H):
            object.__setattr__(self, "output", sp.expand(self.output.subs({S.H: 0, S.XH: 0, S.HH: 0, S.AH: 0})))
        check_energy_meaning(self)

    @functools.cached_property
    def time_dependent(self) -> bool:
        return self.output.has(S.t)

    @functools.cached_property
    def keyed(self) -> bool:
        """True if the score or value uses matrices (the kernel takes precomputed rows Qx, Kx, Vx)."""
        return any(getattr(self, f) is not None for f in ("query", "key", "value", "readout", "perceptron"))


@dataclasses.dataclass(frozen=True, eq=False)
class EuclideanModel(SphereModel):
    r"""A model on :math:`x = r\theta` whose attention acts on the directions :math:`\theta_i = x_i/|x_i|`.

    The output map's ``X`` is the direction :math:`\theta_i`; the default output is :math:`A_i`.
    """

    output: sp.Expr = S.A
    manifold: ClassVar[str] = "euclidean"


@dataclasses.dataclass(frozen=True, eq=False)
class CircleModel(Model):
    r"""A model on the circle, in angles :math:`\theta_i` (shape ``(n,)``, or ``(P, n)`` for P prompts).

    The score :math:`s=\cos(\theta_i-\theta_j)` and the projected value
    :math:`-\sin(\theta_i-\theta_j)` are derived from the sphere form by the embedding
    :math:`x=(\cos\theta,\sin\theta)`: :math:`\dot\theta_i = N_i^{-1}\sum_j w(s_{ij})(-\sin(\theta_i-\theta_j))`.
    With ``normalization="causal"`` token :math:`j` attends to :math:`k<j` with position weight
    ``position_weight`` :math:`p(g)` in the gap :math:`g=j-k` and :math:`N_j=\sum_{k<j}p(j-k)`;
    token 1 does not move.
    """

    position_weight: sp.Expr | None = None

    manifold: ClassVar[str] = "angles"
    energy_scale: ClassVar[sp.Expr] = 1 / (2 * S.n**2)

    def _allowed_normalizations(self) -> tuple[str, ...]:
        return ("softmax", "mean", "causal")

    def _scalar_symbols(self) -> set[sp.Symbol]:
        return super()._scalar_symbols() | {S.g, S.N}

    def __post_init__(self):
        super().__post_init__()
        causal = "causal" in self.normalization_modes().values()
        if causal != (self.position_weight is not None):
            raise ValueError("position_weight: needed exactly when normalization='causal'")
        if self.position_weight is not None:
            object.__setattr__(self, "position_weight", self._expr("position_weight", self.position_weight))
        if self.weight.has(S.g, S.N):
            raise ValueError("weight: the content weight is a function of the score s (use position_weight for g, N)")
        check_energy_meaning(self)
