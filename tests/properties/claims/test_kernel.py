"""The ``kernel.*`` claims (properties/claims/kernel.py): outcomes under the ``quick`` profile, and the
drawn examples are ones where the bug they target is visible (Q/K swap, missing running shift)."""

import numpy as np
import pytest

from attnflow.numerics._reference import velocity_ref
from attnflow.properties import registry
from attnflow.properties.claims import kernel as K


@pytest.mark.parametrize("claim_id", ["kernel.qkv_general", "kernel.large_beta", "kernel.circle"])
def test_claim_outcome_matches_expectation(claim_id):
    c = registry.get_claim(claim_id)
    assert c.expect == "holds"
    r = registry.run_claim(c, profile="quick", seed=20260101)
    assert r.ok, r.detail


def test_qkv_example_distinguishes_query_from_key():
    ex = {"n": 5, "d": 3, "beta": 2.0, "seed": 7}
    m = K.qkv_general.check(ex)
    assert m.value < 1e-12
    assert m.extra["|swapped - reference|"] > 1e-2  # the swapped field is far from the true one


def test_large_beta_example_overflows_without_the_shift():
    ex = {"n": 4, "d": 3, "beta": 400.0, "seed": 3}
    assert K.large_beta.check(ex).value < 1e-12
    # the same input with the self logit as the only shift: e^{l_0j - l_00} overflows float64
    rng = np.random.default_rng(3)
    x = rng.standard_normal((4, 3))
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    x *= rng.uniform(0.5, 3.0, size=(4, 1))
    x[0] *= 2.0 / np.linalg.norm(x[0])
    x[-1] = 2.0 * x[0]
    logits = 400.0 * (x @ x.T)
    with np.errstate(over="ignore"):
        assert not np.all(np.isfinite(np.exp(logits[0] - logits[0, 0])))
    assert np.all(np.isfinite(velocity_ref(x, "sa", 400.0)))


def test_relative_error_flags_non_finite_output():
    assert K._relative_error(np.array([np.nan, 0.0]), np.zeros(2)) == float("inf")
