"""Run the mutants: baseline on a pristine copy, then one copy per mutant, claims in a subprocess.

Outcome of a mutant:

``killed``
    a claim that matched its expectation on the pristine copy does not on the mutated copy
    (``killed_by`` lists them), or the check crashed (``how="crash"``) or overran its time budget
    (``how="timeout"``);
``survived``
    every claim run still matches its expectation;
``error``
    the harness could not judge it (catalogue drift, the copy not imported, regeneration failed,
    a generator mutant that changes no generated kernel).
"""

from __future__ import annotations

import dataclasses
import fnmatch
import json
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from attnflow._base.io import deferred_signals
from attnflow._base.progress import progress_bar
from attnflow.mutation._catalogue import Mutant
from attnflow.mutation._sandbox import (
    BOOT,
    NOT_THE_COPY,
    CatalogueDrift,
    apply_mutant,
    check_mutant,
    make_copy,
    package_dirs,
    regenerate,
    subprocess_env,
)

__all__ = ["MutantRun", "Baseline", "expand_globs", "run_mutants"]


@dataclasses.dataclass
class MutantRun:
    """What happened to one mutant (see the module docstring for ``status``)."""

    mutant: Mutant
    status: str
    how: str = ""
    killed_by: list[str] = dataclasses.field(default_factory=list)
    claims: list[str] = dataclasses.field(default_factory=list)
    regenerated: list[str] = dataclasses.field(default_factory=list)
    seconds: float = 0.0
    detail: str = ""

    def to_dict(self) -> dict:
        m = self.mutant
        return {"id": m.id, "file": m.file, "description": m.description, "expect": list(m.expect),
                "status": self.status, "how": self.how, "killed_by": self.killed_by, "claims_run": self.claims,
                "regenerated": self.regenerated, "seconds": round(self.seconds, 2), "detail": self.detail}


@dataclasses.dataclass
class Baseline:
    """The pristine copy's run: every claim id, those run, and those that did not match their expectation."""

    all_ids: list[str]
    ok: list[str]
    not_ok: dict[str, str]
    seconds: float


def expand_globs(globs: Sequence[str], ids: Sequence[str]) -> tuple[list[str], list[str]]:
    """Claim ids matched by ``globs`` (as ``attnflow check --claim``) and the globs matching nothing."""
    chosen, unmatched = [], []
    for g in globs:
        hits = [i for i in ids if fnmatch.fnmatchcase(i, g) or i.startswith(g + ".")]
        if not hits:
            unmatched.append(g)
        chosen += [h for h in hits if h not in chosen]
    return [i for i in ids if i in chosen], unmatched


def _cli(src: Path, args: list[str], work: Path, timeout: float) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", BOOT, str(src), *args], cwd=work, env=subprocess_env(work),
                          capture_output=True, text=True, timeout=timeout)


def _tail(text: str, n: int = 600) -> str:
    text = text.strip()
    return text if len(text) <= n else "..." + text[-n:]


def _check(src: Path, work: Path, claims: list[str], profile: str, seed: int, timeout: float) -> tuple[int, dict | None, str]:
    """Run ``attnflow check`` on ``claims`` in the copy; (exit code, report or None, stderr tail)."""
    report = work / "check.json"
    proc = _cli(src, ["check", "--profile", profile, "--seed", str(seed), "-q", "--report", str(report),
                      "--claim", *claims], work, timeout)
    data = json.loads(report.read_text(encoding="utf-8")) if report.is_file() else None
    return proc.returncode, data, _tail(proc.stderr or proc.stdout)


def _list_claims(src: Path, work: Path) -> list[str]:
    proc = _cli(src, ["check", "--list"], work, 600)
    if proc.returncode == NOT_THE_COPY:
        raise RuntimeError(proc.stderr.strip())
    if proc.returncode != 0:
        raise RuntimeError(f"`attnflow check --list` failed in the copy: {_tail(proc.stderr)}")
    return [line.split()[0] for line in proc.stdout.splitlines() if line.strip()]


