"""The mutation harness: catalogue drift, the private copy (the user's tree is untouched, the copy is
what a subprocess imports), the CLI's argument errors, and (slow) mutants killed end to end."""

from __future__ import annotations

import dataclasses
import hashlib
import subprocess
import sys
from pathlib import Path

import pytest

from attnflow import mutation
from attnflow.commands import mutate as mutate_cmd
from attnflow.mutation import _sandbox
from attnflow.mutation._report import report_dict
from attnflow.mutation._run import Baseline, MutantRun

ROOT = Path(__file__).resolve().parents[2]


def _tree_digest(root: Path) -> dict[str, str]:
    out = {}
    for folder, _ in _sandbox.package_dirs(root):
        for p in sorted((root / folder).rglob("*.py")):
            out[str(p.relative_to(root))] = hashlib.sha256(p.read_bytes()).hexdigest()
    return out


def test_every_mutant_applies_exactly_once():
    for m in mutation.CATALOGUE:
        mutation.check_mutant(m, ROOT)  # raises CatalogueDrift otherwise
    ids = [m.id for m in mutation.CATALOGUE]
    assert len(ids) == len(set(ids))
    assert mutation.QUICK and set(mutation.QUICK) <= set(ids)


def test_drift_is_an_error_naming_the_mutant():
    m = mutation.CATALOGUE[0]
    missing = dataclasses.replace(m, original="this text is nowhere in the file")
    with pytest.raises(mutation.CatalogueDrift, match=f"mutant {m.id}: original text .* occurs 0 times"):
        mutation.check_mutant(missing, ROOT)
    twice = mutation.Mutant("twice", "numerics/_generated/sa.py", "out[i, k] = -XA*x[i, k] + acc[k]", "x",
                            "occurs in the parallel kernel, its serial twin, the small-system kernels and the "
                            "rows-in-lanes kernels", ("energy",))
    count = (ROOT / "numerics/_generated/sa.py").read_text().count(twice.original)
    assert count > 1
    with pytest.raises(mutation.CatalogueDrift, match=rf"occurs {count} times in numerics/_generated/sa.py \(need exactly 1\)"):
        mutation.check_mutant(twice, ROOT)
    with pytest.raises(mutation.CatalogueDrift, match="does not exist"):
        mutation.check_mutant(dataclasses.replace(m, file="numerics/no_such_file.py"), ROOT)


def test_mutant_fields_are_validated():
    with pytest.raises(ValueError, match="expect"):
        mutation.Mutant("a-b", "numerics/x.py", "a", "b", "d", ())
    with pytest.raises(ValueError, match="kebab"):
        mutation.Mutant("A_B", "numerics/x.py", "a", "b", "d", ("energy",))
    with pytest.raises(ValueError, match="unknown id"):
        mutation.catalogue("full", ["no-such-mutant"])


