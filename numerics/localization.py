r"""Localisation on the circle: critical points of attention energy plus a perceptron potential.

arXiv 2601.21366 (perceptrons and localisation; read via a transcription) states that at a
second-order stable critical point any group of atoms within angular width :math:`1/(2\sqrt\beta)`
carries mass :math:`\le 0.5742 + O(e^{-\beta})`.  This module fixes a concrete, documented model and
*measures*; the normalisation of the constant (the repulsive sign of this model) was recovered later
and the constant is confronted in :mod:`attnflow.numerics.localization_bound`
(``derivations/localization.md``).

Model (chosen here; the project's own circle normalisation, ``derivations/energy.md``,
energy.circle.gradient).  ``n`` particles
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
arXiv 2601.21366 (perceptrons and localisation; constant 0.5742); ``derivations/energy.md``
(circle energy, energy.circle.gradient); arXiv:2512.01868 (Kuramoto form of USA on the circle).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from attnflow._base.validate import real, real_array

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

#: The constant of arXiv 2601.21366 (mass within width 1/(2 sqrt beta) <= 0.5742 + O(e^{-beta})).
LOCALIZATION_CONSTANT = 0.5742

#: Interaction signs: ``attractive`` maximises +E_beta, ``repulsive`` maximises -E_beta.
SIGNS = {"attractive": 1.0, "repulsive": -1.0}


def _sign(interaction: str) -> float:
    if interaction not in SIGNS:
        raise ValueError(f"interaction: expected 'attractive' or 'repulsive', got {interaction!r}")
    return SIGNS[interaction]


def _check(theta, beta, a, b) -> np.ndarray:
    th = real_array("theta", theta).copy()
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
    arXiv 2601.21366 (perceptron potential); arXiv:2411.04551 (attention + perceptron field, perceptron
    block :math:`W(Ux+b)_+`).
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
    ``derivations/energy.md`` (circle energy); arXiv 2601.21366.
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
    arXiv:2512.01868 (Kuramoto form, :math:`\dot\theta = n\nabla E`); ``derivations/energy.md``
    (energy.circle.gradient); arXiv:2601.21366 (localisation).
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
    ``derivations/energy.md`` (energy.variation.second); arXiv:2601.21366 (localisation).
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
    ``derivations/energy.md`` (energy.variation.second: second variation along push-forwards);
    arXiv:2601.21366 (localisation).
    """
    th = _check(theta, beta, a, b)
    s = _sign(interaction)
    k2 = _k2_over_beta(th[:, None] - th[None, :], float(beta), 0.0)
    return (s / th.size) * k2.sum(axis=1) + perceptron_potential(th, a, b, 2)


def merge_atoms(theta, masses=None, tol: float = 1e-6) -> tuple[np.ndarray, np.ndarray]:
    r"""Group particles closer than ``tol`` (rad, around the circle) into atoms: ``(angles, masses)``.

    Sorted angles are chained while consecutive gaps are below ``tol`` (also across :math:`2\pi`);
    each group becomes one atom at its mass-weighted circular mean

    .. math:: \bar\theta_G = \operatorname{atan2}\Bigl(\sum_{i\in G} m_i\sin\theta_i,\ \sum_{i\in G} m_i\cos\theta_i\Bigr),
              \qquad m_G = \sum_{i\in G} m_i

    (default masses :math:`1/n`).

    References
    ----------
    arXiv 2601.21366 (atoms of critical points).
    """
    real("tol", tol, lo=0.0)
    th = np.mod(real_array("theta", theta), 2 * np.pi)
    m = np.full(th.size, 1.0 / th.size) if masses is None else real_array("masses", masses)
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
    arXiv:2601.21366 (localisation: mass within angular width :math:`1/(2\sqrt\beta)`).
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


def _atom_terms(th, m, beta, s, a, b):
    """Scaled (by beta e^{-beta}) atom-level gradient, Hessian, splitting curvature, and their term sizes."""
    dl = th[:, None] - th[None, :]
    e = np.exp(beta * (np.cos(dl) - 1.0))  # e^{beta cos} e^{-beta}
    k1 = -beta * np.sin(dl) * e  # k'(delta) e^{-beta}
    k2 = (beta**2 * np.sin(dl) ** 2 - beta * np.cos(dl)) * e  # k''(delta) e^{-beta}
    sc = beta * math.exp(-beta)
    v1 = perceptron_potential(th, a, b, 1) * sc
    v2 = perceptron_potential(th, a, b, 2) * sc
    off = ~np.eye(th.size, dtype=bool)
    grad = s * (k1 * off) @ m + v1  # (1/m_i) dF/dtheta_i, scaled by beta e^{-beta} (times beta: k'/beta)
    vmax = sc * (abs(a) + abs(b))  # size scale of V', V'' (|V'|, |V''| <= |a|)
    # forces that must cancel, plus a rounding floor: for angles in [0, 2 pi), sin(theta_i - theta_j) is
    # known only to ~1e-15 absolutely, so a force beta e^{beta cos} sin(.) carries an absolute error
    # ~1e-15 beta e^{beta cos}; the floor 1e-6 beta e^{beta cos} makes that error pass gtol = 1e-8
    gsize = np.abs(k1 * off) @ m + 1e-6 * beta * (e * off) @ m + vmax
    split = s * k2 @ m + v2
    ssize = np.abs(k2) @ m + vmax
    H = -s * np.outer(m, m) * k2 * off
    H[np.diag_indices(th.size)] = s * m * ((k2 * off) @ m) + m * v2
    return grad, gsize, H, split, ssize


