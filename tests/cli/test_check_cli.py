"""``attnflow check``: exit codes, table, reports, bad input.  In-process through ``attnflow.cli.main``."""

import json
import subprocess
import sys

import pytest
from hypothesis import strategies as st

from attnflow.cli import main
from attnflow.properties import registry, report
from attnflow.properties.registry import Claim, require

FAST = ["cluster.stationary", "equiangular.closed_form.beta0"]


def _toy(check, expect, cid):
    return Claim(id=cid, title="toy", source="test", hypotheses=st.integers(0, 50), check=check,
                 expect=expect, tolerance="exact")


def test_list(capsys):
    assert main(["check", "--list"]) == 0
    out = capsys.readouterr().out
    for c in registry.all_claims():
        assert c.id in out
    assert main(["check", "--list", "--claim", "equiangular"]) == 0
    out = capsys.readouterr().out
    assert "equiangular.hitting_time" in out and "cluster.wendel" not in out


def test_run_selected_claims_exit_zero_and_json_report(tmp_path, capsys):
    path = tmp_path / "check.json"
    code = main(["check", "--claim", *FAST, "--seed", "5", "--report", str(path), "-q"])
    out = capsys.readouterr().out
    assert code == 0
    assert out.splitlines()[0].split() == ["id", "expect", "outcome", "examples", "seconds", "detail"]
    assert "2/2 claims match their expectation (OK)" in out and "seed 5" in out
    data = json.loads(path.read_text())
    assert tuple(data) == report.TOP_KEYS
    assert (data["schema"], data["schema_version"]) == ("attnflow-check-report", 2)
    assert (data["ok"], data["profile"], data["seed"]) == (True, "quick", 5)
    assert [c["id"] for c in data["claims"]] == FAST
    for row in data["claims"]:
        assert tuple(row)[: len(report.REQUIRED_KEYS)] == report.REQUIRED_KEYS
        assert set(row) <= set(report.REQUIRED_KEYS) | set(report.OPTIONAL_KEYS)
        assert row["outcome"] == "holds" and row["ok"] is True and row["examples"] == 5


def test_markdown_report(tmp_path, capsys):
    path = tmp_path / "check.md"
    assert main(["check", "--claim", "cluster.stationary", "--seed", "1", "--report", str(path), "-q"]) == 0
    text = path.read_text()
    assert "| `cluster.stationary` | holds | holds | yes |" in text
    assert "- tolerance:" in text and "```math" in text


def test_same_seed_same_report(tmp_path):
    a, b = tmp_path / "a.json", tmp_path / "b.json"
    for p in (a, b):
        assert main(["check", "--claim", "equiangular.hitting_time", "--seed", "9", "--report", str(p), "-q"]) == 0
    strip = lambda d: [{k: v for k, v in c.items() if k != "seconds"} for c in d["claims"]]  # noqa: E731
    assert strip(json.loads(a.read_text())) == strip(json.loads(b.read_text()))


def test_mismatch_exits_one(monkeypatch, tmp_path, capsys):
    def wrong(k):
        require(k < 10, f"k = {k}")
        return float(k)

    toys = [_toy(lambda k: 0.0, "holds", "toy.fine"), _toy(wrong, "holds", "toy.wrong"),
            _toy(wrong, "fails", "toy.negative")]
    monkeypatch.setattr(registry, "select_claims", lambda patterns: toys)
    path = tmp_path / "r.json"
    assert main(["check", "--seed", "3", "--report", str(path), "-q"]) == 1
    out = capsys.readouterr().out
    assert "2/3 claims match" in out and "NOT OK" in out
    assert "fails !" in out  # the holds-claim that failed is marked
    rows = {c["id"]: c for c in json.loads(path.read_text())["claims"]}
    assert rows["toy.wrong"]["ok"] is False and rows["toy.negative"]["ok"] is True
    assert rows["toy.negative"]["counterexample"] == "10"
    assert rows["toy.negative"]["counterexample_values"] == 10  # the shrunk example as a value, not text
    assert rows["toy.negative"]["replay"] == "attnflow check --claim toy.negative --seed 3"


def test_error_outcome_exits_one(monkeypatch, capsys):
    monkeypatch.setattr(registry, "select_claims", lambda patterns: [_toy(lambda k: 1 / 0, "holds", "toy.err")])
    assert main(["check", "--seed", "0", "-q"]) == 1
    assert "error !" in capsys.readouterr().out


@pytest.mark.parametrize(
    "argv, needle",
    [
        (["check", "--claim", "no.such.claim"], "--claim"),
        (["check", "--claim", "cluster.*", "zzz*"], "'zzz*'"),
        (["check", "--report", "out.txt"], "--report"),
    ],
)
def test_bad_input_exit_two(argv, needle, capsys):
    assert main(argv) == 2
    assert needle in capsys.readouterr().err


def test_bad_seed_and_profile_are_usage_errors(capsys):
    for argv in (["check", "--seed", "-1"], ["check", "--profile", "fast"]):
        with pytest.raises(SystemExit) as exc:
            main(argv)
        assert exc.value.code == 2


def test_report_into_missing_directory(tmp_path, capsys):
    code = main(["check", "--claim", "cluster.stationary", "--report", str(tmp_path / "nope" / "r.json"), "-q"])
    assert code == 2
    assert "--report" in capsys.readouterr().err


def test_console_script_entry_point():
    # the installed module entry point runs the same command
    proc = subprocess.run([sys.executable, "-m", "attnflow", "check", "--list"], capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0 and "cluster.wendel" in proc.stdout
