"""Sweeps end to end: the store's dims, attrs and values (against a direct computation), resume after
an interruption (injected, and a real SIGKILL of the CLI: slow), a refused mismatching store, the CLI,
and bit-identical arrays across schedulers: the CLI's embedded LocalCluster (worker processes) against
a cluster started separately in this process (threads), and — slow, opt-in — against separately
started ``dask scheduler`` / ``dask worker`` processes on 127.0.0.1.

One in-process cluster (module fixture, cheap to start) serves the API tests.
"""

import json
import os
import signal
import subprocess
import sys
import time
import warnings

import numpy as np
import pytest

xr = pytest.importorskip("xarray")
zarr = pytest.importorskip("zarr")
pytest.importorskip("distributed")

from attnflow import cli  # noqa: E402
from attnflow.numerics import random_sphere, simulate  # noqa: E402
from attnflow.sweeps import load_spec, sweep  # noqa: E402

TINY = {
    "model": "sa",
    "n": 6,
    "d": [3, 5],
    "beta": {"start": 0.5, "stop": 8.0, "num": 2},
    "seeds": 4,
    "seed_block": 2,
    "t": {"stop": 4.0, "num": 3},
    "dt": 0.05,
    "observables": ["pair_fraction", "time_to_cluster", "gram_min"],
    "delta": 0.05,
}
TINY_TOML = """\
[sweep]
model = "sa"
n = 6
d = [3, 5]
beta = { start = 0.5, stop = 8.0, num = 2 }
seeds = 4
seed_block = 2
t = { stop = 4.0, num = 3 }
dt = 0.05
observables = ["pair_fraction", "time_to_cluster", "gram_min"]
delta = 0.05
"""


@pytest.fixture(scope="module")
def cluster():
    """A cluster started beside the sweep (in this process, two single-threaded workers)."""
    from distributed import LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=False, dashboard_address=":0") as lc:
        yield lc.scheduler_address


