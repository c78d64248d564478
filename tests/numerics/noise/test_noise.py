"""Tests of attnflow.numerics.noise: reproducibility, shared-noise coupling, weak-order sanity,
the random-MLP kernel and the constants of arXiv:2604.26898, by independent routes
(spherical-harmonic eigenvalues, scipy quadrature, Monte Carlo over the random weights)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import integrate

from attnflow.numerics.noise import (
    _circle_drift,
    attention_drift,
    brownian_increments,
    deep_wide_step,
    draw_layer_weights,
    euler_maruyama_sphere,
    kappa_kernel,
    kappa_relu,
    lambda_constants,
    noisy_kuramoto,
    order_parameter,
    simulate_deep_wide,
)


def _unit(rng, n, d):
    x = rng.standard_normal((n, d))
    return x / np.linalg.norm(x, axis=1, keepdims=True)


# -------------------------------------------------------------------------------------------------
# reproducibility and coupling
# -------------------------------------------------------------------------------------------------
def test_sphere_seed_reproducible_and_equal_to_increments():
    x0 = _unit(np.random.default_rng(0), 12, 3)
    f = attention_drift(1.5, "usa")
    kw = dict(kappa=4.0, dt=0.01, t_final=0.5, save_every=5)
    p1 = euler_maruyama_sphere(x0, f, seed=7, **kw)
    p2 = euler_maruyama_sphere(x0, f, seed=7, **kw)
    p3 = euler_maruyama_sphere(x0, f, seed=8, **kw)
    np.testing.assert_array_equal(p1.states, p2.states)
    assert np.max(np.abs(p1.final - p3.final)) > 1e-3
    inc = brownian_increments(50, (12, 3), 0.01, seed=7)
    p4 = euler_maruyama_sphere(x0, f, increments=inc, **kw)
    np.testing.assert_array_equal(p1.states, p4.states)
    np.testing.assert_allclose(p1.times, np.arange(11) * 0.05, atol=1e-15)


def test_sphere_shared_noise_coupling():
    """Same increments and initial data: same beta -> identical paths; nearby beta -> close paths
    (while independent noise gives O(1) differences); different beta -> different paths."""
    rng = np.random.default_rng(1)
    x0 = _unit(rng, 16, 3)
    kw = dict(kappa=2.0, dt=0.01, t_final=1.0)
    inc = brownian_increments(100, (16, 3), 0.01, seed=3)
    a = euler_maruyama_sphere(x0, attention_drift(1.0), increments=inc, **kw).final
    b = euler_maruyama_sphere(x0, attention_drift(1.0), increments=inc.copy(), **kw).final
    c = euler_maruyama_sphere(x0, attention_drift(1.001), increments=inc, **kw).final
    e = euler_maruyama_sphere(x0, attention_drift(3.0), increments=inc, **kw).final
    indep = euler_maruyama_sphere(x0, attention_drift(1.0), seed=4, **kw).final
    np.testing.assert_array_equal(a, b)
    assert 0 < np.max(np.abs(a - c)) < 1e-2
    assert np.max(np.abs(a - e)) > 1e-3
    assert np.max(np.abs(a - indep)) > 0.1


def test_kuramoto_seed_increments_and_coupling():
    th0 = np.random.default_rng(2).uniform(0, 2 * np.pi, 30)
    kw = dict(kappa=3.0, dt=0.01, t_final=1.0)
    p1 = noisy_kuramoto(th0, seed=5, **kw)
    p2 = noisy_kuramoto(th0, increments=brownian_increments(100, (30,), 0.01, seed=5), **kw)
    np.testing.assert_array_equal(p1.states, p2.states)
    q = noisy_kuramoto(th0, seed=5, beta=0.5, **kw)
    assert np.max(np.abs(q.final - p1.final)) > 1e-3
    assert np.max(np.abs(noisy_kuramoto(th0, seed=6, **kw).final - p1.final)) > 1e-2


def test_deep_wide_seed_weights_and_coupling():
    x0 = _unit(np.random.default_rng(3), 6, 4)
    kw = dict(L=10, T=1.0, m=32, sigma_U=0.5, sigma_W=0.5)
    p1 = simulate_deep_wide(x0, beta=1.0, seed=11, **kw)
    p2 = simulate_deep_wide(x0, beta=1.0, weights=draw_layer_weights(10, 32, 4, 0.5, 0.5, seed=11), **kw)
    np.testing.assert_array_equal(p1.states, p2.states)
    p3 = simulate_deep_wide(x0, beta=2.0, seed=11, **kw)  # same noise, different beta
    assert np.max(np.abs(p3.final - p1.final)) > 1e-3
    p4 = simulate_deep_wide(x0, beta=1.0, seed=12, **kw)
    assert np.max(np.abs(p4.final - p1.final)) > 1e-2
    np.testing.assert_allclose(p1.times, np.arange(11) * 0.1, atol=1e-15)


def test_unit_norm_preserved():
    rng = np.random.default_rng(4)
    x0 = _unit(rng, 20, 5)
    p = euler_maruyama_sphere(x0, attention_drift(2.0, "sa"), kappa=0.5, dt=0.02, t_final=2.0, seed=0)
    assert np.max(np.abs(np.linalg.norm(p.states, axis=2) - 1)) < 1e-13
    q = simulate_deep_wide(x0, L=30, T=3.0, m=64, sigma_U=1.0, sigma_W=1.0, beta=3.0, seed=0, activation="tanh")
    assert np.max(np.abs(np.linalg.norm(q.states, axis=2) - 1)) < 1e-13


def test_kappa_inf_is_deterministic_euler():
    x0 = _unit(np.random.default_rng(5), 8, 3)
    f = attention_drift(1.0, "sa")
    p = euler_maruyama_sphere(x0, f, kappa=np.inf, dt=0.1, t_final=0.1, seed=0)
    step = x0 + 0.1 * (f(0, x0) - np.sum(f(0, x0) * x0, axis=1, keepdims=True) * x0)
    np.testing.assert_allclose(p.final, step / np.linalg.norm(step, axis=1, keepdims=True), atol=1e-15)


# -------------------------------------------------------------------------------------------------
# weak-order sanity: Brownian motion with generator (1/kappa) Laplacian
# -------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("d, kappa, t", [(2, 1.0, 0.5), (3, 2.0, 0.5), (5, 4.0, 1.0)])
def test_brownian_motion_harmonic_moments(d, kappa, t):
    """Linear functions are Laplace eigenfunctions with eigenvalue -(d-1), so
    E<X_t, x0> = exp(-(d-1)t/kappa); degree-2 harmonics (eigenvalue -2d) give
    E<X_t, x0>^2 = 1/d + (1 - 1/d) exp(-2dt/kappa)."""
    N, dt = 30_000, 4e-3
    x0 = _unit(np.random.default_rng(10 + d), N, d)
    p = euler_maruyama_sphere(x0, None, kappa=kappa, dt=dt, t_final=t, seed=20 + d, save_every=10**9)
    c = np.sum(p.final * x0, axis=1)
    for sample, expected in (
        (c, np.exp(-(d - 1) * t / kappa)),
        (c**2, 1 / d + (1 - 1 / d) * np.exp(-2 * d * t / kappa)),
    ):
        se = sample.std(ddof=1) / np.sqrt(N)
        assert abs(sample.mean() - expected) <= 4 * se + 0.5 * dt, (sample.mean(), expected, se)


def test_kuramoto_single_oscillator_is_scaled_brownian_motion():
    inc = brownian_increments(200, (1,), 0.005, seed=1)
    p = noisy_kuramoto(np.array([0.3]), kappa=0.7, dt=0.005, t_final=1.0, increments=inc)
    assert abs(p.final[0] - (0.3 + np.sqrt(2 / 0.7) * inc.sum())) < 1e-12


@pytest.mark.parametrize("beta", [0.0, 1.5, -2.0])
def test_circle_drift_is_usa_in_angles(beta):
    th = np.random.default_rng(6).uniform(0, 2 * np.pi, 9)
    x = np.stack([np.cos(th), np.sin(th)], axis=1)
    f = attention_drift(beta, "usa", backend="numpy")(0.0, x)
    tangent = np.stack([-np.sin(th), np.cos(th)], axis=1)
    np.testing.assert_allclose(_circle_drift(th, beta), np.sum(f * tangent, axis=1), atol=1e-13)
    if beta == 0.0:
        ref = -np.mean(np.sin(th[:, None] - th[None, :]), axis=1)
        np.testing.assert_allclose(_circle_drift(th, beta), ref, atol=1e-14)


def test_order_parameter():
    assert abs(order_parameter(np.full(5, 1.2)) - 1) < 1e-15
    assert order_parameter(np.arange(7) * 2 * np.pi / 7) < 1e-15
    th = np.random.default_rng(0).uniform(0, 6, (3, 11))
    np.testing.assert_allclose(order_parameter(th), np.abs(np.exp(1j * th).mean(axis=1)), atol=1e-15)


def test_attention_drift_numpy_formulas():
    x = _unit(np.random.default_rng(7), 6, 3)
    for beta in (0.0, 2.0, -1.0, 400.0):
        e = np.exp(beta * (x @ x.T) - abs(beta))  # reference with its own shift
        sa = (e @ x) / e.sum(axis=1, keepdims=True)
        np.testing.assert_allclose(attention_drift(beta, "sa", backend="numpy")(0, x), sa, rtol=1e-12, atol=1e-14)
    usa_ref = np.exp(2.0 * (x @ x.T)) @ x / 6
    np.testing.assert_allclose(attention_drift(2.0, "usa", backend="numpy")(0, x), usa_ref, rtol=1e-12)


# -------------------------------------------------------------------------------------------------
# kernel and constants (arXiv:2604.26898)
# -------------------------------------------------------------------------------------------------
_PHI = lambda z: np.exp(-0.5 * z * z) / np.sqrt(2 * np.pi)  # noqa: E731


def test_relu_table_values_by_quadrature():
    """Table (ReLU, d = 64, sigma_U = sigma_W = 0.1): kappa(1) = 2.28e-2, kappa'(1) = 7.81e-3,
    lambda_1 = -0.480, lambda_bar = -0.899; recomputed by 2-D quadrature over (X, b)."""
    d, su, sw = 64, 0.1, 0.1
    # E[relu(X/sqrt d + su b)^2]: integrate only over the half-plane where the argument is positive
    k1 = integrate.dblquad(
        lambda b, X: (X / np.sqrt(d) + su * b) ** 2 * _PHI(X) * _PHI(b),
        -12, 12, lambda X: -X / (np.sqrt(d) * su), 12, epsabs=1e-14, epsrel=1e-12,
    )[0] + sw**2
    dk1 = integrate.dblquad(
        lambda b, X: _PHI(X) * _PHI(b), -12, 12, lambda X: -X / (np.sqrt(d) * su), 12, epsabs=1e-14, epsrel=1e-12
    )[0] / d
    lam_bar = (d - 1) * dk1 - (d - 3) * k1
    c = lambda_constants(d, su, sw, "relu")
    np.testing.assert_allclose([c.kappa1, c.dkappa1, c.lambda_bar], [k1, dk1, lam_bar], rtol=1e-8)
    # the printed table, to its printed precision
    assert float(f"{c.kappa1:.3g}") == 2.28e-2
    assert float(f"{c.dkappa1:.3g}") == 7.81e-3
    assert float(f"{c.lambda1:.3f}") == -0.480
    assert float(f"{c.lambda_bar:.3f}") == -0.899


@pytest.mark.parametrize("d, su, sw", [(64, 0.1, 0.1), (4, 1.0, 0.3), (10, 0.0, 0.5), (5, 0.0, 0.0)])
def test_relu_closed_forms_for_lambdas(d, su, sw):
    c = lambda_constants(d, su, sw)
    assert abs(c.lambda1 - (-1 / (2 * d) - (su**2 + 2 * sw**2) * (d - 1) / 4)) < 1e-14
    assert abs(c.lambda_bar - (1 / d - (su**2 + 2 * sw**2) * (d - 3) / 2)) < 1e-14
    assert abs(c.kappa1 - kappa_relu(1.0, d, su, sw)) < 1e-15


def test_relu_negative_control_lambda_bar_positive():
    """ReLU, d = 5, sigma = 0: lambda_bar = 1/5 > 0 (no synchronisation guarantee)."""
    assert lambda_constants(5, 0.0, 0.0).lambda_bar == pytest.approx(0.2, abs=1e-15)


@pytest.mark.parametrize("rho", [-1.0, -0.3, 0.0, 0.5, 0.99, 1.0])
def test_arc_cosine_kernel_by_quadrature(rho):
    d, su, sw = 6, 0.7, 0.2
    s2, c = 1 / d + su**2, rho / d + su**2
    r = c / s2
    s = np.sqrt(s2)
    if r > 1 - 1e-12:  # g1 = g2: E[relu(g)^2] in one dimension
        ref = integrate.quad(lambda z: (s * z) ** 2 * _PHI(z), 0, 12, epsabs=1e-14)[0] + sw**2
    else:  # g1 = s z1, g2 = s (r z1 + q z2): integrate over the quarter where both are positive
        q = np.sqrt(1 - r * r)
        ref = integrate.dblquad(
            lambda z2, z1: s * z1 * s * (r * z1 + q * z2) * _PHI(z1) * _PHI(z2),
            0, 12, lambda z1: -r * z1 / q, 12, epsabs=1e-13, epsrel=1e-11,
        )[0] + sw**2
    assert abs(kappa_relu(rho, d, su, sw) - ref) < 1e-7


def test_tanh_constants_two_routes_and_odd_control():
    d, su, sw = 8, 0.4, 0.3
    c = lambda_constants(d, su, sw, "tanh")
    assert abs(c.kappa1 - kappa_kernel(1.0, d, su, sw, "tanh")) < 1e-12  # quad vs Gauss-Hermite
    h = 1e-4  # kappa is smooth for tanh: second-order one-sided difference at rho = 1
    k = [kappa_kernel(1 - j * h, d, su, sw, "tanh") for j in range(3)]
    assert abs(c.dkappa1 - (3 * k[0] - 4 * k[1] + k[2]) / (2 * h)) < 1e-7
    # callable activation with numerical derivative gives the same constants
    c2 = lambda_constants(d, su, sw, np.tanh)
    np.testing.assert_allclose(c2, c, rtol=1e-8)
    # negative control: tanh with zero biases is odd, kappa(-rho) = -kappa(rho)
    rho = np.linspace(-1, 1, 9)
    np.testing.assert_allclose(kappa_kernel(-rho, d, 0.0, 0.0, "tanh"), -kappa_kernel(rho, d, 0.0, 0.0, "tanh"),
                               atol=1e-15)


@pytest.mark.parametrize("activation", ["relu", "tanh"])
def test_random_mlp_covariance_is_kappa(activation):
    """E[G(x) . G(y)] / d = kappa(<x, y>) over the random weights (any width m)."""
    d, m, su, sw, K = 4, 16, 0.6, 0.3, 4000
    rng = np.random.default_rng(8)
    x, y = _unit(rng, 2, d)
    w = draw_layer_weights(K, m, d, su, sw, seed=9)
    act = np.tanh if activation == "tanh" else (lambda z: np.maximum(z, 0))

    def G(p):
        hidden = act(np.einsum("kmd,d->km", w.U, p) / np.sqrt(d) + w.b_U)
        return np.einsum("kdm,km->kd", w.W, hidden) / np.sqrt(m) + w.b_W

    gx, gy = G(x), G(y)
    for a, b, rho in ((gx, gy, x @ y), (gx, gx, 1.0)):
        sample = np.sum(a * b, axis=1) / d
        se = sample.std(ddof=1) / np.sqrt(K)
        assert abs(sample.mean() - kappa_kernel(rho, d, su, sw, activation)) <= 4 * se


def test_deep_wide_matches_common_noise_sde_drift():
    """Two tokens, beta = 0, rho0 = 0, small T: the SDE of arXiv:2512.01868 §7 gives
    E<X_T, X_0> = exp(-kappa(1)(d-1)T/2) per token (Ito correction) and
    E rho_T = T (1 + (d-2) kappa(0)) + O(T^2) (attention + common-noise correlation)."""
    d, su, sw, m, L, T, R = 4, 1.0, 1.0, 64, 10, 0.02, 1500
    x0 = np.eye(d)[:2]
    rho, self_corr = np.empty(R), np.empty(R)
    for r in range(R):
        xT = simulate_deep_wide(x0, L=L, T=T, m=m, sigma_U=su, sigma_W=sw, beta=0.0, seed=r, save_every=L).final
        rho[r] = xT[0] @ xT[1]
        self_corr[r] = 0.5 * (xT[0] @ x0[0] + xT[1] @ x0[1])
    k1 = kappa_relu(1.0, d, su, sw)
    for sample, expected in (
        (self_corr, np.exp(-k1 * (d - 1) * T / 2)),
        (rho, T * (1.0 + (d - 2) * kappa_relu(0.0, d, su, sw))),
    ):
        se = sample.std(ddof=1) / np.sqrt(R)
        # O(T^2) allowance: T^2 |b b'| / 2 is about 0.004 here (b(0) ~ 4, |b'(0)| ~ 5)
        assert abs(sample.mean() - expected) <= 4 * se + 0.01, (sample.mean(), expected, se)


def test_deep_wide_step_matches_formula():
    rng = np.random.default_rng(12)
    x = _unit(rng, 5, 3)
    w = draw_layer_weights(1, 7, 3, 0.2, 0.3, seed=1)
    layer = type(w)(*(a[0] for a in w))
    h, beta = 0.1, 1.3
    att = np.exp(beta * x @ x.T)
    att = att / att.sum(axis=1, keepdims=True) @ x
    y = x + h * att
    y /= np.linalg.norm(y, axis=1, keepdims=True)
    g = np.array([layer.W @ np.maximum(layer.U @ yi / np.sqrt(3) + layer.b_U, 0) / np.sqrt(7) + layer.b_W for yi in y])
    ref = y + np.sqrt(h) * g
    ref /= np.linalg.norm(ref, axis=1, keepdims=True)
    np.testing.assert_allclose(deep_wide_step(x, layer, h=h, beta=beta), ref, atol=1e-14)


# -------------------------------------------------------------------------------------------------
# bad input
# -------------------------------------------------------------------------------------------------
def test_bad_input():
    x0 = np.eye(3)
    f = attention_drift(1.0)
    with pytest.raises(ValueError, match="kappa"):
        euler_maruyama_sphere(x0, f, kappa=0.0, dt=0.1, t_final=1.0)
    with pytest.raises(ValueError, match="dt"):
        euler_maruyama_sphere(x0, f, kappa=1.0, dt=-0.1, t_final=1.0)
    with pytest.raises(ValueError, match="t_final"):
        euler_maruyama_sphere(x0, f, kappa=1.0, dt=0.3, t_final=1.0)
    with pytest.raises(ValueError, match="x0"):
        euler_maruyama_sphere(2 * x0, f, kappa=1.0, dt=0.1, t_final=1.0)
    with pytest.raises(ValueError, match="increments"):
        euler_maruyama_sphere(x0, f, kappa=1.0, dt=0.1, t_final=1.0, increments=np.zeros((9, 3, 3)))
    with pytest.raises(ValueError, match="increments"):
        euler_maruyama_sphere(x0, f, kappa=1.0, dt=0.1, t_final=1.0, seed=1, increments=np.zeros((10, 3, 3)))
    with pytest.raises(ValueError, match="drift"):
        euler_maruyama_sphere(x0, lambda t, x: x[:2], kappa=1.0, dt=0.1, t_final=1.0)
    with pytest.raises(ValueError, match="model"):
        attention_drift(1.0, "mamba")
    with pytest.raises(ValueError, match="activation"):
        simulate_deep_wide(x0, L=2, T=1, m=4, sigma_U=0, sigma_W=0, beta=0, activation="gelu")
    with pytest.raises(ValueError, match="sigma_U"):
        lambda_constants(4, -1.0, 0.0)
    with pytest.raises(ValueError, match="rho"):
        kappa_relu(1.5, 4, 0.1, 0.1)
    with pytest.raises(ValueError, match="d:"):
        kappa_relu(0.5, 1, 0.1, 0.1)
    with pytest.raises(ValueError, match="save_every"):
        noisy_kuramoto(np.zeros(3), kappa=1, dt=0.1, t_final=1, save_every=0)
    with pytest.raises(ValueError, match="seed"):
        noisy_kuramoto(np.zeros(3), kappa=1, dt=0.1, t_final=1, seed=1.5)


def test_noisy_kuramoto_stationary_order_parameter():
    """Independent route: the stationary Fokker-Planck density exp(kappa r cos(theta - psi)) gives
    r = I_1(kappa r) / I_0(kappa r) (nonzero root for kappa > 2); below kappa = 2 only r = 0."""
    from scipy.optimize import brentq
    from scipy.special import i0e, i1e

    n = 3000
    th0 = np.random.default_rng(0).uniform(-0.5, 0.5, n)
    kappa = 4.0
    r_star = brentq(lambda r: i1e(kappa * r) / i0e(kappa * r) - r, 1e-6, 1.0)
    r = order_parameter(noisy_kuramoto(th0, kappa=kappa, dt=0.01, t_final=30, seed=1, save_every=100).states)
    assert abs(r[-15:].mean() - r_star) < 0.02
    r_low = order_parameter(noisy_kuramoto(th0, kappa=1.0, dt=0.01, t_final=30, seed=2, save_every=100).states)
    assert r_low[-15:].mean() < 5 / np.sqrt(n)


def test_auto_backend_agrees_with_numpy():
    x = _unit(np.random.default_rng(13), 40, 3)
    proj = lambda v: v - np.sum(v * x, axis=1, keepdims=True) * x  # noqa: E731
    for model in ("usa", "sa"):
        fast, ref = attention_drift(0.8, model), attention_drift(0.8, model, backend="numpy")
        assert fast.backend in ("numba", "numpy")
        np.testing.assert_allclose(proj(fast(0.0, x)), proj(ref(0.0, x)), rtol=1e-10, atol=1e-13)


def test_common_noise_em_moments_and_coupling():
    """Euler-Maruyama for the common-noise SDE: E<X_T, X_0> = exp(-kappa(1)(d-1)T/2) for one token
    (the Ito correction alone), E rho_T = T(1 + (d-2) kappa(0)) + O(T^2) for two orthogonal tokens."""
    from attnflow.numerics.noise import euler_maruyama_common_noise

    d, su, sw, m = 4, 1.0, 1.0, 32
    k1 = kappa_relu(1.0, d, su, sw)
    R = 1000
    one = np.eye(d)[:1]
    T1 = 0.2
    c = np.array([euler_maruyama_common_noise(one, beta=0.0, dt=0.01, t_final=T1, m=m, sigma_U=su, sigma_W=sw,
                                              seed=r, save_every=100).final[0, 0] for r in range(R)])
    se = c.std(ddof=1) / np.sqrt(R)
    assert abs(c.mean() - np.exp(-k1 * (d - 1) * T1 / 2)) <= 4 * se + 0.01
    T2, R2 = 0.02, 1500
    two = np.eye(d)[:2]
    rho = np.array([
        (lambda f: f[0] @ f[1])(euler_maruyama_common_noise(two, beta=0.0, dt=0.002, t_final=T2, m=m, sigma_U=su,
                                                            sigma_W=sw, seed=r, save_every=100).final)
        for r in range(R2)
    ])
    se = rho.std(ddof=1) / np.sqrt(R2)
    assert abs(rho.mean() - T2 * (1.0 + (d - 2) * kappa_relu(0.0, d, su, sw))) <= 4 * se + 0.01
    # reproducible, weights route identical, shared noise across beta
    x0 = _unit(np.random.default_rng(14), 5, 3)
    kw = dict(dt=0.05, t_final=1.0, m=8, sigma_U=0.3, sigma_W=0.3)
    a = euler_maruyama_common_noise(x0, beta=1.0, seed=3, **kw)
    b = euler_maruyama_common_noise(x0, beta=1.0, weights=draw_layer_weights(20, 8, 3, 0.3, 0.3, seed=3), **kw)
    np.testing.assert_array_equal(a.states, b.states)
    assert np.max(np.abs(np.linalg.norm(a.states, axis=2) - 1)) < 1e-13
    e = euler_maruyama_common_noise(x0, beta=1.01, seed=3, **kw)
    assert 0 < np.max(np.abs(e.final - a.final)) < 0.05


@pytest.mark.slow
def test_lambda1_is_the_lyapunov_exponent_of_the_common_noise_flow():
    """Derived interpretation: two nearby tokens separate at rate lambda_1 (two-point motion, arXiv:2604.26898),
    plus -1 from softmax attention between the two tokens at beta = 0. Estimated from
    E log(|X_1 - X_2|(T) / |X_1 - X_2|(0)) / T over independent runs."""
    from attnflow.numerics.noise import euler_maruyama_common_noise

    d, su, sw, m, T, dt, R = 4, 1.0, 1.0, 32, 1.0, 1e-3, 600
    lam1 = lambda_constants(d, su, sw).lambda1
    eps = 1e-4
    x0 = np.array([[1.0, 0, 0, 0], [np.cos(eps), np.sin(eps), 0, 0]])
    logs = np.empty(R)
    for r in range(R):
        xf = euler_maruyama_common_noise(x0, beta=0.0, dt=dt, t_final=T, m=m, sigma_U=su, sigma_W=sw, seed=r,
                                         save_every=10**9).final
        logs[r] = np.log(np.linalg.norm(xf[0] - xf[1]) / np.linalg.norm(x0[0] - x0[1])) / T
    se = logs.std(ddof=1) / np.sqrt(R)
    assert abs(logs.mean() - (lam1 - 1.0)) <= 4 * se + 0.05, (logs.mean(), lam1 - 1.0, se)
