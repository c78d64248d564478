"""The index-free vector algebra, checked against concrete NumPy vectors and matrices."""

import numpy as np
import pytest
import sympy as sp

from attnflow.symbolic.vectors import Space


def _realise(S, expr, vecs, mats):
    sub = S.substitution(vecs, mats)
    return float(expr.xreplace(sub))


def test_bilinear_expansion_matches_numpy():
    rng = np.random.default_rng(0)
    S = Space()
    x, y, z = S.vectors(["x", "y", "z"])
    A = S.linear_map("A")
    V = S.linear_map("V", symmetric=True)
    c = sp.Symbol("c")
    u = 2 * x - c * A(y) + V(A(z))
    w = A.T(x) + 3 * V(y) - z / 5
    expr = u.dot(w)
    X, Y, Zv = (rng.standard_normal(4) for _ in range(3))
    Am = rng.standard_normal((4, 4))
    B = rng.standard_normal((4, 4))
    Vm = B + B.T
    cv = 0.7
    un = 2 * X - cv * Am @ Y + Vm @ Am @ Zv
    wn = Am.T @ X + 3 * Vm @ Y - Zv / 5
    got = _realise(S, expr.subs(c, cv), {"x": X, "y": Y, "z": Zv}, {"A": Am, "V": Vm})
    assert got == pytest.approx(un @ wn, rel=1e-12)


def test_adjoint_and_symmetric_canonical_forms():
    S = Space()
    x, y = S.vectors(["x", "y"])
    A = S.linear_map("A")
    V = S.linear_map("V", symmetric=True)
    assert sp.expand(V(x).dot(y) - x.dot(V(y))) == 0
    assert sp.expand(A(x).dot(y) - x.dot(A.T(y))) == 0
    assert sp.expand(A(x).dot(y) - x.dot(A(y))) != 0  # a general map is not self-adjoint


def test_constraints_and_tangent_projection():
    S = Space()
    x = S.vector("x", unit=True)
    f = S.vector("f")
    p = S.tangent(x, f)
    assert sp.expand(p.dot(x)) == 0
    assert sp.expand(p.dot(f) - p.norm2()) == 0
    # without the unit constraint the identity fails
    T = Space()
    y, g = T.vectors(["y", "g"])
    q = T.tangent(y, g)
    assert sp.expand(q.dot(g) - q.norm2()) != 0


def test_substitution_checks_constraints():
    S = Space()
    x = S.vector("x", unit=True)
    y = S.vector("y")
    _ = x.dot(y)
    S.substitution({"x": [1, 0], "y": [2, 3]})
    with pytest.raises(ValueError, match="constraint"):
        S.substitution({"x": [1, 1], "y": [2, 3]})
    with pytest.raises(ValueError, match="vectors"):
        S.substitution({"x": [1, 0]})


def test_bad_input():
    S = Space()
    x = S.vector("x")
    with pytest.raises(ValueError, match="name"):
        S.vector("x")
    with pytest.raises(ValueError, match="name"):
        S.vector("")
    with pytest.raises(ValueError, match="other"):
        x.dot(Space().vector("y"))
    with pytest.raises(ValueError, match="scalar"):
        x * x
    with pytest.raises(ValueError, match="u"):
        S.relate(2 * x, x, 1)
