r"""Labelled views of a :class:`~attnflow.numerics.trajectory.Trajectory` (xarray, netCDF, zarr) — private.

The dataset of a trajectory (:func:`to_dataset`) has

- the data variable ``states`` with dims ``(time, token, coordinate)``, for a batch
  ``(time, system, token, coordinate)``; circle models store angles, without ``coordinate``;
- ``energy`` (``(time,)`` or ``(time, system)``) where the run recorded it;
- one data variable ``param__<name>`` per array-valued model parameter (dims
  ``param__<name>_dim<k>``; e.g. ``Q``, ``K``, ``V``, ``M``); scalar parameters are attributes
  ``param__<name>`` (booleans as 0/1, since netCDF3 has no boolean attributes);
- attributes ``trajectory_format``, ``model``, ``beta``, ``method``, ``manifold``, ``nfev``,
  ``steps``, ``rejected``, ``wall_time``, ``energy_note``, ``dt`` / ``rtol`` (only when set),
  ``seed`` (when the run drew random matrices from one) and ``versions`` (canonical JSON of
  :func:`attnflow._base.versions.versions`, the attribute name of the sweep store).

This module is the one place of ``attnflow.numerics`` that imports xarray (the optional ``sweep``
extra), and only inside functions.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path

import numpy as np

from attnflow._base.io import atomic_path
from attnflow._base.versions import versions

__all__ = ["FORMAT", "to_dataset", "from_dataset", "write_netcdf", "write_zarr", "metadata_attrs"]

#: Format tag shared by the ``.npz`` files and the labelled datasets.
FORMAT = "attnflow-trajectory-1"
_PARAM = "param__"
_LABELLED_EXTRA = ("xarray", "zarr")


def _xarray():
    try:
        import xarray as xr
    except ImportError:
        raise ImportError(
            "Trajectory.to_xarray / to_netcdf / to_zarr need xarray: install the extra with "
            "`pip install 'attnflow[sweep]'` (from a checkout: `pip install -e '.[sweep]'`)"
        ) from None
    return xr


def metadata_attrs(traj) -> dict:
    """The scalar metadata of ``traj`` as plain attributes (shared by ``.npz`` and the datasets)."""
    attrs = {
        "trajectory_format": FORMAT,
        "model": traj.model,
        "beta": float(traj.beta),
        "method": traj.method,
        "manifold": traj.manifold,
        "nfev": int(traj.nfev),
        "steps": int(traj.steps),
        "rejected": int(traj.rejected),
        "wall_time": float(traj.wall_time),
        "energy_note": traj.energy_note,
        "versions": json.dumps(versions(_LABELLED_EXTRA), sort_keys=True),
    }
    if traj.dt is not None:
        attrs["dt"] = float(traj.dt)
    if traj.rtol is not None:
        attrs["rtol"] = float(traj.rtol)
    seed = traj.params.get("seed")
    if seed is not None:
        attrs["seed"] = int(seed)
    return attrs


def _state_dims(traj) -> tuple[str, ...]:
    dims = ("time", "system") if traj.batched else ("time",)
    return dims + (("token",) if traj.manifold == "angles" else ("token", "coordinate"))


def to_dataset(traj):
    """The trajectory as an ``xarray.Dataset`` (layout in the module docstring)."""
    xr = _xarray()
    dims = _state_dims(traj)
    if len(dims) != traj.states.ndim:
        raise ValueError(f"states: shape {traj.states.shape} does not fit the dims {dims} of a "
                         f"{traj.manifold!r} trajectory")
    coords = {"time": ("time", traj.times)}
    for name, size in zip(dims[1:], traj.states.shape[1:]):
        coords[name] = (name, np.arange(size, dtype=np.int32))
    data_vars = {"states": (dims, traj.states, {"description": "saved states (angles for circle models)"})}
    if traj.energy is not None:
        data_vars["energy"] = (dims[: traj.energy.ndim], traj.energy,
                               {"description": "interaction energy of each saved state"})
    attrs = metadata_attrs(traj)
    for name, value in sorted(traj.params.items()):
        if value is None or name == "seed":
            continue
        arr = np.asarray(value)
        if arr.dtype == object or arr.dtype.kind not in "biuf":
            if arr.ndim == 0 and isinstance(value, str):
                attrs[_PARAM + name] = value
                continue
            raise ValueError(f"params: {name!r} is not storable as a plain numeric array or string")
        if arr.ndim == 0:
            attrs[_PARAM + name] = int(arr) if arr.dtype.kind == "b" else arr.item()
        else:
            pdims = tuple(f"{_PARAM}{name}_dim{k}" for k in range(arr.ndim))
            data_vars[_PARAM + name] = (pdims, arr.astype(np.int8) if arr.dtype.kind == "b" else arr,
                                        {"description": f"model parameter {name}"})
    return xr.Dataset(data_vars=data_vars, coords=coords, attrs=attrs)


def from_dataset(ds, cls):
    """Rebuild a ``cls`` (Trajectory) from a dataset written by :func:`to_dataset`."""
    attrs = dict(ds.attrs)
    if attrs.get("trajectory_format") != FORMAT:
        raise ValueError(f"ds: not an attnflow trajectory dataset (attribute trajectory_format is "
                         f"{attrs.get('trajectory_format')!r}, expected {FORMAT!r})")
    params = {}
    for key, value in attrs.items():
        if key.startswith(_PARAM):
            params[key[len(_PARAM):]] = value.item() if isinstance(value, np.generic) else value
    for key in ds.data_vars:
        if key.startswith(_PARAM):
            params[key[len(_PARAM):]] = np.asarray(ds[key].values)
    if "seed" in attrs:
        params["seed"] = int(attrs["seed"])

    def num(key, default=None):
        v = attrs.get(key, default)
        return None if v is None else float(v)

    return cls(
        times=np.asarray(ds["time"].values), states=np.asarray(ds["states"].values),
        energy=np.asarray(ds["energy"].values) if "energy" in ds.data_vars else None,
        model=str(attrs["model"]), beta=float(attrs["beta"]), params=params, method=str(attrs["method"]),
        manifold=str(attrs["manifold"]), nfev=int(attrs["nfev"]), steps=int(attrs["steps"]),
        rejected=int(attrs["rejected"]), dt=num("dt"), rtol=num("rtol"), wall_time=float(attrs["wall_time"]),
        energy_note=str(attrs.get("energy_note", "")),
    )


def _check_target(path: Path, force: bool) -> None:
    if path.exists() and not force:
        raise FileExistsError(f"path: {path} exists; pass force=True (CLI: --force) to overwrite")
    parent = path.parent if str(path.parent) else Path(".")
    if not parent.is_dir():
        raise ValueError(f"path: folder {parent} does not exist; create it first")


def write_netcdf(traj, path, *, force: bool = False) -> Path:
    """Write :func:`to_dataset` of ``traj`` as netCDF3 (scipy engine: no further dependency), atomically."""
    path = Path(path)
    _check_target(path, force)
    ds = to_dataset(traj)
    with atomic_path(path, force=force, suffix=".nc") as tmp:
        ds.to_netcdf(tmp, engine="scipy", format="NETCDF3_64BIT")
    return path


def write_zarr(traj, path, *, force: bool = False) -> Path:
    """Write :func:`to_dataset` of ``traj`` as a zarr store, built in a temporary folder and renamed into place.

    An existing ``path`` is replaced only with ``force=True`` and only if it is a zarr store (a folder
    that is not one is never deleted).
    """
    import warnings

    _xarray()
    try:
        import zarr  # noqa: F401
    except ImportError:
        raise ImportError("Trajectory.to_zarr needs zarr: install the extra with `pip install 'attnflow[sweep]'`"
                          ) from None
    path = Path(path)
    _check_target(path, force)
    if path.exists() and not ((path / "zarr.json").is_file() or (path / ".zgroup").is_file()):
        raise ValueError(f"path: {path} exists and is not a zarr store; choose another path "
                         "(never overwritten, even with force=True)")
    ds = to_dataset(traj)
    parent = path.parent if str(path.parent) else Path(".")
    tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".tmp", dir=parent))
    try:
        os.rmdir(tmp)
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=".*[Cc]onsolidated metadata.*")
            ds.to_zarr(str(tmp), mode="w-", consolidated=True)
        if path.exists():
            shutil.rmtree(path)
        os.rename(tmp, path)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return path

