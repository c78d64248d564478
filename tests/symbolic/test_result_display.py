"""Notebook displays of a Result: short, escaped, and never running the prover."""

from __future__ import annotations

from attnflow.symbolic.proof import Proof
from attnflow.symbolic.result import Result


def _result(calls: list) -> Result:
    def prover():
        calls.append(1)
        return Proof("proved", "test: nothing to prove")

    return Result(id="demo.identity", title="A <demo> & identity", topic="demo",
                  statement=r"\frac{d}{dt}E = \sum_i Z_i |\dot x_i|^2", source="arXiv 2312.10794", prover=prover)


def test_repr_is_short_and_does_not_prove():
    calls: list = []
    r = _result(calls)
    text = repr(r)
    assert text == "Result('demo.identity', 'A <demo> & identity', topic='demo', proof not computed yet (r.proof))"
    assert "function" not in text and not calls
    assert r.status == "proved" and calls == [1]
    assert repr(r).endswith(", proved)") and calls == [1]  # the cached proof, not a second run


def test_latex_and_html():
    calls: list = []
    r = _result(calls)
    assert r._repr_latex_() == r"$$ \frac{d}{dt}E = \sum_i Z_i |\dot x_i|^2 $$"
    page = r._repr_html_()
    assert "A &lt;demo&gt; &amp; identity" in page and "<demo>" not in page  # escaped text
    assert r"\[ \frac{d}{dt}E = \sum_i Z_i |\dot x_i|^2 \]" in page and "arXiv 2312.10794" in page
    assert "not computed" in page and not calls
