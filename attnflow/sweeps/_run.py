"""Running a sweep on dask.distributed: the cluster, the chunk tasks, the resumable writes."""

from __future__ import annotations

import contextlib
import logging
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from attnflow.sweeps._spec import SweepSpec, load_spec
from attnflow.sweeps._store import ChunkWriter, create_or_open, require_extra
from attnflow.symbolic.models import origin

__all__ = ["sweep", "SweepResult"]

#: Environment of the embedded cluster's worker processes: one numba / BLAS / OpenMP thread each.
WORKER_ENV = {"NUMBA_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1",
              "MKL_NUM_THREADS": "1"}


@dataclass
class SweepResult:
    """What a :func:`sweep` call did.

    Attributes
    ----------
    path : pathlib.Path
        The zarr store.
    chunks : int
        Chunks of the whole sweep (grid cells x seed blocks).
    computed, skipped : int
        Chunks computed by this call, and found complete in the store (resume).
    wall_time : float
        Seconds.
    """

    path: Path
    chunks: int
    computed: int
    skipped: int
    wall_time: float

    def open(self):
        """The store as an ``xarray.Dataset`` (``xarray.open_zarr``)."""
        import xarray as xr

        return xr.open_zarr(str(self.path))


def _pin_threads_plugin():
    from distributed.diagnostics.plugin import WorkerPlugin

    class PinThreads(WorkerPlugin):
        """One numba and one BLAS thread per worker (threadpoolctl, numba.set_num_threads)."""

        name = "attnflow-pin-threads"

        def setup(self, worker):
            import numba
            from threadpoolctl import threadpool_limits

            threadpool_limits(limits=1)
            numba.set_num_threads(1)

    return PinThreads()


@contextlib.contextmanager
def _client(scheduler: str | None, n_workers: int | None) -> Iterator[object]:
    from distributed import Client, LocalCluster

    if scheduler is not None:
        with Client(scheduler, timeout="30s") as client:
            yield client
        return
    workers = n_workers or os.cpu_count() or 1
    with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=":0",
                      silence_logs=logging.ERROR, env=WORKER_ENV) as cluster, \
            Client(cluster) as client:
        client.register_plugin(_pin_threads_plugin())
        yield client


def _task(spec: SweepSpec, cell: dict, block: tuple[int, int]) -> dict:
    return {
        "model": cell["model"], "n": cell["n"], "d": cell.get("d"), "beta": cell["beta"],
        "params": {k: cell[k] for k in spec.param_names},
        "seeds": list(spec.seeds[block[0]:block[1]]), "times": list(spec.times), "dt": spec.dt,
        "method": cell.get("method", spec.method), "observables": list(spec.observables), "delta": spec.delta,
        "rank_eps": spec.rank_eps, "model_file": origin(cell["model"]),
    }


#: Field evaluations per step of each fixed-step method (the chunk cost estimate of :func:`_chunk_cost`).
_EVALS_PER_STEP = {"rk4": 4.0, "euler": 1.0, "lie_euler": 1.0, "authors": 1.0}


def _chunk_cost(task: dict, scale) -> float:
    r"""A chunk's relative cost, for the order of submission only (it never changes a result).

    .. math:: c = B\,\frac{t_{\max}}{h}\,s\,e\,n^2\,(d + 8)

    with ``B`` systems, step ``h`` (divided by the authors' factor ``s`` = ``scale(model, beta)``,
    :func:`attnflow.numerics.simulate.authors_step_scale`, for ``method="authors"``), ``e`` field
    evaluations per step and ``n^2 (d + 8)`` for the pair scores and their exponentials.
    """
    s = scale(task["model"], task["beta"]) if task["method"] == "authors" else 1.0
    steps = float(task["times"][-1]) / float(task["dt"]) * s
    d = task["d"] or 1
    return (len(task["seeds"]) * steps * _EVALS_PER_STEP.get(task["method"], 4.0)
            * task["n"] ** 2 * (d + 8))


def _longest_first(todo: list) -> list:
    """The chunks ordered by decreasing estimated cost (:func:`_chunk_cost`): Dask starts tasks in
    submission order, so the long chunks start first and the last ones to finish are short — two
    workers do not wait on one long chunk at the end (longest-processing-time-first scheduling).
    Among chunks of equal cost, seed blocks go round the cells (block 0 of each cell, then block 1)."""
    import functools

    @functools.lru_cache(maxsize=None)
    def scale(model, beta):
        try:
            from attnflow.numerics import fields
            from attnflow.numerics.simulate import authors_step_scale

            return authors_step_scale(fields.model_spec(model), float(beta))
        except Exception:  # an estimate only: a model the client cannot see counts as unscaled
            return 1.0

    costs = [_chunk_cost(task, scale) for _, _, task in todo]
    # equal costs: seed block 0 of every cell first, then block 1, ...: a run stopped midway leaves
    # every cell with about the same seeds (a usable diagram), not some cells complete and others empty
    order = sorted(range(len(todo)), key=lambda i: (-costs[i], todo[i][1], i))
    return [todo[i] for i in order]


