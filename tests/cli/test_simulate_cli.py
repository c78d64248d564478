"""``attnflow simulate``: summary numbers checked against the saved trajectory, outputs, bad input.

Runs in-process through ``attnflow.cli.main`` on the generated kernels. Expected numbers are
recomputed from the saved states with plain NumPy.
"""

import re

import numpy as np
import pytest

from attnflow.cli import main
from attnflow.numerics import single_thread
from attnflow.numerics.trajectory import Trajectory

@pytest.fixture(autouse=True)
def _one_numba_thread():
    """Run the generated kernels single-threaded here: these tests check values, and on a loaded
    2-core machine the parallel kernels' thread hand-off on tiny n costs up to ~100x (measured:
    2000 SA calls at n = 6 took 0.05 s with 1 thread, 0.2-12 s with 2)."""
    with single_thread():
        yield


def _run(capsys, *argv):
    code = main(["simulate", *argv])
    out = capsys.readouterr()
    return code, out.out, out.err


def _number(pattern, text):
    m = re.search(pattern, text)
    assert m, (pattern, text)
    return m.group(1)


def _sa_energy(x, beta):
    # E = (1/(2 beta)) sum_{i,j} e^{beta <x_i, x_j>} (derivations/energy.md, SA particle normalisation)
    return np.sum(np.exp(beta * (x @ x.T))) / (2 * beta)


def test_sa_summary_matches_saved_trajectory(capsys, tmp_path):
    path = tmp_path / "run.npz"
    code, out, err = _run(capsys, "--model", "sa", "--n", "8", "--d", "3", "--beta", "1", "--t-final", "15",
                          "--dt", "0.02", "--seed", "1", "--save", str(path))
    assert code == 0, err
    tr = Trajectory.load_npz(path)
    assert tr.model == "sa" and tr.method == "rk4" and tr.times[-1] == 15.0 and tr.states.shape[1:] == (8, 3)
    x0 = tr.states[0]
    assert np.allclose(np.linalg.norm(x0, axis=1), 1.0)
    # independent recomputation from the saved states
    e0, e1 = _sa_energy(tr.states[0], 1.0), _sa_energy(tr.states[-1], 1.0)
    assert float(_number(r"energy: start (\S+),", out)) == pytest.approx(e0, rel=1e-9)
    assert float(_number(r"end (\S+),", out)) == pytest.approx(e1, rel=1e-9)
    assert float(_number(r"gain (\S+)", out)) == pytest.approx(e1 - e0, rel=1e-5)
    mins = np.array([np.min(s @ s.T) for s in tr.states])
    clustered = np.nonzero(mins >= 1 - 1e-3)[0]
    count = int(_number(r"final cluster count: (\d+)", out))
    if len(clustered):  # d = 3: one cluster for every beta (arXiv:2312.10794)
        assert count == 1
        assert float(_number(r"1 - 0\.001\): (\S+)", out)) == pytest.approx(tr.times[clustered[0]], rel=1e-5)
    else:
        assert "not reached" in out
    assert "steps" in out and "wall time" in out
    assert "tol 0.001" in out


def test_kuramoto_adaptive_and_plot(capsys, tmp_path):
    png = tmp_path / "k.png"
    code, out, err = _run(capsys, "--model", "kuramoto", "--n", "6", "--beta", "1", "--t-final", "5",
                          "--rtol", "1e-8", "--plot", str(png))
    assert code == 0, err
    assert "method adaptive" in out and png.stat().st_size > 10_000
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_sa_plot_3d(capsys, tmp_path):
    png = tmp_path / "sa.png"
    code, out, err = _run(capsys, "--n", "16", "--t-final", "5", "--dt", "0.05", "--plot", str(png))
    assert code == 0, err and png.exists()


def test_equiangular_start(capsys, tmp_path):
    path = tmp_path / "eq.npz"
    code, out, err = _run(capsys, "--n", "4", "--d", "5", "--start", "equiangular", "--rho", "0.2",
                          "--t-final", "0.5", "--save", str(path))
    assert code == 0, err
    x0 = Trajectory.load_npz(path).states[0]
    g = x0 @ x0.T
    assert np.allclose(g[~np.eye(4, dtype=bool)], 0.2)


def test_refuses_overwrite_unless_forced(capsys, tmp_path):
    path = tmp_path / "out.npz"
    path.write_bytes(b"keep")
    code, out, err = _run(capsys, "--t-final", "0.1", "--save", str(path))
    assert code == 2 and "--save" in err and "--force" in err and path.read_bytes() == b"keep"
    code, out, err = _run(capsys, "--t-final", "0.1", "--save", str(path), "--force")
    assert code == 0 and Trajectory.load_npz(path).times[-1] == 0.1


@pytest.mark.parametrize(
    "argv,flag",
    [
        (["--model", "nope"], "--model"),
        (["--dt", "0"], "dt"),
        (["--dt", "-0.1"], "dt"),
        (["--t-final", "-1"], "--t-final"),
        (["--n", "0"], "--n"),
        (["--d", "1"], "--d"),
        (["--tol", "0"], "--tol"),
        (["--seed", "-1"], "--seed"),
        (["--start", "equiangular", "--n", "8", "--d", "3"], "--start"),
        (["--start", "equiangular", "--rho", "-0.9", "--n", "3", "--d", "3"], "rho"),
        (["--model", "kuramoto", "--start", "equiangular"], "--start"),
        (["--method", "adaptive"], "--rtol"),
        (["--method", "rk4", "--rtol", "1e-6"], "--rtol"),
        (["--param", "alpha"], "--param"),
        (["--param", "alpha=__import__('os')"], "--param"),
        (["--qkv-seed", "1"], "--qkv-seed"),
        (["--save", "/nonexistent-dir/x.npz"], "--save"),
    ],
)
def test_bad_input(capsys, argv, flag):
    code, out, err = _run(capsys, "--t-final", "0.1", *argv)
    assert code == 2
    assert flag in err


def test_dt_and_rtol_are_exclusive(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["simulate", "--dt", "0.1", "--rtol", "1e-6"])
    assert exc.value.code == 2
    assert "not allowed with" in capsys.readouterr().err


def test_qkv_from_seed_is_reproducible(capsys, tmp_path):
    a, b = tmp_path / "a.npz", tmp_path / "b.npz"
    for p in (a, b):
        code, out, err = _run(capsys, "--model", "qkv", "--n", "5", "--t-final", "1", "--qkv-seed", "3", "--save", str(p))
        assert code == 0, err
    ta, tb = Trajectory.load_npz(a), Trajectory.load_npz(b)
    assert np.array_equal(ta.final, tb.final) and np.array_equal(ta.params["Q"], tb.params["Q"])
    code, out, err = _run(capsys, "--model", "qkv", "--n", "5", "--t-final", "1")
    assert code == 2 and "--qkv-seed" in err
