r"""Transport representation of the attention flow (``attnflow.numerics.transport``).

For the mean-field attention flow :math:`F_t(\mu) = \mu_t` (SA / USA on :math:`S^{d-1}`) the flow map
:math:`\Phi_t^\mu` of the velocity field :math:`v[\mu_s]` (the characteristics
:math:`\dot X = v[\mu_s](X)`, :math:`X(0) = x`) is a transport representative in the sense of
arXiv 2604.16653 (eq. (1.1)): :math:`F_t(\mu) = (\Phi_t^\mu)_\#\mu`, with :math:`f(\cdot,\mu) = \Phi_t^\mu`.
For an empirical :math:`\mu = \frac1n\sum_i\delta_{x_i}` the map is evaluated at any point as a test
particle of weight 0 driven by the atoms (:func:`attnflow.numerics.meanfield.weighted_attention_flow`).

Public API
----------
flow_map
    :math:`\Phi_t^\mu` at probe points, and the atoms of :math:`F_t(\mu)`;
sphere_probes
    a deterministic, nearly uniform point set on :math:`S^2` (Fibonacci lattice) for the sup over x;
field_gap, field_lipschitz_bound
    :math:`\sup_z|v[\mu](z)-v[\nu](z)|` over probes, and its bound :math:`L(\beta)\sum_j w_j|x_j-y_j|`
    (``transport.field_sensitivity`` of ``derivations/transport.md``);
representation_gap
    for two empirical measures :math:`\mu`, :math:`\nu` of the same size: :math:`W_2(\mu,\nu)`,
    :math:`\sup_x|\Phi_t^\mu(x)-\Phi_t^\nu(x)|` over the probes and the atoms,
    :math:`W_2(F_t\mu, F_t\nu)` and the cost of the coupling :math:`(\Phi_t^\mu\times\Phi_t^\nu)_\#\gamma`
    of the atom-wise pairing :math:`\gamma`.

References
----------
arXiv 2604.16653 (transport representations; Lipschitz :math:`F` admits a continuous :math:`f`);
arXiv 2312.10794 (SA, USA); arXiv 2512.01868 (mean-field continuity equation).
"""

from __future__ import annotations

import math

import numpy as np

from attnflow._base import validate
from attnflow.numerics.meanfield import weighted_attention_flow, weighted_velocity
from attnflow.numerics.wasserstein import wasserstein

__all__ = ["flow_map", "sphere_probes", "representation_gap", "field_gap", "field_lipschitz_bound"]


def sphere_probes(m: int) -> np.ndarray:
    r"""``m`` points of the Fibonacci lattice on :math:`S^2`: heights :math:`1-(2k+1)/m`, golden-angle azimuths."""
    m = validate.integer("m", m, minimum=1)
    k = np.arange(m)
    z = 1.0 - (2.0 * k + 1.0) / m
    phi = k * math.pi * (3.0 - math.sqrt(5.0))
    r = np.sqrt(1.0 - z * z)
    return np.column_stack([r * np.cos(phi), r * np.sin(phi), z])


def _steps(t, dt) -> int:
    t = validate.real("t", t, lo=0.0)
    dt = validate.real("dt", dt, lo=0.0, lo_strict=True)
    steps = int(round(t / dt))
    if abs(steps * dt - t) > 1e-9 * max(1.0, t):
        raise ValueError(f"dt: must divide t = {t} (got dt = {dt})")
    return steps


def flow_map(atoms, probes, *, beta: float, t: float, dt: float, model: str = "sa", weights=None):
    r""":math:`\Phi_t^\mu` at ``probes`` and the atoms of :math:`F_t(\mu)`.

    .. math::
        \dot X = v[\mu_s](X),\quad \mu_s = \textstyle\sum_j w_j\delta_{x_j(s)},\qquad
        \Phi_t^\mu(x) = X(t)\ \text{with}\ X(0) = x,\qquad F_t(\mu) = (\Phi_t^\mu)_\#\mu,

    with :math:`v` the SA (or USA) field of :func:`attnflow.numerics.meanfield.weighted_velocity`;
    RK4 with step ``dt`` and retraction to the sphere.  The probes are test particles of weight 0.

    Parameters
    ----------
    atoms : array_like (n, d), unit rows
    probes : array_like (m, d), unit rows
    beta, t, dt : float
    model : {"sa", "usa"}
    weights : array_like (n,), optional (default uniform 1/n)

    Returns
    -------
    phi : ndarray (m, d)
        :math:`\Phi_t^\mu` at the probes.
    atoms_t : ndarray (n, d)
        The atoms of :math:`F_t(\mu)` (same weights).

    References
    ----------
    arXiv 2604.16653 (eq. (1.1), transport representative); arXiv 2512.01868 (mean-field equation).
    """
    atoms = np.asarray(validate.real_array("atoms", atoms), dtype=float)
    probes = np.asarray(validate.real_array("probes", probes), dtype=float)
    if atoms.ndim != 2 or probes.ndim != 2 or atoms.shape[1] != probes.shape[1]:
        raise ValueError(f"probes: expected (m, d) points matching atoms {atoms.shape}, got {probes.shape}")
    n = atoms.shape[0]
    w = np.full(n, 1.0 / n) if weights is None else np.asarray(validate.real_array("weights", weights), dtype=float)
    states = weighted_attention_flow(np.vstack([atoms, probes]), np.concatenate([w, np.zeros(len(probes))]),
                                     beta=beta, model=model, dt=dt, steps=_steps(t, dt))
    return states[-1, n:], states[-1, :n]


