r"""Consistency checks of a declaration, run when it is constructed.

Each check raises ``ValueError`` whose message starts with the declaration field at fault
(``"weight: ..."``, ``"energy: ..."``, ``"params: ..."``) and says how to fix it -- before any
kernel is generated or any computation runs.

What a declaration must satisfy (beyond the types and symbols checked by
:class:`~attnflow.symbolic.models.Model` itself):

* **real expressions** -- the weight, energy and position weight are real-valued: no imaginary
  unit ``I``, no symbol declared complex or imaginary;
* **printable functions** -- expressions use only :data:`FUNCTIONS` (``exp``, ``log``, ...,
  ``Abs``, ``Max``) and powers: the functions the generated kernels evaluate;
* **the weight depends on the score** ``s`` (a constant weight is no attention), except under a
  causal normalisation, where the position weight alone may carry the attention;
* **positive softmax weights** -- a softmax normalisation divides by :math:`\sum_j w(s_{ij})`, so
  :math:`w > 0`.  Decided symbolically when SymPy can (``exp``, the logistic: positive; ``-exp``:
  refuted); otherwise *probed*: :math:`w` is evaluated at :math:`s\in\{-1,-\tfrac12,0,\tfrac12,1\}`,
  :math:`\beta\in\{\tfrac12, 2\}` and the parameters' defaults, and a negative value there (or
  :math:`w(1)\le 0`, the self pair) is an error.  A weight negative only elsewhere passes
  (documented limitation: positivity on all of :math:`[-1,1]` is not decidable in general);
* **a meaningful energy** -- a pair energy :math:`F` is the model's energy only if the field is a
  gradient flow of :math:`E=c\sum_{i,j}F(s_{ij})` up to positive factors, i.e. :math:`E` is a
  Lyapunov function of the declared field (derivations/energy.md).  That needs

  - a normalisation other than ``"causal"`` (the causal attention of token :math:`j` to
    :math:`k<j` is not reciprocated: no pair energy);
  - no perceptron term in the output and no read-out matrix (neither is a gradient of :math:`E`);
  - an output map whose attention coefficient :math:`c_A` is not known to be :math:`\le 0`
    (:math:`\dot x_i = c_A P_{x_i}A_i`, plus a multiple of :math:`x_i` on the sphere: then
    :math:`\tfrac{d}{dt}E = \sum_i c_A N_i |P_{x_i}A_i|^2`; this admits the tangent projection
    and its positive rescalings such as nGPT and the :math:`1/\sqrt{1+t}` time change, and on
    :math:`x=r\theta` the output maps acting on the directions);
  - for ``query``/``key``/``value`` matrices, an ``energy_score`` (the energy's own score
    matrix, with its ``energy_condition``): the plain score is not the field's score;

* **parameters** -- defaults are finite real numbers (within a declared lower bound), and no
  parameter takes a reserved name: the declaration symbols (``s``, ``beta``, ``t``, ``g``, ``N``,
  ``u``, ``A``, ``X``, ...) or the kernels' own symbols (``l``, ``m``, ``z``, ``n``, ...);
  Whether :math:`F' = w` actually holds is *not* decided here: a declared energy that is not a
  Lyapunov function of the field is a finding that the checks report (``model.<name>.dissipation``
  fails with a shrunk counterexample; :func:`~attnflow.symbolic.models.derive_model` refutes the
  dissipation identity), so such a declaration must be accepted;

* **energies on x = r theta** -- a :class:`~attnflow.symbolic.models.EuclideanModel` declares no
  energy: its attention acts on the directions, while an energy would be evaluated on :math:`x`.

References: derivations/energy.md (the energy and dissipation identities); arXiv 2312.10794 (SA as
a gradient flow).
"""

from __future__ import annotations

import math

import sympy as sp
from sympy.codegen.cfunctions import expm1, log1p

from attnflow.symbolic.models import _symbols as S
from attnflow.symbolic.models._params import Choice, Real

