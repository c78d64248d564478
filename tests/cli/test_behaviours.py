"""One behaviour for every command (attnflow.commands._common): the table commands x behaviours.

Rows: every sub-command of ``attnflow --help``.  Columns: a progress control (``--quiet/-q``; the bar
itself is automatic on a terminal), ``--force``, refusing an existing output *before computing*
(the compute step is replaced by one that fails the test if called), a missing parent folder refused
the same way everywhere (never created), and a reproduce line that, parsed back, gives the same
result-changing options.  All in-process and cheap (no claim, sweep or mutant actually runs except
the few-millisecond runs of the reproduce column).
"""

from __future__ import annotations

import shlex
from pathlib import Path

import pytest

from attnflow.cli import COMMANDS, build_parser, main

ROOT = Path(__file__).resolve().parents[2]
SPEC = str(ROOT / "examples" / "sweeps" / "phase_diagram_small.toml")


def _subparsers():
    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    return sub.choices


def _options(p):
    return {o for a in p._actions for o in a.option_strings}


def test_every_command_has_quiet_and_force():
    subs = _subparsers()
    assert sorted(subs) == sorted(COMMANDS)
    for name, p in subs.items():
        assert {"--quiet", "-q"} <= _options(p), name
        assert "--force" in _options(p), name


def _never(*args, **kwargs):
    raise AssertionError("computed although the output was refused")


# command -> (argv with {out} for the output path, what would compute (module, attribute), output kind)
CASES = {
    "simulate": (["simulate", "--n", "4", "--t-final", "0.1", "--save", "{out}.npz"],
                 ("attnflow.numerics.simulate", "simulate"), "file"),
    "simulate-plot": (["simulate", "--n", "4", "--t-final", "0.1", "--plot", "{out}.png"],
                      ("attnflow.numerics.simulate", "simulate"), "file"),
    "check": (["check", "--claim", "energy.variation.first", "--report", "{out}.json"],
              ("attnflow.properties.registry", "run_claims"), "file"),
    "profile": (["profile", "--plot", "{out}.png"], ("attnflow.commands.profile", "report"), "file"),
    "interpolate": (["interpolate", "--n", "5", "--plot", "{out}.png"],
                    ("attnflow.numerics.interpolation", "construct_dirac_interpolation"), "file"),
    "export": (["export", "sa", "--out", "{out}"], ("attnflow.export._export", "verify_kernels"), "folder"),
    "sweep": (["sweep", SPEC, "--out", "{out}.zarr"], ("attnflow.sweeps._run", "_client"), "folder"),
    "sweep-plot": (["sweep", SPEC, "--out", "{dir}/new.zarr", "--plot", "{out}.png"],
                   ("attnflow.sweeps", "sweep"), "file"),
    "mutate": (["mutate", "--mutant", "sa-serial-projection", "--report", "{out}.json"], ("attnflow.mutation", "run_mutants"), "file"),
    "derive": (["derive", "--models", str(ROOT / "tests" / "data" / "user_models.py"), "--out", "{out}"],
               ("attnflow.symbolic.models", "derive_model"), "folder"),
}


def _argv(case, out: Path):
    return [a.replace("{out}", str(out)).replace("{dir}", str(out.parent)) for a in case[0]]


def _output(argv):
    return Path(next(a for a in argv if a.startswith("/") and ("out" in Path(a).name or a.endswith((".png", ".json")))
                     and "tests" not in a and "examples" not in a))


@pytest.fixture
def patched(monkeypatch):
    import importlib

    def patch(case):
        mod, attr = case[1]
        monkeypatch.setattr(importlib.import_module(mod), attr, _never)
    return patch


@pytest.fixture(autouse=True, scope="module")
def _unregister_user_models():
    yield
    import attnflow.models as am
    from attnflow.properties import registry

    from attnflow import export

    for n in ("sigmoid", "sigmoid_qkv", "quadratic"):
        if n in am.names():
            am.unregister(n)
    registry.all_claims()
    export.sync_user_kernels()  # drop their export catalogue entries too


@pytest.mark.parametrize("name", sorted(CASES))
def test_existing_output_is_refused_before_computing_unless_force(name, tmp_path, patched, capsys):
    case = CASES[name]
    patched(case)
    argv = _argv(case, tmp_path / "out")
    target = _output(argv)
    if case[2] == "file":
        target.write_bytes(b"keep")
    else:
        target.mkdir()
        (target / "sigmoid.md").write_text("keep")  # derive's output; a foreign file for export and sweep
    assert main(argv) == 2, name
    err = capsys.readouterr().err
    assert err.startswith(f"attnflow {argv[0]}: error: --") and "--force" in err and err.count("\n") == 1, err
    assert (target.read_bytes() if target.is_file() else (target / "sigmoid.md").read_bytes()) == b"keep"


@pytest.mark.parametrize("name", sorted(CASES))
def test_missing_parent_folder_is_refused_the_same_way(name, tmp_path, patched, capsys):
    case = CASES[name]
    patched(case)
    argv = _argv(case, tmp_path / "no" / "such" / "out")
    assert main(argv) == 2, name
    err = capsys.readouterr().err
    assert "does not exist; create it first (mkdir -p " in err and str(tmp_path / "no") in err, err
    assert not (tmp_path / "no").exists()  # never created


def _reproduce(out: str) -> list[str]:
    line = next(ln for ln in out.splitlines() if ln.lower().startswith("reproduce: "))
    return shlex.split(line.split(": ", 1)[1].split("   (")[0])


@pytest.mark.parametrize("argv, result_options", [
    (["simulate", "--model", "ngpt", "--n", "5", "--t-final", "0.05", "--dt", "0.025", "--seed", "3", "--tol", "0.01",
      "--param", "alpha=2", "-q"], ["model", "n", "d", "beta", "t_final", "dt", "seed", "tol", "param", "start"]),
    (["profile", "--beta", "1.5", "--lam", "0.5", "--M", "4", "--t", "0.3", "--modes", "12"],
     ["beta", "lam", "M", "t", "modes", "sweep", "particles"]),
    (["check", "--claim", "energy.variation.first", "energy.variation.sec*", "--seed", "5", "-q"],
     ["claim", "profile", "seed"]),
])
def test_reproduce_line_repeats_every_result_option(argv, result_options, capsys):
    assert main(argv) == 0
    again = _reproduce(capsys.readouterr().out)
    assert again[:2] == ["attnflow", argv[0]]
    parser = build_parser()
    first, second = parser.parse_args(argv), parser.parse_args(again[1:])
    for dest in result_options:
        assert getattr(second, dest) == getattr(first, dest), dest
    if argv[0] == "check":  # the --claim filters survive (they were dropped before)
        assert again.count("--claim") == 2


def test_automatic_progress_is_off_off_a_terminal_and_inside_another_bar(monkeypatch):
    import io

    from attnflow._base import progress

    monkeypatch.setattr("sys.stderr", io.StringIO())
    assert progress.enabled(None) is False and progress.enabled(True) is True and progress.enabled(False) is False

    class Tty(io.StringIO):
        def isatty(self):
            return True

    monkeypatch.setattr("sys.stderr", Tty())
    assert progress.enabled(None) is True
    outer = progress.progress_bar(None, total=3)
    assert progress.enabled(None) is False  # nested automatic bars stay off
    outer.close()
    assert progress.enabled(None) is True
    monkeypatch.setenv("ATTNFLOW_PROGRESS", "0")
    assert progress.enabled(None) is False
    with pytest.raises(ValueError, match="^progress:"):
        progress.enabled("yes")
