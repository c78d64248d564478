"""The mutation report: kill rate, survivors, the mutants each claim killed (table and JSON).

JSON schema::

    {"profile": str, "seed": int, "created": UTC ISO 8601, "attnflow_version": str,
     "kill_rate": float, "killed": int, "survived": int, "errors": int,
     "mutants": [{"id", "file", "description", "expect", "status", "how", "killed_by", "claims_run",
                  "regenerated", "seconds", "detail"}],
     "claims": {claim id: [mutant ids it killed]},
     "claims_without_kill": [claim ids that killed no mutant and check no listed external fact],
     "external_facts": {claim id: fact}, "baseline": {"not_ok": {claim id: outcome}, "seconds": float}}

Every run of ``attnflow mutate`` also keeps its report as the *last report*
(:func:`last_report_path`: ``$ATTNFLOW_MUTATION_REPORT``, default ``~/.cache/attnflow/mutate-last.json``);
``attnflow export`` records from it, per exported kernel, the mutants its claims killed
(:func:`kernel_mutants`; manifest fields ``mutation`` and ``mutants_killed``, docs/report-schema.md).
"""

from __future__ import annotations

import datetime
import json
import os
from collections.abc import Iterable, Sequence
from pathlib import Path

from attnflow._base.io import atomic_write_text
from attnflow.mutation._catalogue import EXTERNAL_FACTS
from attnflow.mutation._run import Baseline, MutantRun

__all__ = ["report_dict", "format_table", "write_report", "kill_rate", "last_report_path", "save_last_report",
           "read_report", "kernel_mutants", "report_summary"]

#: Environment variable naming the file of the last report (default ``~/.cache/attnflow/mutate-last.json``).
LAST_REPORT_ENV = "ATTNFLOW_MUTATION_REPORT"


def kill_rate(runs: Sequence[MutantRun]) -> float:
    """Killed / (killed + survived); mutants in error are excluded (and reported)."""
    judged = [r for r in runs if r.status in ("killed", "survived")]
    return sum(r.status == "killed" for r in judged) / len(judged) if judged else float("nan")


def report_dict(runs: Sequence[MutantRun], baseline: Baseline, profile: str, seed: int) -> dict:
    """The report as a plain dict (see the module docstring)."""
    claims: dict[str, list[str]] = {c: [] for c in baseline.all_ids}  # every registered claim, run or not
    for r in runs:
        for c in r.claims:
            claims.setdefault(c, [])
        for c in r.killed_by:
            claims.setdefault(c, []).append(r.mutant.id)
    without = sorted(c for c, ms in claims.items() if not ms and c not in EXTERNAL_FACTS)
    rate = kill_rate(runs)
    from attnflow._version import __version__

    return {
        "profile": profile,
        "seed": seed,
        "created": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "attnflow_version": __version__,
        "kill_rate": None if rate != rate else round(rate, 4),
        "killed": sum(r.status == "killed" for r in runs),
        "survived": sum(r.status == "survived" for r in runs),
        "errors": sum(r.status == "error" for r in runs),
        "mutants": [r.to_dict() for r in runs],
        "claims": {c: claims[c] for c in sorted(claims)},
        "claims_without_kill": without,
        "external_facts": dict(EXTERNAL_FACTS),
        "baseline": {"not_ok": baseline.not_ok, "seconds": round(baseline.seconds, 1)},
    }


