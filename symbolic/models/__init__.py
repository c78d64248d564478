r"""Model declarations: the single symbolic source of every particle model (``attnflow.symbolic.models``).

A model is one declaration (:class:`SphereModel`, :class:`CircleModel`, :class:`EuclideanModel`):
its score, pair weight, normalisation, value map, output map, parameters, pair energy and source.
The built-in models live in :mod:`attnflow.symbolic.models.builtin`, one module per family; a
user's own are registered with :func:`register` or loaded from their file with :func:`load`
(public API: :mod:`attnflow.models`).

Derived from each declaration
-----------------------------
:func:`kernel_expressions`
    the per-pair and per-row scalar expressions the generated kernel evaluates
    (:data:`KERNEL_EXPRESSIONS` for every registered model and normalisation);
:func:`velocity_matrix`, :func:`energy_expr`
    the small-``n`` field and energy as explicit SymPy sums (the mpmath oracle of the tests);
:meth:`Model.gradient_flow_proof`
    the proof of :math:`F' = w`;
:func:`derive_model`, :func:`model_document`
    the field, energy and dissipation identity of any declaration with an honest proof status
    (``proved`` for general n, d where the argument closes), and its Markdown document.

Proofs tying declarations to the equations: :func:`circle_derivation_checks`,
:func:`normalisation_checks`.

References
----------
arXiv 2312.10794 (SA, energy), 2512.01868 (USA, survey), 2605.09213 (causal ALiBi), 2510.22026
(normalisation), 2605.04279 (multi-head), 2411.04551 (attention + perceptron); derivations/energy.md.
"""

from __future__ import annotations

from collections.abc import Mapping

from attnflow.symbolic.models import builtin as builtin
from attnflow.symbolic.models._checks import circle_derivation_checks, normalisation_checks
from attnflow.symbolic.models._declaration import (
    NORMALIZATIONS,
    TANGENT,
    CircleModel,
    EuclideanModel,
    Model,
    Perceptron,
    SphereModel,
    exp_form,
)
from attnflow.symbolic.models._derive import SIZES as DERIVE_SIZES
from attnflow.symbolic.models._derive import DeriveConfig, derive_model, model_document
from attnflow.symbolic.models._kinds import self_attention_kind, time_scale
from attnflow.symbolic.models._oracle import angle_symbols, energy_expr, matrix_symbols, point_symbols, velocity_matrix
from attnflow.symbolic.models._pairs import (
    circle_inner_product,
    circle_tangent_component,
    kernel_expressions,
    kernel_variants,
    output_coefficients,
)
from attnflow.symbolic.models._params import Choice, Matrix, Param, Real
from attnflow.symbolic.models._registry import BUILTIN, MODELS, get, load, names, origin, register, unregister
from attnflow.symbolic.models._symbols import (
    AA,
    AH,
    HH,
    SYMBOLS,
    XA,
    XH,
    A,
    H,
    N,
    X,
    beta,
    dl,
    g,
    l,
    lam,
    m,
    n,
    s,
    t,
    ti,
    tj,
    u,
    z,
)

__all__ = [
    # declarations
    "Model", "SphereModel", "CircleModel", "EuclideanModel", "Perceptron", "TANGENT", "NORMALIZATIONS",
    "Param", "Matrix", "Real", "Choice", "exp_form",
    # symbols
    "s", "beta", "t", "g", "N", "u", "A", "H", "X", "XA", "XH", "AA", "HH", "AH",
    "l", "m", "z", "n", "dl", "ti", "tj", "lam", "SYMBOLS",
    # registry
    "register", "unregister", "get", "names", "load", "origin", "MODELS", "BUILTIN",
    # derived
    "kernel_expressions", "kernel_variants", "output_coefficients", "kernel_source_expr", "KERNEL_EXPRESSIONS",
    "velocity_matrix", "energy_expr", "point_symbols", "angle_symbols", "matrix_symbols",
    "circle_inner_product", "circle_tangent_component",
    "circle_derivation_checks", "normalisation_checks", "self_attention_kind", "time_scale",
    # derivation of a declared model
    "derive_model", "model_document", "DeriveConfig", "DERIVE_SIZES",
]


def kernel_source_expr(kernel: str):
    """The expressions of one kernel (a key of :data:`KERNEL_EXPRESSIONS`) as a SymPy tuple of ``Eq``."""
    import sympy as sp

    exprs = KERNEL_EXPRESSIONS[kernel]
    return sp.Tuple(*(sp.Eq(sp.Symbol(k, real=True), v, evaluate=False) for k, v in exprs.items()))


class _KernelExpressions(Mapping):
    """``{kernel name: {variable: expression}}`` for the registered models, computed when read."""

    def __init__(self):
        self._cache: dict = {}

    def _table(self) -> dict:
        table = {}
        for model in [*MODELS.values(), *builtin.AUXILIARY]:
            for kname, mode in kernel_variants(model).items():
                key = (id(model), kname)
                if key not in self._cache:
                    self._cache[key] = (model, kernel_expressions(model, mode))
                table[kname] = self._cache[key][1]
        return table

    def __getitem__(self, key):
        return self._table()[key]

    def __iter__(self):
        return iter(self._table())

    def __len__(self):
        return len(self._table())


#: ``{kernel name: {variable: SymPy expression}}``: what each generated kernel evaluates.
KERNEL_EXPRESSIONS = _KernelExpressions()
