r"""The HTML report of ``attnflow check --report out.html`` (private; :func:`render`).

One self-contained page, readable offline: inline CSS, no scripts from anywhere else, every image a
``data:`` URI.  The images are drawn by :mod:`attnflow.plotting` (``report_renderers``; this module
never imports matplotlib): each claim's statement (LaTeX) rendered by matplotlib's mathtext to an
inline SVG (the LaTeX source is the image's ``alt`` text and is shown as code where mathtext cannot
parse it, or when no renderer is given); each claim with per-example measurements gets a figure
(inline PNG):

- a rate claim (``fitted``): the fitted rate of every example against its theoretical value, with the
  line fitted = theory and the interval [min, max] of the fitted rates;
- any other measured claim (``measurement``): the headline value of every example (``measure``)
  with the worst case over the examples; where the measure is a ratio to a bound
  (``"min fitted rate / bound"``), the bound is the line at ratio 1.

A small inline script (run on ``load``) counts the images that decoded and writes the count into
``data-images-ok`` on ``<body>``, so a headless browser's DOM dump shows that the page rendered.
"""

from __future__ import annotations

import base64
import html
import re

__all__ = ["render", "mathtext_source", "data_uri"]

_CSS = """
body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;margin:1.5em auto;max-width:70em;color:#222}
h1{font-size:1.5em} h2{font-size:1.15em;margin-top:1.6em;border-bottom:1px solid #ccc}
table.claims{border-collapse:collapse;font-size:.88em;width:100%}
table.claims th,table.claims td{border:1px solid #ccc;padding:.25em .45em;text-align:left;vertical-align:top}
table.claims th{background:#f0f0f0} tr.bad td{background:#fde8e8}
.ok{color:#17632a;font-weight:bold} .bad{color:#a11;font-weight:bold}
.math img{max-width:100%;vertical-align:middle} code,pre{background:#f6f6f6;font-size:.9em}
pre{padding:.4em;white-space:pre-wrap} figure{margin:.6em 0} figcaption{font-size:.85em;color:#555}
dl{display:grid;grid-template-columns:max-content auto;gap:.2em 1em;font-size:.9em} dt{font-weight:bold}
"""

_SCRIPT = """
window.addEventListener('load', function () {
  var imgs = document.images, ok = 0;
  for (var i = 0; i < imgs.length; i++) { if (imgs[i].complete && imgs[i].naturalWidth > 0) ok++; }
  document.body.setAttribute('data-images', String(imgs.length));
  document.body.setAttribute('data-images-ok', String(ok));
});
"""

# LaTeX that mathtext does not know, mapped to what it does (display only; the alt text keeps the source)
_REWRITES = [
    (re.compile(r"\\operatorname\*?\{([^{}]*)\}"), r"\\mathrm{\1}"),
    (re.compile(r"\\(?:text|textrm|mbox)\{([^{}]*)\}"), lambda m: r"\mathrm{" + m.group(1).replace(" ", r"\ ") + "}"),
    (re.compile(r"\\[td]frac"), r"\\frac"),
    (re.compile(r"\\begin\{[a-z*]+\}|\\end\{[a-z*]+\}"), ""),
    (re.compile(r"\\(?:displaystyle|textstyle|nonumber|notag)"), ""),
    (re.compile(r"\\lVert|\\rVert"), r"\\Vert"),
    (re.compile(r"\\(?:bigg|Bigg|big|Big)[lrm]?(?![a-zA-Z])"), ""),
    (re.compile(r"\\(mathbb|mathrm|mathcal|mathbf|mathit|mathsf)\s+([A-Za-z0-9])"), r"\\\1{\2}"),
    (re.compile(r"&"), ""),
    (re.compile(r"\\qquad"), r"\\quad"),
    (re.compile(r"\\(ge|le)(?![a-zA-Z])"), r"\\\1q"),
    (re.compile(r"\\iff(?![a-zA-Z])"), r"\\Leftrightarrow"),
    (re.compile(r"\\rm(?![a-zA-Z])\s*([A-Za-z]+)"), r"\\mathrm{\1}"),
]


def data_uri(data: bytes, mime: str) -> str:
    return f"data:{mime};base64," + base64.b64encode(data).decode("ascii")


def _brace_args(text: str, commands=("frac", "binom", "sqrt")) -> str:
    r"""Give ``\frac12``-style arguments braces (``\frac{1}{2}``): mathtext needs them."""
    out, i = [], 0
    pat = re.compile(r"\\(" + "|".join(commands) + r")(?![a-zA-Z])")
    while True:
        m = pat.search(text, i)
        if m is None:
            out.append(text[i:])
            return "".join(out)
        out.append(text[i:m.end()])
        j = m.end()
        for _ in range(1 if m.group(1) == "sqrt" else 2):
            while j < len(text) and text[j] == " ":
                j += 1
            if j >= len(text):
                break
            if text[j] == "[" and m.group(1) == "sqrt" and "]" in text[j:]:  # \sqrt[k]{x}: keep the index
                k = text.index("]", j)
                out.append(text[j:k + 1])
                j = k + 1
            if j >= len(text):
                break
            if text[j] == "{":
                depth, k = 0, j
                while k < len(text):
                    depth += {"{": 1, "}": -1}.get(text[k], 0)
                    if depth == 0:
                        break
                    k += 1
                out.append(text[j:k + 1])
                j = k + 1
            elif text[j] == "\\":
                cmd = re.match(r"\\[a-zA-Z]+|\\.", text[j:])
                out.append("{" + cmd.group(0) + "}")
                j += len(cmd.group(0))
            else:
                out.append("{" + text[j] + "}")
                j += 1
        i = j