def format_table(report: dict) -> str:
    """Terminal text: mutant | status | claims that killed it; then claim | mutants killed; summary."""
    rows = [("mutant", "status", "killed by")]
    for m in report["mutants"]:
        how = m["how"] if m["how"] and m["how"] != "claims" else ""
        killers = ", ".join(m["killed_by"]) or (m["detail"][:80] if m["status"] != "killed" else "")
        rows.append((m["id"], m["status"] + (f" ({how})" if how else ""), killers))
    w0 = max(len(r[0]) for r in rows)
    w1 = max(len(r[1]) for r in rows)
    lines = [f"{a.ljust(w0)}  {b.ljust(w1)}  {c}" for a, b, c in rows]
    lines.insert(1, "-" * (w0 + w1 + 14))
    lines += ["", "claim -> mutants it killed"]
    wc = max((len(c) for c in report["claims"]), default=5)
    for c, ms in report["claims"].items():
        mark = ", ".join(ms) if ms else ("(external fact)" if c in report["external_facts"] else "-")
        lines.append(f"{c.ljust(wc)}  {mark}")
    rate = report["kill_rate"]
    lines += ["", f"kill rate {'n/a' if rate is None else f'{100 * rate:.1f}%'}: {report['killed']} killed, "
              f"{report['survived']} survived, {report['errors']} errors (profile {report['profile']}, "
              f"seed {report['seed']})"]
    surv = [m["id"] for m in report["mutants"] if m["status"] == "survived"]
    if surv:
        lines.append("survivors: " + ", ".join(surv))
    if report["baseline"]["not_ok"]:
        lines.append("claims not matching their expectation on the unmutated copy (excluded): "
                     + ", ".join(sorted(report["baseline"]["not_ok"])))
    return "\n".join(lines)


def write_report(path: str | os.PathLike, report: dict, *, force: bool = False) -> Path:
    """Write the JSON report atomically; refuse to overwrite unless ``force``."""
    target = Path(path)
    if target.suffix.lower() != ".json":
        raise ValueError(f"--report: {str(path)!r} must end in .json (e.g. --report mutate.json)")
    if target.exists() and not force:
        raise ValueError(f"--report: {target} exists; pass --force to overwrite it")
    atomic_write_text(target, json.dumps(report, indent=2, ensure_ascii=False) + "\n")
    return target


def last_report_path() -> Path:
    """Where ``attnflow mutate`` keeps its last report: ``$ATTNFLOW_MUTATION_REPORT`` or
    ``~/.cache/attnflow/mutate-last.json``."""
    env = os.environ.get(LAST_REPORT_ENV)
    return Path(env) if env else Path.home() / ".cache" / "attnflow" / "mutate-last.json"


def save_last_report(report: dict) -> Path:
    """Keep ``report`` as the last report (atomic write, the folder created if needed); return its path."""
    path = last_report_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(path, json.dumps(report, indent=2, ensure_ascii=False) + "\n")
    return path


def read_report(path: str | os.PathLike, *, option: str = "--mutation-report") -> dict:
    """Read a report written by ``attnflow mutate``; ``ValueError`` naming ``option`` unless it is one."""
    target = Path(path)
    try:
        data = json.loads(target.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ValueError(f"{option}: {target} does not exist; write one with `attnflow mutate --report PATH`") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"{option}: {target} is not a readable JSON mutation report ({exc}); "
                         "write one with `attnflow mutate --report PATH`") from None
    if not (isinstance(data, dict) and isinstance(data.get("claims"), dict) and isinstance(data.get("mutants"), list)
            and all(isinstance(m, dict) and isinstance(m.get("id"), str) for m in data["mutants"])):
        raise ValueError(f"{option}: {target} is not an `attnflow mutate` report (needs 'claims' and 'mutants'); "
                         "write one with `attnflow mutate --report PATH`")
    return data


def report_summary(report: dict, path: str | os.PathLike) -> dict:
    """What an export records about the report it read (``manifest.json`` ``mutation``)."""
    return {"report": str(path), "created": report.get("created"), "attnflow_version": report.get("attnflow_version"),
            "profile": report.get("profile"), "seed": report.get("seed"), "kill_rate": report.get("kill_rate"),
            "mutants_run": len(report["mutants"]), "killed": report.get("killed"), "survived": report.get("survived")}


def kernel_mutants(report: dict, claim_ids: Iterable[str]) -> list[dict]:
    """The mutants of ``report`` killed by any of ``claim_ids`` (a kernel's claims), in report order:
    ``[{"id", "description", "killed_by": [those of claim_ids that killed it]}]``."""
    ids = set(claim_ids)
    out = []
    for m in report["mutants"]:
        killers = [c for c in m.get("killed_by", []) if c in ids]
        if killers:
            out.append({"id": m["id"], "description": m.get("description", ""), "killed_by": killers})
    return out
