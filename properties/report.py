"""Reports of a registry run: a terminal table, JSON, Markdown and HTML (written atomically).

JSON schema (``schema_version`` 2; documented in ``docs/report-schema.md``)::

    {"schema": "attnflow-check-report", "schema_version": 2,
     "ok": bool, "profile": str, "seed": int,
     "versions": {"python": str, "attnflow": str, "numpy": str, "numba": str, "scipy": str,
                  "sympy": str, "threadpoolctl": str, ...},
     "command": str (the command line that reproduces the run, every option that changes it),
     "claims": [{"id": str, "expect": str, "outcome": str, "ok": bool, "examples": int,
                 "seconds": float, "detail": str,
                 "title": str, "statement": str (LaTeX), "source": str, "tolerance": str,
                 optional "measurement": {"label": str, "max" | "min": float, "n": int,
                                          "values": [float, ...] (first 200 examples),
                                          <extra>: {"min": float, "max": float}},
                 optional "fitted": {"min": float, "max": float, "n": int,
                                     optional "theory_min", "theory_max": float,
                                     "points": [[fitted, theory or null], ...]},
                 optional "counterexample": str (short repr),
                 optional "counterexample_values": JSON data of the shrunk example,
                 optional "replay": str, optional "finding": str}]}

``ok`` is true iff every claim's outcome matches its expectation.  Non-finite floats inside
``values``/``points``/``counterexample_values`` are the strings ``"NaN"``, ``"Infinity"``,
``"-Infinity"`` (JSON has no such numbers).  Version 1 (before ``schema_version`` existed) had only
``ok``, ``profile``, ``seed`` and the claim rows' keys ``id`` .. ``detail`` and the optional
ones; :func:`read_report` reads both and fills what version 1 lacks with ``None``.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path

from attnflow._base.io import atomic_write_text
from attnflow._base.versions import versions
from attnflow.properties._runner import ClaimRun

__all__ = ["SCHEMA", "SCHEMA_VERSION", "TOP_KEYS", "REQUIRED_KEYS", "OPTIONAL_KEYS", "report_dict", "read_report",
           "to_json", "to_markdown", "to_html", "format_table", "write_report", "REPORT_SUFFIXES"]

#: Name and version of the JSON report format (the module docstring; ``docs/report-schema.md``).
SCHEMA = "attnflow-check-report"
SCHEMA_VERSION = 2
#: Top-level keys of a report, in order.
TOP_KEYS = ("schema", "schema_version", "ok", "profile", "seed", "versions", "command", "claims")
#: Keys every claim row carries, in order (the first seven are those of schema version 1).
REQUIRED_KEYS = ("id", "expect", "outcome", "ok", "examples", "seconds", "detail",
                 "title", "statement", "source", "tolerance")
#: Keys a claim row may carry in addition.
OPTIONAL_KEYS = ("measurement", "fitted", "counterexample", "counterexample_values", "replay", "finding")
#: The report formats ``write_report`` (and ``attnflow check --report``) writes.
REPORT_SUFFIXES = (".json", ".md", ".html")


class Report(dict):
    """A check report: a plain ``dict`` of the JSON schema (module docstring) with notebook displays.

    ``Report(...)["claims"]`` etc. work as for the dict; ``repr`` is one line, ``_repr_html_`` the
    claims table.
    """

    def __repr__(self) -> str:
        claims = self.get("claims") or []
        n_ok = sum(bool(c.get("ok")) for c in claims)
        return (f"Report({'OK' if self.get('ok') else 'NOT OK'}: {n_ok}/{len(claims)} claims match their expectation, "
                f"profile {self.get('profile')}, seed {self.get('seed')}, schema v{self.get('schema_version')})")

    def _repr_html_(self) -> str:
        """The summary line and the claims table (id, expect, outcome, ok, examples, seconds, detail)."""
        import html

        from attnflow._base.display import short

        e = html.escape
        rows = "".join(
            f"<tr><td><code>{e(str(c.get('id')))}</code></td><td>{e(str(c.get('expect')))}</td>"
            f"<td>{e(str(c.get('outcome')))}</td><td>{'yes' if c.get('ok') else '<b>no</b>'}</td>"
            f"<td>{c.get('examples')}</td><td>{e(short(str(c.get('detail') or ''), 100))}</td></tr>"
            for c in self.get("claims") or [])
        return (f"<p>{e(repr(self))}</p><table><thead><tr><th>id</th><th>expect</th><th>outcome</th><th>ok</th>"
                f"<th>examples</th><th>detail</th></tr></thead><tbody>{rows}</tbody></table>")


def report_dict(runs: Sequence[ClaimRun], profile: str, seed: int, *, command: str | None = None) -> Report:
    """The report as a :class:`Report` (a dict; see the module docstring for the schema).

    ``command`` is the command line that reproduces the run (default
    ``attnflow check --profile P --seed S``).
    """
    return Report({
        "schema": SCHEMA,
        "schema_version": SCHEMA_VERSION,
        "ok": all(r.ok for r in runs),
        "profile": profile,
        "seed": seed,
        "versions": versions(),
        "command": command or f"attnflow check --profile {profile} --seed {seed}",
        "claims": [r.to_dict() for r in runs],
    })


def read_report(path: str | os.PathLike) -> dict:
    """Read a JSON report of any schema version, as a dict of the current version.

    Version 1 files (no ``schema_version``) get ``schema_version`` 1, ``versions`` None and the rows'
    ``title``, ``statement``, ``source``, ``tolerance`` None; their data is otherwise unchanged.

    Raises
    ------
    ValueError
        ``path`` is not an attnflow check report, or of a newer schema version than this attnflow reads.
    """
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise ValueError(f"path: cannot read {path} as a JSON report: {exc}") from None
    if not isinstance(data, dict) or not isinstance(data.get("claims"), list) or "ok" not in data:
        raise ValueError(f"path: {path} is not an attnflow check report (no 'ok' and 'claims')")
    version = data.get("schema_version", 1)
    if not isinstance(version, int) or version > SCHEMA_VERSION:
        raise ValueError(f"path: {path} has report schema_version {version!r}; this attnflow reads up to "
                         f"{SCHEMA_VERSION} (upgrade attnflow)")
    out = Report({"schema": SCHEMA, "schema_version": version, "versions": None, "command": None, **data})
    out["claims"] = [{**{k: None for k in REQUIRED_KEYS}, **row} for row in data["claims"]]
    return out


def to_json(report: dict) -> str:
    """JSON text of a report (2-space indent, trailing newline)."""
    return json.dumps(report, indent=2, ensure_ascii=False, allow_nan=False, default=float) + "\n"


def _command(report: dict) -> str:
    return report.get("command") or f"attnflow check --profile {report['profile']} --seed {report['seed']}"


def _md_cell(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def to_markdown(report: dict, runs: Sequence[ClaimRun] | None = None) -> str:
    """Markdown version of a report: a summary line, the table, then one section per claim.

    If ``runs`` are given, each section also shows the claim's statement, source and tolerance.
    """
    claims = report["claims"]
    n_ok = sum(c["ok"] for c in claims)
    lines = [
        "# attnflow check",
        "",
        f"**{'OK' if report['ok'] else 'NOT OK'}**: {n_ok}/{len(claims)} claims match their expectation "
        f"(profile `{report['profile']}`, seed {report['seed']}; replay with "
        f"`{_command(report)}`).",
        "",
        *([f"Versions: {', '.join(f'{k} {v}' for k, v in report['versions'].items())}.", ""]
          if report.get("versions") else []),
        "| id | expect | outcome | ok | examples | seconds | detail |",
        "|---|---|---|---|---:|---:|---|",
    ]
    for c in claims:
        lines.append(
            f"| `{c['id']}` | {c['expect']} | {c['outcome']} | {'yes' if c['ok'] else '**no**'} | "
            f"{c['examples']} | {c['seconds']:.2f} | {_md_cell(c['detail'])} |"
        )
    lines.append("")
    by_id = {r.claim.id: r for r in runs or []}
    for c in claims:
        lines += [f"## {c['id']}", ""]
        r = by_id.get(c["id"])
        if r is not None:
            lines += [f"{r.claim.title}.", ""]
            if r.claim.statement.strip():
                lines += ["```math", r.claim.statement.strip(), "```", ""]
            lines += [f"- source: {r.claim.source}", f"- tolerance: {r.claim.tolerance}"]
        lines.append(f"- expectation `{c['expect']}`, outcome `{c['outcome']}` ({'ok' if c['ok'] else 'NOT ok'})")
        lines.append(f"- detail: {c['detail']}")
        if "fitted" in c:
            f = c["fitted"]
            th = f" vs theory {f['theory_min']:.6g}..{f['theory_max']:.6g}" if "theory_min" in f else ""
            lines.append(f"- fitted rate: {f['min']:.6g}..{f['max']:.6g}{th}")
        if "counterexample" in c:
            lines.append(f"- counterexample: `{c['counterexample']}`")
        if "replay" in c:
            lines.append(f"- replay: `{c['replay']}`")
        if "finding" in c:
            lines.append(f"- **finding**: {c['finding']}")
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def format_findings(runs: Sequence[ClaimRun]) -> str:
    """The statements of the cited sources that attnflow refuted, one paragraph each ('' if none)."""
    rows = [r for r in runs if r.claim.finding]
    if not rows:
        return ""
    lines = ["Findings (statements of the cited sources refuted by attnflow; kept as expect=fails):"]
    for r in rows:
        status = "counterexample found again" if r.outcome == "fails" else f"outcome {r.outcome}"
        lines.append(f"  - {r.claim.id} [{status}]: {r.claim.finding}")
    return "\n".join(lines)


def _shorten(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 3] + "..."


def format_table(runs: Sequence[ClaimRun], detail_width: int = 150) -> str:
    """Plain-text table: id, expect, outcome, examples, seconds, detail (marking mismatches with ``!``)."""
    header = ("id", "expect", "outcome", "examples", "seconds", "detail")
    rows = [
        (
            r.claim.id,
            r.claim.expect,
            r.outcome + ("" if r.ok else " !"),
            str(r.examples),
            f"{r.seconds:.2f}",
            _shorten(r.detail, detail_width),
        )
        for r in runs
    ]
    widths = [max(len(h), *(len(row[i]) for row in rows)) if rows else len(h) for i, h in enumerate(header)]
    right = {3, 4}

    def fmt(row) -> str:
        cells = [c.rjust(w) if i in right else c.ljust(w) for i, (c, w) in enumerate(zip(row, widths))]
        cells[-1] = row[-1]
        return "  ".join(cells).rstrip()

    out = [fmt(header), fmt(tuple("-" * w for w in widths))]
    out += [fmt(row) for row in rows]
    return "\n".join(out)


def to_html(report: dict, *, math=None, figure=None) -> str:
    """One self-contained HTML page of a report (see :mod:`attnflow.properties._html`).

    ``math`` and ``figure`` draw the statements and measurements: pass
    ``**attnflow.plotting.report_renderers()`` (the ``plot`` extra); without them the statements are
    shown as LaTeX source and there are no figures.
    """
    from attnflow.properties._html import render

    return render(report, math=math, figure=figure)


def write_report(path: str | os.PathLike, runs: Sequence[ClaimRun], profile: str, seed: int, *,
                 math=None, figure=None, command: str | None = None) -> Path:
    """Write the report to ``path`` atomically: JSON for ``.json``, Markdown for ``.md``, HTML for ``.html``.

    ``math``, ``figure``: the HTML renderers (:func:`to_html`).  ``command``: the command line that
    reproduces the run, recorded in the report (default: ``attnflow check --profile P --seed S``).
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in REPORT_SUFFIXES:
        raise ValueError(f"path: report file must end in .json, .md or .html, got {path.name!r}")
    report = report_dict(runs, profile, seed, command=command)
    if suffix == ".json":
        text = to_json(report)
    elif suffix == ".md":
        text = to_markdown(report, runs)
    else:
        text = to_html(report, math=math, figure=figure)
    parent = path.parent if str(path.parent) else Path(".")
    if not parent.is_dir():
        raise ValueError(f"path: directory {parent} does not exist; create it first")
    return atomic_write_text(path, text)