@pytest.fixture(scope="module")
def external_scheduler(tmp_path_factory):
    """``dask scheduler`` and ``dask worker`` started as separate processes on 127.0.0.1."""
    from distributed import Client

    folder = tmp_path_factory.mktemp("dask")
    sched_file = folder / "scheduler.json"
    env = {**os.environ, "DASK_DISTRIBUTED__WORKER__DAEMON": "False"}
    procs = [subprocess.Popen([sys.executable, "-m", "dask", "scheduler", "--host", "127.0.0.1", "--port", "0",
                               "--no-dashboard", "--scheduler-file", str(sched_file)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, cwd=folder)]
    try:
        deadline = time.monotonic() + 60
        while not sched_file.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert sched_file.exists(), "dask scheduler did not start"
        address = json.loads(sched_file.read_text())["address"]
        for _ in range(2):  # two single-threaded workers, no nanny (cheaper to start)
            procs.append(subprocess.Popen([sys.executable, "-m", "dask", "worker", address, "--host", "127.0.0.1",
                                           "--nthreads", "1", "--no-nanny", "--no-dashboard"],
                                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, cwd=folder))
        with Client(address, timeout="60s") as client:
            client.wait_for_workers(2, timeout=60)
        assert address.startswith("tcp://127.0.0.1:")
        yield address
    finally:
        for p in reversed(procs):  # our own processes, by pid
            p.send_signal(signal.SIGTERM)
        for p in reversed(procs):
            try:
                p.wait(timeout=15)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()


@pytest.fixture(scope="module")
def clean(cluster, tmp_path_factory):
    out = tmp_path_factory.mktemp("clean") / "runs.zarr"
    res = sweep(TINY, out, scheduler=cluster, progress=False)
    assert (res.chunks, res.computed, res.skipped) == (8, 8, 0)
    return out


def _load(path):
    with xr.open_zarr(str(path)) as ds:
        return ds.load()


def test_store_dims_attrs_and_values_match_a_direct_computation(clean):
    ds = _load(clean)
    assert ds["pair_fraction"].dims == ("d", "beta", "seed", "t")
    assert ds["time_to_cluster"].dims == ("d", "beta", "seed")
    assert ds["d"].values.tolist() == [3, 5] and ds["seed"].values.tolist() == [0, 1, 2, 3]
    assert ds["beta"].values.tolist() == [0.5, 8.0] and ds["t"].values.tolist() == [0.0, 2.0, 4.0]
    assert np.all(ds["chunk_done"].values == 1)
    assert json.loads(ds.attrs["sweep_spec"]) == load_spec(TINY).canonical()
    assert json.loads(ds.attrs["seeds"]) == [0, 1, 2, 3]
    versions = json.loads(ds.attrs["versions"])
    assert {"attnflow", "numpy", "numba", "dask", "distributed", "xarray", "zarr"} <= set(versions)
    # every entry against simulate + brute-force loops over pairs
    pf, t2c, gmin = ds["pair_fraction"].values, ds["time_to_cluster"].values, ds["gram_min"].values
    for i, d in enumerate([3, 5]):
        for j, beta in enumerate([0.5, 8.0]):
            for s in range(4):
                tr = simulate("sa", random_sphere(6, d, seed=s), beta=beta, t_final=4.0, dt=0.05)
                states = tr.states[[0, 40, 80]]
                assert np.allclose(tr.times[[0, 40, 80]], [0.0, 2.0, 4.0])
                first = np.nan
                for k, x in enumerate(states):
                    g = [x[a] @ x[b] for a in range(6) for b in range(a + 1, 6)]
                    assert pf[i, j, s, k] == sum(v >= 1 - 0.05 for v in g) / 15
                    assert gmin[i, j, s, k] == pytest.approx(min(g), abs=1e-14)
                    if np.isnan(first) and min(g) >= 1 - 0.05:
                        first = [0.0, 2.0, 4.0][k]
                assert (np.isnan(first) and np.isnan(t2c[i, j, s])) or t2c[i, j, s] == first
    assert 0 < np.nanmean(pf) < 1 and np.any(np.isnan(t2c)) and np.any(~np.isnan(t2c))


class _Killed(Exception):
    pass


def test_resume_skips_completed_chunks_and_equals_a_clean_run(cluster, clean, tmp_path):
    out = tmp_path / "runs.zarr"

    def die_after_three(k):
        if k == 3:
            raise _Killed

    with pytest.raises(_Killed):
        sweep(TINY, out, scheduler=cluster, progress=False, on_chunk=die_after_three)
    done = _load(out)["chunk_done"].values
    assert np.sum(done == 1) == 3 and np.all(np.isnan(done[done != 1]))
    # poison one completed chunk: a rerun that recomputed it would overwrite the poison
    g = zarr.open_group(str(out), mode="r+")
    i, j, b = (int(v[0]) for v in np.nonzero(done == 1))
    g["pair_fraction"][i, j, 2 * b:2 * b + 2, :] = 42.0
    res = sweep(TINY, out, scheduler=cluster, progress=False)
    assert (res.computed, res.skipped) == (5, 3)
    got, ref = _load(out), _load(clean)
    assert np.all(got["pair_fraction"].values[i, j, 2 * b:2 * b + 2] == 42.0)
    got["pair_fraction"].values[i, j, 2 * b:2 * b + 2] = ref["pair_fraction"].values[i, j, 2 * b:2 * b + 2]
    for name in ("pair_fraction", "time_to_cluster", "gram_min", "chunk_done"):
        np.testing.assert_array_equal(got[name].values, ref[name].values)
    # a complete store: nothing left to do
    again = sweep(TINY, out, scheduler=cluster, progress=False)
    assert (again.computed, again.skipped) == (0, 8)


def test_a_store_of_another_spec_is_refused_unless_forced(cluster, tmp_path, monkeypatch):
    from attnflow.sweeps import _store

    one = {**TINY, "d": 3, "beta": 1.0, "seeds": 2}
    out = tmp_path / "runs.zarr"
    sweep(one, out, scheduler=cluster, progress=False)
    real = _store.versions()
    monkeypatch.setattr(_store, "versions", lambda: {**real, "numpy": "0.0"})
    with pytest.warns(UserWarning, match=r"resuming a store made with other versions of numpy"):
        assert sweep(one, out, scheduler=cluster, progress=False).computed == 0
    monkeypatch.undo()
    with pytest.raises(ValueError, match=r"^--out: .* different spec \(differs in: fixed\).*--force"):
        sweep({**one, "beta": 2.0}, out, scheduler=cluster, progress=False)
    res = sweep({**one, "beta": 2.0}, out, scheduler=cluster, progress=False, force=True)
    assert res.computed == 1 and _load(out)["pair_fraction"].dims == ("seed", "t")
    folder = tmp_path / "not_a_store"
    folder.mkdir()
    (folder / "keep.txt").write_text("mine")
    with pytest.raises(ValueError, match=r"^--out: .* not a zarr store"):
        sweep(one, folder, scheduler=cluster, progress=False, force=True)
    assert (folder / "keep.txt").read_text() == "mine"


def test_cli_on_the_embedded_cluster_is_bit_identical_to_another_cluster(clean, cluster, tmp_path, capsys):
    spec = tmp_path / "spec.toml"
    spec.write_text(TINY_TOML)
    out = tmp_path / "runs.zarr"
    assert cli.main(["sweep", str(spec), "--out", str(out), "--no-progress"]) == 0  # embedded LocalCluster
    assert "8 chunks (8 computed, 0 already complete)" in capsys.readouterr().out
    got, ref = _load(out), _load(clean)
    for name in ("pair_fraction", "time_to_cluster", "gram_min"):
        assert got[name].dims == ref[name].dims
        np.testing.assert_array_equal(got[name].values, ref[name].values)  # bit-identical, NaNs included
    # rerun through the other scheduler: resumes, nothing recomputed
    assert cli.main(["sweep", str(spec), "--out", str(out), "--scheduler", cluster, "--no-progress"]) == 0
    assert "(0 computed, 8 already complete)" in capsys.readouterr().out
    # a mismatching spec: one-line error, exit 2, store untouched
    spec.write_text(TINY_TOML.replace("seeds = 4", "seeds = 6"))
    assert cli.main(["sweep", str(spec), "--out", str(out), "--no-progress"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("attnflow sweep: error: --out:") and "--force" in err and "\n" not in err
    spec.write_text(TINY_TOML.replace("n = 6", "n = -6"))
    assert cli.main(["sweep", str(spec), "--out", str(out)]) == 2
    assert capsys.readouterr().err.strip() == "attnflow sweep: error: sweep.n: must be an integer >= 2, got -6"


def test_cli_sweeps_a_users_model_on_worker_processes(tmp_path, capsys):
    """``--models FILE``: the embedded cluster's worker processes load the file to know the model."""
    from pathlib import Path

    models = Path(__file__).resolve().parents[1] / "data" / "user_models.py"
    spec = tmp_path / "spec.toml"
    spec.write_text('[sweep]\nmodel = "sigmoid"\nn = 5\nd = 3\nbeta = 2.0\nseeds = 2\n'
                    't = { stop = 0.4, num = 3 }\ndt = 0.1\nobservables = ["gram_mean"]\n'
                    '[sweep.params]\nb = [0.0, 1.5]\n')
    out = tmp_path / "runs.zarr"
    import attnflow.models as am

    before = set(am.names())
    try:
        assert cli.main(["sweep", str(spec), "--out", str(out), "--workers", "1", "--no-progress",
                         "--models", str(models)]) == 0
        _check_user_sweep(out)
    finally:
        for name in set(am.names()) - before:  # leave the registry as the other tests expect it
            am.unregister(name)
    capsys.readouterr()


def _check_user_sweep(out):
    ds = _load(out)
    for b in (0.0, 1.5):
        for seed in (0, 1):
            tr = simulate("sigmoid", random_sphere(5, 3, seed=seed), beta=2.0, t_final=0.4, dt=0.1, b=b)
            g = np.einsum("tid,tjd->tij", tr.states, tr.states)
            got = ds["gram_mean"].sel(b=b, seed=seed).values
            iu = np.triu_indices(5, 1)
            want = np.array([gt[iu].mean() for gt in g[::2]])  # saved every step; the spec saves t = 0, 0.2, 0.4
            np.testing.assert_allclose(got, want, rtol=0, atol=1e-14)


def test_core_imports_do_not_import_the_sweep_extra():
    code = ("import sys, attnflow, attnflow.sweeps, attnflow.commands.sweep, attnflow.numerics.observables; "
            "print(sorted(m for m in ('dask', 'distributed', 'xarray', 'zarr') if m in sys.modules)); "
            "print(attnflow.sweep is attnflow.sweeps.sweep)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split("\n")[:2] == ["[]", "True"]


def test_missing_extra_is_a_clear_error(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "zarr", None)
    with pytest.raises(ImportError, match=r"needs zarr: install the extra with `pip install 'attnflow\[sweep\]'`"):
        sweep(TINY, tmp_path / "runs.zarr", progress=False)
    assert not (tmp_path / "runs.zarr").exists()


@pytest.mark.slow
def test_external_dask_processes_give_bit_identical_arrays(clean, external_scheduler, tmp_path):
    out = tmp_path / "runs.zarr"
    res = sweep(TINY, out, scheduler=external_scheduler, progress=False)
    assert res.computed == 8
    got, ref = _load(out), _load(clean)
    for name in ("pair_fraction", "time_to_cluster", "gram_min"):
        np.testing.assert_array_equal(got[name].values, ref[name].values)


@pytest.mark.slow
def test_a_killed_cli_run_resumes(clean, external_scheduler, tmp_path):
    """SIGKILL the CLI after some chunks: the rerun computes only the rest and equals a clean run."""
    spec = tmp_path / "spec.toml"
    spec.write_text(TINY_TOML.replace("seed_block = 2", "seed_block = 1"))
    out = tmp_path / "runs.zarr"
    proc = subprocess.Popen([sys.executable, "-m", "attnflow", "sweep", str(spec), "--out", str(out),
                             "--scheduler", external_scheduler, "--no-progress"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 120
        done = 0
        while time.monotonic() < deadline and proc.poll() is None:
            if (out / "zarr.json").exists() or (out / ".zgroup").exists():
                done = int(np.nansum(zarr.open_group(str(out), mode="r")["chunk_done"][...]))
                if done >= 2:
                    break
            time.sleep(0.05)
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.wait()
    if proc.returncode == 0:
        pytest.skip("the run finished before it could be killed")
    killed_done = int(np.nansum(zarr.open_group(str(out), mode="r")["chunk_done"][...]))
    assert 2 <= killed_done < 16
    res = sweep(spec, out, scheduler=external_scheduler, progress=False)
    assert res.skipped == killed_done and res.computed == 16 - killed_done
    got, ref = _load(out), _load(clean)
    for name in ("pair_fraction", "time_to_cluster", "gram_min"):
        np.testing.assert_array_equal(got[name].values, ref[name].values)


def test_a_failing_chunk_names_itself_and_keeps_the_others(cluster, clean, tmp_path, monkeypatch, capsys):
    from attnflow.sweeps import _task

    real = _task._simulate_batch

    def flaky(model, x0, *, beta, **kw):  # runs in this process: the cluster's workers are threads here
        if beta == 8.0 and x0.shape[-1] == 5:
            raise FloatingPointError("non-finite state at t = 0.1; reduce dt")
        return real(model, x0, beta=beta, **kw)

    monkeypatch.setattr(_task, "_simulate_batch", flaky)
    out = tmp_path / "runs.zarr"
    with pytest.raises(RuntimeError, match=r"^chunk model='sa', n=6, d=5, beta=8\.0, seeds \d\.\.\d: "
                                           r"FloatingPointError: non-finite state"):
        sweep(TINY, out, scheduler=cluster, progress=False)
    spec = tmp_path / "spec.toml"
    spec.write_text(TINY_TOML)
    assert cli.main(["sweep", str(spec), "--out", str(out), "--scheduler", cluster, "--no-progress"]) == 1
    err = capsys.readouterr().err
    assert "FloatingPointError" in err and "rerun to resume" in err
    ds = _load(out)
    done = ds["chunk_done"].values
    assert np.all(np.isnan(done[1, 1]))
    for i, j, b in zip(*np.nonzero(done == 1)):  # a chunk marked done holds its data
        assert np.all(np.isfinite(ds["pair_fraction"].values[i, j, 2 * b:2 * b + 2]))
    monkeypatch.undo()
    res = sweep(TINY, out, scheduler=cluster, progress=False)
    assert res.skipped == np.sum(done == 1) and res.computed == 8 - res.skipped
    np.testing.assert_array_equal(_load(out)["pair_fraction"].values, _load(clean)["pair_fraction"].values)


def _thread_probe():
    import numba
    from threadpoolctl import threadpool_info

    return numba.get_num_threads(), sorted({i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"})


def test_a_chunk_runs_with_one_numba_and_one_blas_thread():
    from attnflow.sweeps._task import _single_threaded

    with _single_threaded():
        numba_threads, blas = _thread_probe()
    assert numba_threads == 1 and blas in ([1], [])


@pytest.mark.slow
def test_the_embedded_cluster_pins_its_workers_to_one_thread():
    from attnflow.sweeps._run import _client

    with _client(None, 2) as client:
        probes = client.run(_thread_probe)
    assert len(probes) == 2
    for numba_threads, blas in probes.values():
        assert numba_threads == 1 and blas in ([1], [])


def test_models_and_words_as_dimensions(cluster, tmp_path):
    spec = {"model": ["sa", "usa"], "n": 4, "d": 3, "beta": 1.0, "seeds": [5], "t": [0.5], "dt": 0.1,
            "observables": ["energy", "cluster_count"], "method": "lie_euler"}
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no unstable-dtype warning from zarr for the string coordinate
        res = sweep(spec, tmp_path / "runs.zarr", scheduler=cluster, progress=False)
    ds = res.open()
    assert ds["energy"].dims == ("model", "seed", "t") and list(ds["model"].values) == ["sa", "usa"]
    for m in ("sa", "usa"):
        tr = simulate(m, random_sphere(4, 3, seed=5), beta=1.0, t_final=0.5, dt=0.1, method="lie_euler")
        assert float(ds["energy"].sel(model=m, seed=5, t=0.5)) == tr.energy[-1]
