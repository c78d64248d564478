"""Tests of attnflow.numerics.localization (arXiv:2601.21366).

Independent routes: derivatives by central finite differences of plain-NumPy energies (never the
closed-form Hessian or the Kuramoto kernel under test), arc masses by brute-force scanning.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from attnflow.numerics.localization import (
    circle_gradient,
    circle_hessian,
    circle_objective,
    find_critical_point,
    max_arc_mass,
    merge_atoms,
    perceptron_potential,
    splitting_curvature,
)


def _F_plain(th, beta, sign, a, b, m=None):
    """Weighted-atom functional in plain NumPy: (sign/2beta) sum m_i m_j e^{beta cos} + sum m_i V."""
    m = np.full(th.size, 1.0 / th.size) if m is None else m
    k = np.exp(beta * np.cos(th[:, None] - th[None, :]))
    return sign * (m @ k @ m) / (2 * beta) + m @ np.maximum(a * np.cos(th) + b, 0.0)


def _fd_grad(f, x, h):
    g = np.empty_like(x)
    for i in range(x.size):
        e = np.zeros_like(x)
        e[i] = h
        g[i] = (f(x + e) - f(x - e)) / (2 * h)
    return g


def _fd_hess(f, x, h):
    n = x.size
    H = np.empty((n, n))
    for i in range(n):
        for j in range(i, n):
            ei, ej = np.zeros(n), np.zeros(n)
            ei[i], ej[j] = h, h
            H[i, j] = H[j, i] = (f(x + ei + ej) - f(x + ei - ej) - f(x - ei + ej) + f(x - ei - ej)) / (4 * h * h)
    return H


def _off_kink(th, a, b, margin=1e-2):
    return np.all(np.abs(a * np.cos(th) + b) > margin)


@pytest.mark.parametrize("sign,interaction", [(1.0, "attractive"), (-1.0, "repulsive")])
@pytest.mark.parametrize("beta", [2.0, 9.0])
def test_gradient_and_hessian_match_finite_differences(sign, interaction, beta):
    rng = np.random.default_rng(int(beta))
    a, b = 1.3, 0.2
    th = rng.uniform(0, 2 * np.pi, 7)
    assert _off_kink(th, a, b)
    n = th.size
    f = lambda x: _F_plain(x, beta, sign, a, b)  # noqa: E731
    assert circle_objective(th, beta, interaction=interaction, a=a, b=b) == pytest.approx(f(th), rel=1e-12)
    scale = math.exp(beta)
    g_fd = _fd_grad(f, th, 1e-6)
    np.testing.assert_allclose(circle_gradient(th, beta, interaction=interaction, a=a, b=b) / n, g_fd,
                               atol=1e-7 * scale)
    H_fd = _fd_hess(f, th, 1e-4)
    np.testing.assert_allclose(circle_hessian(th, beta, interaction=interaction, a=a, b=b), H_fd,
                               atol=1e-5 * scale * beta)


def test_splitting_curvature_is_second_derivative_of_first_variation():
    rng = np.random.default_rng(3)
    beta, a, b = 5.0, 0.8, -0.1
    th = rng.uniform(0, 2 * np.pi, 6)
    assert _off_kink(th, a, b)
    for sign, inter in ((1.0, "attractive"), (-1.0, "repulsive")):
        def phi(x):  # first variation of F at the empirical measure, evaluated at a free point x
            return sign * np.exp(beta * np.cos(x - th)).mean() / beta + max(a * math.cos(x) + b, 0.0)
        h = 1e-4
        fd = np.array([(phi(t + h) - 2 * phi(t) + phi(t - h)) / h**2 for t in th])
        np.testing.assert_allclose(splitting_curvature(th, beta, interaction=inter, a=a, b=b), fd,
                                   atol=1e-5 * math.exp(beta))


def test_perceptron_potential_derivatives():
    th = np.linspace(0.05, 6.2, 50)
    a, b = 1.5, 0.4
    th = th[np.abs(a * np.cos(th) + b) > 1e-3]
    h = 1e-6
    for k in (1, 2):
        fd = (perceptron_potential(th + h, a, b, k - 1) - perceptron_potential(th - h, a, b, k - 1)) / (2 * h)
        np.testing.assert_allclose(perceptron_potential(th, a, b, k), fd, atol=1e-7)
    with pytest.raises(ValueError, match="derivative"):
        perceptron_potential(th, a, b, 3)


def _check_stable_by_fd(cp, sign):
    """Independent verification at the returned atoms: gradient ~ 0, Hessian NSD, splitting <= 0."""
    th, m, beta, a, b = cp.atoms, cp.masses, cp.beta, cp.a, cp.b
    assert _off_kink(th, a, b, margin=1e-4)
    f = lambda x: _F_plain(x, beta, sign, a, b, m) * math.exp(-beta)  # noqa: E731
    # sizes of the forces that must cancel at atom i (interactions and V'), scaled by e^{-beta}
    dl = th[:, None] - th[None, :]
    size = np.abs(np.sin(dl)) * np.exp(beta * (np.cos(dl) - 1)) @ m + math.exp(-beta) * abs(a)
    g = _fd_grad(f, th, 1e-6) / m
    fd_noise = 1e-15 * max(abs(f(th)), 1e-300) / 1e-6 / m  # rounding of a central difference
    assert np.all(np.abs(g) <= 1e-6 * size + 10 * fd_noise)
    H = _fd_hess(f, th, 1e-4)
    ev = np.linalg.eigvalsh(0.5 * (H + H.T))
    assert ev.max() <= 1e-5 * max(np.abs(ev).max(), 1e-300)
    for t in th:  # splitting: Phi''(t) <= 0
        phi = lambda x: sign * (m @ np.exp(beta * (np.cos(x - th) - 1))) / beta \
            + math.exp(-beta) * max(a * math.cos(x) + b, 0.0)  # noqa: E731
        hh = 1e-4
        assert (phi(t + hh) - 2 * phi(t) + phi(t - hh)) / hh**2 <= 1e-6


def test_attractive_flow_finds_stable_single_atom_at_the_potential_maximum():
    rng = np.random.default_rng(0)
    cp = find_critical_point(rng.uniform(0, 2 * np.pi, 12), 6.0, interaction="attractive", a=1.0, b=0.3)
    assert cp.critical and cp.stable
    assert cp.masses.size == 1 and cp.masses[0] == pytest.approx(1.0)
    assert min(cp.atoms[0], 2 * np.pi - cp.atoms[0]) < 1e-8  # V is maximal at theta = 0
    assert cp.arc_mass == pytest.approx(1.0)
    _check_stable_by_fd(cp, 1.0)


def test_repulsive_flow_finds_stable_spread_configuration():
    rng = np.random.default_rng(1)
    cp = find_critical_point(rng.uniform(0, 2 * np.pi, 80), 32.0, interaction="repulsive", a=1.0, b=0.2)
    assert cp.critical and cp.stable
    assert cp.masses.size == 80
    assert cp.arc_mass <= 2 / 80 + 1e-12
    _check_stable_by_fd(cp, -1.0)
    # the splitting bound of derivations/localization.md (C = |a|) holds at this stable point, far from tight
    from attnflow.numerics.localization_bound import mass_bound, printed_mass_bound

    assert cp.arc_mass <= mass_bound(32.0, 1.0) < printed_mass_bound(32.0, 1.0)


def test_unstable_critical_point_is_flagged():
    """Two antipodal atoms (attractive, no potential): critical by symmetry, not stable."""
    th = np.array([0.3, 0.3, 0.3 + np.pi, 0.3 + np.pi])
    cp = find_critical_point(th, 4.0, interaction="attractive", a=0.0, b=0.0, flow_steps=0, newton_steps=0)
    assert cp.critical and not cp.stable and cp.hess_rel > 0.1
    assert cp.masses.tolist() == [0.5, 0.5]


def test_max_arc_mass_against_brute_force():
    rng = np.random.default_rng(4)
    th = rng.uniform(0, 2 * np.pi, 30)
    m = rng.dirichlet(np.ones(30))
    for w in (0.05, 0.4, 2.0):
        phis = np.linspace(0, 2 * np.pi, 20001)
        brute = max(m[np.mod(th - p, 2 * np.pi) <= w].sum() for p in phis)
        got = max_arc_mass(th, w, m)
        assert got >= brute - 1e-12 and got <= brute + m.max()  # scan grid can miss the optimal start
        assert got == pytest.approx(max(m[np.mod(th - t, 2 * np.pi) <= w].sum() for t in th))
    ang, mass = merge_atoms(np.array([0.0, 2 * np.pi - 1e-9, 1.0, 1.0 + 1e-9]))
    assert mass.tolist() == [0.5, 0.5]


def test_localization_bad_input():
    with pytest.raises(ValueError, match="interaction"):
        circle_objective(np.zeros(3), 1.0, interaction="neutral")
    with pytest.raises(ValueError, match="beta"):
        circle_gradient(np.zeros(3), -1.0)
    with pytest.raises(ValueError, match="theta"):
        circle_hessian(np.array([0.0, np.nan]), 1.0)
    with pytest.raises(ValueError, match="width"):
        max_arc_mass(np.zeros(3), -1.0)
