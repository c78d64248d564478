"""Notebook displays of the U-shape Certificate: short repr, the certified statement as LaTeX, HTML table."""

from attnflow.numerics.retrieval import Certificate, argmin, certify_ushape


def test_certified_display_names_the_bracket_that_contains_the_minimum():
    c = certify_ushape(beta=1, lam=1, t=1.5, M=8)
    lo, hi = c.bracket
    am = argmin(beta=1, lam=1, t=1.5, M=8)  # the minimiser found by root finding, an independent route
    assert lo <= am.sigma0 <= hi
    assert repr(c) == (f"Certificate('certified', minimum in [{lo:.6g}, {hi:.6g}], beta=1, lam=1, t=1.5, M=8, "
                       "modes=20)")
    latex = c._repr_latex_()
    assert latex.startswith("$$ ") and latex.endswith(" $$") and rf"\in [{lo:.6g}, {hi:.6g}]" in latex
    page = c._repr_html_()
    assert "<caption>Certificate of the U-shape" in page and "\\[" in page and "proved" in page


def test_not_u_shaped_display():
    c = certify_ushape(beta=1, lam=1, t=5.0, M=8)  # beyond t_crit: no recency
    assert c.verdict == "not U-shaped" and c.recency is False
    assert repr(c).startswith("Certificate('not U-shaped', beta=1") and "\n" not in repr(c)
    assert "no recency" in c._repr_latex_() and "disproved" in c._repr_html_()
    bare = Certificate("inconclusive", "a <reason>")
    assert repr(bare) == "Certificate('inconclusive')" and "a &lt;reason&gt;" in bare._repr_html_()
