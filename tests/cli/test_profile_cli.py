"""``attnflow profile``: report contents, figures, bad input."""

import re

import pytest

from attnflow.cli import main
from attnflow.numerics import retrieval as R


def test_report_example_of_notes(capsys):
    assert main(["profile", "--beta", "1", "--lam", "1", "--M", "8", "--t", "1.5"]) == 0
    out = capsys.readouterr().out
    tc = float(re.search(r"t_crit\s+=\s+([0-9.]+)", out).group(1))
    assert tc == pytest.approx(2.457, abs=1e-3)
    assert "-> holds" in out and "t <= 2.23696" in out
    sigma = float(re.search(r"sigma0\* = ([0-9.]+)", out).group(1))
    assert sigma == pytest.approx(R.argmin(beta=1, lam=1, t=1.5, M=8).sigma0, rel=1e-6)
    assert "certification   : certified" in out
    assert "S_t(1) = 2.4573767" in out


def test_report_outside_smallness_and_without_recency(capsys):
    assert main(["profile", "--t", "2.4"]) == 0
    out = capsys.readouterr().out
    assert "-> fails" in out and "certified" in out
    assert main(["profile", "--t", "3"]) == 0
    out = capsys.readouterr().out
    assert "no interior minimum" in out and "not U-shaped" in out


def test_plot_and_sweep(tmp_path, capsys):
    p = tmp_path / "p.png"
    assert main(["profile", "--plot", str(p)]) == 0
    assert p.stat().st_size > 10_000
    # refuses to overwrite without --force
    assert main(["profile", "--plot", str(p)]) == 2
    assert "--force" in capsys.readouterr().err
    q = tmp_path / "sweep.png"
    assert main(["profile", "--sweep", "--plot", str(q)]) == 0
    assert q.stat().st_size > 20_000
    assert main(["profile", "--sweep", "--plot", str(q), "--force"]) == 0


@pytest.mark.parametrize(
    "argv,arg",
    [
        (["--M", "0"], "--M"),
        (["--t", "-1"], "--t"),
        (["--modes", "0"], "--modes"),
        (["--lam", "-0.5"], "--lam"),
        (["--beta", "0"], "--beta"),
        (["--beta", "nan"], "--beta"),
        (["--plot", "x.txt"], "--plot"),
    ],
)
def test_bad_input(argv, arg, capsys):
    assert main(["profile", *argv]) == 2
    err = capsys.readouterr().err
    assert f"error: {arg}:" in err
