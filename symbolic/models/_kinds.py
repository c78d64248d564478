"""Families of declarations that parts of attnflow implement a theory for.

:func:`self_attention_kind` recognises plain self-attention on the sphere (SA and USA, and any
declaration of the same form) by its declaration, so that code written for that theory (the
equiangular reduction, clustering rates, mean-field and noise limits) asks the declaration rather
than comparing model names.
"""

from __future__ import annotations

import math

import sympy as sp

from attnflow.symbolic.models._declaration import SphereModel
from attnflow.symbolic.models._registry import get
from attnflow.symbolic.models._symbols import A, X, XA, s
from attnflow.symbolic.models._symbols import beta as _beta

__all__ = ["self_attention_kind", "time_scale"]


def self_attention_kind(model, name: str = "model") -> str:
    r"""``"softmax"`` or ``"mean"``: the normalisation of a plain self-attention model on the sphere.

    Plain self-attention is score :math:`\langle x_i, x_j\rangle`, weight :math:`e^{\beta s}`,
    value :math:`x_j` and the tangent projection as output: SA (softmax) and USA (mean), whose
    theory (clustering rates, equiangular ODEs, noise and mean-field limits) several parts of
    attnflow implement.  Any declaration of that form is accepted; ``ValueError`` naming the
    argument ``name`` otherwise.
    """
    try:
        spec = get(model)
    except ValueError as exc:
        raise ValueError(f"{name}: {str(exc).split(': ', 1)[-1]}") from None
    hit = _KIND.get(id(spec))
    if hit is not None and hit[0] is spec:
        kind = hit[1]
    else:
        kind = _kind(spec)
        _KIND[id(spec)] = (spec, kind)
    if kind is None:
        raise ValueError(f"{name}: expected a plain self-attention model (weight e^(beta s), softmax or mean "
                         f"normalisation: 'sa' or 'usa'), got {spec.name!r}")
    return kind


_KIND: dict = {}


def _kind(spec):
    plain = (type(spec) is SphereModel and not spec.keyed and spec.heads is None
             and isinstance(spec.normalization, str) and spec.normalization in ("softmax", "mean")
             and sp.simplify(spec.weight - sp.exp(_beta * s)) == 0 and sp.expand(spec.output - (A - XA * X)) == 0)
    return spec.normalization if plain else None


def time_scale(model, beta: float) -> float:
    r"""The speed of a plain self-attention model relative to SA: 1 (softmax) or :math:`e^{\beta}` (mean).

    Near a cluster the USA weights are :math:`e^{\beta\langle x_i,x_j\rangle}/n \approx e^{\beta}/n`
    each, so USA runs :math:`e^{\beta}` times faster than SA (arXiv 2512.01868).
    """
    return 1.0 if self_attention_kind(model) == "softmax" else math.exp(beta)
