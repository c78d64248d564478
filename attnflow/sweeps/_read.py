"""Reading a finished (or partial) sweep store back: :func:`open_store`."""

from __future__ import annotations

import json
from pathlib import Path

__all__ = ["open_store", "store_spec"]


def open_store(path):
    """The sweep store at ``path`` as an ``xarray.Dataset`` (``xarray.open_zarr``; chunks not yet
    computed read as NaN).

    Raises
    ------
    ValueError
        ``path`` is not an attnflow sweep store.
    """
    from attnflow.sweeps._spec import FORMAT
    from attnflow.sweeps._store import is_zarr_store, require_extra

    require_extra()
    import xarray as xr

    p = Path(path)
    if not p.is_dir() or not is_zarr_store(p):
        raise ValueError(f"store: {p} is not a zarr store (give the --out folder of attnflow sweep)")
    ds = xr.open_zarr(str(p))
    if ds.attrs.get("sweep_format") != FORMAT:
        raise ValueError(f"store: {p} is a zarr store but not an attnflow sweep (no sweep_format={FORMAT!r})")
    return ds


def store_spec(ds) -> dict:
    """The canonical spec (dict) recorded in a sweep store's attributes."""
    return json.loads(ds.attrs["sweep_spec"])