def sweep(spec, out, *, scheduler: str | None = None, force: bool = False, progress: bool | None = None,
          n_workers: int | None = None, on_chunk: Callable[[int], None] | None = None) -> SweepResult:
    """Run a parameter sweep and write its observables into a zarr store, chunk by chunk.

    The grid is the product of the spec's list-valued keys (model, n, d, beta, model parameters,
    seeds); each chunk — one grid cell x one block of seeds — integrates its systems with the fixed
    step ``dt`` to the saved times and records the observables
    (:mod:`attnflow.numerics.observables`). A rerun on the same store resumes: chunks marked
    complete are skipped; a run killed midway loses only the chunks in flight.

    Parameters
    ----------
    spec : dict or str or pathlib.Path
        The ``[sweep]`` table (a dict, or a TOML file read with ``tomllib``); see the README and
        ``examples/sweeps/``. Validated completely before anything runs.
    out : str or pathlib.Path
        The zarr store (a folder). An existing store of the same spec is resumed; of another spec
        it is refused unless ``force``.
    scheduler : str, optional
        Address of a running dask scheduler (``tcp://host:8786``). Default: an embedded
        ``LocalCluster`` with one single-threaded worker process per core (``n_workers``).
    force : bool
        Start over: delete an existing sweep store at ``out`` first (never a folder that is not a
        zarr store).
    progress : bool or None
        A tqdm bar of chunks done: None (default) automatic (:mod:`attnflow._base.progress`), True
        always, False never.
    n_workers : int, optional
        Worker processes of the embedded cluster (default: ``os.cpu_count()``).
    on_chunk : callable, optional
        Called with the number of chunks written so far after each write (progress hooks, tests).

    Returns
    -------
    SweepResult

    Raises
    ------
    ValueError
        A bad spec (one line naming the key) or an unusable ``out``.
    ImportError
        dask, distributed, xarray or zarr missing (install ``attnflow[sweep]``).

    References
    ----------
    arXiv:2312.10794 and arXiv:2512.01868 (the (t, beta) phase diagrams this reproduces).
    """
    t0 = time.perf_counter()
    spec = load_spec(spec)
    require_extra()
    if scheduler is not None and (not isinstance(scheduler, str) or not scheduler.strip()):
        raise ValueError(f"--scheduler: expected an address such as tcp://127.0.0.1:8786, got {scheduler!r}")
    if n_workers is not None and (isinstance(n_workers, bool) or not isinstance(n_workers, int) or n_workers < 1):
        raise ValueError(f"n_workers (--workers): must be an integer >= 1, got {n_workers!r}")
    path, _ = create_or_open(spec, out, force=force)
    writer = ChunkWriter(spec, path)
    done = writer.completed()
    todo = []
    for cell_idx, cell in spec.cells():
        for block_idx, block in enumerate(spec.seed_blocks):
            if not done[cell_idx + (block_idx,)]:
                todo.append((cell_idx, block_idx, _task(spec, cell, block)))
    todo = _longest_first(todo)
    total = spec.n_chunks
    skipped = total - len(todo)
    computed = 0
    if todo:
        from attnflow._base.progress import progress_bar

        bar = progress_bar(progress, total=total, initial=skipped, unit="chunk", desc="sweep")
        try:
            with _client(scheduler, n_workers) as client:
                from distributed import as_completed

                from attnflow.sweeps._task import run_chunk

                futures = {}
                for cell_idx, block_idx, task in todo:
                    fut = client.submit(run_chunk, task, pure=False)
                    futures[fut] = (cell_idx, block_idx)
                try:
                    for fut in as_completed(futures):
                        cell_idx, block_idx = futures[fut]
                        writer.write(cell_idx, block_idx, fut.result())
                        computed += 1
                        bar.update(1)
                        if on_chunk is not None:
                            on_chunk(computed)
                finally:
                    client.cancel(list(futures))
        finally:
            bar.close()
    return SweepResult(path=path, chunks=total, computed=computed, skipped=skipped,
                       wall_time=time.perf_counter() - t0)
