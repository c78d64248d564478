r"""One chunk of a sweep: a grid cell times a block of seeds, run where a Dask worker runs it.

:func:`run_chunk` draws the initial tokens of each seed, integrates the block through
:func:`_simulate_batch` and reduces the saved states to the observables of
:mod:`attnflow.numerics.observables`. Numba and BLAS run single-threaded inside the task (on any
cluster), so a chunk's numbers do not depend on where or beside what it runs.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import numpy as np

__all__ = ["run_chunk", "initial_states"]


@contextlib.contextmanager
def _single_threaded() -> Iterator[None]:
    """numba (a thread-local setting) and BLAS (process-wide; re-entrant and thread-safe, so tasks
    running side by side in one worker process do not undo each other's limit) at one thread."""
    from attnflow.numerics import single_thread
    from attnflow.numerics._threads import blas_single_thread

    with single_thread(), blas_single_thread():
        yield


def initial_states(manifold: str, n: int, d: int | None, seeds) -> np.ndarray:
    r"""The initial tokens of each seed, stacked: ``(B, n, d)``, or angles ``(B, n)`` on the circle.

    .. math::

        x_i = g_i/|g_i|,\ g_i\sim\mathcal N(0, I_d)\ \text{iid (sphere, euclidean)};\qquad
        \theta_i\sim\mathrm{Unif}[0, 2\pi)\ \text{iid (circle)},

    seed ``s`` drawn by :func:`attnflow.numerics.random_sphere` / ``random_angles`` with ``seed=s``
    (the same start for every β, parameter and scheme of the grid: common random numbers).

    References
    ----------
    arXiv:2312.10794 and arXiv:2512.01868 (iid uniform initial tokens).
    """
    from attnflow.numerics.initial import random_angles, random_sphere

    if manifold == "angles":
        return np.stack([random_angles(n, seed=int(s)) for s in seeds])
    return np.stack([random_sphere(n, d, seed=int(s)) for s in seeds])


def _simulate_batch(model: str, x0_batch: np.ndarray, *, beta: float, t_eval, dt: float, method: str,
                    **params: Any) -> np.ndarray:
    """States of each system of ``x0_batch`` at the times ``t_eval``: shape ``(T, B, *x0.shape)``.

    One batched :func:`attnflow.numerics.simulate` (one kernel call per stage covers every system);
    the fixed step ``dt`` lands on every saved time (the spec checks that each is a multiple of ``dt``).
    """
    from attnflow.numerics import simulate

    t_eval = np.asarray(t_eval, dtype=np.float64)
    traj = simulate(model, x0_batch, beta=beta, t_final=float(t_eval[-1]), dt=dt, method=method,
                    t_eval=t_eval, energy=False, **params)
    if not np.allclose(traj.times, t_eval, rtol=1e-9, atol=1e-12):
        raise RuntimeError("t: saved times do not match the requested ones")
    return traj.states


def _ensure_model(task: dict) -> None:
    """Load the user's models file of ``task["model"]`` in this process (a Dask worker) if needed.

    Loading runs the file: it is the user's own Python code (``attnflow sweep --models FILE``).
    """
    from attnflow.numerics.fields import MODELS

    path = task.get("model_file")
    if task["model"] not in MODELS and path:
        from attnflow.symbolic.models import load

        load(path, replace=True)


def run_chunk(task: dict) -> dict[str, np.ndarray]:
    """Run one chunk and return ``{observable: array}``: ``(B, T)``, or ``(B,)`` for ``time_to_cluster``.

    ``task`` holds ``model, n, d, beta, params, seeds, times, dt, method, observables, delta,
    rank_eps`` (plain values: it is pickled to the worker).
    """
    from attnflow.numerics import observables as ob
    from attnflow.numerics.fields import MODELS

    _ensure_model(task)
    model = task["model"]
    manifold = MODELS[model].manifold
    times = np.asarray(task["times"], dtype=np.float64)
    params = dict(task["params"])
    try:
        with _single_threaded():
            x0 = initial_states(manifold, task["n"], task.get("d"), task["seeds"])
            states = _simulate_batch(model, x0, beta=task["beta"], t_eval=times, dt=task["dt"],
                                     method=task["method"], **params)
            u = ob.directions(states, manifold)  # (T, B, n, k)
            out: dict[str, np.ndarray] = {}
            for name in task["observables"]:
                if name == "pair_fraction":
                    v = ob.pair_fraction(u, task["delta"])
                elif name == "gram_mean":
                    v = ob.gram_mean(u)
                elif name == "gram_min":
                    v = ob.gram_min(u)
                elif name == "cluster_count":
                    v = ob.cluster_count(u, task["delta"])
                elif name == "cluster_rank":
                    v = ob.cluster_rank(u, task["rank_eps"])
                elif name == "time_to_cluster":
                    out[name] = ob.time_to_cluster(u, times, task["delta"]).astype(np.float64)
                    continue
                elif name == "energy":
                    v = ob.energy(states, model=model, beta=task["beta"], **params)
                elif name == "order_parameter":
                    v = ob.order_parameter(states)
                else:  # pragma: no cover - the spec admits only the names above
                    raise ValueError(f"observables: unknown observable {name!r}")
                out[name] = np.ascontiguousarray(np.asarray(v, dtype=np.float64).T)  # (B, T)
    except Exception as exc:
        where = ", ".join(f"{k}={task[k]!r}" for k in ("model", "n", "d", "beta") if task.get(k) is not None)
        extra = "".join(f", {k}={v!r}" for k, v in params.items())
        seeds = task["seeds"]
        raise RuntimeError(f"chunk {where}{extra}, seeds {seeds[0]}..{seeds[-1]}: {type(exc).__name__}: {exc}") from exc
    return out