def _polish_atoms(at, m, beta, s, a, b, newton_steps):
    """Trust-region Newton on the weighted-atom functional (masses fixed); returns (atoms, masses)."""
    from scipy.optimize import minimize

    if newton_steps == 0 or (at.size == 1 and a == 0):
        return at, m
    # scale the atom objective so that the forces that must balance are of order one
    c = 1.0 / max(float(_atom_terms(at, m, beta, s, a, b)[1].max()), 1e-300)

    def aobj(x):
        e = np.exp(beta * (np.cos(x[:, None] - x[None, :]) - 1.0))
        np.fill_diagonal(e, 0.0)  # self-interaction of a point atom is a constant: drop it (no cancellation)
        return -c * (s * 0.5 * m @ e @ m + beta * math.exp(-beta) * m @ perceptron_potential(x, a, b))

    def ajac(x):
        return -c * m * _atom_terms(x, m, beta, s, a, b)[0]

    def ahess(x):
        return -c * _atom_terms(x, m, beta, s, a, b)[2]

    res = minimize(aobj, at, jac=ajac, hess=ahess, method="trust-exact",
                   options={"gtol": 1e-14, "maxiter": int(newton_steps)})
    return np.mod(res.x, 2 * np.pi), m


@dataclass
class CriticalPoint:
    r"""A critical point found by :func:`find_critical_point` (atoms = merged coincident particles).

    Attributes
    ----------
    theta : (n,) particle angles after the particle stage
    atoms, masses : (k,) atom angles and masses after the atom-level polish
    beta, interaction, a, b : the model
    grad_rel : float
        :math:`\max_i |\partial_i F/m_i|` divided by the sum of the absolute sizes of the terms that
        must cancel (atom interactions and :math:`V'`): 0 at an exact critical point, about 1 when
        nothing balances the force (e.g. metastable, slowly merging clusters).
    hess_rel : float
        Largest eigenvalue of the atom-level Hessian divided by its spectral norm.
    split_rel : float
        :math:`\max_i \Phi''(\theta_i)` divided by the size of its terms.
    critical, stable : bool
        ``grad_rel <= gtol``; ``critical`` and ``hess_rel <= htol`` and ``split_rel <= htol``.
    arc_mass : float
        Largest mass within an arc of width :math:`1/(2\sqrt\beta)`.
    objective : float
    steps : int
    """

    theta: np.ndarray
    atoms: np.ndarray
    masses: np.ndarray
    beta: float
    interaction: str
    a: float
    b: float
    grad_rel: float
    hess_rel: float
    split_rel: float
    critical: bool
    stable: bool
    arc_mass: float
    objective: float
    steps: int


