r"""Shared pieces of the stochastic simulators: saved paths, seeding, Brownian increments (private).

:class:`StochasticPath` (what every simulator returns), the argument checks shared by the
simulators, the saver of every ``save_every``-th state, the tangent projection
:math:`P_x v = v - \langle x, v\rangle x` and :func:`brownian_increments`.  Public names are
re-exported by :mod:`attnflow.numerics.noise`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from attnflow._base.validate import real, real_array

__all__ = ["StochasticPath", "brownian_increments"]

_UNIT_TOL = 1e-8


@dataclass(frozen=True)
class StochasticPath:
    """A saved stochastic trajectory.

    Attributes
    ----------
    times : ndarray, shape (k,)
        Saved times (the first is 0, the last the final time).
    states : ndarray, shape (k, n, d) or (k, n) for angles
        Saved states; ``states[-1]`` is the final state.
    """

    times: np.ndarray
    states: np.ndarray

    @property
    def final(self) -> np.ndarray:
        """The final state."""
        return self.states[-1]


# ----------------------------------------------------------------------------------------------
# validation helpers
# ----------------------------------------------------------------------------------------------
def _rng(seed) -> np.random.Generator:
    if isinstance(seed, np.random.Generator):
        return seed
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, (int, np.integer))):
        raise ValueError(f"seed: expected None, an int or a numpy.random.Generator, got {seed!r}")
    return np.random.default_rng(seed)


def _sphere_points(x, name: str) -> np.ndarray:
    arr = real_array(name, x).copy()
    if arr.ndim != 2 or arr.shape[0] < 1 or arr.shape[1] < 2:
        raise ValueError(f"{name}: expected shape (n, d) with n >= 1 and d >= 2, got {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name}: contains NaN or inf; pass finite unit vectors")
    dev = float(np.max(np.abs(np.linalg.norm(arr, axis=1) - 1.0)))
    if dev > _UNIT_TOL:
        raise ValueError(
            f"{name}: rows must be unit vectors (max ||x_i| - 1| = {dev:.3g}); "
            "normalise with x / np.linalg.norm(x, axis=1, keepdims=True)"
        )
    return arr / np.linalg.norm(arr, axis=1, keepdims=True)


def _positive(value, name: str, *, allow_inf: bool = False) -> float:
    """``value`` as a float > 0 (``inf`` allowed with ``allow_inf``), else ``ValueError`` naming ``name``."""
    return real(name, value, lo=0.0, lo_strict=True, allow_inf=allow_inf)


def _n_steps(dt, t_final) -> tuple[float, int]:
    dt = _positive(dt, "dt")
    t_final = real("t_final", t_final, lo=0.0)
    k = int(round(t_final / dt))
    if abs(k * dt - t_final) > 1e-9 * max(1.0, t_final):
        raise ValueError(f"t_final: {t_final} is not a whole number of steps dt = {dt}; choose dt = t_final / k")
    return dt, k


def _save_every(save_every) -> int:
    if isinstance(save_every, bool) or int(save_every) != save_every or save_every < 1:
        raise ValueError(f"save_every: must be a positive integer, got {save_every!r}")
    return int(save_every)


def _check_increments(increments, seed, shape: tuple, name: str = "increments"):
    if increments is None:
        return None
    if seed is not None:
        raise ValueError(f"{name}: pass either {name} or seed, not both (the increments already fix the noise)")
    inc = real_array(name, increments)
    if inc.shape != shape:
        raise ValueError(f"{name}: expected shape {shape} (n_steps, ...), got {inc.shape}")
    if not np.all(np.isfinite(inc)):
        raise ValueError(f"{name}: contains NaN or inf")
    return inc


class _Saver:
    def __init__(self, n_steps: int, every: int, x0: np.ndarray, dt: float):
        from attnflow._base import validate

        n_saved = n_steps // every + 1 + (1 if n_steps % every else 0)
        validate.memory("t_final", 8.0 * n_saved * (x0.size + 1) + 64.0 * n_saved,
                        f"t_final/dt/save_every save {n_saved:.3g} states of shape {x0.shape}: raise save_every "
                        f"(e.g. save_every={max(1, n_steps // 10000)}) or dt, or lower t_final")
        self.idx = list(range(0, n_steps + 1, every))  # = sorted(set(range(0, n + 1, every)) | {n})
        if self.idx[-1] != n_steps:
            self.idx.append(n_steps)
        self.states = np.empty((len(self.idx),) + x0.shape)
        self.times = np.array(self.idx, dtype=np.float64) * dt
        self.states[0] = x0
        self.k = 1

    def __call__(self, step: int, x: np.ndarray):
        if self.k < len(self.idx) and step == self.idx[self.k]:
            self.states[self.k] = x
            self.k += 1

    def result(self) -> StochasticPath:
        return StochasticPath(self.times, self.states)


def brownian_increments(n_steps: int, shape, dt, seed=None) -> np.ndarray:
    r"""Pre-drawn Brownian increments :math:`\Delta W_k \sim N(0, \Delta t\, I)`, shape ``(n_steps, *shape)``.

    .. math::
        \Delta W_k = \sqrt{\Delta t}\, \xi_k, \qquad \xi_k \sim N(0, I) \text{ i.i.d.}

    Drawn with ``numpy.random.default_rng(seed).standard_normal`` in one call, which produces the
    same numbers as the step-by-step draws of the simulators for the same seed, so passing this
    array or the seed gives identical paths. Pass one array to two simulations to drive both with
    the same noise.

    Parameters
    ----------
    n_steps : int >= 0
    shape : tuple of int
        Shape of one increment (``(n, d)`` on the sphere, ``(n,)`` for angles).
    dt : float > 0
    seed : int or numpy.random.Generator, optional

    Returns
    -------
    ndarray

    References
    ----------
    Kloeden & Platen, *Numerical Solution of SDEs* (1992), §10.2; arXiv:2512.01868 §7 (independent
    noise), arXiv:2604.26898 (common noise).
    """
    if isinstance(n_steps, bool) or int(n_steps) != n_steps or n_steps < 0:
        raise ValueError(f"n_steps: must be an integer >= 0, got {n_steps!r}")
    dt = _positive(dt, "dt")
    shape = tuple(int(s) for s in np.atleast_1d(shape))
    if any(s < 1 for s in shape):
        raise ValueError(f"shape: every size must be >= 1, got {shape}")
    from attnflow._base import validate

    validate.memory("n_steps", 16.0 * int(n_steps) * float(np.prod(shape)),
                    f"{int(n_steps)} steps of shape {shape}: lower n_steps or draw the increments in blocks")
    return np.sqrt(dt) * _rng(seed).standard_normal((int(n_steps),) + shape)


def _project(x: np.ndarray, v: np.ndarray) -> np.ndarray:
    return v - np.sum(x * v, axis=1, keepdims=True) * x
