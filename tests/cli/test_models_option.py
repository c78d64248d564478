"""``--models FILE`` on every sub-command: a user's declarations through simulate, check and the API.

In-process through ``attnflow.cli.main``; the user models (tests/data/user_models.py: sigmoid with mean
normalisation, sigmoid with Q/K/V matrices, the polynomial weight (1 + beta s)^2) are unregistered
after the module.
"""

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

import attnflow.models as am
from attnflow.cli import build_parser, main
from attnflow.numerics import energy, random_sphere, simulate
from attnflow.properties import registry

DATA = Path(__file__).resolve().parents[1] / "data"
USER = str(DATA / "user_models.py")
WRONG = str(DATA / "wrong_energy_models.py")
NAMES = ("sigmoid", "sigmoid_qkv", "quadratic", "sigmoid_wrong")


@pytest.fixture(scope="module", autouse=True)
def _cleanup():
    yield
    for n in NAMES:
        if n in am.names():
            am.unregister(n)
    registry.all_claims()


def test_every_subcommand_takes_models():
    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    for name, p in sub.choices.items():
        opt = [a for a in p._actions if "--models" in a.option_strings]
        assert len(opt) == 1, name
        assert opt[0].dest == "models" and opt[0].metavar == "FILE" and "RUNS the file" in opt[0].help
        assert p.parse_args(["--models", "a.py", "--models", "b.py"] + {"export": ["x"], "sweep": ["spec.toml", "--out", "o.zarr"]}.get(name, [])).models \
            == ["a.py", "b.py"]


def test_bad_models_files_are_clean_errors(tmp_path, capsys):
    assert main(["simulate", "--models", str(tmp_path / "missing.py"), "--model", "sigmoid"]) == 2
    assert "--models: " in capsys.readouterr().err
    empty = tmp_path / "empty.py"
    empty.write_text("x = 1\n")
    assert main(["check", "--models", str(empty), "--list"]) == 2
    err = capsys.readouterr().err
    assert "--models: " in err and "defines no model declaration" in err
    txt = tmp_path / "models.txt"
    txt.write_text("x = 1\n")
    assert main(["check", "--models", str(txt), "--list"]) == 2
    assert "not a Python file" in capsys.readouterr().err


@pytest.mark.parametrize("argv", [
    ["--model", "sigmoid", "--param", "b=0.5"],
    ["--model", "sigmoid_qkv", "--qkv-seed", "1", "--symmetric"],
    ["--model", "quadratic", "--beta", "0.5"],
])
def test_simulate_cli_user_models(argv, capsys):
    assert main(["simulate", "--models", USER, *argv, "--n", "8", "--t-final", "2", "--dt", "0.02"]) == 0
    out = capsys.readouterr().out
    assert f"model {argv[1]} (sphere)" in out
    e0, e1 = (float(v.rstrip(",")) for v in out.split("energy: start ")[1].split()[0:3:2])
    assert e1 >= e0  # gradient flows: the energy increases


def test_simulate_api_user_models_matches_the_declared_energy():
    am.load(USER, replace=True)
    x0 = random_sphere(6, 3, seed=2)
    traj = simulate("sigmoid", x0, beta=2.0, t_final=1.0, dt=0.01, b=0.5)
    # independent energy: E = 1/2 sum_ij softplus(beta s_ij + b) / beta, in NumPy
    s = traj.states[-1] @ traj.states[-1].T
    e = 0.5 * np.sum(np.logaddexp(0.0, 2.0 * s + 0.5)) / 2.0
    assert traj.energy[-1] == pytest.approx(e, rel=1e-12)
    assert np.all(np.diff(traj.energy) >= -1e-12 * traj.energy[1:])
    q = simulate("quadratic", x0, beta=1.0, t_final=0.5, dt=0.01)
    s = q.states[-1] @ q.states[-1].T
    assert q.energy[-1] == pytest.approx(0.5 * np.sum((1 + s) ** 3 / 3), rel=1e-12)
    rng = np.random.default_rng(0)
    Q, K, V = (rng.standard_normal((3, 3)) / np.sqrt(3) for _ in range(3))
    g = simulate("sigmoid_qkv", x0, beta=1.0, t_final=0.5, dt=0.01, Q=Q, K=K, V=V)
    assert g.energy is None and "Q^T K = V = V^T" in g.energy_note  # general matrices: no energy
    with pytest.raises(ValueError, match="Q\\^T K = V = V\\^T"):
        energy(x0, model="sigmoid_qkv", beta=1.0, Q=Q, K=K, V=V)


def test_check_list_and_run_user_claims_with_replay(tmp_path, capsys):
    local = tmp_path / "my_models.py"
    shutil.copy(WRONG, local)
    assert main(["check", "--models", USER, "--list", "--claim", "model.sigmoid.*"]) == 0
    out = capsys.readouterr().out
    assert "model.sigmoid.dissipation" in out and "model.sigmoid.kernel" in out and "model.quadratic" not in out
    report = tmp_path / "check.json"
    code = main(["check", "--models", str(local), "--claim", "model.sigmoid_wrong.dissipation",
                 "model.sigmoid_wrong.stationary", "--report", str(report), "-q"])
    out = capsys.readouterr().out
    assert code == 1
    assert "1/2 claims match their expectation (NOT OK)" in out
    rows = {r["id"]: r for r in json.loads(report.read_text())["claims"]}
    bad = rows["model.sigmoid_wrong.dissipation"]
    assert bad["outcome"] == "fails" and "model=sigmoid_wrong" in bad["counterexample"]
    assert bad["replay"] == f"attnflow check --models {local} --claim model.sigmoid_wrong.dissipation --seed 0"
    assert (f"reproduce: attnflow check --models {local} --claim model.sigmoid_wrong.dissipation "
            "--claim model.sigmoid_wrong.stationary --profile quick --seed 0") in out
