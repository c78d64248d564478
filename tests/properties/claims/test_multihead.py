"""The ``multihead.*`` claims (properties/claims/multihead.py and its helpers in ``claims/_multihead.py``):
each under the ``ci`` profile, plus independent checks of the helpers.

Independent routes: 50-digit mpmath energies differentiated along the numba kernel's field (the
helpers below are the same as in test_energy.py), the package dissipation for the shared
normalisation, and a synthetic shrinking problem with a known minimal counterexample.
"""

import mpmath as mp
import numpy as np
import pytest

from attnflow.numerics import fields
from attnflow.properties.claims import _multihead as mhx


CLAIMS = ["multihead.total.shared", "multihead.per_head", "multihead.total.per_head_softmax"]


@pytest.mark.parametrize("claim_id", CLAIMS)
def test_claim_meets_its_expectation_under_ci(claim_id, run_claim_ok):
    c, r = run_claim_ok(claim_id, "ci", 20260101)
    if c.expect == "holds":
        assert r.examples >= c.max_examples("ci")
        assert r.measurement is not None and r.measurement["n"] >= c.max_examples("ci")
    else:
        assert r.counterexample and r.replay and "counterexample" in r.detail


# ------------------------------------------------------------------------------------ helpers
def _sphere(rng, n, d):
    x = rng.standard_normal((n, d))
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def _mp_energy(y, beta, A=None):
    """50-digit energy (1/2b) sum exp(b <y_i, A y_j>) of an mpmath matrix y."""
    n, d = y.rows, y.cols
    A = mp.eye(d) if A is None else mp.matrix(A.tolist())
    tot = mp.mpf(0)
    for i in range(n):
        for j in range(n):
            s = sum(y[i, k] * sum(A[k, l] * y[j, l] for l in range(d)) for k in range(d))
            tot += mp.e ** (beta * s)
    return tot / (2 * beta)


def _mp_rate_along(x, xdot, beta, As):
    """d/dh sum_A E_A(normalise(x + h xdot)) at 0 by a 50-digit central difference (h = 1e-15)."""
    with mp.workdps(50):
        h = mp.mpf("1e-15")
        X, V = mp.matrix(x.tolist()), mp.matrix(xdot.tolist())

        def curve(t):
            y = X + t * V
            for i in range(y.rows):
                nrm = mp.sqrt(sum(y[i, k] ** 2 for k in range(y.cols)))
                for k in range(y.cols):
                    y[i, k] /= nrm
            return y

        out = []
        for A in As:
            out.append(float((_mp_energy(curve(h), mp.mpf(beta), A) - _mp_energy(curve(-h), mp.mpf(beta), A)) / (2 * h)))
        return np.array(out)


@pytest.mark.parametrize("normalization", ["shared", "per_head"])
def test_head_energy_rates_against_mpmath(normalization):
    rng = np.random.default_rng(4)
    d, n, beta = 3, 3, 0.9
    M = mhx.random_symmetric_heads(rng, (2,), d)
    x = _sphere(rng, n, d)
    xdot = fields.velocity(x, model="multihead", beta=beta, M=M, normalization=normalization)
    expected = _mp_rate_along(x, xdot, beta, list(M))
    np.testing.assert_allclose(mhx.head_energy_rates(x, M, beta, normalization), expected, rtol=1e-9)
    if normalization == "shared":
        assert expected.sum() == pytest.approx(fields.dissipation(x, model="multihead", beta=beta, M=M), rel=1e-9)


def test_shrink_counterexample_drops_what_is_not_needed():
    x = np.arange(12.0).reshape(4, 3)
    M = np.stack([np.eye(3), 2 * np.eye(3), 3 * np.eye(3)])

    def value(y, N, b):  # "negative" iff row 0 and the 2I head are still present
        return -1.0 if (np.any(np.all(y == x[0], axis=1)) and np.any(np.all(N == 2 * np.eye(3), axis=(1, 2)))) else 1.0

    y, N = mhx.shrink_counterexample(x, M, 1.0, value)
    assert y.shape[0] == 2 and np.any(np.all(y == x[0], axis=1))
    assert N.shape[0] == 1 and np.array_equal(N[0], 2 * np.eye(3))


def test_helpers_reject_bad_input():
    with pytest.raises(ValueError, match="normalization:"):
        mhx.head_energy_rates(np.eye(3), np.eye(3)[None], 1.0, "both")


# ------------------------------------------------------------ scalar heads, equiangular tokens
EQ_CLAIMS = ["multihead.entropy.monotone", "multihead.threshold.equiangular"]


@pytest.mark.parametrize("claim_id", EQ_CLAIMS)
def test_equiangular_claims_hold_under_quick(claim_id, run_claim_ok):
    c, r = run_claim_ok(claim_id, "quick", 20260101)
    assert c.expect == "holds" and r.outcome == "holds"


def test_entropy_check_rejects_a_wrong_rate(monkeypatch):
    """The check can fail: the rate with (1 + rho) in place of (1 - rho)."""
    import sympy as sp

    from attnflow.properties.claims import multihead as MH
    from attnflow.properties.registry import Violation
    from attnflow.symbolic import multihead_entropy as ME

    real = ME.entropy_rate
    monkeypatch.setattr(ME, "entropy_rate", lambda *a, **k: real(*a, **k) * (1 + ME.rho) / (1 - ME.rho))
    with pytest.raises(Violation, match="derived"):
        MH.entropy_monotone.check({"n": 4, "c": (0.8, -1.6), "rho0": 0.5, "side": 1, "factor": 1.5})
    assert sp.Symbol  # sympy imported for the lambda's expressions


def test_threshold_check_rejects_a_wrong_closed_form(monkeypatch):
    """The check can fail: beta_c without the 1/rho_0 factor."""
    from attnflow.properties.claims import multihead as MH
    from attnflow.properties.registry import Violation
    from attnflow.symbolic import multihead_entropy as ME

    real = ME.critical_beta
    monkeypatch.setattr(ME, "critical_beta", lambda c1, c2, r0=ME.rho0: real(c1, c2, r0) * r0)
    with pytest.raises(Violation, match="closed form"):
        MH.threshold_equiangular.check({"n": 4, "c": (0.8, -1.6), "rho0": 0.5, "side": 1, "factor": 1.5})
