"""The numba code printer: SymPy scalar expressions -> Python source valid inside ``@njit`` code.

numba compiles a subset of Python in which the scalar math functions are those of the standard
``math`` module, so the printer is SymPy's :class:`~sympy.printing.pycode.PythonCodePrinter`
(fully qualified ``math.exp`` etc.) with fixed settings and a few guarantees of its own:
every floating constant is printed with ``repr`` precision, rationals as float literals (no integer
division surprises), integer powers as repeated products for small exponents, and any function
outside :data:`SUPPORTED_FUNCTIONS` is rejected (rather than silently printed as a call numba
cannot compile).  Printing is deterministic: SymPy's canonical argument order, no hashing.
"""

from __future__ import annotations

import sympy as sp
from sympy.printing.pycode import PythonCodePrinter

__all__ = ["NumbaPrinter", "numba_code", "SUPPORTED_FUNCTIONS"]

#: SymPy function classes the printer may emit (all map to ``math.<name>`` in numba).
SUPPORTED_FUNCTIONS = (sp.exp, sp.log, sp.sin, sp.cos, sp.tan, sp.tanh, sp.Abs)  # sqrt is a Pow


class NumbaPrinter(PythonCodePrinter):
    """Print scalar SymPy expressions as numba-compatible Python (``math`` module calls)."""

    printmethod = "_numbacode"
    language = "Python (numba)"

    def __init__(self, settings=None):
        base = {"fully_qualified_modules": True, "standard": "python3", "inline": True}
        base.update(settings or {})
        super().__init__(base)

    def _print_Rational(self, expr):
        return repr(float(expr.p) / float(expr.q)) if expr.q != 1 else repr(float(expr.p))

    def _print_Integer(self, expr):
        return repr(float(int(expr)))

    def _print_Float(self, expr):
        return repr(float(expr))

    def _print_Pow(self, expr, rational=False):
        b, e = expr.as_base_exp()
        if e.is_Integer and 2 <= int(e) <= 4:
            return "*".join([self._atom(b)] * int(e))
        if e == -1:
            return f"1.0/{self._atom(b)}"
        return super()._print_Pow(expr, rational=rational)

    def _atom(self, b) -> str:
        text = self._print(b)
        return text if (b.is_Symbol or b.is_Function) else f"({text})"

    def _print_Function(self, expr):
        raise TypeError(f"numba printer: unsupported function {expr.func.__name__}")

    def doprint_checked(self, expr) -> str:
        """Print ``expr`` after checking it only uses :data:`SUPPORTED_FUNCTIONS`."""
        for f in expr.atoms(sp.Function):
            if not isinstance(f, SUPPORTED_FUNCTIONS):
                raise TypeError(f"numba printer: unsupported function {f.func}")
        return self.doprint(expr)


def numba_code(expr) -> str:
    """Print one scalar expression for a numba kernel (see :class:`NumbaPrinter`)."""
    return NumbaPrinter().doprint_checked(sp.sympify(expr))
