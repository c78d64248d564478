"""Notebook displays shared by attnflow's result objects: short one-line reprs and HTML tables.

Objects define ``__repr__`` (one line, no arrays) and ``_repr_html_`` (a small table) with these
helpers; IPython/Jupyter show the HTML, the terminal the repr.  Mathematics in the HTML is written
as ``\\[ ... \\]`` for the notebook's MathJax; ``_repr_latex_`` returns display math.
"""

from __future__ import annotations

import html

__all__ = ["short", "html_table", "math_html"]


def short(text: str, width: int = 60) -> str:
    """``text`` on one line, cut to ``width`` characters with an ellipsis."""
    text = " ".join(str(text).split())
    return text if len(text) <= width else text[: width - 1] + "…"


def math_html(latex: str) -> str:
    """Display math for the notebook's MathJax (escaped for HTML)."""
    return f"\\[ {html.escape(latex.strip())} \\]"


def html_table(rows, caption: str | None = None, *, raw: tuple[str, ...] = ()) -> str:
    """A two-column table of ``(key, value)`` rows; values are escaped unless their key is in ``raw``."""
    body = "".join(
        f"<tr><th style='text-align:left'>{html.escape(str(k))}</th>"
        f"<td style='text-align:left'>{v if k in raw else html.escape(str(v))}</td></tr>"
        for k, v in rows if v is not None and v != "")
    cap = f"<caption>{html.escape(caption)}</caption>" if caption else ""
    return f"<table>{cap}{body}</table>"
