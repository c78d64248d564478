"""The zarr store of a sweep: layout, creation, resume check and chunk writes.

Layout (readable with ``xarray.open_zarr``): one float64 variable per observable with the grid
dimensions in spec order and ``t`` last (``time_to_cluster`` has no ``t``), chunked as one grid cell
x one block of seeds x all times; a coordinate per dimension; ``chunk_done`` (the cell dimensions x
``seed_block``), set to 1 after a chunk's data is written — the completion marker a rerun reads.
Every chunk of every array belongs to exactly one task, so writes never share a zarr chunk.

The skeleton (metadata and coordinates, no data) is written by xarray into a temporary folder next
to the target and renamed into place, so a store either exists whole or not at all. The group
attributes hold the spec (``sweep_spec``, canonical JSON; ``sweep_source``, as given), the seeds
and the versions of attnflow and its dependencies (``versions``).
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import warnings
from pathlib import Path

import numpy as np

from attnflow._base.versions import versions as _versions
from attnflow.sweeps._spec import FORMAT, OBSERVABLES, SweepSpec

__all__ = ["create_or_open", "ChunkWriter", "versions", "is_zarr_store", "require_extra"]

DONE = "chunk_done"
#: the ``sweep`` extra, recorded besides the core dependencies (``attnflow._base.versions``)
_DEPENDENCIES = ("dask", "distributed", "xarray", "zarr", "numcodecs")


def require_extra():
    """Import dask.distributed, xarray and zarr, or say how to install them."""
    missing = []
    for mod in ("dask", "distributed", "xarray", "zarr"):
        try:
            __import__(mod)
        except ImportError:
            missing.append(mod)
    if missing:
        raise ImportError(
            f"attnflow sweep needs {', '.join(missing)}: install the extra with "
            "`pip install 'attnflow[sweep]'` (from a checkout: `pip install -e '.[sweep]'`)"
        )


def versions() -> dict[str, str]:
    """Versions of Python, attnflow and the dependencies that shape a sweep's numbers and store."""
    return _versions(_DEPENDENCIES)


def is_zarr_store(path: Path) -> bool:
    return (path / "zarr.json").is_file() or (path / ".zgroup").is_file()


def _var_dims(spec: SweepSpec, name: str) -> tuple[str, ...]:
    has_t = OBSERVABLES[name][0]
    return spec.dim_names + (("t",) if has_t else ())


def _coord(values) -> np.ndarray:
    if all(isinstance(v, str) for v in values):
        # variable-length strings (zarr 3 has no stable spec for fixed-width unicode)
        return np.array(values, dtype=object)
    if all(isinstance(v, (int, np.integer)) for v in values):
        return np.array(values, dtype=np.int64)
    return np.array(values, dtype=np.float64)


def _skeleton(spec: SweepSpec, path: Path) -> None:
    import dask.array as da
    import xarray as xr

    coords = {name: (name, _coord(vals)) for name, vals in spec.dims}
    coords["t"] = ("t", np.array(spec.times, dtype=np.float64))
    nb = len(spec.seed_blocks)
    coords["seed_block"] = ("seed_block", np.arange(nb, dtype=np.int64))
    sizes = {name: len(vals) for name, vals in spec.dims} | {"t": len(spec.times), "seed_block": nb}
    chunking = {name: 1 for name, _ in spec.dims} | {"seed": spec.seed_block, "t": len(spec.times), "seed_block": 1}
    data_vars = {}
    encoding = {}
    for name in spec.observables:
        dims = _var_dims(spec, name)
        shape = tuple(sizes[d] for d in dims)
        chunks = tuple(chunking[d] for d in dims)
        data_vars[name] = (dims, da.full(shape, np.nan, dtype=np.float64, chunks=chunks),
                           {"description": OBSERVABLES[name][1]})
        encoding[name] = {"chunks": chunks, "_FillValue": np.nan}
    done_dims = tuple(n for n, _ in spec.cell_dims) + ("seed_block",)
    shape = tuple(sizes[d] for d in done_dims)
    data_vars[DONE] = (done_dims, da.full(shape, np.nan, dtype=np.float64, chunks=(1,) * len(shape)),
                       {"description": "1 where the chunk (cell x seed block) is complete; NaN not yet"})
    encoding[DONE] = {"chunks": (1,) * len(shape), "_FillValue": np.nan}
    attrs = {
        "sweep_format": FORMAT,
        "sweep_spec": spec.canonical_json(),
        "sweep_source": json.dumps(spec.source, sort_keys=True),
        "seeds": json.dumps(list(spec.seeds)),
        "versions": json.dumps(versions(), sort_keys=True),
        "description": "attnflow sweep: observables over the grid; see sweep_spec",
    }
    ds = xr.Dataset(data_vars=data_vars, coords=coords, attrs=attrs)
    with warnings.catch_warnings():
        # zarr 3: consolidated metadata is an extension of the v3 format (read by xarray.open_zarr);
        # the metadata never changes after creation, so the consolidated copy stays exact
        warnings.filterwarnings("ignore", message=".*[Cc]onsolidated metadata.*")
        ds.to_zarr(str(path), mode="w-", compute=False, encoding=encoding, consolidated=True)


