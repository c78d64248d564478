r"""The perturbation experiment of the ``transport.*`` claims (arXiv 2604.16653 for the attention flow).

:math:`\mu = \frac1n\sum_i\delta_{x_i}` with :math:`x_i` uniform on :math:`S^2` (seeded); :math:`\nu_\varepsilon`
moves every atom by :math:`\varepsilon\xi_i` along a fixed random tangent vector and renormalises;
:func:`attnflow.numerics.transport.representation_gap` measures, for each :math:`\varepsilon`, the
transport representatives :math:`\Phi_t^\mu`, :math:`\Phi_t^{\nu_\varepsilon}` and the images
:math:`F_t(\mu)`, :math:`F_t(\nu_\varepsilon)` (SA, RK4 with ``TR_DT``).
"""

from __future__ import annotations

import functools

import numpy as np

from attnflow.numerics.initial import random_sphere
from attnflow.numerics.transport import representation_gap, sphere_probes

__all__ = ["TR_EPS", "TR_T", "TR_DT", "TR_PROBES", "perturbed", "gap_experiment"]

#: Perturbation sizes (largest first), horizon, RK4 step and number of probe points.
TR_EPS = (1e-1, 1e-2, 1e-3, 1e-4, 1e-5)
TR_T = 2.0
TR_DT = 0.05
TR_PROBES = 200


def perturbed(x: np.ndarray, eps: float, seed: int) -> np.ndarray:
    """Each atom moved by ``eps`` times a fixed random tangent direction (seeded), then renormalised."""
    xi = np.random.default_rng(seed).standard_normal(x.shape)
    xi -= np.sum(xi * x, axis=1, keepdims=True) * x
    y = x + eps * xi
    return y / np.linalg.norm(y, axis=1, keepdims=True)


@functools.lru_cache(maxsize=32)
def gap_experiment(seed: int, n: int, beta: float) -> tuple[dict[str, float], ...]:
    """One :func:`representation_gap` record per size in :data:`TR_EPS` (cached per process)."""
    x = random_sphere(n, 3, seed=seed)
    probes = sphere_probes(TR_PROBES)
    return tuple(representation_gap(x, perturbed(x, eps, seed + 1), probes, beta=beta, t=TR_T, dt=TR_DT)
                 for eps in TR_EPS)