def run_mutants(
    mutants: Sequence[Mutant],
    root: Path,
    *,
    profile: str = "quick",
    seed: int = 0,
    all_claims: bool = False,
    confirm_survivors: bool = False,
    timeout_factor: float = 4.0,
    workdir: Path | None = None,
    log: Callable[[str], None] = lambda s: None,
    progress: bool | None = None,
) -> tuple[list[MutantRun], Baseline]:
    """Run each mutant against its expected claims (or every claim) in its own copy of ``root``.

    Parameters
    ----------
    mutants : the mutants (each checked for drift first: nothing runs if one drifted).
    root : the source checkout (``pyproject.toml`` and the package folders); only read.
    profile, seed : of ``attnflow check`` (the claims' Hypothesis profile and seed).
    all_claims : run every claim for every mutant (attribution to all claims; slow).
    confirm_survivors : re-run a survivor against every claim before calling it a survivor.
    timeout_factor : a mutant's run may take this many times the baseline time of its claims (+ 300 s: recompiling the mutated kernels).
    workdir : folder for the copies (default: a fresh temporary folder, removed at the end).
    log : called with one line per event (the baseline, each mutant as it starts and ends).
    progress : a tqdm bar of mutants done on stderr: None (default) automatic, True always, False never
        (:mod:`attnflow._base.progress`).
    """
    root = Path(root).resolve()
    drift = []
    for m in mutants:
        try:
            check_mutant(m, root)
        except CatalogueDrift as exc:
            drift.append(str(exc))
    if drift:
        raise CatalogueDrift("catalogue drift:\n  " + "\n  ".join(drift))
    pairs = package_dirs(root)
    owned = workdir is None
    work = None
    try:
        # created and recorded with SIGINT/SIGTERM deferred: an interrupt cannot fall between the two
        with deferred_signals():
            work = Path(tempfile.mkdtemp(prefix="attnflow-mutate-")) if owned else Path(workdir)
        work.mkdir(parents=True, exist_ok=True)
        base = work / "baseline"
        src = make_copy(root, base)
        ids = _list_claims(src, base)
        wanted: dict[str, list[str]] = {}
        for m in mutants:
            wanted[m.id] = list(ids) if all_claims else expand_globs(m.expect, ids)[0]
        union = [i for i in ids if any(i in w for w in wanted.values())]
        if confirm_survivors:
            union = list(ids)
        t0 = time.perf_counter()
        log(f"baseline: {len(union)} claims on the unmutated copy")
        rc, data, err = _check(src, base, union, profile, seed, timeout=3600) if union else (0, {"claims": []}, "")
        if data is None:
            raise RuntimeError(f"baseline `attnflow check` crashed on the unmutated copy (exit {rc}): {err}")
        rows = {c["id"]: c for c in data["claims"]}
        baseline = Baseline(ids, [i for i in union if rows[i]["ok"]],
                            {i: rows[i]["outcome"] for i in union if not rows[i]["ok"]}, time.perf_counter() - t0)
        seconds = {i: rows[i]["seconds"] for i in union}
        if baseline.not_ok:
            log(f"baseline: claims not matching their expectation (excluded): {sorted(baseline.not_ok)}")
        runs = []
        bar = progress_bar(progress, total=len(mutants), desc="mutants", unit="mutant")
        try:
            for k, m in enumerate(mutants, 1):
                claims = [c for c in wanted[m.id] if c in baseline.ok]
                log(f"[{k}/{len(mutants)}] {m.id}: {len(claims)} claims")
                run = _run_one(m, base, work / f"m{k:03d}", pairs, claims, profile, seed,
                               timeout_factor * sum(seconds.get(c, 0.0) for c in claims) + 300.0)
                if run.status == "survived" and confirm_survivors and not all_claims:
                    rest = [c for c in baseline.ok if c not in claims]
                    if rest:
                        log(f"    survived; confirming against all {len(baseline.ok)} claims")
                        run2 = _run_one(m, base, work / f"m{k:03d}b", pairs, baseline.ok, profile, seed,
                                        timeout_factor * sum(seconds.get(c, 0.0) for c in baseline.ok) + 300.0)
                        run2.seconds += run.seconds
                        run = run2
                log(f"    {run.status} {run.how} {' '.join(run.killed_by)} ({run.seconds:.0f} s)")
                runs.append(run)
                bar.update(1)
        finally:
            bar.close()
        return runs, baseline
    finally:
        # SIGTERM is Terminated under the CLI (attnflow._base.io), so this runs on kill as on Ctrl-C;
        # the removal itself is not interruptible (a second signal would leave the folder behind)
        if owned and work is not None:
            with deferred_signals():
                shutil.rmtree(work, ignore_errors=True)


def _run_one(m: Mutant, base: Path, dest: Path, pairs, claims: list[str], profile: str, seed: int,
             timeout: float) -> MutantRun:
    t0 = time.perf_counter()
    run = MutantRun(m, "survived", claims=list(claims))
    try:
        shutil.copytree(base / "src", dest / "src", copy_function=shutil.copy2)
        apply_mutant(m, dest, pairs)
        if m.regenerates:
            try:
                run.regenerated = regenerate(dest, pairs)
            except RuntimeError as exc:
                run.status, run.how, run.detail = "error", "regenerate", str(exc)
                return run
            if not run.regenerated and m.file.startswith("symbolic/codegen/"):
                run.status, run.how, run.detail = "error", "no-op", "the generator mutant changes no generated kernel"
                return run
        if not claims:
            run.detail = "no claim matches the expected globs"
            return run
        try:
            rc, data, err = _check(dest / "src", dest, claims, profile, seed, timeout)
        except subprocess.TimeoutExpired:
            run.status, run.how, run.detail = "killed", "timeout", f"claims did not finish within {timeout:.0f} s"
            return run
        if rc == NOT_THE_COPY:
            run.status, run.how, run.detail = "error", "not-the-copy", err
        elif data is None:
            run.status, run.how, run.detail = "killed", "crash", f"attnflow check exited {rc}: {err}"
        else:
            run.killed_by = [c["id"] for c in data["claims"] if not c["ok"]]
            if run.killed_by:
                run.status, run.how = "killed", "claims"
                run.detail = "; ".join(f"{c['id']}: {c['outcome']} {c['detail'][:160]}"
                                       for c in data["claims"] if not c["ok"])
        return run
    finally:
        run.seconds = time.perf_counter() - t0
        with deferred_signals():
            shutil.rmtree(dest, ignore_errors=True)
