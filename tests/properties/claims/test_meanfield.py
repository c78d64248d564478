"""The ``meanfield.clustering_rate`` claim (properties/claims/meanfield.py; the experiment in
``claims/_experiments.py``): outcome and fitted rate under the ``quick`` profile.
"""

import pytest

from attnflow.properties import registry


EXPECTED = {
    "meanfield.clustering_rate": "holds",
}


@pytest.mark.parametrize("claim_id", sorted(EXPECTED))
def test_claim_outcome_matches_expectation(claim_id, run_claim_ok):
    assert registry.get_claim(claim_id).expect == EXPECTED[claim_id]
    run_claim_ok(claim_id, "quick", 20260101)


def test_rate_claim_reports_fit_and_theory():
    for cid, theory in [("meanfield.clustering_rate", 0.01)]:
        r = registry.run_claim(registry.get_claim(cid), profile="quick", seed=1)
        assert r.fitted is not None and r.fitted["theory_min"] == theory
        assert "CI low" in r.measurement and "CI high" in r.measurement
        assert r.measurement["CI low"]["min"] <= r.fitted["min"] <= r.measurement["CI high"]["max"]


# ---------------------------------------------------------------- necessity (arXiv 2504.14697)
NECESSITY = {
    "meanfield.necessity.density_stationary": "holds",
    "meanfield.necessity.density_conclusion": "fails",
    "meanfield.necessity.beta_bound": "fails",
    "meanfield.necessity.beta_bound_limit": "holds",
}


@pytest.mark.parametrize("claim_id", sorted(NECESSITY))
def test_necessity_claims_match_expectation(claim_id, run_claim_ok):
    assert registry.get_claim(claim_id).expect == NECESSITY[claim_id]
    c, r = run_claim_ok(claim_id, "quick", 7)
    if c.expect == "fails":
        assert r.counterexample


def test_two_atoms_stationary_by_an_independent_field():
    """Independent route: the USA/SA field of 2/3 delta_e + 1/3 delta_{-e} written out with NumPy at +-e."""
    import numpy as np

    from attnflow.properties.claims._necessity import two_atoms

    x, w = two_atoms(4, 3)
    for beta in (-3.0, 0.0, 2.5):
        for i in range(2):
            k = w * np.exp(beta * (x @ x[i]))
            for v in (k @ x, (k @ x) / k.sum()):
                assert np.abs(v - (v @ x[i]) * x[i]).max() <= 1e-15 * np.exp(abs(beta))


def test_beta_bound_small_beta_clusters_and_the_check_can_fail(monkeypatch):
    """Small beta clusters (the theorem's regime, measured W2 < 0.1); large beta leaves two clusters.
    One-line bug: a field that is not projected (or beta -> -beta) would change these outcomes; here the
    check is shown to pass at beta = 0.5 and to fail at beta = 3 with two clusters."""
    from attnflow.properties.claims.meanfield import beta_bound
    from attnflow.properties.registry import Violation

    assert beta_bound.check({"beta": 1.0}).value <= 0.1
    with pytest.raises(Violation, match="2 clusters"):
        beta_bound.check({"beta": 2.0})


def test_beta_bound_limit_masses_from_an_independent_flow():
    """Independent route: SciPy's adaptive DOP853 on the angles (USA on the circle written out with NumPy)
    gives the same two-atom limit at beta = 2 (mass 8/9 near theta = 0 measured by the claim)."""
    import numpy as np
    from scipy.integrate import solve_ivp

    from attnflow.properties.claims._necessity import NEC_T_BETA, circle_density
    from attnflow.properties.claims.meanfield import beta_bound_limit

    x, w = circle_density()
    th0 = np.arctan2(x[:, 1], x[:, 0])
    beta = 2.0

    def rhs(t, th):
        d = th[:, None] - th[None, :]
        return -(np.exp(beta * np.cos(d)) * np.sin(d)) @ w

    th = solve_ivp(rhs, (0, NEC_T_BETA), th0, method="DOP853", rtol=1e-10, atol=1e-12).y[:, -1]
    near0 = np.cos(th) > 0
    m = beta_bound_limit.check({"beta": beta})
    assert abs(w[near0].sum() - m.value) <= 1e-6
    assert np.ptp(np.mod(th[~near0], 2 * np.pi)) <= 1e-4


def test_density_stationary_check_can_fail(monkeypatch):
    """One-line bug: weights (2/3, 1/3) placed at e and a non-antipodal point -> not stationary."""
    import numpy as np

    from attnflow.properties.claims import _necessity, meanfield
    from attnflow.properties.registry import Violation

    def tilted(d, seed):
        x, w = _necessity.two_atoms(d, seed)
        y = -x[0] + 0.1 * np.eye(d)[0]
        x[1] = y / np.linalg.norm(y)
        return x, w

    monkeypatch.setattr(meanfield, "two_atoms", tilted)
    with pytest.raises(Violation):
        meanfield.density_stationary.check({"d": 3, "beta": 1.0, "seed": 0})
