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
    from attnflow._base import validate

    d = validate.integer("d", d, minimum=1)
    N = validate.integer("N", N, minimum=1)
    n = validate.integer("n", n, minimum=1)
    validate.seed(seed)
    validate.memory("n", 8.0 * 3 * N * n * d, f"lower n (got {n}) or N (got {N})")
    rng = np.random.default_rng(seed)
    e = np.zeros(d)
    e[0] = 1.0
    clouds = []
    for _ in range(N):
        c = e + 0.6 * rng.standard_normal(d)
        c /= np.linalg.norm(c)
        pts = np.empty((0, d))
        for _ in range(_MAX_DRAWS):
            if len(pts) >= n:
                break
            x = c + spread * rng.standard_normal((n, d))
            x /= np.linalg.norm(x, axis=1, keepdims=True)
            pts = np.vstack([pts, x[x @ e > hole_cos]])
        else:
            raise ValueError(f"hole_cos: no atoms outside the hole after {_MAX_DRAWS} draws (hole_cos={hole_cos}); "
                             "raise hole_cos")
        clouds.append(pts[:n])
    for _ in range(_MAX_DRAWS):
        t = rng.standard_normal((N, d))
        t /= np.linalg.norm(t, axis=1, keepdims=True)
        g = np.linalg.norm(t[:, None] - t[None], axis=2) + 3 * np.eye(N)
        if g.min() > _MIN_TARGET_GAP:
            return clouds, t
    raise ValueError(f"N: could not draw {N} targets on S^{d - 1} pairwise farther apart than {_MIN_TARGET_GAP} "
                     f"in {_MAX_DRAWS} draws; use fewer measures N or a larger dimension d")


#: Redraws before :func:`draw_instance` gives up (the target condition is a rejection test).
_MAX_DRAWS = 1000
#: Minimal chordal distance between two drawn targets.
_MIN_TARGET_GAP = 0.2
