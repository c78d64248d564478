"""Checks around the interpolation theorem: gate sign, mass concentration, clustering time (private).

Plain functions a claim can call; public names re-exported by
:mod:`attnflow.numerics.interpolation`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ._flow import check_measures, flow
from ._geometry import best_dirac_w2, dirac_w2, unit
from ._schedule import Layer, Schedule

__all__ = [
    "GateExperiment",
    "gate_layer",
    "gate_mass_moved",
    "MassConcentration",
    "mass_concentration_family",
    "ClusterTimeFit",
    "cluster_time",
]


# ---------------------------------------------------------------------------------------------
# gate lemma (B.2): printed vs corrected sign
# ---------------------------------------------------------------------------------------------
def gate_layer(z, R: float, direction, *, sign: str = "corrected", duration: float = 1.0,
               speed: float = 1.0) -> Layer:
    r"""The one-unit perceptron layer of the gate lemma, with the printed or the corrected sign.

    .. math::

        \text{corrected: } U = +z^\top,\ b = -\cos R:\quad v(x) = \text{speed}\,(\langle z,x\rangle - \cos R)_+ P_x a,

        \text{printed: } U = -z^\top,\ b = +\cos R:\quad v(x) = \text{speed}\,(\cos R - \langle z,x\rangle)_+ P_x a.

    The corrected gate is positive exactly on the open geodesic ball :math:`B(z, R)`; the printed
    one exactly outside the closed ball.

    References
    ----------
    arXiv 2411.04551, Lemma B.2 (printed signs; an erratum found for this project: the printed gate
    activates outside the ball).
    """
    z = np.asarray(z, dtype=np.float64)
    a = np.asarray(direction, dtype=np.float64)
    if sign == "corrected":
        U, b = z[None, :], [-math.cos(R)]
    elif sign == "printed":
        U, b = -z[None, :], [math.cos(R)]
    else:
        raise ValueError(f"sign: must be 'printed' or 'corrected', got {sign!r}")
    return Layer.perceptron(duration, speed * a[:, None], U, b, label=f"gate ({sign})")


@dataclass(frozen=True)
class GateExperiment:
    """Result of :func:`gate_mass_moved`.

    ``in_ball_moved`` / ``out_ball_moved``: fraction of the in-ball / out-of-ball mass displaced by
    more than ``tol``; ``moved_in_ball``: fraction of the displaced mass that lies in the ball
    (1.0 = the gate moved only the intended set); ``intended_fraction_moved`` = in_ball_moved.
    """

    sign: str
    mass_in_ball: float
    in_ball_moved: float
    out_ball_moved: float
    moved_in_ball: float
    correct: bool


def gate_mass_moved(cloud, z, R: float, sign: str = "corrected", *, direction=None,
                    duration: float = 1.0, speed: float = 1.0, dt: float = 0.01,
                    tol: float = 1e-9) -> GateExperiment:
    r"""Simulate the gate lemma: which mass does a gated perceptron layer move?

    The layer (:func:`gate_layer`) is meant to move the mass of the geodesic ball
    :math:`B(z,R) = \{x : \langle z, x\rangle > \cos R\}` and leave the rest fixed.  The
    corrected gate does (``in_ball_moved = 1``, ``out_ball_moved = 0``); the printed one moves the
    complement instead.

    Parameters
    ----------
    cloud : (n, d) array of unit vectors
    z : (d,) unit vector, R : float in (0, pi)
    sign : ``"printed"`` or ``"corrected"``
    direction : (d,) array, optional
        Direction ``a`` the gate pushes towards (default: a fixed unit vector orthogonal to ``z``;
        atoms at :math:`\pm a` would not move, so it is chosen away from the cloud's atoms).
    duration, speed, dt : float
        Simulation horizon, field strength, RK4 step.
    tol : float
        Displacement counted as "moved".

    Returns
    -------
    GateExperiment

    References
    ----------
    arXiv 2411.04551, Lemma B.2 (an earlier independent experiment for this project
    moved 27 % of the intended mass with the printed sign, 100 % with the corrected one).
    """
    (x,) = check_measures([cloud], name="cloud")
    d = x.shape[1]
    z = np.asarray(z, dtype=np.float64).reshape(-1)
    if z.shape != (d,) or abs(np.linalg.norm(z) - 1) > 1e-8:
        raise ValueError(f"z: expected a unit vector of R^{d}")
    if not (0 < R < math.pi):
        raise ValueError(f"R: geodesic radius must lie in (0, pi), got {R!r}")
    if direction is None:
        e = np.zeros(d)
        e[int(np.argmin(np.abs(z)))] = 1.0
        direction = unit(e - (e @ z) * z)
    layer = gate_layer(z, R, direction, sign=sign, duration=duration, speed=speed)
    (y,) = flow([x], Schedule((layer,)), dt=dt)
    moved = np.linalg.norm(y - x, axis=1) > tol
    inside = (x @ z) > math.cos(R)
    n_in, n_out = int(inside.sum()), int((~inside).sum())
    in_moved = float(moved[inside].mean()) if n_in else float("nan")
    out_moved = float(moved[~inside].mean()) if n_out else float("nan")
    moved_in = float(inside[moved].mean()) if moved.any() else float("nan")
    correct = bool(np.all(moved == inside))
    return GateExperiment(sign, float(inside.mean()), in_moved, out_moved, moved_in, correct)


# ---------------------------------------------------------------------------------------------
# mass concentration: W2 after moving mass eta a distance D
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class MassConcentration:
    """One member of the family: ``w2`` (exact), ``w2_assignment`` (independent route),
    ``bound_sqrt`` = 2 sqrt(eta), ``ratio_eta`` = W2 / eta (the printed ``W2 <= C eta`` needs it bounded)."""

    eta: float
    distance: float
    w2: float
    w2_assignment: float
    bound_sqrt: float
    ratio_eta: float


def mass_concentration_family(eta, *, d: int = 3, n: int = 200, distance: float = 2.0) -> MassConcentration:
    r"""Exact family: move mass :math:`\eta` of :math:`\delta_x` a chordal distance ``distance`` (≤ 2).

    :math:`\mu_\eta = (1-\eta)\delta_x + \eta\delta_y`, :math:`|x - y| = D`, compared with
    :math:`\delta_x`:

    .. math::

        W_2(\mu_\eta, \delta_x) = D\sqrt{\eta} \le 2\sqrt{\eta}, \qquad
        \frac{W_2}{\eta} = \frac{D}{\sqrt\eta} \to \infty \ (\eta \to 0),

    so a bound :math:`W_2 \le C\eta` fails for every ``C`` while :math:`W_2 \le 2\sqrt\eta` holds
    (equality for antipodal ``y``).  ``eta`` is rounded to ``k/n``.  The value is computed by the
    Dirac closed form and, independently, by an exact optimal assignment
    (``scipy.optimize.linear_sum_assignment``) between ``μ_η`` as an ``n``-point cloud and ``n``
    copies of ``x``.

    References
    ----------
    arXiv 2411.04551 (mass-concentration step of the proof, printed ``W_2 <= C eta``; an erratum
    found for this project: moving mass eta gives ``W_2 <= 2 sqrt(eta)``, sharp in order).
    """
    from scipy.optimize import linear_sum_assignment

    if not (0 < eta <= 1):
        raise ValueError(f"eta: moved mass must lie in (0, 1], got {eta!r}")
    if not (0 < distance <= 2):
        raise ValueError(f"distance: chordal distance on the sphere must lie in (0, 2], got {distance!r}")
    if d < 2 or n < 1:
        raise ValueError("d, n: need d >= 2 and n >= 1")
    k = max(1, round(eta * n))
    eta_k = k / n
    x = np.zeros(d)
    x[0] = 1.0
    phi = 2 * math.asin(distance / 2)  # geodesic angle with chord = distance
    y = np.zeros(d)
    y[0], y[1] = math.cos(phi), math.sin(phi)
    mu = np.vstack([np.repeat(x[None], n - k, axis=0), np.repeat(y[None], k, axis=0)])
    w2 = dirac_w2(mu, x)
    # independent route: exact assignment between equal-size uniform clouds
    nu = np.repeat(x[None], n, axis=0)
    cost = ((mu[:, None, :] - nu[None, :, :]) ** 2).sum(axis=2)
    r, c = linear_sum_assignment(cost)
    w2_assign = math.sqrt(cost[r, c].mean())
    return MassConcentration(eta_k, float(np.linalg.norm(x - y)), w2, w2_assign, 2 * math.sqrt(eta_k), w2 / eta_k)


# ---------------------------------------------------------------------------------------------
# clustering time
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ClusterTimeFit:
    """Times ``times[k]`` to reach ``W2(mu(t), delta_z) <= eps[k]``; least-squares fit
    ``time = slope * log(1/eps) + intercept`` with coefficient of determination ``r2``."""

    eps: np.ndarray
    times: np.ndarray
    slope: float
    intercept: float
    r2: float
    reference: str


def cluster_time(cloud, beta: float, eps_list, *, dt: float = 0.02, t_max: float = 60.0,
                 reference: str = "best") -> ClusterTimeFit:
    r"""Time for the clustering layer :math:`(V, B, W) = (I, \beta I, 0)` to bring μ within ε of a Dirac.

    .. math::

        \tau(\varepsilon) = \inf\{t : W_2(\mu(t), \delta_z) \le \varepsilon\},\qquad
        \min_z W_2^2(\mu, \delta_z) = 2(1 - |m_\mu|),

    and the fit :math:`\tau(\varepsilon) \approx a \log(1/\varepsilon) + c` (theory: :math:`\tau =
    O(\log 1/\varepsilon)`; near collapse the spread decays like :math:`e^{-t}` for ``V = I``, so
    ``a`` ≈ 1 is expected).

    Parameters
    ----------
    cloud : (n, d) unit vectors inside an open hemisphere
    beta : float >= 0
    eps_list : sequence of W2 levels in (0, 2)
    reference : ``"best"`` (best Dirac, closed form) or ``"limit"`` (Dirac at the final mean direction)

    References
    ----------
    arXiv 2411.04551, clustering step of Theorem 1.1; Dirac distance as in the claim
    ``wasserstein.dirac``.
    """
    (x,) = check_measures([cloud], name="cloud")
    d = x.shape[1]
    m = x.mean(axis=0)
    if np.linalg.norm(m) < 1e-12 or (x @ unit(m)).min() <= 0:
        # an open hemisphere is enough; the barycentre direction is a convenient witness only
        from ._geometry import find_hole

        w, r = find_hole(-x, rng=np.random.default_rng(0))
        if r <= math.pi / 2:
            raise ValueError("cloud: must lie in an open hemisphere (hypothesis of the clustering step)")
    eps = np.sort(np.asarray(eps_list, dtype=np.float64))[::-1]
    if eps.size < 2 or np.any(eps <= 0) or np.any(eps >= 2):
        raise ValueError("eps_list: need at least two levels in (0, 2)")
    if beta < 0 or not math.isfinite(beta):
        raise ValueError(f"beta: must be finite and >= 0, got {beta!r}")
    if reference not in ("best", "limit"):
        raise ValueError(f"reference: 'best' or 'limit', got {reference!r}")
    steps = int(math.ceil(t_max / dt))
    layer = Layer.attention(steps * dt, np.eye(d), beta * np.eye(d), label="cluster")
    _, path = flow([x], Schedule((layer,)), dt=dt, record_stride=1)
    clouds = [s[0] for s in path.snapshots]
    if reference == "best":
        w2 = np.array([best_dirac_w2(c) for c in clouds])
    else:
        z = unit(clouds[-1].mean(axis=0))
        w2 = np.array([dirac_w2(c, z) for c in clouds])
    times = np.empty(eps.size)
    for k, e in enumerate(eps):
        hit = np.nonzero(w2 <= e)[0]
        if hit.size == 0:
            raise ValueError(f"t_max: W2 = {w2[-1]:.3g} > eps = {e:g} at t_max = {t_max}; raise t_max")
        j = int(hit[0])
        if j == 0:
            times[k] = 0.0
        else:  # log-linear interpolation between the bracketing samples
            a, b = math.log(w2[j - 1]), math.log(w2[j])
            f = (a - math.log(e)) / (a - b) if a != b else 1.0
            times[k] = path.times[j - 1] + f * (path.times[j] - path.times[j - 1])
    L = np.log(1.0 / eps)
    A = np.vstack([L, np.ones_like(L)]).T
    (slope, intercept), *_ = np.linalg.lstsq(A, times, rcond=None)
    pred = A @ np.array([slope, intercept])
    ss = float(((times - times.mean()) ** 2).sum())
    r2 = 1.0 - float(((times - pred) ** 2).sum()) / ss if ss > 0 else 1.0
    return ClusterTimeFit(eps, times, float(slope), float(intercept), r2, reference)
