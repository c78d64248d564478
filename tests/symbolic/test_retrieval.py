"""The retrieval topic: every result builds, renders, and has the expected proof status."""

import pytest

from attnflow.symbolic import documents
from attnflow.symbolic import retrieval as topic

EXPECTED = {
    "retrieval.graphon.normalised": "proved",
    "retrieval.volterra": "proved",
    "retrieval.psi_series": "proved",
    "retrieval.lambda0_limit": "proved",
    "retrieval.right_slope": "proved",
    "retrieval.recency_threshold": "proved",
    "retrieval.end_value": "proved",
    "retrieval.no_recency_lambda0": "proved",
    "retrieval.poisson": "verified-numerically",
    "retrieval.smallness": "proved",
}


@pytest.fixture(scope="module")
def results():
    return {r.id: r for r in documents.topic_results("retrieval")}


def test_registered_and_complete(results):
    assert ("retrieval", "Lost in the middle: the retrieval profile", "attnflow.symbolic.retrieval") in documents.TOPICS
    assert set(results) == set(EXPECTED)
    for r in results.values():
        assert r.topic == "retrieval" and "2605.09213" in r.source and r.statement


@pytest.mark.parametrize("rid", sorted(EXPECTED))
def test_status(results, rid):
    p = results[rid].proof
    assert p.status == EXPECTED[rid], f"{rid}: {p.method} / {p.detail}"


def test_render_is_deterministic(results):
    a = documents.render_topic("retrieval")
    b = documents.render_topic("retrieval")
    assert a == b
    assert "## retrieval.volterra" in a and "REFUTED" not in a


def test_wrong_formula_is_refuted():
    """Negative control: the right-end slope with the wrong sign of the quadratic term is refuted."""
    import sympy as sp

    from attnflow.symbolic.proof import prove_zero

    g = topic._g_at_one(topic.c)
    slope = sp.diff(g, topic.s).subs(topic.s, 1)
    wrong = topic.kappa * topic.c * (topic.lam + topic.kappa * topic.c / 2)
    p = prove_zero(slope - wrong, domains={topic.c: (0.1, 3), topic.lam: (0.1, 3)})
    assert p.status == "refuted"
