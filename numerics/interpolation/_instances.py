"""Random test instances for the interpolation construction (private)."""

from __future__ import annotations

import numpy as np

__all__ = ["draw_instance"]


def draw_instance(d: int, N: int, n: int, *, seed: int = 0, spread: float = 0.5,
                  hole_cos: float = -0.3) -> tuple[list[np.ndarray], np.ndarray]:
    r"""N overlapping point clouds with a common hole, and N distinct random targets.

    Cloud ``i`` has ``n`` atoms :math:`x = (c_i + \sigma g)/|c_i + \sigma g|`, ``g`` standard
    Gaussian, centres :math:`c_i` drawn around :math:`e_1`; atoms with
    :math:`\langle x, e_1\rangle \le` ``hole_cos`` are redrawn, so the cap around :math:`-e_1` of
    geodesic radius :math:`\arccos(-\text{hole\_cos})` is a common hole.  Targets are uniform on
    the sphere (redrawn if two are closer than 0.2).

    References
    ----------
    Hypotheses of arXiv 2411.04551, Theorem 1.1 (common hole, distinct targets).
    """
    if d < 1 or N < 1 or n < 1:
        raise ValueError("d, N, n: must be positive integers")
    rng = np.random.default_rng(seed)
    e = np.zeros(d)
    e[0] = 1.0
    clouds = []
    for _ in range(N):
        c = e + 0.6 * rng.standard_normal(d)
        c /= np.linalg.norm(c)
        pts = np.empty((0, d))
        while len(pts) < n:
            x = c + spread * rng.standard_normal((n, d))
            x /= np.linalg.norm(x, axis=1, keepdims=True)
            pts = np.vstack([pts, x[x @ e > hole_cos]])
        clouds.append(pts[:n])
    while True:
        t = rng.standard_normal((N, d))
        t /= np.linalg.norm(t, axis=1, keepdims=True)
        g = np.linalg.norm(t[:, None] - t[None], axis=2) + 3 * np.eye(N)
        if g.min() > 0.2:
            return clouds, t
