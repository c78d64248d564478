"""Three-phase construction of Theorem 1.1 (arXiv 2411.04551), run as a simulation (private).

Design (worked out for this project; the paper's full proof was not available):

1. *disentangle, hole push* - one perceptron layer with a constant field
   ``W = p, U = 0, b = 1`` (``p = -w0``, ``w0`` the common hole) moves every atom of every
   measure along great circles towards ``p``; in closed form
   ``<x(t), p> = tanh(t + artanh <x(0), p>)``, so after
   ``t = artanh(s) + artanh(cos r_hole)`` every atom has ``<x, p> >= s > 0``: each measure
   lies in the open hemisphere around ``p``.
1b. *disentangle, barycentre split* (only when step 2 collapses several clouds onto one point):
   back to the state before clustering, one layer ``V = αα^T, B = 0, W = -sα, U = 0, b = 1``
   gives ``d/dt <x, α> = (<m_μ, α> - s)(1 - <x, α>^2)`` (the barycentre field of the theory
   notes with a bias ``s`` between the clouds' projections): clouds with ``<m, α> > s`` go to
   ``α``, the others to ``-α``, each side self-reinforcing; run until every cloud is in the open
   hemisphere of its side, then cluster again.
2. *cluster* - one attention layer ``(V, B, W) = (I, beta I, 0)``.  Each measure lies in an open
   hemisphere, so it collapses towards its own point ``z_i`` (attention depends on the measure:
   this is where measures whose supports overlap are pulled apart).  The layer lasts until every
   measure is within ``r`` of its centre, with ``r`` small against the distance between centres:
   then the supports are pairwise disjoint and each sits in a small cap.
3. *match* - perceptron-only layers, one cluster at a time:
   ``W = e (destination), U = z^T, b = -cos R`` gives
   ``v(x) = (<z, x> - cos R)_+ P_x e``, zero outside the cap ``C(z, R)`` (every other atom is
   placed outside it: it stays EXACTLY fixed) and, inside the geodesically convex cap, a flow
   along great circles towards ``e`` with ``d theta/dt <= -g_min sin theta``,
   ``g_min = cos(h + r) - cos R``; hence
   ``tan(theta(t)/2) <= tan(theta(0)/2) e^{-g_min t}`` fixes the leg duration.  A move uses
   a direct leg or detours through one or two waypoints (at most ``max_legs`` legs per cloud).

The schedule is finally rescaled to total time ``T`` (durations / lambda, V and W * lambda: an
exact time change) and the WHOLE schedule is re-simulated from the input clouds; the reported
W2 come from that run.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from attnflow._base.progress import progress_bar

from ._flow import FlowPath, check_measures, flow, layer_steps
from ._geometry import (
    angle,
    angles_to,
    cloud_radius,
    dirac_w2,
    find_hole,
    hole_radius,
    mean_direction,
    unit,
)
from ._schedule import Layer, Schedule

__all__ = ["construct_dirac_interpolation", "InterpolationResult", "ConstructionError", "validate_instance"]

THEOREM = "Theorem 1.1 (arXiv 2411.04551)"
_CAP_LIMIT = math.pi / 2 - 0.05
_SEP_FLOOR = 1e-6  # cluster centres closer than this (rad) count as coincident  # gate caps stay strictly inside a hemisphere (convexity)


class ConstructionError(RuntimeError):
    """The construction could not be carried out for this instance (a limitation, not bad input)."""


@dataclass
class InterpolationResult:
    """Outcome of :func:`construct_dirac_interpolation`.

    Attributes
    ----------
    schedule : Schedule
        The one shared schedule (total time ``T``).
    initial, final : list of (n_i, d) arrays
        Input clouds and the clouds at time ``T`` (re-simulated from ``initial``).
    targets : (N, d) array
    w2 : (N,) array
        Exact ``W_2(mu_i(T), delta_{x^i})`` (chordal).
    eps : float
    switches : int
    switch_bound : int
        ``d * N`` (the switch count is compared against ``c * d * N``).
    norm_inf : float
    legs : (N,) int array
        Match-phase layers used for each cloud (the proof of arXiv 2411.04551, Theorem 1.1, uses at most 6 switches per point).
    hole, hole_radius :
        The common hole ``w0`` used and the radius of the empty cap around it.
    separation : float
        After clustering: (smallest distance between cluster centres) / (largest cluster radius).
    bystander_displacement : float
        Largest displacement, during a match layer, of an atom that the layer must keep fixed.
    phase_times : dict
        Natural (un-rescaled) time spent in each phase.
    steps : list of int
        RK4 steps used in each layer (pass ``steps=`` to :func:`flow` to reproduce ``final``).
    path : FlowPath or None
    notes : list of str
    """

    schedule: Schedule
    initial: list
    final: list
    targets: np.ndarray
    w2: np.ndarray
    eps: float
    switches: int
    switch_bound: int
    norm_inf: float
    legs: np.ndarray
    hole: np.ndarray
    hole_radius: float
    separation: float
    bystander_displacement: float
    phase_times: dict
    steps: list = field(default_factory=list)
    path: FlowPath | None = None
    notes: list = field(default_factory=list)

    @property
    def reached(self) -> bool:
        """True iff every measure ends within ``eps`` of its target in W2."""
        return bool(np.all(self.w2 <= self.eps))

    @property
    def switches_per_dN(self) -> float:
        return self.switches / self.switch_bound

    def summary(self) -> str:
        d = self.targets.shape[1]
        n_sizes = ",".join(str(len(c)) for c in self.initial)
        lines = [
            f"Dirac interpolation, d={d}, N={len(self.initial)} (n_i = {n_sizes}), eps={self.eps:g}: "
            + ("REACHED" if self.reached else "NOT reached"),
            "  W2 to targets: [" + ", ".join(f"{w:.2e}" for w in self.w2) + f"] (max {self.w2.max():.3g})",
            f"  switches {self.switches} vs d*N = {self.switch_bound} (ratio {self.switches_per_dN:.2f}); "
            f"legs per cloud {self.legs.tolist()}",
            f"  ||theta||_inf = {self.norm_inf:.4g}, total time T = {self.schedule.total_time:.4g}",
            f"  hole radius {self.hole_radius:.3f} rad; cluster separation ratio {self.separation:.3g}; "
            f"bystander displacement {self.bystander_displacement:.2e}",
            "  natural phase times: " + ", ".join(f"{k} {v:.3g}" for k, v in self.phase_times.items()),
        ]
        lines += [f"  note: {n}" for n in self.notes]
        return "\n".join(lines)


# ---------------------------------------------------------------------------------------------
# validation
# ---------------------------------------------------------------------------------------------
def _same_measure(a: np.ndarray, b: np.ndarray) -> bool:
    ua, ca = np.unique(a, axis=0, return_counts=True)
    ub, cb = np.unique(b, axis=0, return_counts=True)
    return ua.shape == ub.shape and np.array_equal(ua, ub) and np.allclose(ca / len(a), cb / len(b))


def validate_instance(clouds, targets, hole=None, *, min_hole_radius: float = 0.05,
                      seed: int = 0):
    r"""Check the hypotheses of Theorem 1.1; return ``(clouds, targets, hole, hole_radius)``.

    Raises ``ValueError`` naming the failing hypothesis: ``d >= 3``, unit points, pairwise distinct
    input measures, pairwise distinct targets, a common hole (a point outside every support).  The
    hole radius is :math:`r = \min_{i,k} \angle(w_0, x_{ik})`; without ``hole`` the direction
    maximising ``r`` is searched and must reach ``min_hole_radius``.

    References
    ----------
    arXiv 2411.04551, Theorem 1.1 (hypotheses).
    """
    clouds = check_measures(clouds, name="clouds")
    d = clouds[0].shape[1]
    if d < 3:
        raise ValueError(f"clouds: dimension d = {d}; {THEOREM} needs d >= 3 (points on S^(d-1), d >= 3)")
    N = len(clouds)
    if N < 2:
        raise ValueError(f"clouds: the construction steers N >= 2 measures, got {N}")
    if np.iscomplexobj(targets):
        raise ValueError("targets: expected real unit vectors, got complex values")
    tg = np.array(targets, dtype=np.float64, copy=True)
    if tg.ndim != 2 or tg.shape != (N, d):
        raise ValueError(f"targets: expected shape (N, d) = ({N}, {d}) (one target per cloud), got {tg.shape}")
    if not np.all(np.isfinite(tg)):
        raise ValueError("targets: contain NaN or inf")
    dev = np.abs(np.linalg.norm(tg, axis=1) - 1.0).max()
    if dev > 1e-8:
        raise ValueError(f"targets: must be unit vectors on S^(d-1) (max | |x| - 1 | = {dev:.3g}); normalise them")
    for i in range(N):
        for j in range(i + 1, N):
            if np.linalg.norm(tg[i] - tg[j]) < 1e-9:
                raise ValueError(
                    f"targets: targets {i} and {j} coincide; {THEOREM} needs pairwise distinct targets x^1..x^N"
                )
            if _same_measure(clouds[i], clouds[j]):
                raise ValueError(
                    f"clouds: clouds {i} and {j} are the same measure; {THEOREM} needs pairwise distinct "
                    "input measures (one shared flow cannot send one measure to two targets)"
                )
    allpts = np.vstack(clouds)
    if hole is None:
        w, r = find_hole(allpts, rng=np.random.default_rng(seed))
        if r < min_hole_radius:
            raise ValueError(
                f"clouds: no common hole - no cap of radius >= {min_hole_radius:g} rad avoids every cloud "
                f"(best found: {r:.3g} rad); {THEOREM} needs a point outside every support. "
                "Pass hole=w0 explicitly or lower min_hole_radius"
            )
    else:
        w = np.array(hole, dtype=np.float64).reshape(-1)
        if w.shape != (d,) or not np.all(np.isfinite(w)) or abs(np.linalg.norm(w) - 1.0) > 1e-8:
            raise ValueError(f"hole: expected a unit vector of R^{d}, got {hole!r}")
        r = hole_radius(allpts, w)
        if r <= 1e-9:
            raise ValueError(
                f"hole: the given point lies in the support of a cloud; {THEOREM} needs a common hole, "
                "a point outside every support"
            )
    return clouds, tg, w, r


# ---------------------------------------------------------------------------------------------
# match-phase planning
# ---------------------------------------------------------------------------------------------
@dataclass
class _Leg:
    dest: np.ndarray
    z: np.ndarray
    R: float
    g_min: float
    theta_goal: float


def _plan_leg(c, r_c, dest, obstacles, theta_goal):
    """Gate cap around the arc c -> dest holding the cluster (radius r_c) and no obstacle."""
    ang = angle(c, dest)
    if ang > math.pi - 1e-6:
        return None
    h = ang / 2
    z = dest.copy() if ang < 1e-12 else unit(c + dest)
    inner = h + r_c
    if inner >= _CAP_LIMIT:
        return None
    d_obs = float(angles_to(obstacles, z).min()) if len(obstacles) else math.inf
    avail = min(_CAP_LIMIT, d_obs) - inner
    if avail < 1e-4:
        return None
    R = inner + 0.5 * avail
    g_min = math.cos(inner) - math.cos(R)
    return _Leg(dest, z, R, g_min, theta_goal)


def _leg_time(theta0, leg):
    if theta0 <= leg.theta_goal:
        return 0.0
    return math.log(math.tan(theta0 / 2) / math.tan(leg.theta_goal / 2)) / leg.g_min


def _route(c, r_c, dest, obstacles, theta_goal, theta_wp, rng, scale, max_legs):
    """Direct leg, or a detour through 1-2 waypoints; minimises the bound on the total time.

    Returns a list of legs or ``None``.
    """
    def total(path):
        t, start, rad = 0.0, c, r_c
        for leg in path:
            t += _leg_time(rad + angle(start, leg.dest), leg)
            start, rad = leg.dest, leg.theta_goal
        return t

    direct = _plan_leg(c, r_c, dest, obstacles, theta_goal)
    if max_legs < 2:
        return None if direct is None else [direct]
    d = c.shape[0]
    cands = [unit(rng.standard_normal((300, d)))]
    for base in (dest, c):
        for s in (0.5, 0.25, 0.1, 0.04):
            cands.append(unit(base + s * max(scale, 1e-3) * rng.standard_normal((60, d))))
    cands = np.vstack(cands)
    first, last = {}, {}
    for k, w in enumerate(cands):
        a = _plan_leg(c, r_c, w, obstacles, theta_wp)
        if a is not None:
            first[k] = a
        b = _plan_leg(w, theta_wp, dest, obstacles, theta_goal)
        if b is not None:
            last[k] = b
    options = [[first[k], last[k]] for k in first if k in last]
    if direct is not None:
        options.append([direct])
    if not options and max_legs >= 3:
        fk = sorted(first, key=lambda k: -first[k].g_min)[:60]
        lk = sorted(last, key=lambda k: -last[k].g_min)[:60]
        for k1 in fk:
            for k2 in lk:
                mid = _plan_leg(cands[k1], theta_wp, cands[k2], obstacles, theta_wp)
                if mid is not None:
                    options.append([first[k1], mid, last[k2]])
    if not options:
        return None
    # prefer fewer switches unless a detour is much faster
    return min(options, key=lambda path: total(path) * (1.0 + 0.5 * (len(path) - 1)))


# ---------------------------------------------------------------------------------------------
# the construction
# ---------------------------------------------------------------------------------------------
def _centres(clouds):
    cs = [mean_direction(c) for c in clouds]
    rs = [cloud_radius(c, z) for c, z in zip(clouds, cs)]
    return cs, np.array(rs)


def _min_sep(cs):
    N = len(cs)
    if N < 2:
        return math.pi
    return min(angle(cs[i], cs[j]) for i in range(N) for j in range(i + 1, N))


def _coincident_groups(cs, tol):
    """Groups (lists of >= 2 indices) of cluster centres closer than ``tol`` to each other."""
    N = len(cs)
    parent = list(range(N))

    def find(a):
        while parent[a] != a:
            a = parent[a]
        return a

    for a in range(N):
        for b in range(a + 1, N):
            if angle(cs[a], cs[b]) < tol:
                parent[find(a)] = find(b)
    groups: dict[int, list[int]] = {}
    for a in range(N):
        groups.setdefault(find(a), []).append(a)
    return [g for g in groups.values() if len(g) > 1]


#: Barycentres closer than this (chordal) count as equal: the barycentre split needs them apart first.
SAME_BARYCENTRE = 1e-6


def _separate(cur, group, d, dt, layers, notes, rng, tries: int = 8):
    r"""One anisotropic attention layer ``(V, B, W) = (I, G, 0)`` that moves apart equal barycentres.

    Isotropic layers (``V, B`` multiples of ``I``, ``W = 0``) commute with every rotation ``R``:
    for ``ν = Rμ`` with ``R`` fixing the common barycentre, the two flows stay rotated copies and
    their barycentres never separate (and the clustering limits coincide when ``R`` fixes them).
    With ``B = G`` anisotropic, :math:`A_G[R\mu](Rx) = R A_{R^	op G R}[\mu](x)`, so
    :math:`	frac{d}{dt} m_{R\mu} = R\int P_x A_{R^	op G R}[\mu]\,d\mu 
e 	frac{d}{dt}m_\mu` for
    a generic ``G``: the attention term depends on the measure beyond its barycentre.  ``tries``
    seeded matrices ``G`` (spectral norms 2, 4, 8: measures that differ only in high moments, e.g.
    rotated k-fold symmetric rings, need a large ``B``) are run for time 1; the one that moves the group's
    barycentres farthest apart is appended.  Generic, not proved: if no try separates them by more
    than :data:`SAME_BARYCENTRE`, :class:`ConstructionError`.  Returns the duration.
    """
    best = None
    for k in range(tries):
        G = rng.standard_normal((d, d))
        G *= (2.0, 4.0, 8.0)[k % 3] / np.linalg.norm(G, 2)
        lay = Layer.attention(1.0, np.eye(d), G, label="disentangle: separate equal barycentres (I, G, 0)")
        probe = flow([cur[i] for i in group], Schedule((lay,)), dt=dt)
        ms = np.array([c.mean(axis=0) for c in probe])
        gap = min(np.linalg.norm(ms[a] - ms[b]) for a in range(len(ms)) for b in range(a + 1, len(ms)))
        if best is None or gap > best[0]:
            best = (gap, lay)
    if best[0] < SAME_BARYCENTRE:
        raise ConstructionError(
            f"disentangle: clouds {group} keep the same barycentre under {tries} anisotropic attention layers "
            f"(largest gap {best[0]:.3g}); are they the same measure?"
        )
    layers.append(best[1])
    notes.append(f"clouds {group} had the same barycentre; an anisotropic attention layer (I, G, 0) moved "
                 f"them {best[0]:.3g} apart")
    return 1.0


def _split(cur, group, d, dt, layers, notes, attempt):
    """Biased barycentre field separating ``group``: V = αα^T, B = 0, W = -s α, U = 0, b = 1.

    d/dt <x, α> = (<m_μ, α> - s)(1 - <x, α>^2): clouds with <m, α> > s move towards α, the others
    towards -α, and each side's rate only grows.  Appends the layer; returns its duration.
    """
    ms = np.array([c.mean(axis=0) for c in cur])
    best = None
    for a in group:
        for b in group:
            if a < b and np.linalg.norm(ms[a] - ms[b]) > 0:
                alpha = unit(ms[a] - ms[b])
                proj = np.sort(ms[group] @ alpha)
                gaps = np.diff(proj)
                k = int(np.argmax(gaps))
                if best is None or gaps[k] > best[0]:
                    best = (gaps[k], alpha, 0.5 * (proj[k] + proj[k + 1]))
    if best is None or best[0] < 1e-9:
        raise ConstructionError(
            f"disentangle: clouds {group} have the same barycentre after the separating layer; the "
            "barycentre field (B = 0) cannot split them"
        )
    gap, alpha, s = best
    sides = np.sign(ms @ alpha - s)
    sides[sides == 0] = 1.0
    layer1 = Layer(1.0, np.outer(alpha, alpha), np.zeros((d, d)), -s * alpha[:, None], np.zeros((1, d)), [1.0])
    # run until every cloud lies in the open hemisphere of its side with margin 0.2
    probe, tau, chunk = [c.copy() for c in cur], 0.0, 20 * dt
    step = Layer(chunk, layer1.V, layer1.B, layer1.W, layer1.U, layer1.b)
    while min(float((sg * (c @ alpha)).min()) for sg, c in zip(sides, probe)) < 0.2:
        probe = flow(probe, Schedule((step,)), dt=dt)
        tau += chunk
        if tau > 400:
            raise ConstructionError("disentangle: the barycentre split did not finish within time 400")
    layers.append(Layer(tau, layer1.V, layer1.B, layer1.W, layer1.U, layer1.b,
                        label=f"disentangle: barycentre split {attempt + 1}"))
    notes.append(f"clouds {group} collapsed together; split by the biased barycentre field "
                 f"(gap {gap:.3g} in <m, alpha>)")
    return tau


def disentangle(cur, w0, *, d, beta, dt, push_level, split, layers, notes, phase_times, seed=0):
    """Phases 1, 1b and 2 of the construction: hole push, separation/split, clustering.

    Appends the layers to ``layers`` (and notes, natural phase times) and returns ``(cur, sep, rs)``:
    the clouds after clustering, the smallest distance between cluster centres and the cluster radii.
    Shared by :func:`construct_dirac_interpolation` and the general-target construction.
    """
    N = len(cur)
    rng = np.random.default_rng(seed + 7919)

    def run(layer):
        nonlocal cur
        cur = flow(cur, Schedule((layer,)), dt=dt)
        layers.append(layer)

    # ---- phase 1: push every atom away from the hole into the open hemisphere around p ----
    p = -w0
    s0 = float(min((c @ p).min() for c in cur))
    if s0 < push_level:
        tau = math.atanh(push_level) - math.atanh(max(s0, -1 + 1e-15))
        run(Layer.perceptron(tau, p[:, None], np.zeros((1, d)), [1.0], label="disentangle: push away from hole"))
        phase_times["push"] = tau

    # ---- phase 2: cluster with (V, B, W) = (I, beta I, 0) until the clouds are small and apart ----
    # If some clouds collapse onto one point, go back to the pre-cluster state and split them with the
    # biased barycentre field (phase 1b), then cluster again (at most N - 1 splits).  Clouds whose
    # barycentres coincide are first separated by one anisotropic attention layer (V, B) = (I, G).
    chunk = 20 * dt
    clayer = Layer.attention(chunk, np.eye(d), beta * np.eye(d), label="cluster: (I, beta I, 0)")
    t_max = 400.0
    for attempt in range(N):
        start = [c.copy() for c in cur]
        t_cl = 0.0
        while True:
            cs, rs = _centres(cur)
            sep = _min_sep(cs)
            collapsed_together = sep < _SEP_FLOOR and rs.max() < 1e-3
            if rs.max() <= min(0.05, sep / 8) or t_cl >= t_max or collapsed_together:
                break
            cur = flow(cur, Schedule((clayer,)), dt=dt)
            t_cl += chunk
        if not (rs.max() > sep / 8 or sep < _SEP_FLOOR):
            break
        groups = _coincident_groups(cs, 1e-4)
        if not split or not groups or attempt == N - 1:
            raise ConstructionError(
                f"cluster: after time {t_cl:g} the clouds are not separated (largest radius {rs.max():.3g} rad, "
                f"closest centres {sep:.3g} rad apart): their clustering limits (nearly) coincide"
                + ("" if split else " (split=False)") + "."
            )
        cur = start
        n_before = len(layers)
        ms = np.array([c.mean(axis=0) for c in cur])
        g = groups[0]
        if min(np.linalg.norm(ms[a] - ms[b]) for a in g for b in g if a < b) < SAME_BARYCENTRE:
            tau_sep = _separate(cur, g, d, dt, layers, notes, rng)
            phase_times["separate"] = phase_times.get("separate", 0.0) + tau_sep
            cur = flow(cur, Schedule((layers[-1],)), dt=dt)
        tau = _split(cur, g, d, dt, layers, notes, attempt)
        cur = flow(cur, Schedule((layers[-1],)), dt=dt)
        phase_times["split"] = phase_times.get("split", 0.0) + tau
        assert len(layers) > n_before
    if t_cl > 0:
        layers.append(Layer.attention(t_cl, np.eye(d), beta * np.eye(d), label="cluster: (I, beta I, 0)"))
    phase_times["cluster"] = t_cl
    return cur, sep, rs


def construct_dirac_interpolation(clouds, targets, *, T: float | None = None, eps: float = 1e-2,
                                  hole=None, beta: float = 1.0, dt: float = 0.05,
                                  push_level: float = 0.2, min_hole_radius: float = 0.05,
                                  max_legs: int = 6, seed: int = 0, split: bool = True,
                                  record_stride: int | None = None, progress: bool | None = None) -> InterpolationResult:
    r"""Build ONE piecewise-constant schedule steering every cloud to its Dirac target, and run it.

    Implements the three phases of Theorem 1.1 (disentangle / cluster / match) for the field

    .. math::

        \dot x = P_x\bigl(V A_B[\mu_i](x) + W(Ux + b)_+\bigr), \qquad
        \text{goal: } W_2(\mu_i(T), \delta_{x^i}) \le \varepsilon \ \forall i,

    with phases (see the module docstring for the closed forms used to size each layer):
    hole push ``(V, B, W, U, b) = (0, 0, p, 0, 1)``; clustering ``(I, \beta I, 0)``;
    matching gates ``(0, 0, e, z^T, -\cos R)`` i.e. :math:`(\langle z, x\rangle - \cos R)_+ P_x e`
    (the corrected gate of Lemma B.2).

    Parameters
    ----------
    clouds : list of (n_i, d) arrays
        Input measures (uniform weights), unit vectors, ``d >= 3``, pairwise distinct.
    targets : (N, d) array
        Pairwise distinct unit targets :math:`x^i`.
    T : float, optional
        Total time of the final schedule (exact time change); default: the natural time.
    eps : float
        W2 accuracy asked for each measure.
    hole : (d,) array, optional
        The common hole :math:`w_0`; searched for when omitted (error if no empty cap of radius
        ``>= min_hole_radius`` exists).
    beta : float
        Attention temperature of the clustering layer.
    dt : float
        RK4 step in natural time units (scaled with the time change).
    push_level : float
        After the hole push every atom satisfies :math:`\langle x, -w_0\rangle \ge` ``push_level``.
    max_legs : int
        Most match layers per cloud (the theory promises 6 switches per point).
    seed : int
        Seed of the hole and waypoint searches.
    split : bool
        When clouds collapse onto one point, split them with the biased barycentre field
        :math:`V = \alpha\alpha^\top, B = 0, W = -s\alpha, U = 0, b = 1`, i.e.
        :math:`\tfrac{d}{dt}\langle x,\alpha\rangle = (\langle m_\mu,\alpha\rangle - s)(1 - \langle x,\alpha\rangle^2)`,
        and cluster again.
    record_stride : int, optional
        Keep the trajectory (every ``record_stride`` steps) in ``result.path``.
    progress : bool or None
        A progress bar over the designed layers and the final run: None (default) automatic
        (:mod:`attnflow._base.progress`), True always, False never.

    Returns
    -------
    InterpolationResult

    Raises
    ------
    ValueError
        A hypothesis of Theorem 1.1 fails (d < 3, non-unit points, identical measures, coincident
        targets, no common hole) or a parameter is out of range.
    ConstructionError
        The clouds do not separate under clustering, or no gate route exists within ``max_legs``.

    References
    ----------
    arXiv 2411.04551, Theorem 1.1 and its proof outline (phases), Lemma B.2 (gate, corrected for
    this project), Lemma 5.2 (coupling inequality).
    """
    for name, val in (("eps", eps), ("beta", beta), ("dt", dt)):
        if not (isinstance(val, (int, float)) and math.isfinite(val)) or val < 0 or (name != "beta" and val == 0):
            raise ValueError(f"{name}: must be a finite {'non-negative' if name == 'beta' else 'positive'} number, got {val!r}")
    if eps >= 2:
        raise ValueError(f"eps: {eps} >= 2 = diam(S^(d-1)) asks for nothing; pick eps < 2")
    if not 0 < push_level < 1:
        raise ValueError(f"push_level: must lie in (0, 1), got {push_level!r}")
    if int(max_legs) != max_legs or max_legs < 1:
        raise ValueError(f"max_legs: must be a positive integer, got {max_legs!r}")
    if T is not None and not (isinstance(T, (int, float)) and math.isfinite(T) and T > 0):
        raise ValueError(f"T: must be a finite positive time, got {T!r}")
    clouds, tg, w0, r_hole = validate_instance(clouds, targets, hole, min_hole_radius=min_hole_radius, seed=seed)
    N, d = len(clouds), tg.shape[1]
    rng = np.random.default_rng(seed)
    notes: list[str] = []
    layers: list[Layer] = []
    phase_times = {"push": 0.0, "cluster": 0.0, "match": 0.0}
    cur = [c.copy() for c in clouds]
    bar = progress_bar(progress, desc="schedule", unit="layer")

    def run(layer):
        nonlocal cur
        cur = flow(cur, Schedule((layer,)), dt=dt, progress=False)
        layers.append(layer)
        bar.update(1)

    cur, sep, rs = disentangle(cur, w0, d=d, beta=beta, dt=dt, push_level=push_level, split=split,
                               layers=layers, notes=notes, phase_times=phase_times, seed=seed)
    separation = sep / max(rs.max(), 1e-300)

    # ---- phase 3: match, one cluster at a time, with corrected gates ----
    tsep = min(angle(tg[i], tg[j]) for i in range(N) for j in range(i + 1, N)) if N > 1 else math.pi
    theta_goal = min(2 * math.asin(min(1.0, 0.5 * eps / 2)), tsep / 4)
    theta_wp = min(0.05, tsep / 4)
    legs = np.zeros(N, dtype=int)
    bystander = 0.0
    pending = list(range(N))
    parked = set()

    def execute(i, path):
        nonlocal cur, bystander
        for leg in path:
            theta0 = float(angles_to(cur[i], leg.dest).max())
            tau = max(_leg_time(theta0, leg), dt)
            lay = Layer.perceptron(tau, leg.dest[:, None], leg.z[None, :], [-math.cos(leg.R)],
                                   label=f"match: cloud {i} leg {legs[i] + 1}")
            before = [c.copy() for c in cur]
            run(lay)
            phase_times["match"] += tau
            legs[i] += 1
            for j in range(N):
                if j != i:
                    bystander = max(bystander, float(np.abs(cur[j] - before[j]).max()))

    while pending:
        progressed = False
        for i in list(pending):
            obstacles = np.vstack([cur[j] for j in range(N) if j != i])
            c, r_c = mean_direction(cur[i]), cloud_radius(cur[i], mean_direction(cur[i]))
            path = _route(c, r_c, tg[i], obstacles, theta_goal, theta_wp, rng, tsep,
                          max_legs - legs[i])
            if path is not None:
                execute(i, path)
                pending.remove(i)
                progressed = True
        if progressed:
            continue
        # dead-lock: a pending cloud blocks another's target; park the nearest blocker
        i = pending[0]
        blockers = [j for j in pending if j != i]
        if not blockers or any(j in parked for j in blockers):
            raise ConstructionError(
                f"match: no gate route for cloud {i} within {max_legs - legs[i]} legs "
                "(obstacles too close to the path or target)"
            )
        j = min(blockers, key=lambda j: angle(mean_direction(cur[j]), tg[i]))
        allpts = np.vstack(cur + [tg])
        spots = unit(rng.standard_normal((2000, d)))
        clear = np.arccos(np.clip(spots @ allpts.T, -1, 1)).min(axis=1)
        spot = spots[int(np.argmax(clear))]
        obstacles = np.vstack([cur[k] for k in range(N) if k != j])
        cj = mean_direction(cur[j])
        path = _route(cj, cloud_radius(cur[j], cj), spot, obstacles, theta_wp, theta_wp, rng, tsep,
                      max_legs - legs[j] - 1)
        if path is None:
            raise ConstructionError(f"match: cannot park cloud {j} that blocks the target of cloud {i}")
        execute(j, path)
        parked.add(j)
        notes.append(f"cloud {j} parked to unblock the target of cloud {i}")

    # ---- assemble, rescale, and re-simulate the whole schedule from the inputs ----
    schedule = Schedule(tuple(layers))
    if T is not None:
        schedule = schedule.fitted(T)
    # the same number of RK4 steps per layer as in the design run (time change of each piece)
    steps = [layer_steps(a.duration, dt) for a in layers]
    bar.set_description("final run")
    try:
        if record_stride is None:
            final, path = flow(clouds, schedule, dt=None, steps=steps, progress=False), None
        else:
            final, path = flow(clouds, schedule, dt=None, steps=steps, record_stride=record_stride, progress=False)
    finally:
        bar.close()
    w2 = np.array([dirac_w2(final[i], tg[i]) for i in range(N)])
    if np.any(w2 > eps):
        bad = [int(i) for i in np.nonzero(w2 > eps)[0]]
        notes.append(f"eps NOT reached for clouds {bad} (W2 = {w2[bad]}); see the leg bounds")
    if legs.max() > 6:
        notes.append(f"more than 6 match layers for some cloud: {legs.tolist()}")
    return InterpolationResult(
        schedule=schedule, initial=clouds, final=final, targets=tg, w2=w2, eps=float(eps),
        switches=schedule.switches, switch_bound=d * N, norm_inf=schedule.norm_inf, legs=legs,
        hole=w0, hole_radius=r_hole, separation=float(separation), bystander_displacement=bystander,
        phase_times=phase_times, steps=steps, path=path, notes=notes,
    )
