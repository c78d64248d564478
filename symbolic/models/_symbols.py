r"""The symbols a model declaration is written in.

Pair quantities (scalars of one pair :math:`(i, j)`):

* ``s`` -- the score, :math:`\langle Qx_i, Kx_j\rangle` (:math:`\langle x_i, x_j\rangle` without
  query/key matrices; :math:`\cos(\theta_i-\theta_j)` on the circle);
* ``beta`` -- the inverse temperature;
* ``g`` and ``N`` -- the position gap :math:`j-k\ge 1` and the number of tokens (causal models);
* ``u`` -- a perceptron pre-activation :math:`(Ux_i+b)_r`;
* ``t`` -- time (time-dependent output maps).

Vector placeholders of an output map (see :class:`~attnflow.symbolic.models.SphereModel`):
``A`` the normalised attention output of token ``i`` (after the read-out matrix), ``H`` the
perceptron output, ``X`` the token :math:`x_i` itself; and their inner products ``XA`` =
:math:`\langle x_i, A_i\rangle`, ``XH``, ``AA`` = :math:`|A_i|^2`, ``HH``, ``AH``.  An output map is
an expression linear in ``A``, ``H``, ``X`` whose coefficients may use the inner products, e.g.
the tangent projection :math:`P_{x}A = A - \langle x, A\rangle x` is ``A - XA*X``.

The code generator's own symbols (``l`` the logit, ``m`` the row shift, ``z`` the row sum of
shifted weights, ``n`` the number of tokens, ``dl`` = :math:`\theta_i-\theta_j`) are listed in
:data:`KERNEL_SYMBOLS`; a declaration never needs them.
"""

from __future__ import annotations

import sympy as sp

__all__ = ["s", "beta", "t", "g", "N", "u", "A", "H", "X", "XA", "XH", "AA", "HH", "AH",
           "l", "m", "z", "n", "dl", "ti", "tj", "lam", "DECLARATION_SYMBOLS", "KERNEL_SYMBOLS", "SYMBOLS"]

s = sp.Symbol("s", real=True)
beta = sp.Symbol("beta", real=True)
t = sp.Symbol("t", real=True)
g = sp.Symbol("g", positive=True)
N = sp.Symbol("N", positive=True, integer=True)
u = sp.Symbol("u", real=True)

A = sp.Symbol("A", real=True)
H = sp.Symbol("H", real=True)
X = sp.Symbol("X", real=True)
XA = sp.Symbol("XA", real=True)
XH = sp.Symbol("XH", real=True)
AA = sp.Symbol("AA", nonnegative=True)
HH = sp.Symbol("HH", nonnegative=True)
AH = sp.Symbol("AH", real=True)

l = sp.Symbol("l", real=True)  # noqa: E741 - the logit of the current pair
m = sp.Symbol("m", real=True)
z = sp.Symbol("z", positive=True)
n = sp.Symbol("n", positive=True, integer=True)
dl = sp.Symbol("dl", real=True)
ti = sp.Symbol("ti", real=True)
tj = sp.Symbol("tj", real=True)
lam = sp.Symbol("lam", nonnegative=True)  # the ALiBi slope of the built-in causal model

#: The symbols a declaration may use, by name.
DECLARATION_SYMBOLS = {sym.name: sym for sym in (s, beta, t, g, N, u, A, H, X, XA, XH, AA, HH, AH)}
#: The code generator's own symbols, by name.
KERNEL_SYMBOLS = {sym.name: sym for sym in (l, m, z, n, dl, ti, tj)}
#: Every symbol of this module by name (the kernel templates use these names as variables).
SYMBOLS = {**DECLARATION_SYMBOLS, **KERNEL_SYMBOLS, "lam": lam}

#: Inner products of the output placeholders: symbol -> the two vectors.
INNER_PRODUCTS = {XA: (X, A), XH: (X, H), AA: (A, A), HH: (H, H), AH: (A, H)}
