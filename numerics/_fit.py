"""Rate fitting: log-linear regression over a trajectory, log-log regression over sizes (private).

Used by the numerics that report fitted exponents (:mod:`attnflow.numerics.lowtemp`) and
re-exported for the rate claims by :mod:`attnflow.properties.registry`.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["fit_exponential_rate", "fit_power_law"]


def _clean(x, y, name_x: str, name_y: str) -> tuple[np.ndarray, np.ndarray]:
    x = np.asarray(x, dtype=float).ravel()
    y = np.asarray(y, dtype=float).ravel()
    if x.shape != y.shape:
        raise ValueError(f"{name_y}: expected the same length as {name_x}, got {y.size} vs {x.size}")
    if x.size < 2:
        raise ValueError(f"{name_x}: need at least 2 points to fit a rate, got {x.size}")
    if not (np.all(np.isfinite(x)) and np.all(np.isfinite(y))):
        raise ValueError(f"{name_x}/{name_y}: values must be finite (no NaN/inf)")
    if np.any(y <= 0):
        raise ValueError(f"{name_y}: values must be > 0 to take logarithms; drop the non-positive ones")
    return x, y


def fit_exponential_rate(t, y) -> float:
    r"""Decay rate :math:`\lambda` of :math:`y(t)\approx C e^{-\lambda t}` by least squares on :math:`\log y`.

    .. math:: \lambda = -\frac{\sum_k (t_k-\bar t)(\log y_k - \overline{\log y})}{\sum_k (t_k-\bar t)^2}.

    Parameters
    ----------
    t : array_like
        Times (at least two distinct values).
    y : array_like
        Positive values (e.g. ``1 - rho(t)`` or a diameter).

    Returns
    -------
    float
        The fitted rate (positive for decay).

    References
    ----------
    arXiv:2312.10794 Thm. 5.1 and arXiv:2512.01868 (exponential rates to fit);
    ``derivations/equiangular.md``.
    """
    t, y = _clean(t, y, "t", "y")
    tc = t - t.mean()
    den = float(tc @ tc)
    if den == 0.0:
        raise ValueError("t: all times are equal; a rate needs at least two distinct times")
    ly = np.log(y)
    return -float(tc @ (ly - ly.mean())) / den


def fit_power_law(x, y) -> float:
    r"""Exponent :math:`p` of :math:`y \approx C x^{p}` by least squares in log-log coordinates.

    .. math:: p = \frac{\sum_k (\log x_k-\overline{\log x})(\log y_k - \overline{\log y})}
                       {\sum_k (\log x_k-\overline{\log x})^2}.

    Parameters
    ----------
    x : array_like
        Positive sizes (at least two distinct values).
    y : array_like
        Positive values.

    """
    x, y = _clean(x, y, "x", "y")
    if np.any(x <= 0):
        raise ValueError("x: sizes must be > 0 for a log-log fit")
    lx = np.log(x)
    lc = lx - lx.mean()
    den = float(lc @ lc)
    if den == 0.0 or not math.isfinite(den):
        raise ValueError("x: all sizes are equal; a log-log slope needs at least two distinct sizes")
    ly = np.log(y)
    return float(lc @ (ly - ly.mean())) / den
