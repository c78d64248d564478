"""Reports of a registry run: a terminal table, JSON and Markdown (written atomically).

JSON schema::

    {"ok": bool, "profile": str, "seed": int,
     "claims": [{"id", "expect", "outcome", "ok", "examples", "seconds", "detail",
                 optional "measurement", "fitted", "counterexample", "replay"}]}

``ok`` is true iff every claim's outcome matches its expectation.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path

from attnflow._base.io import atomic_write_text
from attnflow.properties._runner import ClaimRun

__all__ = ["REQUIRED_KEYS", "OPTIONAL_KEYS", "report_dict", "to_json", "to_markdown", "format_table",
           "write_report"]

#: Keys every claim row carries, in order.
REQUIRED_KEYS = ("id", "expect", "outcome", "ok", "examples", "seconds", "detail")
#: Keys a claim row may carry in addition.
OPTIONAL_KEYS = ("measurement", "fitted", "counterexample", "replay", "finding")


def report_dict(runs: Sequence[ClaimRun], profile: str, seed: int) -> dict:
    """The report as a plain dict (see the module docstring for the schema)."""
    return {
        "ok": all(r.ok for r in runs),
        "profile": profile,
        "seed": seed,
        "claims": [r.to_dict() for r in runs],
    }


def to_json(report: dict) -> str:
    """JSON text of a report (2-space indent, trailing newline)."""
    return json.dumps(report, indent=2, ensure_ascii=False, allow_nan=False, default=float) + "\n"


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
        f"`attnflow check --profile {report['profile']} --seed {report['seed']}`).",
        "",
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


def write_report(path: str | os.PathLike, runs: Sequence[ClaimRun], profile: str, seed: int) -> Path:
    """Write the report to ``path`` atomically: JSON for ``.json``, Markdown for ``.md``."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in (".json", ".md"):
        raise ValueError(f"path: report file must end in .json or .md, got {path.name!r}")
    report = report_dict(runs, profile, seed)
    text = to_json(report) if suffix == ".json" else to_markdown(report, runs)
    parent = path.parent if str(path.parent) else Path(".")
    if not parent.is_dir():
        raise ValueError(f"path: directory {parent} does not exist; create it first")
    return atomic_write_text(path, text)
