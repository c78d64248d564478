"""Notebook displays of a Proof: short repr (no attempts dump), escaped HTML with the rewrite steps."""

from attnflow.symbolic.proof import Attempt, Proof


def test_proof_repr_and_html():
    steps = tuple(Attempt(f"step{k}", "nonzero", 0.1) for k in range(5)) + (Attempt("expand", "zero", 0.2),)
    p = Proof("proved", "expand -> 0 <after> " + "x" * 200, detail="residual & size 3", attempts=steps)
    text = repr(p)
    assert text.startswith("Proof(proved, 'expand -> 0 <after> xxx") and text.endswith("…', 6 rewrite steps)")
    assert len(text) < 100 and "Attempt" not in text
    page = p._repr_html_()
    assert "&lt;after&gt;" in page and "<after>" not in page and "residual &amp; size 3" in page
    assert "expand: zero" in page and "step4: nonzero" in page
    assert repr(Proof("refuted", "numerical")) == "Proof(refuted, 'numerical')"
    assert Proof("proved", "a", attempts=steps) == Proof("proved", "a")  # equality unchanged