def test_copy_is_mutated_and_imported_and_the_users_tree_is_untouched(tmp_path):
    before = _tree_digest(ROOT)
    pairs = _sandbox.package_dirs(ROOT)
    src = mutation.make_copy(ROOT, tmp_path)
    version = mutation.Mutant("version", "attnflow/_version.py", '__version__ = "', '__version__ = "9.9.9+mutant',
                              "a visible change", ("energy",))
    mutated = mutation.apply_mutant(version, tmp_path, pairs)
    assert mutated == tmp_path / "src/attnflow/_version.py"
    assert (tmp_path / "src/attnflow/symbolic/equiangular.py").is_file()  # package-dir layout
    proc = subprocess.run([sys.executable, "-c", _sandbox.BOOT, str(src), "--version"], cwd=tmp_path,
                          env=_sandbox.subprocess_env(tmp_path), capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "9.9.9+mutant" in proc.stdout  # the mutated copy is what ran
    assert _tree_digest(ROOT) == before  # the user's files are untouched


def test_report_attributes_kills_and_lists_claims_without_kill():
    a = mutation.CATALOGUE[0]
    b = mutation.CATALOGUE[1]
    runs = [MutantRun(a, "killed", "claims", killed_by=["energy.dissipation.sa"],
                      claims=["energy.dissipation.sa", "energy.monotone.sa"]),
            MutantRun(b, "survived", claims=["kernel.large_beta", "cluster.wendel"])]
    rep = report_dict(runs, Baseline(["spectral.consensus"], [], {}, 0.0), "quick", 0)
    assert rep["kill_rate"] == 0.5 and rep["killed"] == 1 and rep["survived"] == 1
    assert rep["claims"]["energy.dissipation.sa"] == [a.id]
    # wendel checks an external fact; spectral.consensus was not run but is registered
    assert rep["claims_without_kill"] == ["energy.monotone.sa", "kernel.large_beta", "spectral.consensus"]
    text = mutation.format_table(rep)
    assert "survivors: " + b.id in text and "kill rate 50.0%" in text


@pytest.mark.parametrize("argv, match", [
    (["mutate", "--report", "out.txt"], "--report: 'out.txt' must end in .json"),
    (["mutate", "--mutant", "nope"], "--mutant: unknown id"),
])
def test_cli_errors_name_the_option(argv, match, capsys):
    from attnflow.cli import main

    assert main(argv) == 2
    assert match in capsys.readouterr().err


def test_cli_lists_the_catalogue(capsys):
    from attnflow.cli import main

    assert main(["mutate", "--list", "--profile", "full"]) == 0
    out = capsys.readouterr().out
    assert all(m.id in out for m in mutation.CATALOGUE)


def test_declaration_mutants_target_model_claims():
    ms = mutation.declaration_mutants("sa", "symbolic/models/builtin/sa.py",
                                      energy="    energy=sp.exp(beta * s) / beta,")
    assert {m.expect for m in ms} == {("model.sa.*",)}
    for m in ms:
        mutation.check_mutant(m, ROOT)


@pytest.mark.slow
@pytest.mark.parametrize("mutant_id", ["uniform-energy-factor", "equiangular-stated-rho-dot", "retrieval-graphon",
                                       "qkv-swap-qk", "sa-serial-no-online-max", "rk4-weight", "rk4-stage",
                                       "oracle-projection", "long-context-stated", "wasserstein-assignment-mean",
                                       # mutants of the claims that killed none before (cheap claims)
                                       "long-context-limit-critical", "variation-first-factor",
                                       "retrieval-slope-sign-lam0", "spectral-corrected-branch-sign",
                                       "interp-reported-w2-initial", "usa-auto-normalisation"])
def test_the_new_and_fixed_claims_kill_their_mutant(mutant_id, tmp_path):
    def caches():  # the user's numba and bytecode caches: names and modification times
        return {str(p): p.stat().st_mtime_ns for p in ROOT.glob("numerics/**/__pycache__/*")}

    before, sources = caches(), _tree_digest(ROOT)
    runs, baseline = mutation.run_mutants(mutation.catalogue("full", [mutant_id]), ROOT, workdir=tmp_path)
    assert caches() == before and _tree_digest(ROOT) == sources  # compiled and mutated in the copy only
    assert not baseline.not_ok
    assert runs[0].status == "killed", runs[0].detail
    assert runs[0].how == "claims" and runs[0].killed_by


def test_sigterm_removes_the_temporary_folder(tmp_path):
    # a running `attnflow mutate` (its private copy made, a claim subprocess under way) is sent SIGTERM:
    # it must exit 143 and leave nothing in its temporary folder's parent
    import os
    import signal
    import time

    env = dict(os.environ, TMPDIR=str(tmp_path))
    proc = subprocess.Popen([sys.executable, "-m", "attnflow", "mutate", "--mutant", "rk4-weight", "-q",
                             "--root", str(ROOT)], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        while not list(tmp_path.glob("attnflow-mutate-*/baseline/src")) and time.monotonic() < deadline:
            assert proc.poll() is None, proc.communicate()
            time.sleep(0.05)
        assert list(tmp_path.glob("attnflow-mutate-*")), "mutate never created its temporary folder"
        time.sleep(0.5)  # inside the copy or its first subprocess
        proc.send_signal(signal.SIGTERM)
        _out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 143, err
    assert "terminated" in err
    assert list(tmp_path.iterdir()) == []


def test_progress_bar_counts_the_mutants_and_the_log_names_each(tmp_path, monkeypatch, capsys):
    # the harness around the subprocesses, with the copy and the claim runs replaced by stand-ins:
    # a bar over the two mutants (progress=True), and one log line per mutant as it starts and ends
    from attnflow.mutation import _run

    mutants = mutation.catalogue("quick")[:2]
    monkeypatch.setattr(_run, "make_copy", lambda root, dest: dest)
    monkeypatch.setattr(_run, "_list_claims", lambda src, work: ["a.claim"])
    monkeypatch.setattr(_run, "_check", lambda *a, **k: (0, {"claims": [{"id": "a.claim", "ok": True,
                                                                         "outcome": "holds", "seconds": 0.1}]}, ""))
    monkeypatch.setattr(_run, "_run_one", lambda m, *a: MutantRun(m, "killed", how="claim", killed_by=["a.claim"]))
    bars = []

    def recording_bar(progress, *a, **k):
        bar = recording_bar.__wrapped__(progress, *a, **k)
        bars.append((bar, bar.disable))  # shown or not, as created (close() disables it)
        return bar

    recording_bar.__wrapped__ = _run.progress_bar
    monkeypatch.setattr(_run, "progress_bar", recording_bar)
    lines = []
    runs, _ = mutation.run_mutants(mutants, ROOT, workdir=tmp_path, log=lines.append, progress=True)
    assert [r.status for r in runs] == ["killed", "killed"]
    assert [ln for ln in lines if ln.startswith("[")] == [f"[{k}/2] {m.id}: 0 claims" for k, m in enumerate(mutants, 1)]
    assert [(b.total, b.n, off) for b, off in bars] == [(2, 2, False)]
    assert "mutants" in capsys.readouterr().err
