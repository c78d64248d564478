r"""The phase diagram of arXiv:2512.01868 and its equiangular prediction (helpers of
``claims/phase_diagram.py``).

:func:`diagrams` runs, for each dimension :math:`d`, an ensemble of SA systems from i.i.d. uniform
tokens on :math:`S^{d-1}` and records the diagram

.. math:: P_d(\beta, t) = \mathbb P\bigl(\langle x_i(t), x_j(t)\rangle \ge 1-\delta\bigr)

(the ensemble mean of :func:`attnflow.numerics.observables.pair_fraction`); :func:`distances`
compares each diagram's 1/2-level boundary with the equiangular curve :math:`t_\beta`
(:func:`attnflow.numerics.phase.boundary_distance`).

References
----------
arXiv:2512.01868 (phase diagram, n = 32, d = 8, 128, 1024; equiangular prediction).
"""

from __future__ import annotations

import numpy as np

from attnflow.numerics import observables as ob
from attnflow.numerics import random_sphere, simulate, single_thread
from attnflow.numerics.phase import boundary_distance

__all__ = ["CONFIG", "diagrams", "distances"]

#: The claim's grid: small enough for the quick profile (one example ~10 s on a loaded 2-core
#: machine), large enough that the seed noise of the boundary (~0.05 in t at 32 seeds) is below the
#: distances it compares.
CONFIG = {
    "n": 32,
    "ds": (8, 32, 128),
    "betas": (1.0, 2.0, 3.0, 4.0),
    "seeds": 32,
    "t_final": 10.0,
    "save": 0.25,
    "dt": 0.125,
    "delta": 1e-3,
}


def times_of(cfg: dict) -> np.ndarray:
    return np.arange(0.0, cfg["t_final"] + 1e-9, cfg["save"])


def diagrams(cfg: dict, seed0: int) -> dict[int, np.ndarray]:
    """``{d: P_d}`` with ``P_d`` of shape ``(len(betas), len(times))``: seeds ``seed0 .. seed0 + seeds - 1``,
    the same starts for every β (common random numbers), RK4 with step ``dt``."""
    times = times_of(cfg)
    out = {}
    with single_thread():
        for d in cfg["ds"]:
            x0 = np.stack([random_sphere(cfg["n"], d, seed=seed0 + s) for s in range(cfg["seeds"])])
            rows = []
            for beta in cfg["betas"]:
                tr = simulate("sa", x0, beta=float(beta), t_final=cfg["t_final"], dt=cfg["dt"], t_eval=times,
                              energy=False)
                rows.append(ob.pair_fraction(tr.states, cfg["delta"]).mean(axis=1))
            out[d] = np.array(rows)
    return out


def distances(ps: dict[int, np.ndarray], cfg: dict, *, delta: float | None = None,
              rho0: float = 0.0) -> dict[int, tuple[float, np.ndarray]]:
    r"""``{d: (D_d, t_{1/2}(β) - t_β)}``: mean over β of :math:`|t_{1/2}(\beta) - t_\beta|`, with the
    prediction for ``delta`` (default: the diagrams' own δ) and ``rho0``."""
    times = times_of(cfg)
    dl = cfg["delta"] if delta is None else delta
    return {d: boundary_distance(p, times, cfg["betas"], cfg["n"], delta=dl, rho0=rho0) for d, p in ps.items()}
