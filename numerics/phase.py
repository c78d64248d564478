r"""Phase diagrams over :math:`(t, \beta)`: level-crossing boundaries, their shift, and the
equiangular prediction.

A phase diagram is an array :math:`P(\beta, t)` — e.g. the probability that a pair of tokens is
clustered, :math:`P(\langle x_i(t), x_j(t)\rangle \ge 1-\delta)`, estimated by the ensemble mean of
:func:`attnflow.numerics.observables.pair_fraction` — on a grid of inverse temperatures and saved
times.

=============================  ==============================================================
:func:`level_crossing`         the boundary :math:`t_{1/2}(\beta)`: first time :math:`P` reaches a
                               level (linear interpolation between saved times; NaN: never)
:func:`boundary_shift`         :math:`t^{a}_{1/2}(\beta) - t^{b}_{1/2}(\beta)` between two diagrams
                               (e.g. the authors' scheme against RK4, arXiv 2312.10794)
:func:`equiangular_boundary`   :math:`t_\beta`: the time at which the equiangular
                               :math:`\rho`-ODE started from :math:`\rho_0` reaches
                               :math:`1-\delta` (the prediction of arXiv 2512.01868)
=============================  ==============================================================

References
----------
arXiv:2512.01868 (the phase diagram and its equiangular prediction); arXiv:2312.10794 (the phase
diagrams of SA and USA, d = 2, 3); ``derivations/equiangular.md``.
"""

from __future__ import annotations

import functools
import math

import numpy as np

__all__ = ["level_crossing", "boundary_shift", "equiangular_boundary", "boundary_distance"]


def _level(level) -> float:
    if isinstance(level, bool):
        raise ValueError(f"level: must be a number in (0, 1], got {level!r}")
    try:
        lv = float(level)
    except (TypeError, ValueError):
        raise ValueError(f"level: must be a number in (0, 1], got {level!r}") from None
    if not (0.0 < lv <= 1.0):
        raise ValueError(f"level: must lie in (0, 1], got {level!r}")
    return lv


def _times(times, size: int) -> np.ndarray:
    t = np.asarray(times, dtype=np.float64)
    if t.ndim != 1 or t.size != size:
        raise ValueError(f"times: expected {size} saved times (the last axis of the diagram), got shape {t.shape}")
    if not np.all(np.isfinite(t)) or np.any(np.diff(t) <= 0):
        raise ValueError("times: must be finite and strictly increasing")
    return t


def level_crossing(p, times, level: float = 0.5) -> np.ndarray:
    r"""The first time at which :math:`P(\cdot, t)` reaches ``level``, along the last axis.

    .. math::

        t_\ell = t_{k-1} + (t_k - t_{k-1})\,\frac{\ell - P_{k-1}}{P_k - P_{k-1}},\qquad
        k = \min\{k : P_k \ge \ell\},

    (linear interpolation between the saved times around the first crossing); :math:`t_0` if
    :math:`P_0 \ge \ell`; NaN if :math:`P` never reaches :math:`\ell` (or is NaN before it does).

    Parameters
    ----------
    p : array_like, shape (..., T)
        The diagram, saved times last (e.g. ``(n_beta, T)``).
    times : array_like, shape (T,)
        Strictly increasing saved times.
    level : float
        In :math:`(0, 1]`; 1/2 for the boundary of a phase diagram.

    Returns
    -------
    ndarray, shape (...)

    References
    ----------
    arXiv:2512.01868 (the 1/2-level boundary of the phase diagram).
    """
    lv = _level(level)
    a = np.asarray(p, dtype=np.float64)
    if a.ndim < 1 or a.shape[-1] < 1:
        raise ValueError(f"p: expected a diagram with saved times on the last axis, got shape {a.shape}")
    t = _times(times, a.shape[-1])
    flat = a.reshape(-1, a.shape[-1])
    out = np.full(flat.shape[0], np.nan)
    for r, row in enumerate(flat):
        hit = np.flatnonzero(row >= lv)
        if hit.size == 0:
            continue
        k = int(hit[0])
        if np.any(np.isnan(row[:k])):
            continue
        if k == 0:
            out[r] = t[0]
            continue
        p0, p1 = row[k - 1], row[k]
        out[r] = t[k - 1] + (t[k] - t[k - 1]) * (lv - p0) / (p1 - p0)
    return out.reshape(a.shape[:-1])