def mathtext_source(line: str) -> str:
    r"""One line of LaTeX rewritten for matplotlib's mathtext (no ``$``): macros it does not know
    replaced by ones it does, ``\frac12``-style arguments braced.  Empty if nothing is left."""
    text = line
    for pat, rep in _REWRITES:
        text = pat.sub(rep, text)
    return _brace_args(text).strip()


def _statement_html(statement: str | None, math=None) -> str:
    if not statement:
        return "<p><em>no statement</em></p>"
    lines = [p.strip() for p in re.split(r"\\\\|\n", statement) if p.strip()]
    parts = []
    for line in lines:
        if "$" in line:  # prose with inline math: shown as text
            parts.append(f"<p>{html.escape(line)}</p>")
            continue
        uri = math(line) if math is not None else None
        if uri is None:
            parts.append(f"<pre>{html.escape(line)}</pre>")
        else:
            parts.append(f'<div class="math"><img src="{uri}" alt="{html.escape(line, quote=True)}"></div>')
    return "\n".join(parts)


def render(report: dict, *, math=None, figure=None) -> str:
    """The page of ``report`` (a :func:`attnflow.properties.report.report_dict`).

    ``math`` (LaTeX line -> image data URI or None) renders the statements and ``figure`` (report
    row -> ``(image data URI, caption)`` or None) draws the measurements; both are drawn by
    :mod:`attnflow.plotting` (:func:`attnflow.plotting.report_renderers`, the ``plot`` extra).
    Without them the statements are shown as LaTeX source and the page has no figures.
    """
    e = html.escape
    claims = report["claims"]
    n_ok = sum(c["ok"] for c in claims)
    status = "OK" if report["ok"] else "NOT OK"
    versions = report.get("versions") or {}
    out = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>attnflow check: {status}</title>",
        f"<style>{_CSS}</style>",
        f"<script>{_SCRIPT}</script>",
        "</head><body>",
        "<h1>attnflow check</h1>",
        f'<p><span class="{"ok" if report["ok"] else "bad"}">{status}</span>: {n_ok}/{len(claims)} claims match '
        f"their expectation (profile <code>{e(str(report['profile']))}</code>, seed {e(str(report['seed']))}; "
        f"replay with <code>{e(report.get('command') or 'attnflow check --profile %s --seed %s' % (report['profile'], report['seed']))}"
        "</code>).</p>",
        "<p>Versions: " + ", ".join(f"{e(k)} {e(str(v))}" for k, v in versions.items()) + "</p>",
        '<table class="claims" id="claims"><thead><tr><th>id</th><th>title</th><th>expect</th><th>outcome</th>'
        "<th>ok</th><th>examples</th><th>seconds</th><th>detail</th></tr></thead><tbody>",
    ]
    for c in claims:
        out.append(
            f'<tr class="{"" if c["ok"] else "bad"}"><td><a href="#{e(c["id"])}"><code>{e(c["id"])}</code></a></td>'
            f"<td>{e(str(c.get('title') or ''))}</td><td>{e(c['expect'])}</td><td>{e(c['outcome'])}</td>"
            f'<td class="{"ok" if c["ok"] else "bad"}">{"yes" if c["ok"] else "no"}</td>'
            f"<td>{c['examples']}</td><td>{c['seconds']:.2f}</td><td>{e(c['detail'])}</td></tr>"
        )
    out.append("</tbody></table>")
    for c in claims:
        out.append(f'<section id="{e(c["id"])}"><h2><code>{e(c["id"])}</code> {e(str(c.get("title") or ""))}</h2>')
        out.append(_statement_html(c.get("statement"), math))
        out.append("<dl>")
        for key in ("source", "tolerance"):
            if c.get(key):
                out.append(f"<dt>{key}</dt><dd>{e(str(c[key]))}</dd>")
        out.append(f"<dt>outcome</dt><dd>expected <code>{e(c['expect'])}</code>, got <code>{e(c['outcome'])}</code>"
                   f" ({'ok' if c['ok'] else 'NOT ok'})</dd>")
        out.append(f"<dt>detail</dt><dd>{e(c['detail'])}</dd>")
        for key in ("counterexample", "replay", "finding"):
            if c.get(key):
                out.append(f"<dt>{key}</dt><dd><code>{e(str(c[key]))}</code></dd>")
        out.append("</dl>")
        fig = figure(c) if figure is not None else None
        if fig is not None:
            uri, caption = fig
            out.append(f'<figure><img src="{uri}" alt="{e(caption, quote=True)}"><figcaption>{e(caption)}'
                       "</figcaption></figure>")
        out.append("</section>")
    out.append("</body></html>")
    return "\n".join(out) + "\n"
