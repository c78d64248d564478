r"""Stable forms: SymPy rewrites applied to every expression before it is printed for a kernel.

A declaration is written the way a paper writes it -- the sigmoid weight :math:`1/(1+e^{-x})`, the
softplus energy :math:`\log(1+e^{x})/\beta` -- and printed literally such an expression overflows
for large :math:`|x|` (``math.exp(800)`` is ``inf`` under ``error_model="numpy"``, and
``log(inf) / beta`` or ``inf * 0`` follow).  :func:`stable_form` rewrites, bottom-up, the
patterns below into algebraically identical expressions that never form an overflowing
intermediate, using only functions the printer emits (``Max``, ``Abs``, ``exp``, ``log1p``,
``expm1``):

==========================================  ===============================================================
pattern                                     stable form
==========================================  ===============================================================
:math:`\log(1+e^{a})` (any term order)      softplus: :math:`\max(a,0)+\operatorname{log1p}(e^{-|a|})`
:math:`\log(e^{a}+e^{b})`                   :math:`\max(a,b)+\operatorname{log1p}(e^{-|a-b|})`
:math:`\log(\sum_k c_k e^{a_k})`            pairwise log-sum-exp (positive constants
                                            :math:`c_k` enter as :math:`a_k+\log c_k`)
:math:`\log(1+u)`                           :math:`\operatorname{log1p}(u)`
:math:`c\,e^{a}-c`                          :math:`c\,\operatorname{expm1}(a)`
:math:`(e^{a}+e^{b})^{-1}`, e.g. the        :math:`e^{-\max(a,b)}/(1+e^{-|a-b|})` (the logistic
logistic :math:`1/(1+e^{-x})`               :math:`\sigma(x)=e^{-\max(-x,0)}/(1+e^{-|x|})`)
:math:`(\sum_k c_k e^{a_k})^{p}`, other     :math:`e^{p\,\mathrm{LSE}(a_k+\log c_k)}`
:math:`p<0` or non-integer :math:`p`
:math:`e^{a}e^{b}` (factors of a product)   :math:`e^{a+b}` (so :math:`e^{x}\sigma(-x)` never
                                            forms :math:`\infty\cdot 0`)
:math:`R+c\log\sum_k e^{a_k}`               :math:`c\log\sum_k e^{a_k+R/c}` when the exponents
                                            simplify (``x + log(1 + exp(-x))`` is the softplus
                                            of ``x``, without cancellation)
:math:`\cosh a`, :math:`\sinh a`            :math:`(e^{a}\pm e^{-a})/2`, then the rules above
==========================================  ===============================================================

A rewrite is skipped where it cannot matter: a sum whose exponents are all known to be
non-positive (``1 + exp(-Abs(x))``) cannot overflow and is kept, which also makes
:func:`stable_form` idempotent (``stable_form(stable_form(e)) == stable_form(e)``) -- the
generator applies it before common-subexpression elimination and the printer again to each
eliminated expression.  A log-sum-exp is accurate to a few ulps of its largest term: where
the result cancels to nearly 0 (``log(cosh(x))`` at small ``x``) the accuracy is absolute, not
relative.  Every rewrite is an identity for real arguments; the tests compare the
generated kernels with the declaration's own expression evaluated by mpmath at high precision.

References: P. Blanchard, D. J. Higham, N. J. Higham, "Accurately computing the log-sum-exp and
softmax functions", IMA J. Numer. Anal. 41 (2021) 2311-2330 (the shifted log-sum-exp and softplus);
N. J. Higham, *Accuracy and Stability of Numerical Algorithms*, 2nd ed., SIAM 2002 (log1p, expm1);
the sigmoid weight and softplus energy of arXiv 2409.04431 motivate the logistic and softplus rows.
"""

from __future__ import annotations

import sympy as sp
from sympy.codegen.cfunctions import expm1, log1p

__all__ = ["stable_form", "softplus", "logaddexp", "log1p", "expm1"]


def softplus(a: sp.Expr) -> sp.Expr:
    r""":math:`\log(1+e^{a})` as :math:`\max(a,0)+\operatorname{log1p}(e^{-|a|})` (no overflow)."""
    return logaddexp(a, sp.Integer(0))


def logaddexp(a: sp.Expr, b: sp.Expr) -> sp.Expr:
    r""":math:`\log(e^{a}+e^{b})` as :math:`\max(a,b)+\operatorname{log1p}(e^{-|a-b|})`."""
    if (a - b).is_nonpositive:
        return b + log1p(sp.exp(a - b))
    if (b - a).is_nonpositive:
        return a + log1p(sp.exp(b - a))
    return sp.Max(a, b) + log1p(sp.exp(-sp.Abs(a - b)))


def _exponent(term: sp.Expr) -> sp.Expr | None:
    r"""``a`` with ``term`` = :math:`e^{a}` (a positive constant ``c`` counts as :math:`e^{\log c}`,
    ``c e^{a}`` as :math:`e^{a+\log c}`), or None."""
    if isinstance(term, sp.exp):
        return term.args[0]
    if term.is_positive and not term.has(sp.exp):
        return sp.log(term)
    if term.is_Mul:
        exps = [f for f in term.args if isinstance(f, sp.exp)]
        rest = sp.Mul(*[f for f in term.args if not isinstance(f, sp.exp)])
        if len(exps) == 1 and rest.is_positive and not rest.has(sp.exp):
            return exps[0].args[0] + sp.log(rest)
    return None


