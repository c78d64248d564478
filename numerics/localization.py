r"""Localisation on the circle: critical points of attention energy plus a perceptron potential.

Theory notes 06-interpolation.md §6.4 (arXiv 2601.21366, via transcription) state that at a
second-order stable critical point any group of atoms within angular width :math:`1/(2\sqrt\beta)`
carries mass :math:`\le 0.5742 + O(e^{-\beta})`.  The normalisation of the energy in the source was
not recovered, so this module fixes a concrete, documented model and *measures*; it asserts nothing
about the constant.

Model (chosen here; the project's own circle normalisation, 02-energy.md §2.4).  ``n`` particles
:math:`\theta_1..\theta_n` of mass :math:`1/n` on :math:`\mathbb T`, coincident particles forming one
atom of the measure :math:`\mu = \frac1n\sum_i\delta_{\theta_i}`; the functional to **maximise** is

.. math::

    F_\sigma(\theta) = \sigma\,E_\beta(\theta) + \frac1n\sum_i V(\theta_i),\qquad
    E_\beta = \frac{1}{2\beta n^2}\sum_{i,j} e^{\beta\cos(\theta_i-\theta_j)},\qquad
    V(\theta) = (a\cos\theta + b)_+ ,

with :math:`\sigma = +1` (``"attractive"``: the sign of self-attention, whose dynamics ascend
:math:`E_\beta`) or :math:`\sigma = -1` (``"repulsive"``).  :math:`E_\beta` is exactly
:func:`attnflow.numerics.fields.energy` with ``model="kuramoto"`` and the interaction velocity is the
generated Kuramoto kernel (:func:`attnflow.numerics.fields.make_field`), since
:math:`\dot\theta = n\nabla E_\beta` for that model.  The perceptron potential is :math:`O(1)`
while the kernel is :math:`O(e^\beta)` (the regime in which an :math:`O(e^{-\beta})` correction is
natural).

Critical points are found by the mass-weighted (Wasserstein) gradient flow
:math:`\dot\theta_i = n\,\partial_{\theta_i}F_\sigma = \sigma\,\mathrm{kur}_i(\theta) + V'(\theta_i)`
(explicit steps with Armijo backtracking on :math:`F_\sigma`), then polished by a trust-region
Newton method.  Second-order stability is checked in the Wasserstein sense for atomic measures:

1. the particle Hessian :math:`\nabla^2 F_\sigma` is negative semidefinite on the tangent space
   :math:`T_\theta\mathbb T^n = \mathbb R^n` (moving atoms, and splitting atoms made of several
   coincident particles);
2. every atom is stable against splitting: with
   :math:`\Phi = \frac{\delta F_\sigma}{\delta\mu} = \frac{\sigma}{\beta}\int e^{\beta\cos(\cdot-y)}\,d\mu(y) + V`,
   :math:`\Phi''(\theta_i) \le 0` (the second variation of :math:`F_\sigma` along a transport plan
   that splits atom :math:`i` with velocity variance :math:`s^2` is
   :math:`m_i s^2\Phi''(\theta_i)` plus the positional form, derived in :func:`splitting_curvature`).

References
----------
arXiv 2601.21366 (perceptrons and localisation; constant 0.5742); theory notes 06-interpolation.md
§6.4, 02-energy.md §2.4 (circle energy), 01-models.md §1.4 (Kuramoto form of USA on the circle).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

__all__ = [
    "SIGNS",
    "perceptron_potential",
    "circle_objective",
    "circle_gradient",
    "circle_hessian",
    "splitting_curvature",
    "max_arc_mass",
    "merge_atoms",
    "CriticalPoint",
    "find_critical_point",
    "LOCALIZATION_CONSTANT",
]

#: The constant of 06 §6.4 (mass within width 1/(2 sqrt beta) <= 0.5742 + O(e^{-beta})).
LOCALIZATION_CONSTANT = 0.5742

#: Interaction signs: ``attractive`` maximises +E_beta, ``repulsive`` maximises -E_beta.
SIGNS = {"attractive": 1.0, "repulsive": -1.0}


def _sign(interaction: str) -> float:
    if interaction not in SIGNS:
        raise ValueError(f"interaction: expected 'attractive' or 'repulsive', got {interaction!r}")
    return SIGNS[interaction]


def _check(theta, beta, a, b) -> np.ndarray:
    th = np.array(theta, dtype=np.float64, copy=True)
    if th.ndim != 1 or th.size < 1:
        raise ValueError(f"theta: expected a 1-D array of n >= 1 angles, got shape {th.shape}")
    if not np.all(np.isfinite(th)):
        raise ValueError("theta: contains NaN or inf; pass finite angles")
    if not (isinstance(beta, (int, float, np.floating, np.integer)) and math.isfinite(beta) and 0 < beta <= 600):
        raise ValueError(f"beta: must be a finite number in (0, 600] (e^beta must fit float64), got {beta!r}")
    for name, v in (("a", a), ("b", b)):
        if not (isinstance(v, (int, float, np.floating, np.integer)) and math.isfinite(v)):
            raise ValueError(f"{name}: perceptron parameter must be a finite number, got {v!r}")
    return th


def perceptron_potential(theta, a: float, b: float, derivative: int = 0) -> np.ndarray:
    r"""The one-unit perceptron potential on the circle and its derivatives.

    .. math::

        V(\theta) = (a\cos\theta + b)_+,\quad
        V'(\theta) = -a\sin\theta\,\mathbf 1[a\cos\theta+b>0],\quad
        V''(\theta) = -a\cos\theta\,\mathbf 1[a\cos\theta+b>0]

    (one-sided at the kink :math:`a\cos\theta + b = 0`, where the active side is not counted).

    Parameters
    ----------
    theta : array of angles
    a, b : float
        Weight and bias of the unit.
    derivative : {0, 1, 2}

    References
    ----------
    arXiv 2601.21366 (perceptron potential); theory notes 06-interpolation.md §6.1 (perceptron
    block :math:`W(Ux+b)_+`), §6.4.
    """
    th = np.asarray(theta, dtype=np.float64)
    pre = a * np.cos(th) + b
    on = pre > 0
    if derivative == 0:
        return np.where(on, pre, 0.0)
    if derivative == 1:
        return np.where(on, -a * np.sin(th), 0.0)
    if derivative == 2:
        return np.where(on, -a * np.cos(th), 0.0)
    raise ValueError(f"derivative: expected 0, 1 or 2, got {derivative!r}")


def circle_objective(theta, beta: float, *, interaction: str = "attractive", a: float = 1.0,
                     b: float = 0.0) -> float:
    r"""The functional :math:`F_\sigma(\theta) = \sigma E_\beta(\theta) + \frac1n\sum_i V(\theta_i)` (to maximise).

    .. math::

        E_\beta(\theta) = \frac{1}{2\beta n^2}\sum_{i,j=1}^n e^{\beta\cos(\theta_i-\theta_j)},\qquad
        V(\theta) = (a\cos\theta+b)_+,

    with :math:`E_\beta` from :func:`attnflow.numerics.fields.energy` (``model="kuramoto"``).

    References
    ----------
    Theory notes 02-energy.md §2.4 (circle energy), 06-interpolation.md §6.4; arXiv 2601.21366.
    """
    from attnflow.numerics import fields

    th = _check(theta, beta, a, b)
    s = _sign(interaction)
    return s * fields.energy(th, model="kuramoto", beta=float(beta)) + float(
        np.mean(perceptron_potential(th, a, b)))


def circle_gradient(theta, beta: float, *, interaction: str = "attractive", a: float = 1.0,
                    b: float = 0.0) -> np.ndarray:
    r"""The mass-weighted gradient :math:`n\nabla F_\sigma` (the Wasserstein gradient-flow velocity).

    .. math::

        n\,\partial_{\theta_i}F_\sigma = \sigma\,\mathrm{kur}_i(\theta) + V'(\theta_i),\qquad
        \mathrm{kur}_i(\theta) = -\frac1n\sum_j e^{\beta\cos(\theta_i-\theta_j)}\sin(\theta_i-\theta_j),

    with :math:`\mathrm{kur}` the generated Kuramoto kernel
    (:func:`attnflow.numerics.fields.make_field`, ``model="kuramoto"``).

    References
    ----------
    Theory notes 01-models.md §1.4 (Kuramoto form, :math:`\dot\theta = n\nabla E`), 06 §6.4.
    """
    from attnflow.numerics import fields

    th = _check(theta, beta, a, b)
    s = _sign(interaction)
    kur = fields.make_field("kuramoto", beta=float(beta))(0.0, np.ascontiguousarray(th))
    return s * kur + perceptron_potential(th, a, b, 1)


def _k2_over_beta(delta: np.ndarray, beta: float, log_scale: float) -> np.ndarray:
    """k''(delta)/beta * e^{-log_scale} for k = e^{beta cos}: (beta sin^2 - cos) e^{beta cos - log_scale}."""
    return (beta * np.sin(delta) ** 2 - np.cos(delta)) * np.exp(beta * np.cos(delta) - log_scale)


def circle_hessian(theta, beta: float, *, interaction: str = "attractive", a: float = 1.0,
                   b: float = 0.0) -> np.ndarray:
    r"""Hessian :math:`\nabla^2 F_\sigma` (n x n) in the particle angles (plain NumPy, closed form).

    With :math:`k(\delta) = e^{\beta\cos\delta}`, :math:`k''(\delta) = (\beta^2\sin^2\delta - \beta\cos\delta)\,k(\delta)`,

    .. math::

        \partial^2_{\theta_i\theta_j}F_\sigma = -\frac{\sigma}{\beta n^2}k''(\theta_i-\theta_j)\ (i\ne j),\qquad
        \partial^2_{\theta_i\theta_i}F_\sigma = \frac{\sigma}{\beta n^2}\sum_{q\ne i}k''(\theta_i-\theta_q)
        + \frac1n V''(\theta_i).

    References
    ----------
    Theory notes 02-energy.md §2.3 (second variation), 06-interpolation.md §6.4.
    """
    th = _check(theta, beta, a, b)
    s = _sign(interaction)
    n = th.size
    k2 = _k2_over_beta(th[:, None] - th[None, :], float(beta), 0.0)
    np.fill_diagonal(k2, 0.0)
    H = -(s / n**2) * k2
    H[np.diag_indices(n)] = (s / n**2) * k2.sum(axis=1) + perceptron_potential(th, a, b, 2) / n
    return H


def splitting_curvature(theta, beta: float, *, interaction: str = "attractive", a: float = 1.0,
                        b: float = 0.0) -> np.ndarray:
    r"""Curvature :math:`\Phi''(\theta_i)` of the first variation at every particle (splitting test).

    .. math::

        \Phi(\theta) = \frac{\delta F_\sigma}{\delta\mu}(\theta)
          = \frac{\sigma}{\beta n}\sum_j e^{\beta\cos(\theta-\theta_j)} + V(\theta),\qquad
        \Phi''(\theta_i) = \frac{\sigma}{\beta n}\sum_{j} k''(\theta_i-\theta_j) + V''(\theta_i),

    the sum including :math:`j = i` (:math:`k''(0) = -\beta e^\beta`).  For a transport plan that
    sends atom :math:`i` (mass :math:`m_i`) into velocities with mean :math:`\bar v_i` and variance
    :math:`s_i^2`, the second variation of :math:`F_\sigma` is the particle form in :math:`\bar v`
    plus :math:`\sum_i m_i s_i^2\,\Phi''(\theta_i)`: a maximiser needs :math:`\Phi''(\theta_i)\le 0`.

    References
    ----------
    Theory notes 02-energy.md §2.3 (second variation along push-forwards), 06-interpolation.md §6.4.
    """
    th = _check(theta, beta, a, b)
    s = _sign(interaction)
    k2 = _k2_over_beta(th[:, None] - th[None, :], float(beta), 0.0)
    return (s / th.size) * k2.sum(axis=1) + perceptron_potential(th, a, b, 2)


def merge_atoms(theta, masses=None, tol: float = 1e-6) -> tuple[np.ndarray, np.ndarray]:
    """Group particles closer than ``tol`` (rad, around the circle) into atoms: ``(angles, masses)``."""
    th = np.mod(np.asarray(theta, dtype=np.float64), 2 * np.pi)
    m = np.full(th.size, 1.0 / th.size) if masses is None else np.asarray(masses, dtype=np.float64)
    order = np.argsort(th)
    th, m = th[order], m[order]
    groups = [[0]]
    for k in range(1, th.size):
        if th[k] - th[k - 1] < tol:
            groups[-1].append(k)
        else:
            groups.append([k])
    if len(groups) > 1 and th[0] + 2 * np.pi - th[-1] < tol:  # wrap-around
        groups[0] = groups.pop() + groups[0]
    ang = np.array([math.atan2(np.sum(m[g] * np.sin(th[g])), np.sum(m[g] * np.cos(th[g]))) for g in groups])
    return np.mod(ang, 2 * np.pi), np.array([m[g].sum() for g in groups])


def max_arc_mass(theta, width: float, masses=None) -> float:
    r"""Largest mass of :math:`\mu=\sum_i m_i\delta_{\theta_i}` in a closed arc of length ``width``.

    .. math:: \max_{\phi}\ \mu\bigl([\phi, \phi + w]\bigr)

    (the maximum is attained with an atom at the left end, so only those arcs are scanned; a
    relative slack of 1e-12 absorbs rounding at the right end).

    References
    ----------
    Theory notes 06-interpolation.md §6.4 (mass within angular width :math:`1/(2\sqrt\beta)`).
    """
    th = np.mod(np.asarray(theta, dtype=np.float64).ravel(), 2 * np.pi)
    if not (math.isfinite(width) and width >= 0):
        raise ValueError(f"width: must be a finite non-negative arc length, got {width!r}")
    m = np.full(th.size, 1.0 / th.size) if masses is None else np.asarray(masses, dtype=np.float64).ravel()
    if m.shape != th.shape or np.any(m < 0):
        raise ValueError("masses: need one non-negative mass per angle")
    gap = np.mod(th[None, :] - th[:, None], 2 * np.pi)  # distance from left end i to j, counter-clockwise
    inside = gap <= width * (1 + 1e-12) + 1e-15
    return float((inside * m[None, :]).sum(axis=1).max())


@dataclass
class CriticalPoint:
    """A critical point found by :func:`find_critical_point`.

    Attributes
    ----------
    theta : (n,) angles of the particles (mass 1/n each)
    beta, interaction, a, b : the model
    grad_norm : float
        :math:`\\max_i |n\\,\\partial_i F| / \\text{scale}` with scale :math:`= \\max(1, e^{\\beta}/\\beta)`
        (relative size of the gradient against the kernel's size).
    hess_max : float
        Largest eigenvalue of :math:`n\\nabla^2 F` divided by :math:`\\|n\\nabla^2 F\\|_2`.
    split_max : float
        :math:`\\max_i \\Phi''(\\theta_i)` divided by :math:`e^\\beta`.
    stable : bool
        ``grad_norm <= gtol`` and ``hess_max <= htol`` and ``split_max <= htol``.
    atoms, masses : atoms (coincident particles merged) and their masses
    arc_mass : float
        Largest mass within an arc of width :math:`1/(2\\sqrt\\beta)`.
    objective : float
    steps : int
        Gradient-flow steps + Newton iterations used.
    """

    theta: np.ndarray
    beta: float
    interaction: str
    a: float
    b: float
    grad_norm: float
    hess_max: float
    split_max: float
    stable: bool
    atoms: np.ndarray
    masses: np.ndarray
    arc_mass: float
    objective: float
    steps: int


def find_critical_point(theta0, beta: float, *, interaction: str = "attractive", a: float = 1.0,
                        b: float = 0.0, flow_steps: int = 400, newton_steps: int = 200,
                        gtol: float = 1e-9, htol: float = 1e-8) -> CriticalPoint:
    r"""Gradient flow of :math:`F_\sigma` from ``theta0`` to a critical point, then the stability test.

    1. Discretised gradient flow :math:`\theta \leftarrow \theta + h\,g`, :math:`g = n\nabla F_\sigma`
       (:func:`circle_gradient`), with Armijo backtracking on :math:`F_\sigma` (each step increases
       the objective; the step adapts to the stiffness :math:`\sim\beta e^\beta`).
    2. Trust-region Newton polish on :math:`-F_\sigma` (``scipy.optimize.minimize``,
       ``trust-exact``, closed-form Hessian :func:`circle_hessian`) until the relative gradient is
       below ``gtol``: this converges to second-order points (local maxima) generically.
    3. Stability (Wasserstein second order, see the module docstring): the largest eigenvalue of
       the Hessian relative to its norm and :math:`\max_i\Phi''(\theta_i)/e^\beta` must be
       :math:`\le` ``htol``.

    The objective is internally multiplied by :math:`\beta n^2 e^{-\beta}` (same critical points,
    gradient of order one).

    Parameters
    ----------
    theta0 : (n,) initial angles
    beta : float in (0, 600]
    interaction : ``"attractive"`` or ``"repulsive"``
    a, b : perceptron parameters of :math:`V(\theta) = (a\cos\theta+b)_+`
    flow_steps, newton_steps : iteration limits
    gtol, htol : tolerances of the first- and second-order tests (relative, see
        :class:`CriticalPoint`)

    Returns
    -------
    CriticalPoint

    References
    ----------
    arXiv 2601.21366 (second-order stable critical points, localisation); theory notes
    06-interpolation.md §6.4, 02-energy.md §2.4.
    """
    from scipy.optimize import minimize

    th = _check(theta0, beta, a, b)
    s = _sign(interaction)
    for name, v in (("flow_steps", flow_steps), ("newton_steps", newton_steps)):
        if int(v) != v or v < 0:
            raise ValueError(f"{name}: must be a non-negative integer, got {v!r}")
    if not (gtol > 0 and htol > 0):
        raise ValueError("gtol, htol: tolerances must be positive")
    beta = float(beta)
    n = th.size
    scale = beta * n * math.exp(-beta)  # objective * beta n^2 e^{-beta}; gradient n grad F * this / n

    def obj(x):
        return -beta * n**2 * math.exp(-beta) * circle_objective(x, beta, interaction=interaction, a=a, b=b)

    def jac(x):
        return -scale * circle_gradient(x, beta, interaction=interaction, a=a, b=b)

    def hess(x):
        return -beta * n**2 * math.exp(-beta) * circle_hessian(x, beta, interaction=interaction, a=a, b=b)

    # 1. gradient flow with Armijo backtracking (an ascent method on F)
    h, f = 1.0, obj(th)
    steps = 0
    for steps in range(1, flow_steps + 1):
        g = jac(th)
        gg = float(g @ g)
        if math.sqrt(gg) <= 1e-3 * gtol:
            break
        while h > 1e-14:
            trial = th - h * g
            ft = obj(trial)
            if ft <= f - 1e-4 * h * gg:
                th, f = trial, ft
                h *= 1.5
                break
            h *= 0.5
    # 2. trust-region Newton polish
    if newton_steps > 0:
        res = minimize(obj, th, jac=jac, hess=hess, method="trust-exact",
                       options={"gtol": gtol * 1e-2, "maxiter": int(newton_steps)})
        th = res.x
        steps += int(res.nit)
    th = np.mod(th, 2 * np.pi)
    # 3. first- and second-order tests
    g = circle_gradient(th, beta, interaction=interaction, a=a, b=b)
    grad_norm = float(np.abs(g).max()) / max(1.0, math.exp(beta) / beta)
    H = n * circle_hessian(th, beta, interaction=interaction, a=a, b=b)
    ev = np.linalg.eigvalsh(0.5 * (H + H.T))
    hnorm = max(float(np.abs(ev).max()), 1e-300)
    hess_max = float(ev.max()) / hnorm
    split_max = float(splitting_curvature(th, beta, interaction=interaction, a=a, b=b).max()) / math.exp(beta)
    stable = grad_norm <= gtol and hess_max <= htol and split_max <= htol
    atoms, masses = merge_atoms(th)
    width = 1.0 / (2.0 * math.sqrt(beta))
    return CriticalPoint(
        theta=th, beta=beta, interaction=interaction, a=float(a), b=float(b), grad_norm=grad_norm,
        hess_max=hess_max, split_max=split_max, stable=bool(stable), atoms=atoms, masses=masses,
        arc_mass=max_arc_mass(th, width), objective=circle_objective(th, beta, interaction=interaction, a=a, b=b),
        steps=steps,
    )