def create_or_open(spec: SweepSpec, out, *, force: bool = False) -> tuple[Path, bool]:
    """Create the store at ``out`` or check that the existing one was made from the same spec.

    Returns ``(path, created)``.

    Raises
    ------
    ValueError
        ``out`` exists and is not a sweep store, or holds a different spec (``--force`` starts
        over; a folder that is not a zarr store is never deleted).
    """
    import zarr

    path = Path(out)
    if path.exists():
        if not path.is_dir() or not is_zarr_store(path):
            raise ValueError(f"--out: {path} exists and is not a zarr store; choose another path "
                             "(never overwritten, even with --force)")
        attrs = dict(zarr.open_group(str(path), mode="r").attrs)
        if attrs.get("sweep_format") != FORMAT:
            if not force:
                raise ValueError(f"--out: {path} is a zarr store but not an attnflow sweep; pass --force to replace it")
        elif attrs.get("sweep_spec") == spec.canonical_json() and not force:
            old_versions = json.loads(attrs.get("versions", "{}"))
            now = versions()
            changed = sorted(k for k in now if old_versions.get(k) != now[k])
            if changed:
                warnings.warn(f"{path}: resuming a store made with other versions of {', '.join(changed)} "
                              f"(attrs 'versions'); its chunks may mix them", stacklevel=3)
            return path, False
        elif not force:
            old = json.loads(attrs["sweep_spec"])
            new = spec.canonical()
            diff = sorted(k for k in set(old) | set(new) if old.get(k) != new.get(k))
            raise ValueError(f"--out: {path} holds a sweep of a different spec (differs in: {', '.join(diff)}); "
                             "pass --force to start over, or choose another --out")
        shutil.rmtree(path)
    parent = path.parent if str(path.parent) else Path(".")
    if not parent.is_dir():
        raise ValueError(f"--out: folder {parent} does not exist; create it first (mkdir -p {parent})")
    tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".tmp", dir=parent))
    try:
        os.rmdir(tmp)
        _skeleton(spec, tmp)
        os.rename(tmp, path)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return path, True


class ChunkWriter:
    """Writes finished chunks into the store (client side) and reads the completion markers."""

    def __init__(self, spec: SweepSpec, path: Path):
        import zarr

        self.spec = spec
        self.group = zarr.open_group(str(path), mode="r+")
        self.arrays = {name: self.group[name] for name in spec.observables}
        self.done = self.group[DONE]
        self._seed_axis = spec.dim_names.index("seed")

    def completed(self) -> np.ndarray:
        """Boolean array over (cell dims..., seed_block): chunks already written."""
        return np.asarray(self.done[...]) == 1.0

    def write(self, cell_idx: tuple[int, ...], block: int, results: dict[str, np.ndarray]) -> None:
        """Write one chunk's observables, then its completion marker (in that order)."""
        a, b = self.spec.seed_blocks[block]
        region: list = list(cell_idx)
        region.insert(self._seed_axis, slice(a, b))
        for name, values in results.items():
            sel = tuple(region) + ((slice(None),) if OBSERVABLES[name][0] else ())
            self.arrays[name][sel] = values
        self.done[tuple(cell_idx) + (block,)] = 1.0
