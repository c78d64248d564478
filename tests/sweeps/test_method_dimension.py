"""Sweeps with the scheme as a dimension (``method = ["authors", "rk4"]``) and ``attnflow sweep --plot``:
spec errors before anything runs, and one small CLI run whose store matches direct ``simulate`` calls."""

import json

import numpy as np
import pytest

from attnflow import cli
from attnflow.numerics import observables as ob
from attnflow.numerics import random_sphere, simulate
from attnflow.sweeps import load_spec, open_store

pytest.importorskip("distributed")

SPEC = {
    "model": ["sa", "usa"],
    "n": 5,
    "d": 3,
    "beta": [0.5, 2.0],
    "method": ["authors", "rk4"],
    "seeds": 2,
    "t": {"stop": 1.0, "num": 3},
    "dt": 0.05,
    "observables": ["pair_fraction", "gram_mean"],
    "delta": 0.05,
}

TOML = """\
[sweep]
model = ["sa", "usa"]
n = 5
d = 3
beta = [0.5, 2.0]
method = ["authors", "rk4"]
seeds = 2
t = { stop = 1.0, num = 3 }
dt = 0.05
observables = ["pair_fraction", "gram_mean"]
delta = 0.05
"""


def test_method_list_is_a_dimension_in_spec_order():
    s = load_spec(SPEC)
    assert s.dim_names == ("model", "beta", "method", "seed") and s.method is None
    assert load_spec({**SPEC, "method": "authors"}).method == "authors"


@pytest.mark.parametrize("change, word", [
    ({"method": ["rk4", "rk4"]}, "sweep.method: repeated"),
    ({"method": ["adaptive"]}, "sweep.method: unknown"),
    ({"model": "kuramoto", "method": "authors", "d": None}, "sweep.method: authors is a sphere scheme"),
    ({"model": "usa", "method": "authors", "beta": 30.0}, "sweep.method: authors: model 'usa' at beta = 30"),
])
def test_bad_methods_are_refused_naming_the_key(change, word):
    spec = {**SPEC, **change}
    spec = {k: v for k, v in spec.items() if v is not None}
    with pytest.raises(ValueError, match=word.replace("(", r"\(")):
        load_spec(spec)


def test_plot_option_is_checked_before_running(tmp_path, capsys):
    spec = tmp_path / "s.toml"
    spec.write_text(TOML)
    fig = tmp_path / "fig.png"
    fig.write_bytes(b"x")
    assert cli.main(["sweep", str(spec), "--out", str(tmp_path / "a.zarr"), "--plot", str(fig)]) == 2
    assert "--plot" in capsys.readouterr().err and not (tmp_path / "a.zarr").exists()
    assert cli.main(["sweep", str(spec), "--out", str(tmp_path / "a.zarr"), "--plot", str(tmp_path / "f.txt")]) == 2
    assert cli.main(["sweep", str(spec), "--out", str(tmp_path / "a.zarr"), "--plot", str(tmp_path / "f.png"),
                     "--plot-observable", "energy"]) == 2
    assert "--plot-observable" in capsys.readouterr().err
    spec.write_text(TOML.replace('"gram_mean"]', '"gram_mean", "time_to_cluster"]'))
    assert cli.main(["sweep", str(spec), "--out", str(tmp_path / "a.zarr"), "--plot", str(tmp_path / "f.png"),
                     "--plot-observable", "time_to_cluster"]) == 2
    assert "no time axis" in capsys.readouterr().err and not (tmp_path / "a.zarr").exists()


def test_each_chunk_runs_its_own_scheme():
    """The chunk tasks of a method dimension (no cluster): each equals a direct simulate."""
    from attnflow.sweeps._run import _task
    from attnflow.sweeps._task import run_chunk

    spec = load_spec({**SPEC, "model": "sa", "beta": 2.0})
    cells = list(spec.cells())
    assert [c["method"] for _, c in cells] == ["authors", "rk4"]
    for _, cell in cells:
        res = run_chunk(_task(spec, cell, spec.seed_blocks[0]))
        for s in range(2):
            tr = simulate("sa", random_sphere(5, 3, seed=s), beta=2.0, t_final=1.0, dt=0.05,
                          method=cell["method"], t_eval=[0.0, 0.5, 1.0])
            np.testing.assert_allclose(res["gram_mean"][s], ob.gram_mean(tr.states), rtol=0, atol=1e-13)


@pytest.mark.slow
def test_cli_sweeps_both_schemes_and_plots(tmp_path, capsys):
    spec = tmp_path / "s.toml"
    spec.write_text(TOML)
    out, fig = tmp_path / "m.zarr", tmp_path / "m.png"
    assert cli.main(["sweep", str(spec), "--out", str(out), "--workers", "1", "--no-progress",
                     "--plot", str(fig)]) == 0
    assert fig.stat().st_size > 10_000 and fig.read_bytes()[:4] == b"\x89PNG"
    ds = open_store(out)
    assert ds["pair_fraction"].dims == ("model", "beta", "method", "seed", "t")
    assert ds["method"].values.tolist() == ["authors", "rk4"]
    assert json.loads(ds.attrs["sweep_spec"])["method"] is None
    gm = ds["gram_mean"].values
    for i, model in enumerate(["sa", "usa"]):
        for j, beta in enumerate([0.5, 2.0]):
            for k, method in enumerate(["authors", "rk4"]):
                for s in range(2):
                    tr = simulate(model, random_sphere(5, 3, seed=s), beta=beta, t_final=1.0, dt=0.05,
                                  method=method, t_eval=[0.0, 0.5, 1.0])
                    np.testing.assert_allclose(gm[i, j, k, s], ob.gram_mean(tr.states), rtol=0, atol=1e-13)
    # the two schemes differ (the authors' layer runs on another clock)
    assert np.max(np.abs(gm[:, :, 0] - gm[:, :, 1])) > 1e-4
