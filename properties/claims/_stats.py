r"""Replicate statistics of the rate claims: log-log slopes, Student-t and bootstrap intervals,
bounded-differences replicate counts.

References
----------
Rates measured as log-log slopes over independent replicates (Fournier & Guillin, PTRF 162 (2015),
Thm 1; arXiv:2605.16747); Efron &
Tibshirani, *An Introduction to the Bootstrap* (1993); McDiarmid (1989).
"""

from __future__ import annotations

import math

import numpy as np
from scipy import stats

__all__ = ["slope_ci", "mean_ci", "rms_slope_bootstrap", "bounded_difference_replicates"]


def slope_ci(x, y_reps, level: float = 0.95) -> tuple[float, float, float]:
    r"""Log-log slope of replicate curves with a Student-t confidence interval.

    Each replicate :math:`r` gives a least-squares slope :math:`p_r` of :math:`\log y_{r,k}` against
    :math:`\log x_k`; the estimate is :math:`\bar p` and the interval
    :math:`\bar p \pm t_{R-1,(1+\ell)/2}\, s_p/\sqrt R`.

    Parameters
    ----------
    x : array_like, shape (K,)
        Positive sizes.
    y_reps : array_like, shape (R, K)
        Positive values, one row per independent replicate (``R >= 2``).
    level : float

    Returns
    -------
    (slope, lo, hi)

    References
    ----------
    Student-t interval of a least-squares slope over independent replicates (rates as log-log slopes).
    """
    lx = np.log(np.asarray(x, dtype=float))
    ly = np.log(np.asarray(y_reps, dtype=float))
    if ly.ndim != 2 or ly.shape[1] != lx.size or ly.shape[0] < 2:
        raise ValueError(f"y_reps: expected shape (R >= 2, {lx.size}), got {ly.shape}")
    lc = lx - lx.mean()
    slopes = (ly - ly.mean(axis=1, keepdims=True)) @ lc / float(lc @ lc)
    return mean_ci(slopes, level)


def mean_ci(values, level: float = 0.95) -> tuple[float, float, float]:
    r"""Mean of independent replicates and its Student-t interval :math:`\bar v\pm t\,s/\sqrt R`.

    References
    ----------
    Student-t confidence interval from independent replicates.
    """
    v = np.asarray(values, dtype=float).ravel()
    if v.size < 2 or not np.all(np.isfinite(v)):
        raise ValueError(f"values: need >= 2 finite replicates, got {v.size}")
    m = float(v.mean())
    half = float(stats.t.ppf(0.5 + level / 2, v.size - 1) * v.std(ddof=1) / math.sqrt(v.size))
    return m, m - half, m + half


def rms_slope_bootstrap(sizes, err, rng: np.random.Generator, n_boot: int = 1000, level: float = 0.95):
    r"""Log-log slope of the RMS error :math:`\sqrt{\overline{e^2}}` over sizes, with a bootstrap interval.

    Replicates (rows of ``err``) are resampled with replacement; the percentile interval of the refitted
    slope is returned with the slope of the full data.

    References
    ----------
    Efron & Tibshirani, *An Introduction to the Bootstrap* (1993), §13.
    """
    err = np.asarray(err, dtype=float)
    lx = np.log(np.asarray(sizes, dtype=float))
    lc = lx - lx.mean()

    def fit(e2):
        ly = 0.5 * np.log(e2)
        return (ly - ly.mean(axis=-1, keepdims=True)) @ lc / float(lc @ lc)

    slope = float(fit(np.mean(err**2, axis=0)))
    idx = rng.integers(0, err.shape[0], size=(n_boot, err.shape[0]))
    boots = fit(np.mean(err[idx] ** 2, axis=1))
    lo, hi = np.quantile(boots, [0.5 - level / 2, 0.5 + level / 2])
    return slope, float(lo), float(hi)


def bounded_difference_replicates(n: int, mean_w2sq: float, rel: float = 0.1, delta: float = 0.05,
                                  diameter: float = 2.0) -> int:
    r"""Replicates :math:`R` that the bounded-differences inequality asks for a relative accuracy ``rel``.

    Two samples of size :math:`n` (:math:`2n` points; moving one changes :math:`W_2^2` by at most
    :math:`\Delta^2/n`); the mean of :math:`R` independent copies then satisfies (McDiarmid)

    .. math:: P\bigl(|\overline{W_2^2}-\mathbb E W_2^2|\ge s\bigr)\le 2\exp\Bigl(-\frac{R\,n\,s^2}{\Delta^4}\Bigr),

    so :math:`R = \lceil \Delta^4\log(2/\delta)/(n s^2)\rceil` with :math:`s = \mathrm{rel}\cdot\mathbb E W_2^2`.

    References
    ----------
    Bounded differences, McDiarmid (1989): :math:`P(|W_p^p - E W_p^p| \ge s) \le 2\exp(-2ns^2/\Delta^{2p})`.
    """
    s = rel * mean_w2sq
    return int(math.ceil(diameter**4 * math.log(2.0 / delta) / (n * s * s)))
