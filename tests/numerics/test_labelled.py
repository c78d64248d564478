"""Trajectory as labelled data: to_xarray / from_xarray, to_netcdf, to_zarr, and the npz metadata."""

from __future__ import annotations

import json
import sys

import numba
import numpy as np
import pytest
import scipy
import sympy

from attnflow._version import __version__
from attnflow.numerics.trajectory import Trajectory

xr = pytest.importorskip("xarray", reason="the labelled views need the sweep extra (xarray)")

RNG = np.random.default_rng(0)


def _sphere(shape):
    x = RNG.standard_normal(shape)
    return x / np.linalg.norm(x, axis=-1, keepdims=True)


def _single():
    states = _sphere((3, 5, 4))
    Q = RNG.standard_normal((4, 4))
    return Trajectory(times=[0.0, 0.5, 1.0], states=states, energy=np.array([1.0, 1.5, 1.75]), model="qkv",
                      beta=2.0, params={"Q": Q, "K": Q.T.copy(), "lam": 0.25, "causal": True, "seed": 7},
                      method="rk4", manifold="sphere", nfev=8, steps=2, dt=0.5, wall_time=0.01)


def _batch():
    return Trajectory(times=[0.0, 1.0], states=_sphere((2, 3, 5, 4)), energy=RNG.standard_normal((2, 3)), model="sa",
                      beta=1.0, method="adaptive", rtol=1e-8)


def _angles(batched):
    shape = (4, 2, 6) if batched else (4, 6)
    return Trajectory(times=np.linspace(0, 1, 4), states=RNG.uniform(-np.pi, np.pi, shape), energy=None,
                      model="kuramoto", beta=1.0, method="euler", manifold="angles", dt=0.25)


def _same(a: Trajectory, b: Trajectory):
    np.testing.assert_array_equal(a.times, b.times)
    np.testing.assert_array_equal(a.states, b.states)
    assert (a.energy is None) == (b.energy is None)
    if a.energy is not None:
        np.testing.assert_array_equal(a.energy, b.energy)
    for key in ("model", "beta", "method", "manifold", "nfev", "steps", "rejected", "dt", "rtol", "energy_note"):
        assert getattr(a, key) == getattr(b, key), key
    assert set(a.params) == set(b.params)
    for k, v in a.params.items():
        np.testing.assert_array_equal(np.asarray(b.params[k]), np.asarray(v), err_msg=k)


@pytest.mark.parametrize("make, dims", [
    (_single, ("time", "token", "coordinate")),
    (_batch, ("time", "system", "token", "coordinate")),
    (lambda: _angles(False), ("time", "token")),
    (lambda: _angles(True), ("time", "system", "token")),
    (lambda: Trajectory(times=[0.0], states=np.zeros((1, 2, 3)), energy=None, model="preln", beta=1.0,
                        manifold="euclidean"), ("time", "token", "coordinate")),
])
def test_dims_and_coordinates(make, dims):
    traj = make()
    ds = traj.to_xarray()
    assert ds["states"].dims == dims
    assert ds["states"].shape == traj.states.shape
    np.testing.assert_array_equal(ds["time"].values, traj.times)
    for name, size in zip(dims[1:], traj.states.shape[1:]):
        np.testing.assert_array_equal(ds[name].values, np.arange(size))
    if traj.energy is not None:
        assert ds["energy"].dims == dims[: traj.energy.ndim]


def test_attributes_parameters_and_versions():
    traj = _single()
    ds = traj.to_xarray()
    a = ds.attrs
    assert (a["model"], a["method"], a["beta"], a["dt"], a["seed"]) == ("qkv", "rk4", 2.0, 0.5, 7)
    assert "rtol" not in a  # a fixed-step run has no tolerance
    assert a["param__lam"] == 0.25 and a["param__causal"] == 1
    # matrices are data variables, not attributes
    assert "param__Q" not in a
    np.testing.assert_array_equal(ds["param__Q"].values, traj.params["Q"])
    assert ds["param__Q"].dims == ("param__Q_dim0", "param__Q_dim1")
    # versions: the same attribute name and JSON text as the sweep store; values from the packages
    v = json.loads(a["versions"])
    assert v["attnflow"] == __version__
    assert (v["numpy"], v["numba"], v["sympy"], v["scipy"]) == (np.__version__, numba.__version__,
                                                                sympy.__version__, scipy.__version__)
    assert v["python"] == sys.version.split()[0]


def test_versions_shared_with_the_sweep_store():
    from attnflow._base.versions import versions
    from attnflow.sweeps._store import versions as store_versions

    core = versions()
    assert {k: store_versions()[k] for k in core} == core
    assert "xarray" in store_versions()


@pytest.mark.parametrize("make", [_single, _batch, lambda: _angles(True)])
def test_netcdf_round_trip(tmp_path, make):
    traj = make()
    path = traj.to_netcdf(tmp_path / "t.nc")
    with xr.open_dataset(path, engine="scipy") as ds:
        back = Trajectory.from_xarray(ds.load())
        assert json.loads(ds.attrs["versions"])["numpy"] == np.__version__
    if "causal" in traj.params:  # netCDF3 has no boolean attributes: stored as 0/1
        assert back.params["causal"] == 1
        back.params["causal"] = True
    _same(traj, back)
    with pytest.raises(FileExistsError, match="force=True"):
        traj.to_netcdf(path)
    traj.to_netcdf(path, force=True)


def test_zarr_round_trip(tmp_path):
    pytest.importorskip("zarr")
    traj = _batch()
    path = traj.to_zarr(tmp_path / "t.zarr")
    back = Trajectory.from_xarray(xr.open_zarr(path).load())
    _same(traj, back)
    with pytest.raises(FileExistsError, match="force=True"):
        traj.to_zarr(path)
    traj.to_zarr(path, force=True)
    plain = tmp_path / "plain"
    plain.mkdir()
    with pytest.raises(ValueError, match="not a zarr store"):
        traj.to_zarr(plain, force=True)
    assert plain.is_dir()


def test_from_xarray_refuses_other_datasets():
    with pytest.raises(ValueError, match="trajectory_format"):
        Trajectory.from_xarray(xr.Dataset(attrs={"model": "sa"}))


def test_missing_xarray_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "xarray", None)
    with pytest.raises(ImportError, match=r"attnflow\[sweep\]"):
        _single().to_xarray()


def test_npz_records_versions_method_model_and_old_files_load(tmp_path):
    traj = _single()
    path = traj.save_npz(tmp_path / "t.npz")
    with np.load(path, allow_pickle=False) as z:
        v = json.loads(str(z["versions"]))
        assert (str(z["model"]), str(z["method"]), int(z["param__seed"])) == ("qkv", "rk4", 7)
        old = {k: z[k] for k in z.files if k != "versions"}
    assert v["numpy"] == np.__version__ and v["attnflow"] == __version__
    _same(traj, Trajectory.load_npz(path))
    # a file of the previous writer (no versions entry) still loads
    np.savez(tmp_path / "old.npz", **old)
    _same(traj, Trajectory.load_npz(tmp_path / "old.npz"))
