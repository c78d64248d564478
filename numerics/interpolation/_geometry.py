"""Small spherical-geometry helpers for the interpolation construction (private)."""

from __future__ import annotations

import numpy as np

__all__ = [
    "unit",
    "angle",
    "angles_to",
    "dirac_w2",
    "best_dirac_w2",
    "mean_direction",
    "cloud_radius",
    "find_hole",
    "hole_radius",
]


def unit(v: np.ndarray) -> np.ndarray:
    v = np.asarray(v, dtype=np.float64)
    return v / np.linalg.norm(v, axis=-1, keepdims=True)


def angle(a: np.ndarray, b: np.ndarray) -> float:
    """Geodesic distance between two unit vectors, ``2 atan2(|a-b|, |a+b|)`` (accurate at 0 and pi)."""
    return float(2.0 * np.arctan2(np.linalg.norm(a - b), np.linalg.norm(a + b)))


def angles_to(points: np.ndarray, z: np.ndarray) -> np.ndarray:
    """Geodesic distances from each row of ``points`` to the unit vector ``z`` (stable formula)."""
    return 2.0 * np.arctan2(np.linalg.norm(points - z, axis=1), np.linalg.norm(points + z, axis=1))


def dirac_w2(cloud: np.ndarray, z: np.ndarray) -> float:
    r"""Exact :math:`W_2(\mu, \delta_z) = (\frac1n\sum_i |x_i - z|^2)^{1/2}` (chordal metric).

    The only coupling with a Dirac mass is the product coupling, so no solver is needed; for unit
    vectors this is :math:`\sqrt{2(1 - \langle m_\mu, z\rangle)}`.

    References
    ----------
    Exact: :math:`W_2^2(\mu,\delta_z) = \int|x-z|^2d\mu` (claim ``wasserstein.dirac``); arXiv 2411.04551, Theorem 1.1.
    """
    diff = np.asarray(cloud, dtype=np.float64) - np.asarray(z, dtype=np.float64)
    return float(np.sqrt(np.mean(np.sum(diff * diff, axis=1))))


def best_dirac_w2(cloud: np.ndarray) -> float:
    r""":math:`\min_{z \in S^{d-1}} W_2(\mu, \delta_z) = \sqrt{2(1 - |m_\mu|)}`, attained at :math:`z = m_\mu/|m_\mu|`.

    References
    ----------
    Claim ``wasserstein.dirac`` (minimum over z: :math:`2(1-|m_\mu|)`); arXiv 2411.04551, Theorem 1.1.
    """
    m = np.mean(np.asarray(cloud, dtype=np.float64), axis=0)
    return float(np.sqrt(max(0.0, 2.0 * (1.0 - np.linalg.norm(m)))))


def mean_direction(cloud: np.ndarray) -> np.ndarray:
    m = np.mean(cloud, axis=0)
    nm = np.linalg.norm(m)
    if nm < 1e-12:
        raise ValueError("cloud: barycentre is 0, no mean direction")
    return m / nm


def cloud_radius(cloud: np.ndarray, centre: np.ndarray) -> float:
    """Largest geodesic distance from ``centre`` to a point of ``cloud``."""
    return float(angles_to(cloud, centre).max())


def hole_radius(points: np.ndarray, w: np.ndarray) -> float:
    """Geodesic radius of the largest open cap around ``w`` that contains no point."""
    return float(np.arccos(np.clip((points @ w).max(), -1.0, 1.0)))


def find_hole(points: np.ndarray, *, rng: np.random.Generator, candidates: int = 4000,
              refine: int = 300) -> tuple[np.ndarray, float]:
    """Search a direction ``w`` maximising the empty-cap radius around it (random search + hill climb)."""
    d = points.shape[1]
    cand = unit(rng.standard_normal((candidates, d)))
    m = points.mean(axis=0)
    if np.linalg.norm(m) > 1e-12:
        cand = np.vstack([-unit(m), cand])
    score = np.arccos(np.clip((cand @ points.T).max(axis=1), -1.0, 1.0))
    k = int(np.argmax(score))
    w, best = cand[k], float(score[k])
    step = max(best, 0.05) / 2
    for _ in range(refine):
        trial = unit(w + step * rng.standard_normal(d))
        r = hole_radius(points, trial)
        if r > best:
            w, best = trial, r
        else:
            step *= 0.97
    return w, best
