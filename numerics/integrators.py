r"""Time integrators for the attention particle systems.

All integrators advance an autonomous or time-dependent field ``f(t, x) -> ẋ`` (``ẋ`` has ``x``'s
shape) on one of three state manifolds:

``"sphere"``
    ``x`` has shape ``(n, d)``, each row on :math:`S^{d-1}`. The fields of arXiv:2312.10794 are tangent
    (:math:`\dot x_i = P_{x_i}(\cdot)`), so the sphere is invariant for the exact flow; discrete steps
    leave it at the level of the local error and are pulled back by the *retraction*
    :math:`R(y)_i = y_i / |y_i|`.
``"angles"``
    ``x`` has shape ``(n,)`` or ``(P, N)`` (angles on the torus; nothing to retract, angles are
    not wrapped so that trajectories :math:`\theta_i(t)` stay continuous).
``"euclidean"``
    ``x`` of any shape in flat space (the Pre-LN / Peri-LN state :math:`x_i = r_i\theta_i`); no
    retraction.

Schemes (``METHODS``):

=============  =====================================================================  =======
name           scheme                                                                 order
=============  =====================================================================  =======
``euler``      explicit Euler on the (projected) field + renormalisation                1
``authors``    the papers' scripts' layer: Euler on the *unprojected* attention +      1
               renormalisation (a different clock, see :func:`authors_step`)
``lie_euler``  geodesic (exponential-map) Euler step on the sphere                     1
``rk4``        classical Runge–Kutta 4 in the ambient space + retraction               4
``adaptive``   Dormand–Prince 5(4) with error control + retraction, dense output      5
=============  =====================================================================  =======

Default (chosen by :func:`attnflow.numerics.simulate` when ``method`` is not given): **``rk4`` when a
step ``dt`` is given, ``adaptive`` when a tolerance ``rtol`` is given**, and giving both or neither
is an error. Why fixed-step RK4 is the primary scheme: (i) it is fourth order, so on the smooth
attention fields (analytic in x) a modest ``dt`` gives errors far below the tolerances the
clustering checks use, and this order is verified by the convergence tests; (ii) it is what the
literature integrates with (2605.09213 uses RK4, dt = 0.0025), so reproductions are like for like;
(iii) a fixed step gives an equally spaced saved time grid, a predictable cost (4 field calls per
step) and bit-for-bit reproducible runs, which the energy-monotonicity and time-to-cluster checks
rely on. The adaptive pair is the better choice for long metastable runs (2410.06833: plateaus of
length ~ e^β during which the step can grow by orders of magnitude), so asking for a tolerance
selects it.

Every driver hits ``t_final`` exactly (the last step is shortened) and saves every ``save_every``-th
step plus the initial and the final state, or, given ``t_eval``, exactly the requested times: the
fixed-step driver shortens the step before each requested time so that it lands on it, the adaptive
driver evaluates its dense output (the 4th-order continuous extension of Dormand–Prince 5(4)).

Batches: the drivers act on arrays of any shape, so ``(B, n, d)`` (or ``(P, n)`` angles) integrates
B independent systems with one field call per stage.  With ``batch=True`` the adaptive error norm
is the largest of the systems' own norms, so every system meets the tolerance; the systems then
share one step sequence (a batch is not bit-identical to its systems run alone, the fixed-step
drivers are).

References
----------
- E. Hairer, S. P. Nørsett, G. Wanner, *Solving Ordinary Differential Equations I*, 2nd ed.,
  Springer 1993: §II.1 (RK4), §II.4 (step-size control, starting step), §II.5 (Dormand–Prince 5(4)).
- E. Hairer, C. Lubich, G. Wanner, *Geometric Numerical Integration*, 2nd ed., Springer 2006, §IV.4
  (projection methods) and §IV.8 (Lie group methods; the Lie–Euler step).
- E. Hairer, S. P. Nørsett, G. Wanner, *Solving Ordinary Differential Equations I*, §II.6 (dense
  output of Dormand–Prince 5(4), the continuous extension of order 4 by Shampine).
- Geshkovski, Letrouit, Polyanskiy, Rigollet, arXiv:2312.10794, §1 (the normalised discrete layer
  :math:`x \leftarrow (x + h\,a)/|x + h\,a|` that ``authors`` reproduces); arXiv:2605.09213 (causal ALiBi, RK4).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

import numpy as np

from attnflow._base import validate

__all__ = [
    "MANIFOLDS",
    "METHODS",
    "IntegrationResult",
    "retract",
    "euler_step",
    "authors_step",
    "lie_euler_step",
    "rk4_step",
    "dopri5_step",
    "dopri5_dense",
    "fixed_step_grid",
    "fixed_step_grid_eval",
    "check_t_eval",
    "integrate_fixed",
    "integrate_compiled",
    "COMPILED_METHODS",
    "integrate_adaptive",
    "integrate",
]

Field = Callable[[float, np.ndarray], np.ndarray]

#: State manifolds the integrators understand.
MANIFOLDS = ("sphere", "angles", "euclidean")
#: Method names accepted by :func:`integrate` and :func:`attnflow.numerics.simulate`.
METHODS = ("euler", "rk4", "lie_euler", "adaptive", "authors")
FIXED_METHODS = ("euler", "rk4", "lie_euler", "authors")


def _check_manifold(manifold: str) -> None:
    if manifold not in MANIFOLDS:
        raise ValueError(f"manifold: unknown manifold {manifold!r}; use one of {', '.join(MANIFOLDS)}")


def retract(y: np.ndarray, manifold: str) -> np.ndarray:
    r"""Map an ambient point back onto the state manifold.

    .. math::

        R(y)_i = \frac{y_i}{|y_i|}\ \text{(sphere, row-wise)},\qquad R(y) = y\ \text{(angles, euclidean)}.

    Parameters
    ----------
    y : ndarray
        State after a step; shape ``(n, d)`` for the sphere.
    manifold : {"sphere", "angles", "euclidean"}

    Returns
    -------
    ndarray
        The retracted state (a new array for the sphere, ``y`` itself otherwise).

    References
    ----------
    Hairer–Lubich–Wanner, *Geometric Numerical Integration*, §IV.4 (standard projection);
    arXiv:2312.10794 §1 (the discrete layer normalises after each step).
    """
    _check_manifold(manifold)
    if manifold == "sphere":
        return y / np.linalg.norm(y, axis=-1, keepdims=True)
    return y


def euler_step(f: Field, t: float, x: np.ndarray, h: float, manifold: str = "sphere") -> np.ndarray:
    r"""One explicit Euler step followed by renormalisation.

    .. math::

        x_{k+1} = R\bigl(x_k + h\, f(t_k, x_k)\bigr),

    with :math:`R` the row normalisation on the sphere (identity on angles / flat space) and
    :math:`f` the model's field, i.e. the *projected* attention :math:`P_{x_i}a_i` for the sphere
    models; it is first order.  This is not the papers' scripts' layer, which adds the unprojected
    attention :math:`a_i` (see :func:`authors_step`).

    Parameters
    ----------
    f : callable ``f(t, x) -> ndarray``
        Velocity field, returns an array of ``x``'s shape.
    t, h : float
        Current time and step.
    x : ndarray
        Current state.
    manifold : {"sphere", "angles", "euclidean"}

    Returns
    -------
    ndarray
        The state at ``t + h``.

    References
    ----------
    Hairer–Nørsett–Wanner I, §I.7 (Euler's method); Hairer–Lubich–Wanner §IV.4 (projection).
    """
    return retract(x + h * f(t, x), manifold)


def authors_step(attention: Field, t: float, x: np.ndarray, h: float, manifold: str = "sphere") -> np.ndarray:
    r"""One step of the papers' scripts: the residual layer ``x ← normalise(x + h·Attention(x))``.

    .. math::

        x_{i,k+1} = \frac{x_i + h\,a_i}{|x_i + h\,a_i|},\qquad a_i = \frac{1}{N_i}\sum_j w(s_{ij})\,x_j,

    with ``attention(t, x)`` returning the *unprojected* attention :math:`a_i` (no tangent
    projection).  Since :math:`x_i + h a_i = (1 + h\langle x_i,a_i
angle)\,x_i + h\,P_{x_i}a_i`, this
    is the projected Euler step :func:`euler_step` with the per-token step

    .. math::

        h_i = \frac{h}{1 + h\langle x_i, a_i
angle},

    a first-order scheme of :math:`\dot x_i = P_{x_i}a_i` on a different clock: per token, the time
    that elapses is :math:`h_i`, not :math:`h` (smaller where tokens align, :math:`\langle x_i,
    a_i
angle > 0`).  :func:`attnflow.numerics.simulate` (``method="authors"``) additionally divides
    the step of the unnormalised (mean) models by :math:`\max(\sqrt\beta e^{\beta-1/2}, 1)`, as the
    scripts do.

    References
    ----------
    arXiv:2312.10794 §1 (the normalised discrete layer); the authors' script ``phase-diagrams.py``
    (repository borjanG/2023-transformers-rotf: ``M ← normalize(M + η·softmax(βMMᵀ)M)``, with
    ``η = step / max(√β e^{β−1/2}, 1)`` without softmax).
    """
    _check_manifold(manifold)
    if manifold != "sphere":
        raise ValueError(f"manifold: the authors' step normalises tokens on the sphere; got {manifold!r}")
    return retract(x + h * attention(t, x), manifold)


def _geodesic_update(x: np.ndarray, v: np.ndarray, h: float) -> np.ndarray:
    v = v - np.sum(x * v, axis=-1, keepdims=True) * x  # tangent part (fields are tangent already)
    speed = np.linalg.norm(v, axis=-1, keepdims=True)
    angle = h * speed
    # sin(h|v|)/|v| = h sinc(h|v|/π), finite at v = 0
    y = np.cos(angle) * x + (h * np.sinc(angle / np.pi)) * v
    return y / np.linalg.norm(y, axis=-1, keepdims=True)  # removes round-off drift only


def lie_euler_step(f: Field, t: float, x: np.ndarray, h: float, manifold: str = "sphere") -> np.ndarray:
    r"""One geodesic (exponential-map) Euler step.

    On the sphere each token moves along the great circle through :math:`x_i` in the direction
    :math:`v_i = f(t_k, x_k)_i` (projected onto :math:`T_{x_i}S^{d-1}`):

    .. math::

        x_{i,k+1} = \exp_{x_i}(h v_i) = \cos(h|v_i|)\, x_i + \sin(h|v_i|)\,\frac{v_i}{|v_i|},

    so the step stays on the sphere without any projection (a final normalisation removes only
    round-off). In flat space (angles, euclidean) the exponential map is translation and the step
    is the explicit Euler step :math:`x_{k+1} = x_k + h f(t_k, x_k)`. First order.

    Parameters
    ----------
    f : callable ``f(t, x) -> ndarray``
    t, h : float
    x : ndarray
    manifold : {"sphere", "angles", "euclidean"}

    Returns
    -------
    ndarray
        The state at ``t + h``.

    References
    ----------
    Hairer–Lubich–Wanner, *Geometric Numerical Integration*, §IV.8 (Lie–Euler method);
    ``derivations/energy.md`` (energy.variation.*: the same geodesic map :math:`T_s`).
    """
    _check_manifold(manifold)
    v = f(t, x)
    if manifold == "sphere":
        return _geodesic_update(x, v, h)
    return x + h * v


def rk4_step(f: Field, t: float, x: np.ndarray, h: float, manifold: str = "sphere") -> np.ndarray:
    r"""One classical Runge–Kutta 4 step in the ambient space, followed by the retraction.

    .. math::

        k_1 &= f(t, x), \quad k_2 = f(t + \tfrac h2, x + \tfrac h2 k_1), \quad
        k_3 = f(t + \tfrac h2, x + \tfrac h2 k_2), \quad k_4 = f(t + h, x + h k_3),\\
        x_{k+1} &= R\Bigl(x + \tfrac h6 (k_1 + 2k_2 + 2k_3 + k_4)\Bigr).

    The fields :math:`P_{x_i}(\cdot)` are defined off the sphere and leave it invariant
    (:math:`\tfrac{d}{dt}|x_i|^2 = 2\langle x_i, a_i\rangle(1-|x_i|^2)`), so RK4 in the ambient
    space is fourth order and the retraction moves the result by :math:`O(h^5)`: the scheme stays
    fourth order (verified in tests/numerics/test_integrators.py).

    Parameters
    ----------
    f : callable ``f(t, x) -> ndarray``
    t, h : float
    x : ndarray
    manifold : {"sphere", "angles", "euclidean"}

    Returns
    -------
    ndarray
        The state at ``t + h``.

    References
    ----------
    Hairer–Nørsett–Wanner I, §II.1 (Table 1.2, the classical RK4); Hairer–Lubich–Wanner §IV.4
    (projection); 2605.09213 integrates the causal ALiBi model with RK4.
    """
    k1 = f(t, x)
    k2 = f(t + 0.5 * h, x + (0.5 * h) * k1)
    k3 = f(t + 0.5 * h, x + (0.5 * h) * k2)
    k4 = f(t + h, x + h * k3)
    return retract(x + (h / 6.0) * (k1 + 2.0 * k2 + 2.0 * k3 + k4), manifold)


# Dormand–Prince 5(4) tableau (Hairer–Nørsett–Wanner I, Table II.5.2).
_DP_C = (0.0, 1 / 5, 3 / 10, 4 / 5, 8 / 9, 1.0, 1.0)
_DP_A = (
    (),
    (1 / 5,),
    (3 / 40, 9 / 40),
    (44 / 45, -56 / 15, 32 / 9),
    (19372 / 6561, -25360 / 2187, 64448 / 6561, -212 / 729),
    (9017 / 3168, -355 / 33, 46732 / 5247, 49 / 176, -5103 / 18656),
    (35 / 384, 0.0, 500 / 1113, 125 / 192, -2187 / 6784, 11 / 84),
)
_DP_B = (35 / 384, 0.0, 500 / 1113, 125 / 192, -2187 / 6784, 11 / 84, 0.0)
_DP_BHAT = (5179 / 57600, 0.0, 7571 / 16695, 393 / 640, -92097 / 339200, 187 / 2100, 1 / 40)
_DP_E = tuple(b - bh for b, bh in zip(_DP_B, _DP_BHAT))


def dopri5_step(
    f: Field, t: float, x: np.ndarray, h: float, k1: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    r"""One Dormand–Prince 5(4) step in the ambient space (no retraction, no step control).

    .. math::

        k_s = f\Bigl(t + c_s h,\ x + h\sum_{r<s} a_{sr} k_r\Bigr),\ s = 1..7,\qquad
        x_{k+1} = x + h\sum_s b_s k_s,\qquad
        \mathrm{err} = h\sum_s (b_s - \hat b_s) k_s,

    with the Dormand–Prince coefficients: :math:`x_{k+1}` is the fifth-order solution,
    :math:`x + h\sum \hat b_s k_s` the embedded fourth-order one, and the last stage is evaluated
    at :math:`x_{k+1}` (first-same-as-last).

    Parameters
    ----------
    f : callable ``f(t, x) -> ndarray``
    t, h : float
    x : ndarray
    k1 : ndarray, optional
        ``f(t, x)`` if already known (FSAL).

    Returns
    -------
    (x_new, err, k7) : tuple of ndarray
        Fifth-order solution, local error estimate, and ``f(t + h, x_new)``.

    References
    ----------
    J. R. Dormand, P. J. Prince, J. Comput. Appl. Math. 6 (1980) 19–26;
    Hairer–Nørsett–Wanner I, §II.5, Table 5.2.
    """
    x_new, err, ks = _dopri5_stages(f, t, x, h, k1)
    return x_new, err, ks[6]


# Dense output of Dormand–Prince 5(4): the continuous extension of order 4 (Shampine 1986;
# Hairer–Nørsett–Wanner I, §II.6, and the coefficients of their code DOPRI5, CONTD5).
_DP_D = (-12715105075 / 11282082432, 0.0, 87487479700 / 32700410799, -10690763975 / 1880347072,
         701980252875 / 199316789632, -1453857185 / 822651844, 69997945 / 29380423)


def _dopri5_stages(f: Field, t: float, x: np.ndarray, h: float, k1: np.ndarray | None):
    ks = [f(t, x) if k1 is None else k1]
    for s in range(1, 7):
        y = x.copy()
        for r, a in enumerate(_DP_A[s]):
            if a != 0.0:
                y += (h * a) * ks[r]
        ks.append(f(t + _DP_C[s] * h, y))
    # stage 7 was evaluated at y = x + h Σ b_s k_s (row 7 of A equals b): that is x_new
    err = np.zeros_like(x)
    for e, k in zip(_DP_E, ks):
        if e != 0.0:
            err += (h * e) * k
    return y, err, ks


def dopri5_dense(x: np.ndarray, x_new: np.ndarray, ks, h: float, theta) -> np.ndarray:
    r"""The dense output of one Dormand–Prince 5(4) step at :math:`t + \theta h`, :math:`0\le\theta\le1`.

    With :math:`\Delta = x_{new} - x`, :math:`b = h k_1 - \Delta`, :math:`c = \Delta - h k_7 - b` and
    :math:`e = h\sum_s d_s k_s` (the coefficients :math:`d_s` of Shampine's extension):

    .. math::

        u(\theta) = x + \theta\Bigl(\Delta + (1-\theta)\bigl(b + \theta\,(c + (1-\theta)\,e)\bigr)\Bigr),

    a polynomial of degree 4 with :math:`u(0) = x`, :math:`u(1) = x_{new}`, :math:`u'(0) = h k_1`,
    :math:`u'(1) = h k_7`, and local error :math:`O(h^5)` (order 4) at every :math:`\theta`.

    Parameters
    ----------
    x, x_new : ndarray
        The state at the start of the step and the step's fifth-order solution (before retraction).
    ks : sequence of 7 ndarray
        The stages :math:`k_1..k_7` of the step (``k_7 = f(t + h, x_new)``).
    h : float
    theta : float
        Fraction of the step.

    Returns
    -------
    ndarray
        :math:`u(\theta)` (the caller retracts it onto the sphere).

    References
    ----------
    L. F. Shampine, Math. Comp. 46 (1986) 135–150; Hairer–Nørsett–Wanner I, §II.6 (dense output,
    continuous Dormand–Prince of order 4).
    """
    diff = x_new - x
    bspl = h * ks[0] - diff
    c = diff - h * ks[6] - bspl
    e = np.zeros_like(x)
    for dcoef, k in zip(_DP_D, ks):
        if dcoef != 0.0:
            e += (h * dcoef) * k
    s1 = 1.0 - theta
    return x + theta * (diff + s1 * (bspl + theta * (c + s1 * e)))


@dataclass
class IntegrationResult:
    """Output of the drivers: saved ``times`` (k,), ``states`` (k, *x0.shape) and counters."""

    times: np.ndarray
    states: np.ndarray
    nfev: int
    steps: int
    rejected: int = 0


class _Counted:
    def __init__(self, f: Field):
        self.f = f
        self.n = 0

    def __call__(self, t, x):
        self.n += 1
        return self.f(t, x)


def _check_common(x0, t_final, save_every, manifold):
    _check_manifold(manifold)
    if np.iscomplexobj(x0):
        raise ValueError("x0: expected a real state, got complex values (pass the real part explicitly)")
    x0 = np.array(x0, dtype=np.float64)  # copy: never mutate the caller's array
    if not np.all(np.isfinite(x0)):
        raise ValueError("x0: contains NaN or inf; pass finite initial states")
    if manifold == "sphere" and (x0.ndim not in (2, 3) or x0.shape[-1] < 1):
        raise ValueError(f"x0: sphere states must have shape (n, d), or (B, n, d) for B systems, got {x0.shape}")
    t_final = float(t_final)
    if not math.isfinite(t_final) or t_final < 0:
        raise ValueError(f"t_final: must be finite and >= 0, got {t_final}")
    if isinstance(save_every, bool) or int(save_every) != save_every or save_every < 1:
        raise ValueError(f"save_every: must be a positive integer, got {save_every!r}")
    return x0, t_final, int(save_every)


def check_t_eval(t_eval, t_final: float, t0: float = 0.0) -> np.ndarray | None:
    r"""``t_eval`` as a float64 array of strictly increasing times in :math:`[t_0, t_0 + T]` (None stays None).

    Raises
    ------
    ValueError
        Naming ``t_eval``: not 1-D, empty, non-finite, not strictly increasing, or outside the run.
    """
    if t_eval is None:
        return None
    try:
        te = np.array(t_eval, dtype=np.float64).reshape(-1) if np.ndim(t_eval) <= 1 else None
    except (TypeError, ValueError):
        raise ValueError("t_eval: must be a 1-D array of times") from None
    if te is None:
        raise ValueError(f"t_eval: must be a 1-D array of times, got shape {np.shape(t_eval)}")
    if te.size == 0:
        raise ValueError("t_eval: give at least one time (or leave t_eval=None to save every step)")
    if not np.all(np.isfinite(te)):
        raise ValueError("t_eval: contains NaN or inf")
    if np.any(np.diff(te) <= 0):
        raise ValueError("t_eval: times must be strictly increasing")
    end = t0 + t_final
    if te[0] < t0 or te[-1] > end:
        raise ValueError(f"t_eval: times must lie in [{t0:g}, {end:g}] (the run), got [{te[0]:g}, {te[-1]:g}]")
    return te


def fixed_step_grid_eval(t_final: float, dt: float, t_eval: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    r"""The fixed-step grid with every requested time inserted, and which points are saved.

    .. math::

        \{t_k = \min(k\,dt, T)\} \cup t_{\mathrm{eval}},

    so the step before a requested time is shortened to land on it exactly, and the steps after it
    continue on the original grid :math:`k\,dt`.  A grid point within :math:`10^{-9} dt` of a
    requested time is replaced by it (no round-off sized steps); ``t_final`` is always kept.

    Returns
    -------
    (grid, save) : ndarray of float, ndarray of bool
        Step times from 0 to T and the mask of the requested ones (``grid[save] == t_eval``).

    References
    ----------
    Hairer–Nørsett–Wanner I, §II.1.
    """
    base = fixed_step_grid(t_final, dt)
    near = np.zeros(len(base), dtype=bool)
    idx = np.clip(np.searchsorted(t_eval, base), 0, len(t_eval) - 1)
    for off in (0, -1):
        j = np.clip(idx + off, 0, len(t_eval) - 1)
        near |= np.abs(t_eval[j] - base) <= 1e-9 * dt
    near[0] = near[-1] = False  # 0 and T stay (T merges with a requested T below)
    grid = np.union1d(base[~near], t_eval)
    save = np.isin(grid, t_eval)
    return grid, save


def _progress_bar(progress, total, desc):
    """A bar (:func:`attnflow._base.progress.progress_bar`) or None when none is shown."""
    from attnflow._base.progress import enabled, progress_bar

    if not enabled(progress):
        return None
    return progress_bar(progress, total=total, desc=desc, unit="step")


def fixed_step_grid(t_final: float, dt: float) -> np.ndarray:
    r"""Step times :math:`t_k = \min(k\,dt, T)` for :math:`k = 0..\lceil T/dt\rceil`.

    .. math::

        N = \lceil T/dt - 10^{-9}\rceil,\qquad t_k = k\,dt\ (k < N),\qquad t_N = T,

    so the last step is shortened to land on :math:`T` exactly; the :math:`10^{-9}` slack (relative
    to one step) avoids a spurious round-off sized last step when :math:`T/dt` is an integer up to
    rounding.

    References
    ----------
    Hairer–Nørsett–Wanner I, §II.1 (fixed-step Runge–Kutta on a grid).
    """
    if t_final == 0.0:
        return np.zeros(1)
    n_steps = max(1, math.ceil(t_final / dt - 1e-9))
    grid = np.arange(n_steps + 1, dtype=np.float64) * dt
    grid[-1] = t_final
    return grid


_STEPPERS = {"euler": euler_step, "rk4": rk4_step, "lie_euler": lie_euler_step, "authors": authors_step}


@dataclass
class _Schedule:
    r"""The validated step and save schedule of a fixed-step run (shared by the Python loop and the
    compiled loop): ``grid``/``save`` only when ``t_eval`` is given (else the step times are
    :math:`\min(k\,dt, T)`, never allocated, and every ``save_every``-th step is saved)."""

    x0: np.ndarray
    t_final: float
    dt: float
    n_steps: int
    n_saved: int
    save_every: int
    t_eval: np.ndarray | None
    grid: np.ndarray | None
    save: np.ndarray | None

    def grid_time(self, k: int) -> float:
        if self.grid is not None:
            return float(self.grid[k])
        return self.t_final if k >= self.n_steps else k * self.dt

    def saved(self, k: int) -> bool:
        if self.save is not None:
            return bool(self.save[k])
        return k == 0 or k % self.save_every == 0 or k == self.n_steps

    def saved_times(self, t0: float) -> np.ndarray:
        """The times of the saved states (``t0`` plus the saved grid times, or ``t_eval``)."""
        if self.t_eval is not None:
            return self.t_eval.copy()
        ks = [k for k in range(0, self.n_steps + 1, self.save_every)]
        if ks[-1] != self.n_steps:
            ks.append(self.n_steps)
        return np.array([t0 + self.grid_time(k) if k else t0 for k in ks], dtype=np.float64)


def _fixed_schedule(x0, t_final, dt, method, manifold, save_every, t0, t_eval) -> _Schedule:
    x0, t_final, save_every = _check_common(x0, t_final, save_every, manifold)
    dt = float(dt)
    if not math.isfinite(dt) or dt <= 0:
        raise ValueError(f"dt: must be a finite step > 0, got {dt}")
    if method not in _STEPPERS:
        raise ValueError(f"method: fixed-step methods are {', '.join(_STEPPERS)}; got {method!r}")
    t_eval = check_t_eval(t_eval, t_final, t0)
    if t_eval is not None and save_every != 1:
        raise ValueError("save_every: t_eval already says which times to save; drop save_every")
    # the number of steps of fixed_step_grid, checked before anything is allocated
    n_steps = 0 if t_final == 0.0 else max(1, math.ceil(t_final / dt - 1e-9))
    if n_steps > 2**52:
        raise ValueError(f"dt: {dt:g} is below the float64 resolution of t_final = {t_final:g} "
                         f"({n_steps:.3g} steps); use a larger dt")
    grid = save = None
    if t_eval is None:
        # the step times t_k = min(k dt, T), computed one at a time (the grid is not allocated up front:
        # only the saved states are, after a size check)
        n_saved = 1 + n_steps // save_every + (1 if n_steps % save_every else 0)
        validate.memory("t_final", 8.0 * n_saved * (x0.size + 1),
                        f"t_final/dt/save_every save {n_saved:.3g} states of shape {x0.shape}: raise save_every "
                        f"(e.g. save_every={max(1, n_steps // 10000)}) or dt, or lower t_final")
    else:
        # the grid with the requested times inserted (fixed_step_grid_eval): allocated, after a size check
        validate.memory("t_final", 17.0 * (n_steps + 1 + len(t_eval)) + 8.0 * len(t_eval) * (x0.size + 1),
                        f"t_final/dt: a grid of {n_steps:.3g} steps with t_eval: raise dt or lower t_final")
        grid, save = fixed_step_grid_eval(t_final, dt, t_eval - t0)
        grid[save] = t_eval - t0
        n_steps = len(grid) - 1
        n_saved = len(t_eval)
    return _Schedule(x0, t_final, dt, n_steps, n_saved, save_every, t_eval, grid, save)


#: Method codes of the compiled fixed-step loops (generated ``<kernel>_integrate_fixed``): the authors'
#: step is the Euler step of the unprojected attention.
COMPILED_METHODS = {"euler": 0, "authors": 0, "rk4": 1}
_STAGES = {0: 1, 1: 4}


def integrate_compiled(
    run,
    x0: np.ndarray,
    t_final: float,
    dt: float,
    *,
    method: str = "rk4",
    manifold: str = "sphere",
    save_every: int = 1,
    t0: float = 0.0,
    t_eval=None,
) -> IntegrationResult:
    r""":func:`integrate_fixed` with the whole step loop compiled: the same schedule, steps and saved
    states (to rounding of the retraction), checked in Python once per call.

    .. math::

        x_{k+1} = \Phi_{h_k}(t_k, x_k),\qquad h_k = t_{k+1} - t_k,

    with :math:`\Phi` the Euler step (``euler``; ``authors`` when the field is the unprojected
    attention) or RK4 (``rk4``) followed by the retraction, as in :func:`euler_step` / :func:`rk4_step`.

    Parameters
    ----------
    run : callable
        ``run(x, t0, dt, t_final, n_steps, save_every, grid, save, code, states) -> int``: advances the
        C-contiguous copy ``x`` of ``x0`` in place (one system ``(n, d)`` or a batch ``(B, n, d)``),
        writes the saved states into ``states`` and returns the first step after which the state is not
        finite (0 if none); ``grid``/``save`` are empty when the step times are :math:`\min(k\,dt, T)`;
        ``code`` is :data:`COMPILED_METHODS` ``[method]``.  The field's generated
        ``<kernel>_integrate_fixed`` functions, bound by :mod:`attnflow.numerics.fields`.
    x0, t_final, dt, manifold, save_every, t0, t_eval
        As in :func:`integrate_fixed`.
    method : {"euler", "rk4", "authors"}

    Returns
    -------
    IntegrationResult

    Raises
    ------
    FloatingPointError
        A non-finite state (the same message as :func:`integrate_fixed`).

    References
    ----------
    Hairer–Nørsett–Wanner I, §II.1; see the module docstring.
    """
    if method not in COMPILED_METHODS:
        raise ValueError(f"method: the compiled loop runs {', '.join(COMPILED_METHODS)}; got {method!r}")
    sched = _fixed_schedule(x0, t_final, dt, method, manifold, save_every, t0, t_eval)
    x = np.ascontiguousarray(sched.x0)
    states = np.empty((sched.n_saved,) + x.shape)
    code = COMPILED_METHODS[method]
    grid = np.empty(0) if sched.grid is None else np.ascontiguousarray(sched.grid, dtype=np.float64)
    save = np.zeros(0, dtype=np.bool_) if sched.save is None else np.ascontiguousarray(sched.save)
    failed = int(run(x, float(t0), sched.dt, sched.t_final, int(sched.n_steps), int(sched.save_every), grid, save,
                     code, states))
    if failed:
        raise FloatingPointError(f"non-finite state at t = {t0 + sched.grid_time(failed):.6g}; reduce dt")
    return IntegrationResult(times=sched.saved_times(t0), states=states, nfev=_STAGES[code] * sched.n_steps,
                             steps=sched.n_steps)


def integrate_fixed(
    f: Field,
    x0: np.ndarray,
    t_final: float,
    dt: float,
    *,
    method: str = "rk4",
    manifold: str = "sphere",
    save_every: int = 1,
    t0: float = 0.0,
    progress: bool | None = None,
    t_eval=None,
) -> IntegrationResult:
    r"""Integrate with a fixed step, landing exactly on ``t_final``.

    .. math::

        x_{k+1} = \Phi_{h_k}(t_k, x_k),\qquad h_k = t_{k+1} - t_k,\qquad t_k = \min(k\,dt, T),

    with :math:`\Phi` one of :func:`euler_step`, :func:`authors_step`, :func:`lie_euler_step`,
    :func:`rk4_step`; with ``t_eval`` the grid is :func:`fixed_step_grid_eval` (the step before each
    requested time is shortened to land on it).

    Parameters
    ----------
    f : callable ``f(t, x) -> ndarray``
    x0 : ndarray
        Initial state (copied).
    t_final : float
        Final time :math:`T \ge 0` (measured from ``t0``).
    dt : float
        Step, > 0. The last step is shortened to hit ``t_final``.
    method : {"euler", "rk4", "lie_euler", "authors"}
        ``"authors"`` expects ``f`` to be the unprojected attention (see :func:`authors_step`).
    manifold : {"sphere", "angles", "euclidean"}
    save_every : int
        Save every ``save_every``-th step; the initial and final states are always saved.
    t0 : float
        Initial time passed to ``f`` (time-dependent fields).
    progress : bool or None
        A tqdm progress bar on stderr: None (default) automatic -- on a terminal, after 2 s
        (:mod:`attnflow._base.progress`); True always; False never.
    t_eval : array_like, optional
        Save exactly these times (strictly increasing, in ``[t0, t0 + t_final]``) and no others;
        excludes ``save_every``.

    Returns
    -------
    IntegrationResult

    References
    ----------
    Hairer–Nørsett–Wanner I, §II.1; see the module docstring.
    """
    sched = _fixed_schedule(x0, t_final, dt, method, manifold, save_every, t0, t_eval)
    x0, t_final, dt, n_steps, n_saved, t_eval = sched.x0, sched.t_final, sched.dt, sched.n_steps, sched.n_saved, sched.t_eval
    step = _STEPPERS[method]
    fc = _Counted(f)
    grid_time, saved = sched.grid_time, sched.saved

    states = np.empty((n_saved,) + x0.shape)
    times = np.empty(n_saved)
    x, j = x0, 0
    if saved(0):
        states[0], times[0] = x0, t0
        j = 1
    bar = _progress_bar(progress, n_steps, f"{method}")
    try:
        for k in range(n_steps):
            tk, tk1 = grid_time(k), grid_time(k + 1)
            x = step(fc, t0 + tk, x, tk1 - tk, manifold)
            if not np.all(np.isfinite(x)):
                raise FloatingPointError(f"non-finite state at t = {t0 + tk1:.6g}; reduce dt")
            if saved(k + 1):
                states[j], times[j] = x, (t_eval[j] if t_eval is not None else t0 + tk1)
                j += 1
            if bar is not None:
                bar.update(1)
    finally:
        if bar is not None:
            bar.close()
    assert j == n_saved
    return IntegrationResult(times=times, states=states, nfev=fc.n, steps=n_steps)


def _error_norm(err, y0, y1, rtol, atol, batch: bool = False):
    scale = atol + rtol * np.maximum(np.abs(y0), np.abs(y1))
    q = (err / scale) ** 2
    if batch:  # the largest of the systems' own RMS norms (axis 0 indexes the systems)
        return float(np.sqrt(np.max(np.mean(q.reshape(q.shape[0], -1), axis=1))))
    return float(np.sqrt(np.mean(q)))


def _initial_step(f, t0, x0, k1, rtol, atol, order=5):
    # Hairer–Nørsett–Wanner I, §II.4, "starting step size" algorithm.
    scale = atol + rtol * np.abs(x0)
    d0 = np.sqrt(np.mean((x0 / scale) ** 2))
    d1 = np.sqrt(np.mean((k1 / scale) ** 2))
    h0 = 1e-6 if d0 < 1e-5 or d1 < 1e-5 else 0.01 * d0 / d1
    k2 = f(t0 + h0, x0 + h0 * k1)
    d2 = np.sqrt(np.mean(((k2 - k1) / scale) ** 2)) / h0
    if max(d1, d2) <= 1e-15:
        h1 = max(1e-6, h0 * 1e-3)
    else:
        h1 = (0.01 / max(d1, d2)) ** (1.0 / (order + 1))
    return min(100 * h0, h1)


def integrate_adaptive(
    f: Field,
    x0: np.ndarray,
    t_final: float,
    *,
    rtol: float,
    atol: float | None = None,
    manifold: str = "sphere",
    save_every: int = 1,
    h0: float | None = None,
    max_steps: int = 1_000_000,
    t0: float = 0.0,
    progress: bool | None = None,
    t_eval=None,
    batch: bool = False,
) -> IntegrationResult:
    r"""Dormand–Prince 5(4) with error control and retraction, landing exactly on ``t_final``.

    A step :math:`h` from :math:`(t, x)` computes :func:`dopri5_step`, then the scaled error

    .. math::

        \|e\| = \Bigl(\frac1m\sum_{l}\Bigl(\frac{e_l}{\mathrm{atol} + \mathrm{rtol}\,\max(|x_l|,|x^{new}_l|)}\Bigr)^2\Bigr)^{1/2},

    accepts it when :math:`\|e\| \le 1` (then :math:`x \leftarrow R(x^{new})`) and proposes

    .. math::

        h \leftarrow h\,\min\bigl(f_{\max},\ \max(0.2,\ 0.9\,\|e\|^{-1/5})\bigr),

    with :math:`f_{\max} = 5` (1 right after a rejection). The last step is shortened to land on
    ``t_final``. On the sphere the retraction breaks first-same-as-last, so the first stage is
    re-evaluated at the retracted point (7 field calls per step; 6 in flat space).

    With ``t_eval`` the states at the requested times come from the step's dense output
    (:func:`dopri5_dense`, order 4, retracted onto the sphere), not from interpolating saved steps;
    the step sequence is the same as without ``t_eval``.

    Parameters
    ----------
    f : callable ``f(t, x) -> ndarray``
    x0 : ndarray
    t_final : float
    rtol : float
        Relative tolerance, > 0.
    atol : float, optional
        Absolute tolerance, >= 0; default ``rtol * 1e-3`` (states are O(1)).
    manifold : {"sphere", "angles", "euclidean"}
    save_every : int
        Save every ``save_every``-th accepted step (initial and final states always saved).
    h0 : float, optional
        Initial step; default from Hairer's starting-step heuristic.
    max_steps : int
        Raise ``RuntimeError`` after this many attempted steps.
    t0 : float
    progress : bool
    t_eval : array_like, optional
        Save exactly these times (strictly increasing, in ``[t0, t0 + t_final]``), by dense output;
        excludes ``save_every``.
    batch : bool
        ``x0`` holds independent systems along axis 0: the error norm is the largest of the
        systems' own norms (each system meets the tolerance; all share the step sequence).

    Returns
    -------
    IntegrationResult

    References
    ----------
    Hairer–Nørsett–Wanner I, §II.4 (error norm (4.11), controller (4.13), starting step), §II.5
    (Dormand–Prince 5(4)) and §II.6 (dense output); Hairer–Lubich–Wanner §IV.4 (projection after each
    step).
    """
    x0, t_final, save_every = _check_common(x0, t_final, save_every, manifold)
    rtol = float(rtol)
    if not math.isfinite(rtol) or rtol <= 0:
        raise ValueError(f"rtol: must be a finite tolerance > 0, got {rtol}")
    if rtol < 1e-14:
        raise ValueError(f"rtol: {rtol} is below what float64 can deliver; use rtol >= 1e-14")
    atol = rtol * 1e-3 if atol is None else float(atol)
    if not math.isfinite(atol) or atol < 0:
        raise ValueError(f"atol: must be finite and >= 0, got {atol}")
    t_eval = check_t_eval(t_eval, t_final, t0)
    if t_eval is not None and save_every != 1:
        raise ValueError("save_every: t_eval already says which times to save; drop save_every")
    fc = _Counted(f)
    t, x = t0, x0
    t_end = t0 + t_final
    if t_eval is None:
        times, states = [t], [x0.copy()]
        pending = 0
    else:
        times, states = [], []
        pending = 0
        while pending < len(t_eval) and t_eval[pending] <= t0:
            times.append(float(t_eval[pending]))
            states.append(x0.copy())
            pending += 1
    steps = rejected = 0
    if t_final == 0.0:
        return IntegrationResult(np.array(times), np.array(states), 0, 0, 0)
    k1 = fc(t, x)
    if h0 is None:
        h = _initial_step(fc, t, x, k1, rtol, atol)
    else:
        h = float(h0)
        if not math.isfinite(h) or h <= 0:
            raise ValueError(f"h0: must be a finite step > 0, got {h}")
    fac_max = 5.0
    bar = _progress_bar(progress, t_final, "adaptive")
    try:
        while t < t_end:
            if steps + rejected >= max_steps:
                raise RuntimeError(f"max_steps: {max_steps} steps reached at t = {t:.6g}; raise max_steps or rtol")
            last = t + h * (1 + 1e-12) >= t_end
            h_try = t_end - t if last else h
            if h_try <= 1e-14 * max(1.0, abs(t)):
                raise RuntimeError(f"step size underflow at t = {t:.6g}; the problem is too stiff for rtol={rtol}")
            x_new, err, ks = _dopri5_stages(fc, t, x, h_try, k1)
            enorm = _error_norm(err, x, x_new, rtol, atol, batch) if np.all(np.isfinite(x_new)) else math.inf
            if enorm <= 1.0:
                t_old, x_old = t, x
                t = t_end if last else t + h_try
                steps += 1
                if manifold == "sphere":
                    x = retract(x_new, manifold)
                    k1 = fc(t, x) if t < t_end else None
                else:
                    x, k1 = x_new, ks[6]
                if t_eval is None:
                    if steps % save_every == 0 or t >= t_end:
                        times.append(t)
                        states.append(x.copy())
                else:
                    while pending < len(t_eval) and t_eval[pending] <= t:  # requested times in (t_old, t]
                        te = float(t_eval[pending])
                        if te == t:
                            u = x.copy()
                        else:
                            u = retract(dopri5_dense(x_old, x_new, ks, h_try, (te - t_old) / h_try), manifold)
                        times.append(te)
                        states.append(u)
                        pending += 1
                fac = 0.9 * enorm ** (-0.2) if enorm > 0 else fac_max
                h = h_try * min(fac_max, max(0.2, fac))
                fac_max = 5.0
                if bar is not None:
                    bar.update(h_try)
            else:
                rejected += 1
                fac = 0.9 * enorm ** (-0.2) if math.isfinite(enorm) else 0.2
                h = h_try * max(0.2, min(1.0, fac))
                fac_max = 1.0
    finally:
        if bar is not None:
            bar.close()
    if t_eval is None and times[-1] != t_end:  # final state always saved (loop saves it; guard for clarity)
        times.append(t_end)
        states.append(x.copy())
    assert t_eval is None or len(times) == len(t_eval)
    return IntegrationResult(np.array(times), np.array(states), fc.n, steps, rejected)


def integrate(
    f: Field,
    x0: np.ndarray,
    t_final: float,
    *,
    method: str,
    dt: float | None = None,
    rtol: float | None = None,
    atol: float | None = None,
    manifold: str = "sphere",
    save_every: int = 1,
    t0: float = 0.0,
    progress: bool | None = None,
    t_eval=None,
    batch: bool = False,
) -> IntegrationResult:
    r"""Dispatch to :func:`integrate_fixed` (``euler``, ``rk4``, ``lie_euler``, ``authors``; needs ``dt``) or
    :func:`integrate_adaptive` (``adaptive``; needs ``rtol``, ``dt`` if given is the first step).

    Solves :math:`\dot x = f(t, x)`, :math:`x(t_0) = x_0` on ``[t0, t0 + t_final]``.

    Parameters
    ----------
    f, x0, t_final, dt, rtol, atol, manifold, save_every, t0, progress, t_eval
        As in the two drivers.
    batch : bool
        Systems along axis 0 (adaptive error norm per system, see :func:`integrate_adaptive`).
    method : {"euler", "rk4", "lie_euler", "adaptive", "authors"}

    Returns
    -------
    IntegrationResult

    References
    ----------
    See the module docstring.
    """
    if method not in METHODS:
        raise ValueError(f"method: unknown method {method!r}; use one of {', '.join(METHODS)}")
    if method == "adaptive":
        if rtol is None:
            raise ValueError("rtol: method='adaptive' needs rtol= (e.g. 1e-8)")
        return integrate_adaptive(
            f, x0, t_final, rtol=rtol, atol=atol, manifold=manifold, save_every=save_every,
            h0=dt, t0=t0, progress=progress, t_eval=t_eval, batch=batch,
        )
    if dt is None:
        raise ValueError(f"dt: method={method!r} is fixed-step and needs dt= (e.g. 0.01)")
    if rtol is not None or atol is not None:
        raise ValueError(f"rtol: method={method!r} is fixed-step and takes no tolerance; drop rtol/atol or use method='adaptive'")
    return integrate_fixed(
        f, x0, t_final, dt, method=method, manifold=manifold, save_every=save_every, t0=t0, progress=progress,
        t_eval=t_eval,
    )