def _exponents(total: sp.Expr) -> list[sp.Expr] | None:
    """The exponents of a sum of exponentials that may overflow (None otherwise)."""
    terms = sp.Add.make_args(total)
    if len(terms) < 2 or not any(t.has(sp.exp) for t in terms):
        return None
    exps = [_exponent(t) for t in terms]
    if any(e is None for e in exps):
        return None
    if all(e.is_nonpositive for e in exps):  # bounded by the number of terms: nothing can overflow
        return None
    return exps


def _lse(exps: list[sp.Expr]) -> sp.Expr:
    """Pairwise log-sum-exp of ``exps`` (each step :func:`logaddexp`), in SymPy's canonical order."""
    exps = sorted(exps, key=sp.default_sort_key)
    out = exps[0]
    for e in exps[1:]:
        out = logaddexp(out, e)
    return out


def _log(node: sp.log) -> sp.Expr:
    arg = node.args[0]
    if not arg.is_Add:
        return node
    exps = _exponents(arg)
    if exps is not None:
        return _lse(exps)
    if sp.S.One in arg.args:
        return log1p(arg - 1)
    return node


def _absorb(node: sp.Add) -> sp.Expr:
    r""":math:`R + c\log\sum_k e^{a_k}` as :math:`c\log\sum_k e^{a_k + R/c}` when that cancels terms.

    ``x + log(1 + exp(-x))`` is the softplus of ``x``; evaluated as written it loses everything to
    cancellation for ``x < -37`` (``700 + log1p(e^-700) - 700 = 0``).  Moving ``R`` into the
    exponents lets SymPy cancel it exactly (``[x, 0]``), which the log-sum-exp then evaluates
    without cancellation.  Done only when the exponents get simpler (``sympy.count_ops``).
    """
    logs = []
    for term in node.args:
        c, f = term.as_independent(sp.log, as_Add=False)
        if isinstance(f, sp.log) and f.args[0].is_Add and _exponents(f.args[0]) is not None:
            logs.append((term, c, _exponents(f.args[0])))
    if len(logs) != 1:
        return node
    term, c, exps = logs[0]
    rest = (node - term) / c
    moved = [a + rest for a in exps]
    if sp.count_ops(moved) >= sp.count_ops(exps) + sp.count_ops(rest):
        return node
    return c * sp.log(sp.Add(*[sp.exp(a) for a in moved]))


def _pow(node: sp.Pow) -> sp.Expr:
    base, p = node.args
    if not (base.is_Add and p.is_Number and (p.is_negative or not p.is_Integer)):
        return node
    exps = _exponents(base)
    if exps is None:
        return node
    if p == -1 and len(exps) == 2:
        a, b = sorted(exps, key=sp.default_sort_key)
        return sp.exp(-sp.Max(a, b)) / (1 + sp.exp(-sp.Abs(a - b)))
    return sp.exp(p * _lse(exps))


def _add(node: sp.Add) -> sp.Expr:
    const = sum((t for t in node.args if t.is_Number), sp.Integer(0))
    if const == 0:
        return node
    for t in node.args:
        factors = sp.Mul.make_args(t)
        exps = [f for f in factors if isinstance(f, sp.exp)]
        c = sp.Mul(*[f for f in factors if not isinstance(f, sp.exp)])
        if len(exps) == 1 and c.is_Number and c == -const:
            return node - t - const + c * expm1(exps[0].args[0])
    return node


def _mul(node: sp.Mul) -> sp.Expr:
    exps = [f for f in node.args if isinstance(f, sp.exp)]
    if len(exps) < 2:
        return node
    rest = [f for f in node.args if not isinstance(f, sp.exp)]
    return sp.Mul(*rest, sp.exp(sp.Add(*[f.args[0] for f in exps])))


def _hyperbolic(node: sp.Expr) -> sp.Expr:
    """``cosh`` and ``sinh`` as exponentials, so that the rules above apply to them (``log(cosh(x))``
    becomes a log-sum-exp)."""
    return stable_form(node.rewrite(sp.exp))


_RULES = {sp.log: _log, sp.Pow: _pow, sp.Add: _add, sp.Mul: _mul, sp.cosh: _hyperbolic, sp.sinh: _hyperbolic}


def stable_form(expr) -> sp.Expr:
    """``expr`` with the overflow-prone patterns of the module docstring rewritten (bottom-up)."""
    expr = sp.sympify(expr)
    if expr.is_Atom or not isinstance(expr, sp.Expr):
        return expr
    if expr.is_Add:
        expr = _absorb(expr)
    args = tuple(stable_form(a) for a in expr.args)
    node = expr.func(*args) if args != expr.args else expr
    rule = _RULES.get(type(node))
    return rule(node) if rule is not None else node
