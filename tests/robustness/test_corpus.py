"""The bad-input corpus (``_corpus.py``) in the default test run: every row must come out ``clean``.

``clean`` means: a ``ValueError`` / exit status 2 whose message names the argument (API) or the
option (CLI), before any long computation -- or, for the rows that expect a value, the value of
an independent reference (mpmath, the regular simplex).  The classifier also tells the other
outcomes apart (handled / traceback / silent wrong answer / hang), which the report of
``python tests/robustness/_corpus.py`` counts.
"""

from __future__ import annotations

import pytest

from tests.robustness._corpus import OUTCOMES, Case, Err, Val, all_cases, classify

CASES = all_cases()


def _param(case: Case):
    marks = [pytest.mark.xfail(reason=case.xfail, strict=False)] if case.xfail else []
    return pytest.param(case, id=case.id, marks=marks)


def test_corpus_is_large_and_spans_every_command():
    assert len(CASES) >= 150
    ids = {c.id for c in CASES}
    assert len(ids) == len(CASES), "case ids must be unique"
    for command in ("derive", "simulate", "check", "interpolate", "profile", "export", "sweep"):
        assert any(c.cli and c.id.startswith(f"cli/{command}") for c in CASES), command


@pytest.mark.parametrize("case", [_param(c) for c in CASES])
def test_case(case, tmp_path):
    outcome, detail = classify(case, tmp_path, timeout=20.0)
    assert outcome == "clean", f"{case.id}: {outcome}: {detail}"


def test_classifier_can_fail(tmp_path):
    """The classifier is not a rubber stamp: each outcome other than clean is recognised."""
    def wrong_value(t):
        return 1.0

    def bad_message(t):
        raise ValueError("something went wrong")

    def crash(t):
        raise KeyError("x")

    def spin(t):
        while True:
            pass

    assert classify(Case("v", wrong_value, Val(lambda v: v == 2.0)), tmp_path)[0] == "silent"
    assert classify(Case("e", wrong_value, Err("^x:")), tmp_path)[0] == "silent"
    assert classify(Case("m", bad_message, Err("^x:")), tmp_path)[0] == "handled"
    assert classify(Case("k", crash, Err("^x:")), tmp_path)[0] == "traceback"
    assert classify(Case("h", spin, Err("^x:")), tmp_path, timeout=0.2)[0] == "hang"
    assert set(OUTCOMES) == {"clean", "handled", "traceback", "silent", "hang"}
