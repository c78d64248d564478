"""Parameters of a model declaration: matrices with symbolic shapes, reals with bounds, choices.

A declaration lists its parameters; everything that validates user input (the Python API, the
CLI, the exported kernels' argument tables) is derived from these objects, so a parameter's name,
shape, default and admissible range are written exactly once.

Shapes are tuples of dimension names: ``"d"`` is the dimension of the state, other names (``"H"``
heads, ``"m"`` hidden units) are fixed by the first parameter that uses them; a dimension may carry
a lower bound (``dims={"H": 1}``).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

import sympy as sp

__all__ = ["Param", "Matrix", "Real", "Choice", "as_params"]


@dataclasses.dataclass(frozen=True)
class Param:
    """Base class of a declared parameter (``name`` as passed to the API, ``doc`` one line)."""

    name: str
    doc: str = ""

    @property
    def required(self) -> bool:
        return not hasattr(self, "default") or getattr(self, "default") is _REQUIRED


class _Required:
    def __repr__(self) -> str:
        return "<required>"


_REQUIRED: Any = _Required()


@dataclasses.dataclass(frozen=True)
class Matrix(Param):
    """A float64 array parameter of shape ``shape`` (dimension names, e.g. ``("d", "d")``).

    ``dims`` gives lower bounds of named dimensions (``{"H": 1}``); ``symmetric`` marks a matrix
    that the model's energy needs symmetric (checked only where the energy is used).
    """

    shape: tuple[str, ...] = ("d", "d")
    dims: Mapping[str, int] = dataclasses.field(default_factory=dict)
    default: Any = _REQUIRED

    @property
    def symbol_shape(self) -> str:
        return "(" + ", ".join(self.shape) + ("," if len(self.shape) == 1 else "") + ")"


@dataclasses.dataclass(frozen=True)
class Real(Param):
    """A real scalar with an optional lower bound (``lo``, strict if ``lo_strict``) and a default.

    ``symbol`` is the SymPy symbol the declaration's expressions use for it (a real symbol named
    ``name`` unless given).
    """

    default: Any = _REQUIRED
    lo: float | None = None
    lo_strict: bool = False
    symbol: sp.Symbol | None = None

    def sym(self) -> sp.Symbol:
        if self.symbol is not None:
            return self.symbol
        if self.lo is not None and self.lo >= 0:
            return sp.Symbol(self.name, positive=True) if self.lo_strict else sp.Symbol(self.name, nonnegative=True)
        return sp.Symbol(self.name, real=True)


@dataclasses.dataclass(frozen=True)
class Choice(Param):
    """One of ``choices`` (strings); ``default`` is one of them."""

    choices: tuple[str, ...] = ()
    default: Any = _REQUIRED


def as_params(params) -> tuple[Param, ...]:
    """Normalise a declaration's ``params``: a sequence of :class:`Param`, or a mapping
    ``{sympy.Symbol or Param: default}`` (a symbol becomes a :class:`Real` with that default)."""
    if params is None:
        return ()
    out: list[Param] = []
    if isinstance(params, Mapping):
        for key, default in params.items():
            if isinstance(key, sp.Symbol):
                if not key.is_real:
                    raise ValueError(f"params: the symbol {key} must be declared real (sp.Symbol({key.name!r}, real=True))")
                try:
                    value = float(default)
                except (TypeError, ValueError):
                    raise ValueError(f"params: the default of {key} must be a real number, got {default!r}") from None
                lo = 0.0 if key.is_nonnegative else None
                out.append(Real(key.name, default=value, lo=lo, lo_strict=bool(key.is_positive), symbol=key))
            elif isinstance(key, Param):
                out.append(dataclasses.replace(key, default=default))
            else:
                raise ValueError(f"params: keys must be SymPy symbols or Param objects, got {key!r}")
    else:
        for p in params:
            if not isinstance(p, Param):
                raise ValueError(f"params: expected Param objects (Matrix, Real, Choice), got {p!r}")
            out.append(p)
    names = [p.name for p in out]
    dup = sorted({x for x in names if names.count(x) > 1})
    if dup:
        raise ValueError(f"params: parameter {dup[0]!r} is declared twice")
    return tuple(out)
