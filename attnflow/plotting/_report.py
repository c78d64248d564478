r"""Figures of the HTML check report: statements as mathematics, measurements beside the theory (private).

:func:`report_renderers` gives the two callables :func:`attnflow.properties.report.to_html` takes:
:func:`math_svg` (one line of LaTeX rendered by matplotlib's mathtext to an SVG data URI) and
:func:`claim_figure` (the figure of one report row as a PNG data URI with its caption).
"""

from __future__ import annotations

import io
from functools import lru_cache

from attnflow.properties._html import data_uri, mathtext_source

__all__ = ["math_svg", "claim_figure", "report_renderers"]


def _num(v):
    return v if isinstance(v, (int, float)) else float("nan")


@lru_cache(maxsize=1)
def _math_font():
    from matplotlib.font_manager import FontProperties

    return FontProperties(size=15)


@lru_cache(maxsize=1024)
def math_svg(line: str) -> str | None:
    """One line of LaTeX (no ``$``) as an SVG data URI via matplotlib mathtext, or None if it cannot parse it."""
    from matplotlib import mathtext

    text = mathtext_source(line)
    if not text:
        return None
    buf = io.BytesIO()
    try:
        mathtext.math_to_image(f"${text}$", buf, format="svg", dpi=100, prop=_math_font())
    except Exception:  # mathtext's ParseException / ValueError: show the source instead
        return None
    return data_uri(buf.getvalue(), "image/svg+xml")


def claim_figure(row: dict) -> tuple[str, str] | None:
    """The figure of one report row as ``(PNG data URI, caption)``, or None if it measured nothing.

    A rate claim (``fitted``): the fitted rate of every example against its theoretical value, with
    the line fitted = theory and the interval [min, max]; any other measured claim: the headline value
    of every example with the worst case; a ratio to a bound has the bound as the line at ratio 1.
    """
    fitted, meas = row.get("fitted"), row.get("measurement")
    if not fitted and not (meas and meas.get("values")):
        return None
    from matplotlib.figure import Figure

    fig = Figure(figsize=(4.6, 2.9), dpi=80)
    ax = fig.add_subplot()
    if fitted and fitted.get("points"):
        pts = fitted["points"]
        fv = [_num(p[0]) for p in pts]
        th = [_num(p[1]) if p[1] is not None else float("nan") for p in pts]
        if all(t == t for t in th):
            lo, hi = min(th + fv), max(th + fv)
            pad = 0.05 * (hi - lo or abs(hi) or 1.0)
            ax.plot([lo - pad, hi + pad], [lo - pad, hi + pad], color="0.3", lw=1, label="theory (fitted = theory)")
            ax.scatter(th, fv, s=14, color="C0", label="fitted, one per example", zorder=3)
            ax.axhspan(fitted["min"], fitted["max"], color="C0", alpha=0.12, label="fitted interval [min, max]")
            ax.set_xlabel("theoretical rate")
        else:
            ax.scatter(range(len(fv)), fv, s=14, color="C0", label="fitted, one per example")
            ax.axhspan(fitted["min"], fitted["max"], color="C0", alpha=0.12, label="fitted interval [min, max]")
            ax.set_xlabel("example")
        ax.set_ylabel("fitted rate")
        caption = (f"fitted rate {fitted['min']:.4g}..{fitted['max']:.4g} over {fitted['n']} examples"
                   + (f" vs theory {fitted['theory_min']:.4g}..{fitted['theory_max']:.4g}" if "theory_min" in fitted
                      else ""))
    else:
        vals = [_num(v) for v in meas["values"]]
        agg = "max" if "max" in meas else "min"
        ax.scatter(range(len(vals)), vals, s=14, color="C1", label="observed, one per example", zorder=3)
        ax.axhline(meas[agg], color="C3", lw=1, ls="--", label=f"worst case ({agg}) = {meas[agg]:.4g}")
        label = meas.get("label") or "value"
        ratio = "bound" in label.lower() and "/" in label  # observed / bound or bound / observed
        if ratio:
            ax.axhline(1.0, color="k", lw=1, label="the bound (ratio = 1)")
        ax.set_xlabel("example")
        ax.set_ylabel(label, fontsize=8)
        caption = f"{label}: {agg} {meas[agg]:.4g} over {meas['n']} examples"
        if ratio:
            caption += " (observed against the bound: the bound is the line at ratio 1)"
    ax.legend(fontsize=7, loc="best")
    ax.tick_params(labelsize=7)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return data_uri(buf.getvalue(), "image/png"), caption


def report_renderers() -> dict:
    """``{"math": math_svg, "figure": claim_figure}``: the keyword arguments of
    :func:`attnflow.properties.report.to_html` / ``write_report`` that draw the HTML report's
    mathematics and figures (``attnflow check --report out.html`` passes them)."""
    from ._style import INSTALL_HINT, available

    if not available():
        raise ImportError(f"the HTML report draws with matplotlib, the optional extra `plot`: {INSTALL_HINT}")
    return {"math": math_svg, "figure": claim_figure}