__all__ = ["check_real", "check_functions", "check_weight", "check_energy_meaning", "check_params", "probe_values",
           "FUNCTIONS"]

#: The functions a declaration's expressions may use: those the kernel printer emits
#: (:data:`attnflow.symbolic.codegen.backends.numba.printer.SUPPORTED_FUNCTIONS`; a test keeps the two
#: in step) and ``cosh``, ``sinh``, which the printer's stable forms rewrite into exponentials.
#: Powers and square roots are not functions here (``sp.Pow``).
FUNCTIONS = (sp.exp, sp.log, sp.sin, sp.cos, sp.tan, sp.tanh, sp.cosh, sp.sinh, sp.Abs, sp.Max, log1p, expm1)

#: Probe points of the numeric checks: scores (the self score of unit vectors is 1) and inverse temperatures.
PROBE_S = (-1, sp.Rational(-1, 2), 0, sp.Rational(1, 2), 1)
PROBE_BETA = (sp.Rational(1, 2), 2)


def check_real(field: str, expr: sp.Expr) -> None:
    """``field``: the expression must be real-valued (no ``I``, no complex or imaginary symbol)."""
    for sym in sorted(expr.free_symbols, key=str):
        if sym.is_real is False or (sym.assumptions0.get("complex") and not sym.is_real):
            raise ValueError(f"{field}: must be real-valued, but the symbol {sym} is declared complex or imaginary; "
                             f"declare it real (sp.Symbol({sym.name!r}, real=True)) in params")
    if expr.has(sp.I) or expr.is_extended_real is False:
        raise ValueError(f"{field}: must be real-valued, got {expr} (it contains the imaginary unit I); "
                         "write oscillations with cos/sin")


def check_functions(field: str, expr: sp.Expr) -> None:
    """``field``: only :data:`FUNCTIONS` (a kernel could not evaluate anything else)."""
    for f in sorted(expr.atoms(sp.Function, sp.Min, sp.Max), key=sp.default_sort_key):
        if not isinstance(f, FUNCTIONS):
            names = ", ".join(getattr(c, "__name__", str(c)) for c in FUNCTIONS)
            raise ValueError(f"{field}: the function {f.func.__name__} has no kernel implementation; "
                             f"write the expression with {names} and powers")


def probe_values(model) -> list[dict]:
    """Substitutions ``{symbol: value}`` at the probe points: parameters at their defaults (a
    required real parameter at 1 above its lower bound, or 1), ``t = 1/2``, ``g = 1``, ``N = 4``."""
    base = {S.t: sp.Rational(1, 2), S.g: 1, S.N: 4}
    for p in model.params:
        if isinstance(p, Real):
            value = 1.0 + (p.lo or 0.0) if p.required else p.default
            base[p.sym()] = sp.Float(value, 30)
    return [{**base, S.s: sv, S.beta: b} for b in PROBE_BETA for sv in PROBE_S]


def _value(expr: sp.Expr, at: dict) -> float | None:
    """``expr`` at ``at`` as a float, or None where it is undefined, infinite or not real."""
    v = sp.N(expr.subs(at), 30)
    if not v.is_number or v.has(sp.zoo, sp.nan, sp.oo, -sp.oo) or not v.is_extended_real:
        return None
    v = float(v)
    return v if math.isfinite(v) else None


def _where(at: dict) -> str:
    return f"s={at[S.s]}, beta={at[S.beta]}"