def find_critical_point(theta0, beta: float, *, interaction: str = "attractive", a: float = 1.0,
                        b: float = 0.0, flow_steps: int = 300, newton_steps: int = 200,
                        merge_tol: float = 1e-5, gtol: float = 1e-8, htol: float = 1e-8) -> CriticalPoint:
    r"""Gradient flow of :math:`F_\sigma` from ``theta0`` to a critical point, then the stability test.

    1. Particle stage: discretised gradient flow :math:`\theta \leftarrow \theta + h\,g`,
       :math:`g = n\nabla F_\sigma` (:func:`circle_gradient`, the generated Kuramoto kernel plus
       :math:`V'`), with Armijo backtracking on :math:`F_\sigma` (each step increases the objective;
       the step adapts to the stiffness :math:`\sim\beta e^\beta`); then a trust-region Newton
       polish (``scipy.optimize.minimize``, ``trust-exact``, closed-form Hessian
       :func:`circle_hessian`), which converges to second-order points generically.
    2. Atom stage: particles closer than ``merge_tol`` are merged into atoms (mass = number/n);
       the weighted-atom functional
       :math:`F = \frac{\sigma}{2\beta}\sum_{i,j} m_i m_j e^{\beta\cos(\theta_i-\theta_j)} + \sum_i m_i V(\theta_i)`
       is polished again by trust-region Newton (a point atom has no self-force, so the gradient is
       resolved in absolute terms even at large :math:`\beta`); atoms that collide during the polish
       are merged and the polish repeated (at most 4 rounds).  Newton may leave the flow's basin:
       e.g. it merges metastable clusters that the flow would take a time :math:`\sim e^{c\beta}` to merge.
    3. Tests (Wasserstein second order for atomic measures, module docstring): relative gradient
       :math:`\le` ``gtol``; the atom Hessian has no eigenvalue above ``htol`` times its norm; every
       atom has :math:`\Phi''(\theta_i) \le` ``htol`` times the size of its terms.

    Parameters
    ----------
    theta0 : (n,) initial angles
    beta : float in (0, 600]
    interaction : ``"attractive"`` or ``"repulsive"``
    a, b : perceptron parameters of :math:`V(\theta) = (a\cos\theta+b)_+`
    flow_steps, newton_steps : iteration limits of the particle flow and of each Newton polish
    merge_tol : particles closer than this (rad) form one atom
    gtol, htol : relative tolerances of the first- and second-order tests (see :class:`CriticalPoint`)

    Returns
    -------
    CriticalPoint

    References
    ----------
    arXiv 2601.21366 (second-order stable critical points, localisation);
    ``derivations/energy.md`` (energy.variation.second, circle energy).
    """
    import numba
    from scipy.optimize import minimize

    th = _check(theta0, beta, a, b)
    s = _sign(interaction)
    for name, v in (("flow_steps", flow_steps), ("newton_steps", newton_steps)):
        if int(v) != v or v < 0:
            raise ValueError(f"{name}: must be a non-negative integer, got {v!r}")
    if not (gtol > 0 and htol > 0 and merge_tol > 0):
        raise ValueError("gtol, htol, merge_tol: tolerances must be positive")
    beta = float(beta)
    n = th.size
    fs = beta * n**2 * math.exp(-beta)  # objective scale: same critical points, O(1) gradients

    def obj(x):
        return -fs * circle_objective(x, beta, interaction=interaction, a=a, b=b)

    def jac(x):
        return -(fs / n) * circle_gradient(x, beta, interaction=interaction, a=a, b=b)

    def hess(x):
        return -fs * circle_hessian(x, beta, interaction=interaction, a=a, b=b)

    old_threads = numba.get_num_threads()
    numba.set_num_threads(1)  # tiny systems: thread start-up would dominate
    try:
        h, f, steps = 1.0, obj(th), 0
        for steps in range(1, flow_steps + 1):
            g = jac(th)
            gg = float(g @ g)
            if gg <= 1e-30:
                break
            while h > 1e-14:
                trial = th - h * g
                ft = obj(trial)
                if ft <= f - 1e-4 * h * gg:
                    th, f = trial, ft
                    h *= 1.5
                    break
                h *= 0.5
        if newton_steps > 0:
            res = minimize(obj, th, jac=jac, hess=hess, method="trust-exact",
                           options={"gtol": 1e-12, "maxiter": int(newton_steps)})
            th = res.x
            steps += int(res.nit)
    finally:
        numba.set_num_threads(old_threads)
    th = np.mod(th, 2 * np.pi)

    # atom stage (repeated while the polish makes atoms collide: attraction merges them)
    at, m = merge_atoms(th, tol=merge_tol)
    for _round in range(4):
        at, m = _polish_atoms(at, m, beta, s, a, b, newton_steps)
        merged = merge_atoms(at, m, tol=merge_tol)
        if merged[0].size == at.size:
            break
        at, m = merged
    grad, gsize, H, split, ssize = _atom_terms(at, m, beta, s, a, b)
    grad_rel = float(np.max(np.abs(grad) / np.maximum(gsize, 1e-300)))
    ev = np.linalg.eigvalsh(0.5 * (H + H.T))
    hess_rel = float(ev.max()) / max(float(np.abs(ev).max()), 1e-300)
    split_rel = float(np.max(split / np.maximum(ssize, 1e-300)))
    critical = grad_rel <= gtol
    stable = bool(critical and hess_rel <= htol and split_rel <= htol)
    width = 1.0 / (2.0 * math.sqrt(beta))
    objective = (s * 0.5 * m @ np.exp(beta * np.cos(at[:, None] - at[None, :])) @ m / beta
                 + m @ perceptron_potential(at, a, b))
    return CriticalPoint(
        theta=th, atoms=at, masses=m, beta=beta, interaction=interaction, a=float(a), b=float(b),
        grad_rel=grad_rel, hess_rel=hess_rel, split_rel=split_rel, critical=bool(critical), stable=stable,
        arc_mass=max_arc_mass(at, width, m), objective=float(objective), steps=steps,
    )
