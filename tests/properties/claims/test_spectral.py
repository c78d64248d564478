"""The ``spectral.*`` claims (properties/claims/spectral.py and its helpers in ``claims/_spectral.py``):
consensus under the ``ci`` profile, the printed polarisation criterion refuted (a finding) and the
corrected one holding, plus independent checks of the pieces.

Independent routes: the derived eigenvalues of ``attnflow.symbolic.spectral`` against finite-difference
Jacobians, the singleton counterexample's eigenvalues, and branch coverage of the constructed spectra.
"""

import math

import numpy as np
import pytest

from attnflow.numerics import make_field, single_thread
from attnflow.properties import registry
from attnflow.properties.claims import _spectral

SEED = 20260101


CLAIMS = ["spectral.consensus"]


@pytest.mark.parametrize("claim_id", CLAIMS)
def test_claim_meets_its_expectation_under_ci(claim_id, run_claim_ok):
    c, r = run_claim_ok(claim_id, "ci", 20260101)
    assert r.examples >= c.max_examples("ci")
    assert r.measurement is not None and r.measurement["n"] >= 1


def test_spectral_polarization_as_printed_is_refuted_under_ci():
    # FINDING: the printed unbalanced-polarisation criterion (derivations/spectral.md) is wrong when one group is a
    # single token and lambda_p > 0; the claim is registered with expect="fails" and a finding text.
    c = registry.get_claim("spectral.polarization")
    assert c.expect == "fails" and "single token" in c.finding
    r = registry.run_claim(c, profile="ci", seed=SEED)
    assert r.outcome == "fails" and r.ok, r.detail


def test_spectral_polarization_counterexample_is_the_singleton_group():
    r = registry.run_claim(registry.get_claim("spectral.polarization"), profile="quick", seed=SEED)
    assert r.outcome == "fails"
    assert "n_+ = 1" in r.detail and "stated criterion says unstable" in r.detail


def test_spectral_polarization_corrected_criterion_holds_under_ci():
    r = registry.run_claim(registry.get_claim("spectral.polarization.corrected"), profile="ci", seed=SEED)
    assert r.outcome == "holds" and r.ok, r.detail


def test_stated_stability_branches():
    assert _spectral.stated_stability(3, 0, 1.0, 1.0, [0.5])[0]
    assert not _spectral.stated_stability(3, 0, 1.0, 1.0, [1.5])[0]
    assert not _spectral.stated_stability(3, 0, 1.0, -1.0, [-2.0])[0]
    t = math.tanh(2.0)
    assert _spectral.stated_stability(2, 2, 2.0, 1.0, [t - 0.1])[0]
    assert not _spectral.stated_stability(2, 2, 2.0, 1.0, [t + 0.1])[0]
    assert _spectral.stated_stability(2, 2, 2.0, -1.0, [0.0])[0]
    assert not _spectral.stated_stability(2, 2, 2.0, -1.0, [-1.1])[0]
    stable, margin = _spectral.stated_stability(3, 0, 1.0, 1.0, [0.5, -2.0])
    assert stable and margin == pytest.approx(0.5)
    with pytest.raises(ValueError):
        _spectral.stated_stability(1, 0, 1.0, 1.0, [0.0])


def test_fd_jacobian_reproduces_the_singleton_counterexample():
    # independent route (symbolic.spectral notes): n = 3, s = (+,+,-), beta = 1, V = diag(0.1, -5, -5), p = 1
    # has linearised eigenvalues ~ -0.042, -0.44, -5.02 (each twice), although the stated criterion says unstable
    v = np.diag([0.1, -5.0, -5.0])
    x = np.array([[1.0, 0, 0], [1.0, 0, 0], [-1.0, 0, 0]])
    with single_thread():
        f = make_field("qkv", beta=1.0, Q=np.eye(3), K=v, V=v)
        ev = np.sort(np.linalg.eigvals(_spectral.tangent_jacobian(f, x, np.eye(3)[:, 1:])).real)
    assert np.allclose(ev, [-5.02, -5.02, -0.44, -0.44, -0.042, -0.042], atol=6e-3)
    assert not _spectral.stated_stability(2, 1, 1.0, 0.1, [-5.0, -5.0])[0]


def test_fd_stability_agrees_with_the_derived_eigenvalues():
    sym = pytest.importorskip("attnflow.symbolic.spectral")
    rng = np.random.default_rng(5)
    checked = 0
    with single_thread():
        for _ in range(12):
            n_plus, n_minus = int(rng.integers(1, 4)), int(rng.integers(1, 4))
            beta, lam_p, lam_k = rng.uniform(0.3, 3), rng.uniform(-3, 3), rng.uniform(-4, 4)
            derived = sym.linear_stable(n_plus, n_minus, beta, lam_p, lam_k, margin=1e-3)
            if derived is None:
                continue
            v = np.diag([lam_p, lam_k])
            x = np.array([[1.0, 0.0]] * n_plus + [[-1.0, 0.0]] * n_minus)
            f = make_field("qkv", beta=beta, Q=np.eye(2), K=v, V=v)
            top = np.linalg.eigvals(_spectral.tangent_jacobian(f, x, np.array([[0.0], [1.0]]))).real.max()
            assert (top < 0) == derived, (n_plus, n_minus, beta, lam_p, lam_k, top)
            checked += 1
    assert checked >= 8


def test_pure_mode_cases_cover_every_branch():
    cases = _spectral.pure_mode_cases(5, 1.0, np.random.default_rng(0), 3, consensus=False)
    branches = {(c["n_plus"], c["branch"]) for c in cases}
    assert (1, (1.0, False, "inside")) in branches  # the singleton branch that exposes the finding
    assert all(c["margin"] >= _spectral.MARGIN / 2 for c in cases)
    assert any(c["stated"] for c in cases) and any(not c["stated"] for c in cases)


def test_bad_inputs_raise_value_errors():
    with pytest.raises(ValueError, match="basis"):
        _spectral.tangent_jacobian(lambda t, x: x, np.ones((2, 3)), np.ones((2, 2)))