def check_weight(model) -> None:
    """The weight depends on ``s``; under a softmax normalisation it is positive (see the module docstring)."""
    w = model.weight
    if not w.has(S.s) and set(model.normalization_modes().values()) != {"causal"}:
        raise ValueError(f"weight: must depend on the score s, got {w}; a pair weight w(s) (e.g. exp(beta*s)) "
                         "decides how much token i attends to token j")
    if "softmax" not in model.normalization_modes().values() or w.is_positive:
        return
    if w.is_nonpositive:
        raise ValueError(f"weight: a softmax normalisation divides by sum_j w(s_ij), so the weight must be positive; "
                         f"{w} is never positive (use normalization='mean' for signed weights)")
    for at in probe_values(model):
        v = _value(w, at)
        if v is not None and (v < 0 or (at[S.s] == 1 and v <= 0)):
            raise ValueError(f"weight: a softmax normalisation divides by sum_j w(s_ij), so the weight must be "
                             f"positive; w = {v:.6g} at {_where(at)} (use normalization='mean' for signed weights)")


def check_energy_meaning(model) -> None:
    """The declared pair energy is an energy of the declared field (see the module docstring)."""
    from attnflow.symbolic.models._declaration import CircleModel
    from attnflow.symbolic.models._declaration import EuclideanModel

    F = model.energy
    if F is None:
        return
    if isinstance(model, EuclideanModel):
        raise ValueError("energy: a EuclideanModel's attention acts on the directions x_i/|x_i|, and a pair energy "
                         "would be evaluated on x itself; declare no energy")
    if set(model.normalization_modes().values()) == {"causal"}:
        raise ValueError("energy: a causal model has no pair energy (token j attends to k < j only, the "
                         "interaction is not reciprocated); declare no energy")
    if not isinstance(model, CircleModel):
        if model.perceptron is not None and model.output.has(S.H):
            raise ValueError("energy: the output map contains the perceptron term H, which is not the gradient of "
                             "a pair energy; declare no energy (or an output without H)")
        if model.readout is not None:
            raise ValueError(f"energy: the read-out matrix {model.readout!r} makes the field no gradient of a pair "
                             "energy; declare no energy")
        if any(getattr(model, f) is not None for f in ("query", "key", "value")) and model.energy_score is None:
            raise ValueError("energy: with query/key/value matrices the field's score is <Qx_i, Kx_j>, not the "
                             "energy's <x_i, x_j>; give energy_score (the matrix V of the energy's score) and an "
                             "energy_condition (e.g. Q^T K = V = V^T)")
        ca = sp.expand(model.output).coeff(S.A)
        if ca == 0 or ca.is_nonpositive:
            raise ValueError(f"energy: the output map {model.output} does not move the tokens along the attention "
                             "with a positive coefficient (c_A P_x A, c_A > 0), so the pair energy is no Lyapunov "
                             "function of the field; declare no energy")


def check_params(model) -> None:
    """Finite real defaults within their bounds; no parameter named like a declaration or kernel symbol.

    (The other variable names of the kernel templates are refused when the kernel plan is made:
    :data:`attnflow.symbolic.codegen.RESERVED_NAMES`.)
    """
    for p in model.params:
        if p.name in S.DECLARATION_SYMBOLS or p.name in S.KERNEL_SYMBOLS:
            what = ("a declaration symbol: s the score, beta, t, g, N, u and the output placeholders"
                    if p.name in S.DECLARATION_SYMBOLS else "a variable of the generated kernels")
            raise ValueError(f"params: {p.name!r} is reserved ({what}); rename the parameter")
        if isinstance(p, Real) and not p.required:
            try:
                value = float(p.default)
            except (TypeError, ValueError):
                raise ValueError(f"params: the default of {p.name!r} must be a finite real number, got {p.default!r}") \
                    from None
            if not math.isfinite(value):
                raise ValueError(f"params: the default of {p.name!r} must be a finite real number, got {value}")
            if p.lo is not None and (value < p.lo or (p.lo_strict and value == p.lo)):
                bound = ">" if p.lo_strict else ">="
                raise ValueError(f"params: the default {value} of {p.name!r} violates its bound "
                                 f"{p.name} {bound} {p.lo}")
        if isinstance(p, Choice) and not p.required and p.default not in p.choices:
            raise ValueError(f"params: the default {p.default!r} of {p.name!r} is not one of {p.choices}")