def representation_gap(x, y, probes, *, beta: float, t: float, dt: float, model: str = "sa") -> dict[str, float]:
    r"""Continuity of :math:`\mu\mapsto\Phi_t^\mu` and Lipschitz ratio of :math:`F_t` on one pair.

    For :math:`\mu = \frac1n\sum\delta_{x_i}`, :math:`\nu = \frac1n\sum\delta_{y_i}`:

    * ``w2_in`` :math:`= W_2(\mu,\nu)` (chordal) and ``coupling_in`` the cost of the pairing
      :math:`(\frac1n\sum_i|x_i-y_i|^2)^{1/2}\ge W_2(\mu,\nu)`;
    * ``sup_gap`` :math:`= \max_{z}|\Phi_t^\mu(z)-\Phi_t^\nu(z)|` over the probes and the atoms of both
      measures (a lower estimate of the sup over the sphere);
    * ``w2_out`` :math:`= W_2(F_t\mu, F_t\nu)`;
    * ``coupling`` :math:`= (\frac1n\sum_i|\Phi_t^\mu(x_i)-\Phi_t^\nu(y_i)|^2)^{1/2} \ge` ``w2_out``
      (the pairing :math:`x_i\leftrightarrow y_i` pushed forward is a coupling of the images), with
      :math:`\Phi_t^\mu(x_i)` the atoms :math:`x_i(t)` themselves so that the inequality is exact in
      floating point up to rounding (test particles started at the atoms agree with them to
      :math:`O(dt^4)`: ``pushforward_mu``, the largest such gap);
    * ``sup_gap_atoms`` :math:`= \max_i|\Phi_t^\mu(x_i)-\Phi_t^\nu(x_i)|` (on the support of :math:`\mu` only);
    * ``ratio_sup`` = ``sup_gap / w2_in``, ``ratio_atoms`` = ``sup_gap_atoms / w2_in`` and
      ``ratio_F`` = ``w2_out / w2_in``.

    References
    ----------
    arXiv 2604.16653 (continuity of the transport representative in :math:`\mu`).
    """
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    if x.shape != y.shape:
        raise ValueError(f"y: expected the shape of x {x.shape}, got {y.shape}")
    z = np.vstack([np.asarray(probes, dtype=float), x, y])
    pm, xt = flow_map(x, z, beta=beta, t=t, dt=dt, model=model)
    pn, yt = flow_map(y, z, beta=beta, t=t, dt=dt, model=model)
    n, m = len(x), len(z)
    w2_in = wasserstein(x, y)
    w2_out = wasserstein(xt, yt)
    sup_gap = float(np.linalg.norm(pm - pn, axis=1).max())
    # Phi^mu(x_i) and Phi^nu(y_i): the probes at the positions of the atoms
    phx = pm[m - 2 * n: m - n]
    coupling = float(math.sqrt(np.mean(np.sum((xt - yt) ** 2, axis=1))))
    coupling_in = float(math.sqrt(np.mean(np.sum((x - y) ** 2, axis=1))))
    gap_atoms = float(np.linalg.norm(phx - pn[m - 2 * n: m - n], axis=1).max())
    return {"w2_in": w2_in, "coupling_in": coupling_in, "sup_gap": sup_gap, "sup_gap_atoms": gap_atoms, "w2_out": w2_out, "coupling": coupling,
            "ratio_sup": sup_gap / w2_in, "ratio_atoms": gap_atoms / w2_in, "ratio_F": w2_out / w2_in,
            "pushforward_mu": float(np.linalg.norm(phx - xt, axis=1).max())}


def field_lipschitz_bound(beta: float) -> float:
    r""":math:`L(\beta) = (1+2|\beta|)e^{2|\beta|}`, lambdified from
    :func:`attnflow.symbolic.transport.field_lipschitz_constant`.

    References
    ----------
    arXiv 2604.16653 (continuity in the measure); ``derivations/transport.md`` (``transport.field_sensitivity``).
    """
    import sympy as sp

    from attnflow.symbolic.transport import field_lipschitz_constant

    b = sp.Symbol("beta", real=True)
    return float(sp.lambdify(b, field_lipschitz_constant(b), "math")(validate.real("beta", beta)))


def field_gap(x, y, probes, *, beta: float, model: str = "sa") -> dict[str, float]:
    r"""Uniform gap of the SA fields of two paired empirical measures, and its bound.

    .. math::
        \text{gap} = \max_z |v[\mu](z) - v[\nu](z)|\ \text{(probes and atoms)},\qquad
        \text{bound} = L(\beta)\,\tfrac1n\textstyle\sum_i|x_i - y_i|,

    with :math:`\mu = \frac1n\sum\delta_{x_i}`, :math:`\nu = \frac1n\sum\delta_{y_i}` and :math:`v` the field of
    :func:`attnflow.numerics.meanfield.weighted_velocity` (probes as weight-0 test particles).

    References
    ----------
    arXiv 2604.16653; ``derivations/transport.md`` (``transport.field_sensitivity``).
    """
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    if x.shape != y.shape:
        raise ValueError(f"y: expected the shape of x {x.shape}, got {y.shape}")
    z = np.vstack([np.asarray(probes, dtype=float), x, y])
    n = len(x)
    w = np.concatenate([np.full(n, 1.0 / n), np.zeros(len(z))])
    vm = weighted_velocity(np.vstack([x, z]), w, beta=beta, model=model)[n:]
    vn = weighted_velocity(np.vstack([y, z]), w, beta=beta, model=model)[n:]
    gap = float(np.linalg.norm(vm - vn, axis=1).max())
    cost = float(np.mean(np.linalg.norm(x - y, axis=1)))
    return {"gap": gap, "pairing_cost": cost, "bound": field_lipschitz_bound(beta) * cost}