def boundary_shift(p_a, p_b, times, level: float = 0.5) -> np.ndarray:
    r"""The shift between the boundaries of two diagrams on the same grid, per :math:`\beta`.

    .. math:: \Delta(\beta) = t^{a}_{\ell}(\beta) - t^{b}_{\ell}(\beta)

    with :math:`t_\ell` from :func:`level_crossing` (NaN where either never reaches the level).
    Used for the authors' scheme (``method="authors"``, the normalised residual layer on its own
    clock) against RK4 (arXiv 2312.10794's diagrams): a positive shift means the authors' run
    clusters later on the time axis.

    References
    ----------
    arXiv:2312.10794 (phase diagrams); the authors' script ``phase-diagrams.py``
    (repository borjanG/2023-transformers-rotf).
    """
    a = np.asarray(p_a, dtype=np.float64)
    b = np.asarray(p_b, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError(f"p_b: the two diagrams must have the same shape, got {a.shape} and {b.shape}")
    return level_crossing(a, times, level) - level_crossing(b, times, level)


@functools.lru_cache(maxsize=8)
def _rho_dot(model: str):
    """The package's statement of the equiangular right-hand side, as a float function of (rho, n, beta)."""
    import sympy as sp

    from attnflow.symbolic import equiangular as eq

    kind = model.upper()
    expr = eq.rho_dot_stated(kind)
    return sp.lambdify((eq.rho, eq.n, eq.beta), expr, modules="math")


def equiangular_boundary(betas, n: int, *, delta: float = 1e-3, rho0: float = 0.0, model: str = "sa",
                         t_max: float = 1e4) -> np.ndarray:
    r"""The equiangular prediction :math:`t_\beta` of the phase-diagram boundary.

    :math:`t_\beta` is the time at which the equiangular :math:`\rho`-ODE (the package's statement,
    :func:`attnflow.symbolic.equiangular.rho_dot_stated`; SA:
    :math:`\dot\rho = 2e^{\beta\rho}(1-\rho)((n-1)\rho+1)/(e^\beta+(n-1)e^{\beta\rho})`) started
    from :math:`\rho(0) = \rho_0` reaches :math:`\gamma_\beta(t) = 1-\delta`:

    .. math:: t_\beta = \min\{t : \rho(t) = 1-\delta\}.

    Tokens drawn i.i.d. uniformly on :math:`S^{d-1}` are nearly orthogonal for large :math:`d`
    (:math:`\langle x_i, x_j\rangle = O(d^{-1/2})`), hence :math:`\rho_0 = 0`.  Solved with
    ``scipy.integrate.solve_ivp`` (DOP853, rtol 1e-12, atol 1e-14) and a terminal event.

    Parameters
    ----------
    betas : array_like
        Inverse temperatures, :math:`0 \le \beta \le 700` (the statement is evaluated in float64).
    n : int
        Number of tokens (>= 2).
    delta : float
        Threshold in (0, 1); 1e-3 for :math:`\langle x_i, x_j\rangle \ge 0.999`.
    rho0 : float
        Initial inner product, :math:`-1/(n-1) < \rho_0 < 1-\delta`.
    model : {"sa", "usa"}
    t_max : float
        Horizon; :math:`t_\beta` = inf if not reached by then.

    Returns
    -------
    ndarray, shape of ``betas``

    References
    ----------
    arXiv:2512.01868 (equiangular reduction and the phase diagram); ``derivations/equiangular.md``.
    """
    from scipy.integrate import solve_ivp

    if model not in ("sa", "usa"):
        raise ValueError(f"model: the equiangular reduction is stated for 'sa' and 'usa', got {model!r}")
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 2:
        raise ValueError(f"n: must be an integer >= 2, got {n!r}")
    delta = float(delta)
    if not (0.0 < delta < 1.0):
        raise ValueError(f"delta: must lie in (0, 1), got {delta!r}")
    rho0 = float(rho0)
    if not (-1.0 / (n - 1) < rho0 < 1.0 - delta):
        raise ValueError(f"rho0: must lie in (-1/(n-1), 1 - delta) = ({-1.0 / (n - 1):.4g}, {1.0 - delta:.4g}), got {rho0!r}")
    b = np.asarray(betas, dtype=np.float64)
    if not np.all(np.isfinite(b)) or np.any(b < 0) or np.any(b > 700):
        raise ValueError("betas: must be finite and in [0, 700] (the stated right-hand side is evaluated in float64)")
    f = _rho_dot(model)
    out = np.empty(b.size)
    for k, beta in enumerate(b.ravel()):
        beta = float(beta)

        def event(t, y):
            return (1.0 - y[0]) - delta

        event.terminal = True
        event.direction = -1
        sol = solve_ivp(lambda t, y, beta=beta: [f(y[0], n, beta)], (0.0, float(t_max)), [rho0], method="DOP853",
                        rtol=1e-12, atol=1e-14, events=event)
        if not sol.success:  # pragma: no cover - the field is smooth and bounded on [rho0, 1]
            raise RuntimeError(f"solve_ivp failed at beta = {beta}: {sol.message}")
        out[k] = sol.t_events[0][0] if sol.t_events[0].size else math.inf
    return out.reshape(b.shape)


def boundary_distance(p, times, betas, n: int, *, delta: float = 1e-3, level: float = 0.5, rho0: float = 0.0,
                      model: str = "sa") -> tuple[float, np.ndarray]:
    r"""Mean distance between the empirical boundary of a diagram and the equiangular curve.

    .. math:: D = \frac{1}{|B|}\sum_{\beta\in B} \bigl|t_{1/2}(\beta) - t_\beta\bigr|

    over the :math:`\beta` whose empirical boundary :math:`t_{1/2}` (:func:`level_crossing`) lies
    inside the saved times (NaN if there are none), with :math:`t_\beta` from
    :func:`equiangular_boundary`.

    Returns
    -------
    distance : float
    per_beta : ndarray
        :math:`t_{1/2}(\beta) - t_\beta` (NaN where the boundary is not reached).

    References
    ----------
    arXiv:2512.01868 (phase diagram vs the equiangular prediction).
    """
    emp = level_crossing(p, times, level)
    b = np.asarray(betas, dtype=np.float64)
    if emp.shape != b.shape:
        raise ValueError(f"betas: expected one beta per row of the diagram, shape {emp.shape}, got {b.shape}")
    pred = equiangular_boundary(b, n, delta=delta, rho0=rho0, model=model)
    diff = emp - pred
    ok = np.isfinite(diff)
    return (float(np.mean(np.abs(diff[ok]))) if ok.any() else math.nan), diff
