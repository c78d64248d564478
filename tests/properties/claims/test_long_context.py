"""The ``long_context.*`` claims (properties/claims/long_context.py and its helpers in
``claims/_long_context.py``): each under the ``ci`` profile, plus independent checks of their pieces.

Independent routes: the beta = 0 and beta -> infinity values, an explicit softmax layer on an equiangular
configuration, the SymPy expression against the float formula, and a wrong limit that must be caught.
"""

import numpy as np
import pytest

from attnflow.properties.claims import _long_context, long_context
from attnflow.properties.claims.long_context import finite_n_overlap
from attnflow.properties.registry import Violation


CLAIMS = ["long_context.finite_n", "long_context.limits"]


@pytest.mark.parametrize("claim_id", CLAIMS)
def test_claim_meets_its_expectation_under_ci(claim_id, run_claim_ok):
    c, r = run_claim_ok(claim_id, "ci", 20260101)
    assert r.examples >= c.max_examples("ci")
    assert r.measurement is not None and r.measurement["n"] >= 1


def test_finite_n_limits_of_the_formula():
    assert long_context.finite_n_overlap(7, 0.3, 0.0) == pytest.approx(1.0, abs=1e-15)  # beta = 0: equal outputs
    assert long_context.finite_n_overlap(7, 0.3, 300.0) == pytest.approx(0.3, abs=1e-12)  # beta -> inf: identity


def test_explicit_layer_is_equiangular_and_matches():
    g = long_context.explicit_overlaps(9, 0.4, 2.5, 11, seed=4)
    off = g[~np.eye(9, dtype=bool)]
    assert np.ptp(off) < 1e-13
    assert off[0] == pytest.approx(long_context.finite_n_overlap(9, 0.4, 2.5), abs=1e-13)


def test_overlap_expression_matches_the_float_formula():
    import sympy as sp

    n, beta, rho = sp.symbols("n beta rho", positive=True)
    expr = _long_context.overlap_expression(n, beta, rho)
    for nv, bv, rv in [(5, 1.3, 0.4), (40, 6.0, 0.2), (2, 0.1, 0.9)]:
        val = float(expr.subs({n: nv, beta: bv, rho: rv}))
        assert val == pytest.approx(finite_n_overlap(nv, rv, bv), rel=1e-13)


def test_stated_limit_values():
    import sympy as sp

    rho = sp.Rational(1, 3)
    assert long_context.stated_limit(sp.Rational(1, 2) / (1 - rho), rho) == 1
    assert long_context.stated_limit(1 / (1 - rho), rho) == sp.Rational(2, 3)  # 4 rho/(1 + 3 rho)
    assert long_context.stated_limit(2 / (1 - rho), rho) == rho


def test_limits_check_catches_a_wrong_limit(monkeypatch):
    import sympy as sp

    ex = {"rho": (1, 3), "kappa_below": (1, 2), "kappa_above": (3, 2)}
    long_context.limits.check(ex)
    real = long_context.stated_limit

    def wrong(gamma, rho):
        k = sp.nsimplify(gamma) * (1 - rho)
        return 4 * rho / (1 + 2 * rho) if k == 1 else real(gamma, rho)

    monkeypatch.setattr(long_context, "stated_limit", wrong)
    with pytest.raises(Violation):
        long_context.limits.check(ex)
