"""Research-scale parameter sweeps on Dask (``attnflow.sweep``, ``attnflow sweep``).

A sweep runs the particle systems of a grid (model, n, d, β, model parameters, seeds) to a set of
saved times and writes observables (:mod:`attnflow.numerics.observables`) into a zarr store, chunk
by chunk, resumably. The spec is a ``[sweep]`` TOML table (``examples/sweeps/``); see
:func:`sweep`.

Needs the ``sweep`` extra (dask[distributed], xarray, zarr); importing this package does not
import them.
"""

from attnflow.sweeps._read import open_store, store_spec
from attnflow.sweeps._run import SweepResult, sweep
from attnflow.sweeps._spec import KEYS, OBSERVABLES, SweepSpec, load_spec

__all__ = ["sweep", "SweepResult", "SweepSpec", "load_spec", "OBSERVABLES", "KEYS", "open_store", "store_spec"]
