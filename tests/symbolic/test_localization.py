"""The ``localization`` results (symbolic/localization.py): proof statuses, and the constants against
plain floating-point arithmetic (an independent evaluation of the closed forms)."""

import math

import sympy as sp

from attnflow.symbolic import localization as SL


def test_results_are_proved():
    for r in SL.results():
        assert r.status == "proved", (r.id, r.proof)


def test_constants_numerically():
    A, B = 2 * math.exp(-1.5), 0.75 * math.exp(-1 / 8)
    assert float(SL.PRINTED_CONSTANT) == round(16 / (16 + 3 * math.exp(11 / 8)), 15) or \
        abs(float(SL.PRINTED_CONSTANT) - A / (A + B / 2)) < 1e-15
    assert abs(float(SL.DERIVED_CONSTANT) - A / (A + B)) < 1e-15
    assert round(float(SL.PRINTED_CONSTANT), 4) == 0.5742
    assert abs(float(SL.DERIVED_CONSTANT) - 0.40271) < 1e-5
    u = sp.Symbol("u")
    assert abs(float(SL.splitting_limit(u).subs(u, math.sqrt(3))) - A) < 1e-15


def test_a_wrong_limit_is_refuted():
    """The check can fail: B = 3/8 e^{-1/8} (the halved in-group term) does not match -f(1/2)."""
    from attnflow.symbolic.proof import prove_equal

    f = SL.splitting_limit(sp.Rational(1, 2))
    assert prove_equal(-f, sp.Rational(3, 8) * sp.exp(-sp.Rational(1, 8)), domains={}).status == "refuted"
