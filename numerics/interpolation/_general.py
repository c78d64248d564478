r"""General (atomic) targets: Theorem 1.2 of arXiv 2411.04551, run as a simulation (private).

Targets :math:`\nu_i = \sum_{j=1}^{M_i} a_{ij}\delta_{y_{ij}}`.  The inputs are empirical measures
with uniform weights :math:`1/n_i`; a transport map :math:`T_i` with :math:`T_{i\#}\mu_i = \nu_i`
exists iff every :math:`n_i a_{ij}` is an integer (the theorem's hypothesis, checked).  ONE shared
piecewise-constant schedule is built (design worked out for this project; the paper's full proof
was not available):

1. *disentangle + cluster* - exactly as for Dirac targets (:func:`._construct.disentangle`: hole
   push, separation of equal barycentres by an anisotropic attention layer, barycentre split,
   clustering ``(I, βI, 0)`` until the clouds sit in small, pairwise far caps).  Clustering runs for
   a finite time: the atoms of one cloud stay distinct points.
2. *peel* - for cloud ``i`` pick a peel centre :math:`w_i` at angle :math:`\varphi_i` from its
   centre and sort its atoms by :math:`\langle w_i, x\rangle`; the top :math:`n_i a_{ij}` atoms
   form group ``j`` (this choice of groups IS the transport map: any partition with the right
   sizes is one).  One perceptron layer ``W = w, U = w^T, b = -cos R`` (the corrected gate) with
   :math:`\cos R` between the group's smallest and the rest's largest :math:`\langle w, x\rangle`
   moves exactly the group (every other atom of every cloud is outside the cap: exactly fixed);
   on the group :math:`c = \langle w, x\rangle` solves
   :math:`\dot c = (c - \cos R)(1 - c^2)`, whose travel time is the closed form
   :func:`peel_time` (``symbolic``-checked, ``derivations/interpolation.md``).
3. *route* - the peeled group (a small cluster near :math:`w_i`) travels to :math:`y_{ij}` through
   the gate legs of the Dirac match phase (obstacles: every other atom); the last group of a cloud is
   routed without a peel.

Switches: push, cluster, (separate, split), and per group one peel plus its legs -- compared
against :math:`c\,(d + M)N` (Theorem 1.2 states :math:`O((d+M)N)`, no constant).  A gate layer is
integrated in pieces with identical parameters (no switch between them), each with an RK4 step
fitted to the current angle of its moving atoms to the destination (the gate field's Lipschitz
constant there): the slow approach to a target costs few steps.

References
----------
arXiv 2411.04551, Theorem 1.2 (general targets; statement read from the abstract and restatements),
Theorem 1.1 (the phases), Lemma B.2 (gate, corrected for this project).
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass, field

import numpy as np

from ._construct import (
    SAME_BARYCENTRE,
    ConstructionError,
    _leg_time,
    _route,
    disentangle,
)
from ._flow import check_measures, flow, layer_steps
from ._geometry import angle, angles_to, cloud_radius, find_hole, hole_radius, mean_direction, unit
from ._schedule import Layer, Schedule

__all__ = [
    "GeneralInterpolationResult",
    "construct_general_interpolation",
    "validate_general_instance",
    "draw_general_instance",
    "same_barycentre_pair",
    "peel_time",
    "measure_w2",
]

THEOREM = "Theorem 1.2 (arXiv 2411.04551)"
#: RK4 steps allowed for one construction (the drawn instances use 3e3-2e4).
MAX_STEPS = 200_000
#: Atoms of different targets closer than this (chordal) are one shared atom.
_SHARED = 1e-12


def peel_time(c0: float, c1: float, cos_r: float) -> float:
    r"""Time for :math:`\dot c = (c - a)(1 - c^2)`, :math:`a = \cos R`, to go from ``c0`` to ``c1``.

    .. math::

        t = \Bigl[\tfrac{\log(c - a)}{1 - a^2} - \tfrac{\log(1 - c)}{2(1 - a)}
            - \tfrac{\log(1 + c)}{2(1 + a)}\Bigr]_{c_0}^{c_1},
        \qquad a < c_0 \le c_1 < 1,

    the partial fractions of :math:`1/((c-a)(1-c^2))`, evaluated from the SymPy statement
    :func:`attnflow.symbolic.interpolation.peel_antiderivative` (proved: ``interpolation.peel_time`` in
    ``derivations/interpolation.md``).  It is the time the corrected
    gate ``W = w, U = w^T, b = -a`` needs to bring an atom with :math:`\langle w, x\rangle = c_0`
    to :math:`c_1`: on the cap, :math:`\tfrac{d}{dt}\langle w, x\rangle = (\langle w,x\rangle - a)
    \langle w, P_x w\rangle = (\langle w,x\rangle - a)(1 - \langle w,x\rangle^2)`.

    References
    ----------
    arXiv 2411.04551, Lemma B.2 (gate, corrected sign).
    """
    a = float(cos_r)
    if not (-1.0 < a < c0 <= c1 < 1.0):
        raise ValueError(f"c0, c1: need cos R < c0 <= c1 < 1, got cos R = {a}, c0 = {c0}, c1 = {c1}")

    F = _peel_F()
    return float(F(c1, a) - F(c0, a))


@functools.cache
def _peel_F():
    """``F(c, a)`` lambdified from :func:`attnflow.symbolic.interpolation.peel_antiderivative`."""
    import sympy as sp

    from attnflow.symbolic.interpolation import A, C, peel_antiderivative

    return sp.lambdify((C, A), peel_antiderivative(), modules="math")


def measure_w2(cloud: np.ndarray, atoms: np.ndarray, weights: np.ndarray) -> float:
    r"""Exact chordal :math:`W_2` between a uniform cloud and a weighted atomic target.

    :func:`attnflow.numerics.wasserstein` (exact linear programme; POT's network simplex).
    """
    from .. import wasserstein

    return float(wasserstein(cloud, atoms, b=weights))


@dataclass
class GeneralInterpolationResult:
    """Outcome of :func:`construct_general_interpolation`.

    Attributes
    ----------
    schedule : Schedule
        The ONE shared schedule (total time ``T``).
    initial, final : list of (n_i, d) arrays
        Input clouds and the clouds at time ``T`` (the whole schedule re-simulated from ``initial``).
    atoms, weights : list of (M_i, d) and (M_i,) arrays
        The targets :math:`\\nu_i`.
    groups : list of (n_i,) int arrays
        Target atom index of every input atom (the transport map the construction realises).
    w2 : (N,) array
        :math:`W_2(\\mu_i(T), \\nu_i)`, exact (:func:`measure_w2`).
    eps : float
    switches : int
    M : int
        Largest number of target atoms.
    norm_inf : float
    peels, legs : (N,) int arrays
        Peel layers and route legs per cloud.
    bystander_displacement : float
        Largest displacement, during a peel or a route leg, of an atom the layer must keep fixed.
    phase_times : dict
    notes : list of str
    """

    schedule: Schedule
    initial: list
    final: list
    atoms: list
    weights: list
    groups: list
    w2: np.ndarray
    eps: float
    switches: int
    M: int
    norm_inf: float
    peels: np.ndarray
    legs: np.ndarray
    bystander_displacement: float
    phase_times: dict
    steps: list = field(default_factory=list)
    notes: list = field(default_factory=list)

    @property
    def reached(self) -> bool:
        """True iff every measure ends within ``eps`` of its target in W2."""
        return bool(np.all(self.w2 <= self.eps))

    @property
    def switch_scale(self) -> int:
        """``(d + M) * N``, the scale of Theorem 1.2's switch count."""
        return (self.atoms[0].shape[1] + self.M) * len(self.initial)

    def summary(self) -> str:
        d = self.atoms[0].shape[1]
        lines = [
            f"General-target interpolation, d={d}, N={len(self.initial)}, M={self.M}, eps={self.eps:g}: "
            + ("REACHED" if self.reached else "NOT reached"),
            "  W2 to targets: [" + ", ".join(f"{w:.2e}" for w in self.w2) + "]",
            f"  switches {self.switches} vs (d+M)N = {self.switch_scale} "
            f"(ratio {self.switches / self.switch_scale:.2f}); peels {self.peels.tolist()}, legs {self.legs.tolist()}",
            f"  ||theta||_inf = {self.norm_inf:.4g}, total time T = {self.schedule.total_time:.4g}, "
            f"bystander displacement {self.bystander_displacement:.2e}",
            "  natural phase times: " + ", ".join(f"{k} {v:.3g}" for k, v in self.phase_times.items()),
        ]
        lines += [f"  note: {n}" for n in self.notes]
        return "\n".join(lines)


def validate_general_instance(clouds, atoms, weights, hole=None, *, min_hole_radius: float = 0.05, seed: int = 0):
    r"""Check the hypotheses of Theorem 1.2 as this construction needs them.

    ``d >= 3``; unit points; pairwise distinct input measures; a common hole; target atoms unit, distinct
    within a target; atoms of different targets either equal (to 1e-12: a shared atom) or at least 1e-6
    apart; weights positive
    summing to 1 with every :math:`n_i a_{ij}` an integer (iff a transport map :math:`T_i` with
    :math:`T_{i\#}\mu_i = \nu_i` exists for the uniform empirical :math:`\mu_i`).  Returns
    ``(clouds, atoms, counts, hole, hole_radius)`` with ``counts[i][j] = n_i a_ij``.

    References
    ----------
    arXiv 2411.04551, Theorem 1.2 (hypotheses: transport images, holes).
    """
    from ._construct import _same_measure

    clouds = check_measures(clouds, name="clouds")
    d = clouds[0].shape[1]
    if d < 3:
        raise ValueError(f"clouds: dimension d = {d}; {THEOREM} needs d >= 3")
    N = len(clouds)
    if N < 1:
        raise ValueError("clouds: need at least one measure")
    atoms = check_measures(atoms, name="atoms", d=d)
    if len(atoms) != N:
        raise ValueError(f"atoms: expected one target (an (M_i, d) array) per cloud, {N} clouds, got {len(atoms)}")
    if len(weights) != N:
        raise ValueError(f"weights: expected one weight vector per target, {N} targets, got {len(weights)}")
    counts = []
    for i, (c, y, a) in enumerate(zip(clouds, atoms, weights)):
        a = np.asarray(a, dtype=np.float64).reshape(-1)
        if a.shape != (len(y),) or not np.all(np.isfinite(a)) or np.any(a <= 0) or abs(a.sum() - 1) > 1e-9:
            raise ValueError(f"weights[{i}]: expected {len(y)} positive weights summing to 1, got {a}")
        k = a * len(c)
        if np.any(np.abs(k - np.round(k)) > 1e-9):
            raise ValueError(
                f"weights[{i}]: n_i * a_ij = {k} are not integers; no transport map sends the uniform cloud of "
                f"{len(c)} atoms onto this target ({THEOREM} assumes nu_i = T_i # mu_i); use multiples of 1/{len(c)}"
            )
        counts.append(np.round(k).astype(int))
    for i, y in enumerate(atoms):
        for a in range(len(y)):
            for b in range(a + 1, len(y)):
                if np.linalg.norm(y[a] - y[b]) < 1e-6:
                    raise ValueError(f"atoms[{i}]: atoms {a} and {b} coincide; merge them (add their weights)")
    ally = np.vstack(atoms)
    for a in range(len(ally)):
        for b in range(a + 1, len(ally)):
            if _SHARED < np.linalg.norm(ally[a] - ally[b]) < 1e-6:
                raise ValueError("atoms: two atoms of different targets are closer than 1e-6 without being equal; give "
                                 "a shared atom exactly (to 1e-12) or keep them apart")
    for i in range(N):
        for j in range(i + 1, N):
            if _same_measure(clouds[i], clouds[j]):
                raise ValueError(f"clouds: clouds {i} and {j} are the same measure; {THEOREM} needs pairwise distinct "
                                 "input measures")
    allpts = np.vstack(clouds)
    if hole is None:
        w, r = find_hole(allpts, rng=np.random.default_rng(seed))
        if r < min_hole_radius:
            raise ValueError(f"clouds: no common hole of radius >= {min_hole_radius:g} rad (best {r:.3g}); "
                             f"{THEOREM} needs a point outside every support. Pass hole=w0 explicitly")
    else:
        w = np.array(hole, dtype=np.float64).reshape(-1)
        if w.shape != (d,) or not np.all(np.isfinite(w)) or abs(np.linalg.norm(w) - 1.0) > 1e-8:
            raise ValueError(f"hole: expected a unit vector of R^{d}, got {hole!r}")
        r = hole_radius(allpts, w)
        if r <= 1e-9:
            raise ValueError(f"hole: the given point lies in the support of a cloud; {THEOREM} needs a common hole")
    return clouds, atoms, counts, w, r


def _peel_plan(x, others, phi, count, rng, tries=64):
    """Peel centre ``w`` and ``cos R`` for the top ``count`` atoms of ``x`` (rows); None if impossible.

    ``w`` at angle ``phi`` from the cloud's mean direction, along a tangent direction; the cap
    ``<w, .> > cos R`` must hold exactly the group (no atom of ``others`` inside).  Among ``tries``
    directions (the cloud's principal tangent direction first), the one with the largest margin.
    """
    c = mean_direction(x)
    d = x.shape[1]
    P = np.eye(d) - np.outer(c, c)
    t = (x - c) @ P
    dirs = []
    if len(x) > 1:
        _, _, vt = np.linalg.svd(t, full_matrices=False)
        dirs += [vt[0], -vt[0]]
    g = rng.standard_normal((tries, d)) @ P
    dirs += list(g / np.linalg.norm(g, axis=1, keepdims=True))
    best = None
    for u in dirs:
        w = unit(math.cos(phi) * c + math.sin(phi) * u)
        s = np.sort(x @ w)[::-1]
        lo = s[count] if count < len(s) else -1.0  # largest <w, x> left out of the group
        hi = s[count - 1]
        gap = hi - lo
        if gap <= 1e-12:
            continue
        a = lo + 0.5 * gap
        if len(others) and (others @ w).max() >= a - 0.25 * gap:
            continue
        margin = min(gap, a - (others @ w).max() if len(others) else gap)
        if best is None or margin > best[0]:
            best = (margin, w, a)
    return None if best is None else (best[1], best[2])


def _gate_step(dt: float, width: float) -> float:
    r"""RK4 step for a gate layer whose moving atoms stay within angle ``width`` of the destination.

    On the cap the field :math:`(\langle z,x\rangle - \cos R)_+ P_x e` is slow (at most
    :math:`1-\cos R`) and its Lipschitz constant is at most :math:`\sin(\text{width}) + 1 - \cos R
    \le \sin(\text{width}) + \text{width}^2/2`; the step ``dt / L`` keeps :math:`hL \le` ``dt`` as for
    an O(1) field (checked against 4x finer steps in the tests).
    """
    L = math.sin(min(width, math.pi / 2)) + 0.5 * width * width
    return dt / max(L, 1e-3)


def construct_general_interpolation(clouds, atoms, weights, *, T: float | None = None, eps: float = 2e-2,
                                    hole=None, beta: float = 1.0, dt: float = 0.05, push_level: float = 0.2,
                                    min_hole_radius: float = 0.05, max_legs: int = 6, seed: int = 0,
                                    split: bool = True) -> GeneralInterpolationResult:
    r"""ONE piecewise-constant schedule steering every cloud within ``eps`` (W2) of its atomic target.

    .. math::

        \dot x = P_x\bigl(V A_B[\mu_i](x) + W(Ux + b)_+\bigr),\qquad
        \text{goal: } W_2\bigl(\mu_i(T), \textstyle\sum_j a_{ij}\delta_{y_{ij}}\bigr) \le \varepsilon\ \forall i,

    with the phases of the module docstring (disentangle/cluster, peel, route).

    Parameters
    ----------
    clouds : list of (n_i, d) arrays
        Input measures (uniform weights), unit vectors, ``d >= 3``, pairwise distinct (equal
        barycentres allowed).
    atoms : list of (M_i, d) arrays
        Target atoms :math:`y_{ij}` (unit, pairwise distinct across all targets).
    weights : list of (M_i,) arrays
        Target weights :math:`a_{ij}`; every :math:`n_i a_{ij}` must be an integer.
    T, eps, hole, beta, dt, push_level, min_hole_radius, max_legs, seed, split
        As in :func:`construct_dirac_interpolation` (``max_legs``: route legs per group).

    Returns
    -------
    GeneralInterpolationResult

    Raises
    ------
    ValueError
        A hypothesis fails (see :func:`validate_general_instance`) or a parameter is out of range.
    ConstructionError
        The clouds do not separate, no peel cap isolates a group, or no route exists.

    References
    ----------
    arXiv 2411.04551, Theorem 1.2 (general targets, O((d+M)N) switches), Theorem 1.1 (phases),
    Lemma B.2 (gate, corrected for this project).
    """
    for name, val in (("eps", eps), ("dt", dt)):
        if not (isinstance(val, (int, float)) and math.isfinite(val) and val > 0):
            raise ValueError(f"{name}: must be a finite positive number, got {val!r}")
    if not (isinstance(beta, (int, float)) and math.isfinite(beta) and beta >= 0):
        raise ValueError(f"beta: must be a finite non-negative number, got {beta!r}")
    if eps >= 2:
        raise ValueError(f"eps: {eps} >= 2 = diam(S^(d-1)) asks for nothing; pick eps < 2")
    if not 0 < push_level < 1:
        raise ValueError(f"push_level: must lie in (0, 1), got {push_level!r}")
    if int(max_legs) != max_legs or max_legs < 1:
        raise ValueError(f"max_legs: must be a positive integer, got {max_legs!r}")
    if T is not None and not (isinstance(T, (int, float)) and math.isfinite(T) and T > 0):
        raise ValueError(f"T: must be a finite positive time, got {T!r}")
    clouds, atoms, counts, w0, _ = validate_general_instance(clouds, atoms, weights, hole,
                                                             min_hole_radius=min_hole_radius, seed=seed)
    weights = [np.asarray(a, dtype=np.float64).reshape(-1) for a in weights]
    N, d = len(clouds), clouds[0].shape[1]
    M = max(len(y) for y in atoms)
    rng = np.random.default_rng(seed)
    notes: list[str] = []
    layers: list[Layer] = []
    phase_times = {"push": 0.0, "cluster": 0.0, "peel": 0.0, "route": 0.0}
    cur = [c.copy() for c in clouds]
    if N > 1:
        cur, _, _ = disentangle(cur, w0, d=d, beta=beta, dt=dt, push_level=push_level, split=split,
                                layers=layers, notes=notes, phase_times=phase_times, seed=seed)

    steps = [layer_steps(lay.duration, dt) for lay in layers]  # RK4 steps per layer (re-used for the final run)
    # distinct atoms over all targets (atoms shared by several targets once) and each target atom's id
    uniq: list[np.ndarray] = []
    dest_id = []
    for y in atoms:
        ids = []
        for yj in y:
            k = next((k for k, u in enumerate(uniq) if np.linalg.norm(u - yj) <= _SHARED), None)
            if k is None:
                uniq.append(yj)
                k = len(uniq) - 1
            ids.append(k)
        dest_id.append(np.array(ids))
    ally = np.vstack(uniq)
    tsep = (min(angle(ally[a], ally[b]) for a in range(len(ally)) for b in range(a + 1, len(ally)))
            if len(ally) > 1 else math.pi)
    theta_goal = min(2 * math.asin(min(1.0, 0.5 * eps / 2)), tsep / 4)
    theta_wp = min(0.05, tsep / 4)
    groups = [np.full(len(c), -1, dtype=int) for c in cur]
    peels = np.zeros(N, dtype=int)
    legs = np.zeros(N, dtype=int)
    bystander = 0.0
    # per cloud: the target atoms in the order they are peeled (the last one is routed unpeeled)
    order = []
    for i in range(N):
        cdir = mean_direction(cur[i])
        order.append(list(np.argsort(-(atoms[i] @ cdir))[::-1]))  # nearest-to-the-cloud atom last
    nxt = [0] * N
    pulled = [None] * N  # indices (into cur[i]) of a peeled group waiting for its route
    parks = [0] * N  # dead-lock parkings per cloud

    def sharing(k):
        """Per cloud: atoms of finished groups whose destination is the distinct atom ``k`` (None: none)."""
        return [np.zeros(len(c), dtype=bool) if k is None else
                (groups[j] >= 0) & (dest_id[j][np.maximum(groups[j], 0)] == k) for j, c in enumerate(cur)]

    def run(layer, moving, h, k=None):
        """Run one layer with RK4 steps of at most ``h``; ``moving`` = (i, idx) the atoms allowed to move (and
        the atoms already parked at the same destination atom ``k``, which the gate only contracts)."""
        nonlocal cur, bystander
        before = [c.copy() for c in cur]
        nsteps = layer_steps(layer.duration, h)
        if sum(steps) + nsteps > MAX_STEPS:
            raise ConstructionError(f"{layer.label}: the schedule would need more than {MAX_STEPS} RK4 steps "
                                    "(a gate that barely moves its atoms); giving up")
        cur = flow(cur, Schedule((layer,)), dt=None, steps=[nsteps])
        layers.append(layer)
        steps.append(nsteps)
        i0, idx = moving
        share = sharing(k)
        for j in range(N):
            mask = ~share[j]
            if j == i0:
                mask[idx] = False
            if mask.any():
                bystander = max(bystander, float(np.abs(cur[j][mask] - before[j][mask]).max()))

    def run_gate(tau, W, U, b, label, moving, dest, chunk=40, k=None):
        """A gate layer run in pieces with the SAME parameters (no switch between them), each with the RK4
        step of :func:`_gate_step` for the current angle of the moving atoms to ``dest`` (adaptive)."""
        left = tau
        while left > 1e-12:
            width = float(angles_to(cur[moving[0]][moving[1]], dest).max()) + 1e-3
            h = _gate_step(dt, width)
            piece = min(left, chunk * h)
            if left - piece < 0.25 * h:
                piece = left
            run(Layer.perceptron(piece, W, U, b, label=label), moving, h, k)
            left -= piece

    def others(i, idx, k=None):
        """Every atom except ``cur[i][idx]`` (and those parked at the shared destination ``k``)."""
        share = sharing(k)
        rest = []
        for j in range(N):
            mask = ~share[j]
            if j == i:
                mask[idx] = False
            rest.append(cur[j][mask])
        return np.vstack(rest)

    def remaining(i):
        return np.nonzero(groups[i] < 0)[0]

    while any(nxt[i] < len(atoms[i]) for i in range(N)):
        progressed = False
        for i in range(N):
            if nxt[i] >= len(atoms[i]):
                continue
            j = int(order[i][nxt[i]])
            rem = remaining(i)
            last = nxt[i] == len(atoms[i]) - 1
            if last:
                idx = rem
            elif pulled[i] is not None:
                idx = pulled[i]
            else:
                x = cur[i][rem]
                cdir = mean_direction(x)
                obst = others(i, rem)
                near = float(angles_to(obst, cdir).min()) if len(obst) else math.pi
                phi = min(0.3, near / 3)
                plan = _peel_plan(x, obst, phi, int(counts[i][j]), rng)
                if plan is None:
                    continue
                w, a = plan
                top = rem[np.argsort(-(x @ w))[: int(counts[i][j])]]
                c0 = float((cur[i][top] @ w).min())
                c1 = max(c0, math.cos(min(0.05, phi / 4, theta_wp)))
                tau = max(peel_time(c0, c1, a) if c1 > c0 else 0.0, dt)
                run_gate(tau, w[:, None], w[None, :], [-a], f"peel: cloud {i} group -> atom {j}", (i, top), w)
                phase_times["peel"] += float(tau)
                peels[i] += 1
                idx = top
                pulled[i] = idx
            piece = cur[i][idx]
            c = mean_direction(piece)
            kd = int(dest_id[i][j])
            path = _route(c, cloud_radius(piece, c), atoms[i][j], others(i, idx, kd), theta_goal, theta_wp, rng,
                          tsep, max_legs)
            if path is not None and len(path) > 1:
                # only the final leg may hold atoms already parked at a shared destination atom
                parked = np.vstack([cur[j][m] for j, m in enumerate(sharing(kd))])
                if len(parked) and any((parked @ leg.z).max() > math.cos(leg.R) for leg in path[:-1]):
                    path = None
            if path is None:
                continue
            for leg in path:
                theta0 = float(angles_to(cur[i][idx], leg.dest).max())
                tau = max(_leg_time(theta0, leg), dt)
                run_gate(tau, leg.dest[:, None], leg.z[None, :], [-math.cos(leg.R)], f"route: cloud {i} -> atom {j}",
                         (i, idx), leg.dest, k=kd)
                phase_times["route"] += tau
                legs[i] += 1
            groups[i][idx] = j
            pulled[i] = None
            nxt[i] += 1
            progressed = True
        if not progressed:
            # dead-lock: park the unfinished atoms of one stuck cloud (as one cluster) at a clear spot, once each
            stuck = [i for i in range(N) if nxt[i] < len(atoms[i])]
            for i in stuck:
                if parks[i] >= 1:
                    continue
                rem = remaining(i)
                allpts = np.vstack(cur + [ally])
                spots = unit(rng.standard_normal((2000, d)))
                clear = np.arccos(np.clip(spots @ allpts.T, -1, 1)).min(axis=1)
                spot = spots[int(np.argmax(clear))]
                c = mean_direction(cur[i][rem])
                path = _route(c, cloud_radius(cur[i][rem], c), spot, others(i, rem), theta_wp, theta_wp, rng, tsep,
                              max_legs)
                if path is None:
                    continue
                for leg in path:
                    theta0 = float(angles_to(cur[i][rem], leg.dest).max())
                    tau = max(_leg_time(theta0, leg), dt)
                    run_gate(tau, leg.dest[:, None], leg.z[None, :], [-math.cos(leg.R)], f"park: cloud {i}", (i, rem),
                             leg.dest)
                    phase_times["route"] += tau
                    legs[i] += 1
                parks[i] += 1
                pulled[i] = None  # the peeled group was parked with the rest: peel again from the spot
                notes.append(f"cloud {i} parked at a clear spot to undo a dead-lock")
                progressed = True
                break
        if not progressed:
            raise ConstructionError(f"peel/route: no peel cap or gate route for clouds {stuck} (obstacles too close), "
                                    "and parking did not help")

    schedule = Schedule(tuple(layers))
    if T is not None:
        schedule = schedule.fitted(T)
    final = flow(clouds, schedule, dt=None, steps=steps)
    w2 = np.array([measure_w2(final[i], atoms[i], weights[i]) for i in range(N)])
    if np.any(w2 > eps):
        notes.append(f"eps NOT reached for clouds {[int(i) for i in np.nonzero(w2 > eps)[0]]} (W2 = {w2})")
    return GeneralInterpolationResult(
        schedule=schedule, initial=clouds, final=final, atoms=atoms, weights=weights, groups=groups, w2=w2,
        eps=float(eps), switches=schedule.switches, M=M, norm_inf=schedule.norm_inf, peels=peels, legs=legs,
        bystander_displacement=bystander, phase_times=phase_times, steps=steps, notes=notes,
    )


def draw_general_instance(d: int, N: int, n: int, M: int, *, seed: int = 0, spread: float = 0.5,
                          hole_cos: float = -0.3, shared: bool = False):
    r"""N overlapping clouds with a common hole (:func:`draw_instance`) and atomic targets.

    Target ``i`` has ``M`` atoms, uniform on the sphere (pairwise farther apart than 0.2 across all
    targets), with weights ``k_ij / n`` for a random composition ``k_i`` of ``n`` into ``M`` positive
    parts (so a transport map exists).  ``shared=True``: every target lives on the SAME ``M`` atoms
    (different weights).

    References
    ----------
    Hypotheses of arXiv 2411.04551, Theorem 1.2.
    """
    from attnflow._base import validate

    from ._instances import draw_instance

    M = validate.integer("M", M, minimum=1)
    n = validate.integer("n", n, minimum=1)
    if M > n:
        raise ValueError(f"M: {M} target atoms need at least {M} input atoms per cloud; raise n (got {n}) or lower M")
    clouds, _ = draw_instance(d, N, n, seed=seed, spread=spread, hole_cos=hole_cos)
    rng = np.random.default_rng([seed, 1])
    for _ in range(1000):
        y = unit(rng.standard_normal((N * M, d)))
        g = np.linalg.norm(y[:, None] - y[None], axis=2) + 3 * np.eye(N * M)
        if g.min() > 0.2:
            break
    else:
        raise ValueError(f"M: could not draw {N * M} target atoms on S^{d - 1} pairwise farther apart than 0.2; "
                         "lower N or M, or raise d")
    atoms, weights = [], []
    for i in range(N):
        cuts = np.sort(rng.choice(np.arange(1, n), size=M - 1, replace=False)) if M > 1 else np.array([], int)
        k = np.diff(np.concatenate([[0], cuts, [n]]))
        atoms.append(y[:M].copy() if shared else y[i * M:(i + 1) * M])
        weights.append(k / n)
    return clouds, atoms, weights


def same_barycentre_pair(d: int = 3, n: int = 8, *, seed: int = 0, spread: float = 0.5):
    r"""Two distinct clouds with the SAME barycentre and the SAME clustering limit.

    :math:`\mu` is symmetric under the rotation by :math:`\pi` about the axis :math:`e_1` (atoms
    :math:`x` and :math:`2\langle x,e_1\rangle e_1 - x`), :math:`\nu = R\mu` with :math:`R` the
    rotation by :math:`\pi/2` in the :math:`(e_2, e_3)` plane.  Both barycentres lie on the axis and
    coincide; every isotropic layer commutes with :math:`R` and with the :math:`\pi` rotation, so the
    clustering layer ``(I, βI, 0)`` sends both to the same point of the axis: the barycentre split
    alone cannot separate them (the case the Dirac construction used to refuse).

    References
    ----------
    arXiv 2411.04551, Theorems 1.1-1.2 (pairwise distinct inputs; no barycentre hypothesis).
    """
    from attnflow._base import validate

    d = validate.integer("d", d, minimum=3)
    n = validate.integer("n", n, minimum=2)
    if n % 2:
        raise ValueError(f"n: must be even (atoms come in pairs x, R_pi x), got {n}")
    rng = np.random.default_rng(seed)
    e = np.zeros(d)
    e[0] = 1.0
    half = unit(e + spread * rng.standard_normal((n // 2, d)))
    mu = np.vstack([half, 2 * np.outer(half @ e, e) - half])
    R = np.eye(d)
    R[1, 1], R[1, 2], R[2, 1], R[2, 2] = 0.0, -1.0, 1.0, 0.0
    return [mu, mu @ R.T]
