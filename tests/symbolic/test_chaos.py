"""The ``chaos`` results (symbolic/chaos.py): proof statuses and the expected corner distance against a
Monte Carlo estimate (NumPy; an independent route)."""

import numpy as np

from attnflow.symbolic import chaos as SC


def test_statuses():
    r = SC.results()
    assert r[0].status == "proved-for-sizes", r[0].proof
    assert r[1].status == "proved", r[1].proof


def test_a_wrong_exponent_is_not_proved():
    """The check can fail: with n^{2/d} in place of n^{1/d} the logarithm's expansion diverges (a log n term)."""
    import sympy as sp

    a, h, m = sp.Symbol("a", positive=True), sp.Symbol("h", positive=True), sp.Symbol("m", positive=True)
    e = 2 * a * sp.log(m) + sp.loggamma(m + 1) - sp.loggamma(m + 1 + a)
    leading = sp.series(e.subs(m, 1 / h), h, 0, 1).removeO()
    assert leading.has(sp.log(h))


def test_expected_corner_distance_against_monte_carlo():
    rng = np.random.default_rng(0)
    for d, n in ((2, 50), (4, 200)):
        x = rng.uniform(0.5, 1.0, size=(4000, n, d))
        r = np.min(np.max(1.0 - x, axis=2), axis=1)
        exact = float(SC.expected_corner_distance(n, d))
        assert abs(r.mean() - exact) < 4 * r.std() / np.sqrt(r.size)
