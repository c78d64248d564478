"""Notebook displays of claim outcomes (ClaimRun) and reports (Report): short reprs, escaped HTML, LaTeX."""

from __future__ import annotations

import json
from html.parser import HTMLParser

import pytest
from hypothesis import strategies as st

from attnflow.properties import registry, report
from attnflow.properties.registry import Claim, require


class _Tags(HTMLParser):
    def __init__(self):
        super().__init__()
        self.open, self.text = [], []

    def handle_starttag(self, tag, attrs):
        self.open.append(tag)

    def handle_endtag(self, tag):
        assert self.open and self.open[-1] == tag, (self.open, tag)
        self.open.pop()

    def handle_data(self, data):
        self.text.append(data)


def _parse(page: str) -> str:
    p = _Tags()
    p.feed(page)
    p.close()
    assert not p.open, p.open  # every tag closed, properly nested
    return "".join(p.text)


@pytest.fixture(scope="module")
def runs():
    def ok(k):
        return float(k)

    def bad(k):
        require(k < 3, "k too large")

    mk = dict(source="arXiv:0000.00000, Thm <1>", tolerance="exact", latex=r"a_k \le \frac{1}{2} & b")
    return [registry.run_claim(Claim(id="toy.ok", title="holds <always>", hypotheses=st.integers(0, 9), check=ok, expect="holds", **mk),
                               profile="quick", seed=1),
            registry.run_claim(Claim(id="toy.bad", title="a control", hypotheses=st.integers(0, 9), check=bad,
                                     expect="fails", **mk), profile="quick", seed=1)]


def test_claim_run_repr_is_one_short_line(runs):
    ok, bad = runs
    assert repr(ok) == f"ClaimRun('toy.ok', expect holds, got holds (ok), {ok.examples} examples, {ok.seconds:.2f} s)"
    assert repr(bad).startswith("ClaimRun('toy.bad', expect fails, got fails (ok), ")
    assert "\n" not in repr(bad) and len(repr(bad)) < 120 and "function" not in repr(bad)


def test_claim_run_html_and_latex(runs):
    ok, bad = runs
    assert ok._repr_latex_() == r"$$ a_k \le \frac{1}{2} & b $$"
    page = bad._repr_html_()
    text = _parse(page)
    assert "toy.bad" in text and "expected fails, got fails" in text and "k too large" in text
    assert r"\[ a_k \le \frac{1}{2} &amp; b \]" in page  # MathJax source, escaped
    assert "Thm <1>" in text and "Thm <1>" not in page  # escaped source
    assert "attnflow check --claim toy.bad --seed 1" in text  # the replay command


def test_report_repr_html_and_json(tmp_path, runs):
    rep = report.report_dict(runs, "quick", 1, command="attnflow check --claim 'toy.*' --profile quick --seed 1")
    assert repr(rep) == "Report(OK: 2/2 claims match their expectation, profile quick, seed 1, schema v2)"
    text = _parse(rep._repr_html_())
    assert "toy.ok" in text and "toy.bad" in text and "holds" in text and text.count("yes") == 2
    assert json.loads(report.to_json(rep))["command"] == rep["command"]  # still a plain dict to JSON
    path = report.write_report(tmp_path / "r.json", runs, "quick", 1, command=rep["command"])
    back = report.read_report(path)
    assert isinstance(back, report.Report) and back["command"] == rep["command"]
    assert back == json.loads(path.read_text())
    md = report.to_markdown(rep)
    assert "replay with `attnflow check --claim 'toy.*' --profile quick --seed 1`" in md
    assert repr(report.report_dict(runs[:1], "ci", 5)).startswith("Report(OK: 1/1")
