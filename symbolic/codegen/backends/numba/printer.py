"""The numba code printer: SymPy scalar expressions -> Python source valid inside ``@njit`` code.

numba compiles a subset of Python in which the scalar math functions are those of the standard
``math`` module, so the printer is SymPy's :class:`~sympy.printing.pycode.PythonCodePrinter`
(fully qualified ``math.exp`` etc.) with fixed settings and a few guarantees of its own:
every floating constant is printed with ``repr`` precision, rationals as float literals (no integer
division surprises), integer powers as repeated products for small exponents, and any function
outside :data:`SUPPORTED_FUNCTIONS` is rejected (rather than silently printed as a call numba
cannot compile).  Printing is deterministic: SymPy's canonical argument order, no hashing.

:func:`numba_code` and :func:`numpy_code` print the *stable form* of an expression
(:func:`.stable.stable_form`): softplus, log-sum-exp, ``log1p``, ``expm1`` and the logistic written
so that no intermediate overflows (``log(1 + exp(x))`` prints as
``max(0.0, x) + math.log1p(math.exp(-abs(x)))``); the generator applies the same rewrite before
common-subexpression elimination, so shared subexpressions of the stable form are computed once.

:func:`numpy_inplace_code` prints the same pair expressions for the blocked BLAS path of the
kernels, where a pair quantity is a whole ``rows x n`` block: the expression becomes a sequence
of NumPy ufunc calls that update one buffer in place (``np.multiply(g, beta, out=g)``,
``np.exp(g, out=g)``), so evaluating it allocates no ``rows x n`` temporaries.
"""

from __future__ import annotations

import sympy as sp
from sympy.printing.pycode import PythonCodePrinter

from attnflow.symbolic.codegen.backends.numba.stable import expm1, log1p, stable_form

__all__ = ["NumbaPrinter", "NumpyArrayPrinter", "VexpPrinter", "numba_code", "numpy_code", "numpy_inplace_code", "vexp_code",
           "SUPPORTED_FUNCTIONS"]

#: SymPy function classes the printer may emit (``math.<name>`` in numba; ``Abs`` and ``Max`` print
#: as the builtins ``abs`` and ``max``, which numba compiles for floats; ``log1p`` and ``expm1`` are
#: those of ``sympy.codegen.cfunctions``, emitted by the stable forms).
SUPPORTED_FUNCTIONS = (sp.exp, sp.log, sp.sin, sp.cos, sp.tan, sp.tanh, sp.Abs, sp.Max, log1p, expm1)  # sqrt: a Pow


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
        # Min / Max are not sp.Function subclasses: collect them explicitly so that Min is rejected too
        for f in expr.atoms(sp.Function, sp.Min, sp.Max):
            if not isinstance(f, SUPPORTED_FUNCTIONS):
                raise TypeError(f"numba printer: unsupported function {f.func}")
        return self.doprint(expr)


def numba_code(expr) -> str:
    """Print the stable form of one scalar expression for a numba kernel (see :class:`NumbaPrinter`)."""
    return NumbaPrinter().doprint_checked(stable_form(expr))


def numpy_inplace_code(expr, streamed, target: str) -> list[str]:
    """Statements that overwrite the NumPy array ``target`` with ``expr``, elementwise and in place.

    ``target`` holds the values of the symbol ``streamed`` on entry.  The path from the root of
    ``expr`` to ``streamed`` must be a chain of sums, products and one-argument
    :data:`SUPPORTED_FUNCTIONS`, each node having exactly one argument that contains ``streamed``;
    the other arguments (scalars such as ``beta``, or row quantities such as ``m`` broadcast as
    ``(rows, 1)`` arrays) must be function-free and are printed by :class:`NumbaPrinter`.  A sum
    term ``-u`` is printed as ``np.subtract(target, u, out=target)``, which rounds exactly like
    ``target - u``.  Example: ``exp(l - m)`` with ``streamed = l`` gives
    ``["np.subtract(g, m, out=g)", "np.exp(g, out=g)"]``.

    Raises
    ------
    TypeError
        If ``expr`` does not contain ``streamed``, branches on it, or uses another function.
    """
    expr = sp.sympify(expr)
    printer = NumbaPrinter()
    if not expr.has(streamed):
        raise TypeError(f"in-place printer: {expr} does not contain {streamed}")

    def rest_code(e) -> str:
        if e.atoms(sp.Function, sp.Min, sp.Max):
            raise TypeError(f"in-place printer: the operand {e} must be function-free")
        return printer.doprint(e)

    def emit(e) -> list[str]:
        if e == streamed:
            return []
        if e.is_Add or e.is_Mul:
            inner = [a for a in e.args if a.has(streamed)]
            if len(inner) != 1:
                raise TypeError(f"in-place printer: {e} uses {streamed} in more than one term")
            others = [a for a in e.args if not a.has(streamed)]
            out = emit(inner[0])
            if e.is_Add:
                for a in others:
                    if a.is_Mul and a.args[0] == -1:
                        out.append(f"np.subtract({target}, {rest_code(-a)}, out={target})")
                    else:
                        out.append(f"np.add({target}, {rest_code(a)}, out={target})")
            else:
                out.append(f"np.multiply({target}, {rest_code(sp.Mul(*others))}, out={target})")
            return out
        if isinstance(e, SUPPORTED_FUNCTIONS) and len(e.args) == 1 and not isinstance(e, sp.Abs):
            return emit(e.args[0]) + [f"np.{e.func.__name__}({target}, out={target})"]
        if isinstance(e, sp.Abs):
            return emit(e.args[0]) + [f"np.absolute({target}, out={target})"]
        raise TypeError(f"in-place printer: cannot evaluate {e} in place")

    return emit(expr)


class NumpyArrayPrinter(NumbaPrinter):
    """Print scalar SymPy expressions for NumPy arrays (``np.exp`` etc.; ``Max`` as ``np.maximum``).

    Used for the per-row quantities of the blocked BLAS path, where a row quantity is an array of
    shape ``(rows, 1)``.
    """

    printmethod = "_numpyarraycode"

    def _module_format(self, fqn, register=True):
        if fqn.startswith("math."):
            return "np." + fqn[len("math."):]
        return super()._module_format(fqn, register)

    def _print_Max(self, expr):
        args = [self._print(a) for a in expr.args]
        out = args[0]
        for a in args[1:]:
            out = f"np.maximum({out}, {a})"
        return out

    def _print_Abs(self, expr):
        return f"np.absolute({self._print(expr.args[0])})"


def numpy_code(expr) -> str:
    """Print the stable form of an expression of row quantities for NumPy arrays (see :class:`NumpyArrayPrinter`)."""
    return NumpyArrayPrinter().doprint_checked(stable_form(expr))


class VexpPrinter(NumbaPrinter):
    """:class:`NumbaPrinter` with ``exp`` printed as the module's vectorisable ``_vexp`` (the fast
    path's weights pass; ``templates/blocks/vexp.tmpl``), every other function as ``math.<name>``."""

    printmethod = "_vexpcode"

    def _print_exp(self, expr):
        return f"_vexp({self._print(expr.args[0])})"


def vexp_code(expr) -> str:
    """Print the stable form of one scalar expression with ``exp`` as ``_vexp`` (see :class:`VexpPrinter`)."""
    return VexpPrinter().doprint_checked(stable_form(expr))
