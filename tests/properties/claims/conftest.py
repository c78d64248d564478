"""Shared by the claim tests: run one claim and assert what every claim run must satisfy."""

import pytest

from attnflow.properties import registry


@pytest.fixture
def run_claim_ok():
    """``run(claim_id, profile, seed) -> (claim, run)``: the run reached no error, its outcome is the
    one the claim expects, and the claim carries its tolerance, source and statement."""

    def run(claim_id, profile, seed):
        c = registry.get_claim(claim_id)
        r = registry.run_claim(c, profile=profile, seed=seed)
        assert r.outcome != "error", r.detail
        assert r.ok, r.detail
        assert c.tolerance and c.source and c.statement
        return c, r

    return run
