"""Causal ALiBi particles and the Monte Carlo retrieval estimators (attnflow.numerics.retrieval).

Independent routes: the generated direct-sum kernel (attnflow.numerics.fields) with the generic
RK4 integrator; an exact small-N expectation by periodic-trapezoid quadrature over the initial
angles with scipy's DOP853 on a plain NumPy field; the closed form g_{a_n}(t, 1; sigma0) at
moderate N; the Poisson identity between the soft accuracy and the mode estimates.
"""

import math

import numpy as np
import pytest
from scipy.integrate import solve_ivp

from attnflow.numerics import retrieval as R
from attnflow.numerics.fields import make_field
from attnflow.numerics.integrators import integrate_fixed

Z_THRESHOLD = 4.0  # two-sided false-alarm probability 6e-5 per comparison (seeds are fixed anyway)


# ------------------------------------------------------------------------------------ field, simulator
@pytest.mark.parametrize("beta,lam", [(1.0, 1.0), (0.3, 0.0), (3.0, 4.0), (0.0, 1.0)])
def test_fourier_field_matches_generated_kernel(beta, lam):
    X = np.random.default_rng(3).uniform(-7, 7, (11, 40))  # 8-prompt block + 3 single prompts
    ref = make_field("causal_alibi", beta=beta, lam=lam)(0.0, X)
    got = R.causal_alibi_velocity(X, beta=beta, lam=lam)
    scale = max(1.0, beta * math.exp(beta))
    assert np.max(np.abs(got - ref)) <= 1e-13 * scale
    assert np.array_equal(R.causal_alibi_velocity(X[4], beta=beta, lam=lam), got[4]) or \
        np.max(np.abs(R.causal_alibi_velocity(X[4], beta=beta, lam=lam) - ref[4])) <= 1e-13 * scale


def test_fourier_coefficients_truncation():
    from scipy import special

    for beta in (0.2, 1.0, 4.0):
        b = R.fourier_field_coefficients(beta)
        n = np.arange(1, 200)
        full = -2 * n * special.iv(n, beta)
        assert np.allclose(b, full[: b.size], rtol=1e-14, atol=0)
        assert np.sum(np.abs(full[b.size:])) <= 1e-16 * max(1.0, np.sum(np.abs(full)))
    assert R.fourier_field_coefficients(0.0).size == 0


def test_fused_rk4_matches_generic_rk4_with_generated_kernel():
    x0 = np.random.default_rng(5).uniform(0, 2 * np.pi, (9, 12))
    f = make_field("causal_alibi", beta=1.2, lam=0.8)
    ref = integrate_fixed(f, x0, 0.3, 0.0025, manifold="angles", save_every=10_000).states[-1]
    got = R.simulate_causal_alibi(x0, beta=1.2, lam=0.8, t=0.3, dt=0.0025)[-1]
    assert np.max(np.abs(got - ref)) <= 1e-12
    # the same with a step that is too large for the Taylor rotation (math.cos/sin branch)
    ref = integrate_fixed(make_field("causal_alibi", beta=3.0, lam=0.8), x0[:2], 0.4, 0.2, manifold="angles",
                          save_every=10_000).states[-1]
    got = R.simulate_causal_alibi(x0[:2], beta=3.0, lam=0.8, t=0.4, dt=0.2)[-1]
    assert np.max(np.abs(got - ref)) <= 1e-12


def test_first_token_never_moves_and_snapshots():
    x0 = np.random.default_rng(1).uniform(0, 2 * np.pi, (10, 33))
    out = R.simulate_causal_alibi(x0, beta=2.0, lam=1.0, t=1.0, times=[0.0, 0.5, 1.0])
    assert out.shape == (3, 10, 33)
    assert np.array_equal(out[:, :, 0], np.broadcast_to(x0[:, 0], (3, 10)))
    assert np.array_equal(out[0], x0)
    assert np.max(np.abs(out[2] - x0)) > 1e-2  # the others do move
    half = R.simulate_causal_alibi(x0, beta=2.0, lam=1.0, t=0.5)[-1]
    assert np.max(np.abs(half - out[1])) <= 1e-13
    last = R.simulate_causal_alibi(x0[3], beta=2.0, lam=1.0, t=1.0, last_only=True)
    assert last.shape == (1,) and last[0] == pytest.approx(out[2, 3, -1], abs=1e-13)


# ------------------------------------------------------------------------------------ Monte Carlo
def _exact_small_N(N, istar, n_modes, beta, lam, t, grid=40):
    """E[e^{in(theta_N(t) - theta_istar(0))}] for iid uniform tokens by quadrature (N = 3).

    By rotation invariance fix theta_1 = 0; the other N - 1 angles run over a periodic grid
    (trapezoid rule, spectrally accurate for this analytic periodic integrand) and the ODE is
    solved by DOP853 on a plain NumPy field (direct pair sum).
    """
    g = 2 * np.pi * np.arange(grid) / grid
    mesh = np.meshgrid(*([g] * (N - 1)), indexing="ij")
    th0 = np.stack([np.zeros(mesh[0].size)] + [m.ravel() for m in mesh], axis=1)  # (G, N)
    r = np.exp(-lam / N)

    def field(_, y):
        th = y.reshape(-1, N)
        v = np.zeros_like(th)
        for j in range(1, N):
            w = r ** (j - np.arange(j))
            d = th[:, j:j + 1] - th[:, :j]
            v[:, j] = (w * (-beta * np.sin(d) * np.exp(beta * np.cos(d)))).sum(axis=1) / w.sum()
        return v.ravel()

    sol = solve_ivp(field, (0, t), th0.ravel(), method="DOP853", rtol=1e-11, atol=1e-12)
    thT = sol.y[:, -1].reshape(-1, N)
    delta = thT[:, -1] - th0[:, istar - 1]
    n = np.arange(1, n_modes + 1)
    return np.exp(1j * np.outer(delta, n)).mean(axis=0)


def test_estimator_is_unbiased_against_exact_quadrature_at_small_N():
    # quadrature converged: grids 40 and 64 agree to 1e-9 at these parameters
    beta, lam, t = 1.0, 1.0, 0.7
    for sigma0, istar in ((1 / 3, 1), (2 / 3, 2)):
        exact = 3 * _exact_small_N(3, istar, 2, beta, lam, t)
        r = R.mode_correlation_mc(sigma0, beta=beta, lam=lam, t=t, N=3, prompts=3000, modes=2, phases=8, seed=11,
                                  dt=0.01)
        assert r.i_star[0] == istar
        z = (r.estimate[0] - exact.real) / r.stderr[0]
        assert np.all(np.abs(z) < Z_THRESHOLD), (r.estimate[0], exact, r.stderr[0])
        zi = (r.estimate_imag[0] - exact.imag) / r.stderr_imag[0]
        assert np.all(np.abs(zi) < Z_THRESHOLD)
        assert np.all(r.stderr[0] < 0.05 * np.abs(exact.real))  # the test has power


def test_estimator_against_closed_form_at_moderate_N():
    # N = 64: the difference to the N -> infinity closed form is the finite-N bias (measured ~1%,
    # arXiv 2605.09213 expects O(N^-zeta)) plus noise; require z < 4 after allowing a 3% bias.
    r = R.mode_correlation_mc([0.25, 0.5], beta=1.0, lam=1.0, t=1.0, N=64, prompts=300, modes=2, phases=8, seed=2,
                              dt=0.01)
    g = r.closed_form
    assert np.all(np.abs(r.estimate - g) <= Z_THRESHOLD * r.stderr + 0.03 * g), (r.estimate, g, r.stderr)
    assert np.all(r.stderr < 0.01 * g)  # 1% precision: a gross error (factor N, sign, wrong mode) cannot pass
    assert np.all(np.abs(r.estimate_imag) <= Z_THRESHOLD * r.stderr_imag)


def test_reproducible_with_seed_and_dt_independent():
    kw = dict(beta=1.0, lam=1.0, t=0.5, N=16, prompts=50, modes=2, phases=4, M=8)
    a = R.mode_correlation_mc(0.5, seed=7, **kw)
    b = R.mode_correlation_mc(0.5, seed=7, **kw)
    c = R.mode_correlation_mc(0.5, seed=8, **kw)
    assert np.array_equal(a.samples, b.samples) and np.array_equal(a.soft_accuracy, b.soft_accuracy)
    assert not np.array_equal(a.samples, c.samples)
    # the claims use dt = 0.01: same draws, RK4 error O(dt^4) far below the standard errors
    d = R.mode_correlation_mc(0.5, seed=7, dt=0.01, **kw)
    assert np.max(np.abs(d.samples - a.samples)) < 1e-6


def test_variance_reduction_reduces_variance_at_equal_cost():
    kw = dict(beta=1.0, lam=1.0, t=0.5, N=32, modes=1, seed=3, dt=0.01)
    vr = R.mode_correlation_mc(0.5, prompts=100, phases=4, **kw)
    plain = R.mode_correlation_mc(0.5, prompts=400, variance_reduction=False, **kw)
    assert vr.rows == plain.rows == 400
    assert vr.stderr[0, 0] * 5 < plain.stderr[0, 0], (vr.stderr, plain.stderr)
    # both estimate the same quantity
    assert abs(vr.estimate[0, 0] - plain.estimate[0, 0]) < Z_THRESHOLD * math.hypot(vr.stderr[0, 0], plain.stderr[0, 0])


def test_soft_accuracy_from_particles_is_the_poisson_series_of_the_modes():
    M = 4.0
    r = R.mode_correlation_mc(0.5, beta=1.0, lam=1.0, t=0.5, N=16, prompts=60, modes=60, phases=16, M=M, seed=4,
                              dt=0.01)
    n = np.arange(1, 61)
    series = math.sqrt(math.pi / 2) / M * (1 + 2 / r.N * (np.exp(-np.pi**2 * n**2 / (2 * M * M)) @ r.estimate[0]))
    assert r.soft_accuracy[0] == pytest.approx(series, rel=1e-12)
    # and it sits near the first-order closed form (difference O(1/N^{1+zeta}) plus noise)
    assert abs(r.soft_accuracy[0] - r.soft_accuracy_closed[0]) < Z_THRESHOLD * r.soft_accuracy_stderr[0] + 5e-3


def test_codeword_encoding():
    r = R.mode_correlation_mc(0.5, beta=1.0, lam=1.0, t=0.5, N=16, prompts=40, modes=1, phases=4, M=8,
                              encoding="codeword", seed=1, dt=0.01)
    assert np.all(np.isfinite(r.estimate)) and r.encoding == "codeword" and r.soft_accuracy is not None


@pytest.mark.parametrize(
    "kw,arg",
    [
        (dict(N=1), "N"),
        (dict(N=0), "N"),
        (dict(prompts=0), "prompts"),
        (dict(prompts=1), "prompts"),
        (dict(sigma0=0.01), "sigma0"),
        (dict(sigma0=1.0), "sigma0"),
        (dict(modes=0), "modes"),
        (dict(phases=0), "phases"),
        (dict(encoding="ascii"), "encoding"),
        (dict(encoding="codeword", M=8, phases=3), "phases"),
        (dict(encoding="codeword"), "M"),
        (dict(beta=0.0), "beta"),
        (dict(t=-1.0), "t"),
        (dict(dt=0.0), "dt"),
        (dict(M=-2), "M"),
    ],
)
def test_bad_input(kw, arg):
    base = dict(sigma0=0.5, beta=1.0, lam=1.0, t=0.1, N=8, prompts=4)
    base.update(kw)
    s0 = base.pop("sigma0")
    with pytest.raises(ValueError, match=f"^{arg}:"):
        R.mode_correlation_mc(s0, **base)


def test_bad_input_simulator():
    with pytest.raises(ValueError, match="^theta0:"):
        R.simulate_causal_alibi([0.0], beta=1, lam=1, t=1)
    with pytest.raises(ValueError, match="^theta0:"):
        R.simulate_causal_alibi([0.0, np.nan], beta=1, lam=1, t=1)
    with pytest.raises(ValueError, match="^times:"):
        R.simulate_causal_alibi([0.0, 1.0], beta=1, lam=1, t=1, times=[0.3337])
    with pytest.raises(ValueError, match="^lam:"):
        R.simulate_causal_alibi([0.0, 1.0], beta=1, lam=-1, t=1)


# ------------------------------------------------------------------------------------ CLI
def test_profile_cli_particles(tmp_path, capsys):
    import re

    from attnflow.cli import main

    png = tmp_path / "mc.png"
    argv = ["profile", "--t", "0.5", "--particles", "8", "--prompts", "20", "--seed", "3", "--dt", "0.01"]
    assert main([*argv, "--plot", str(png)]) == 0
    out = capsys.readouterr().out
    assert "particles: N=8 tokens, 20 prompts x 8 phases" in out and png.stat().st_size > 10_000
    rows = re.findall(r"^\s+(0\.\d+)\s+(\d+)\s+([-0-9.]+) \+- ([0-9.]+)\s+([0-9.]+)", out, flags=re.M)
    assert len(rows) == 7  # i* = 1..7 for N = 8
    s0 = np.array([float(r[0]) for r in rows])
    assert np.allclose([float(r[4]) for r in rows], R.profile(s0, beta=1, lam=1, t=0.5, M=8), atol=1e-5)
    assert main(argv) == 0  # reproducible with the seed
    assert capsys.readouterr().out.split("particles:")[1].split(" in ")[1].split("\n", 1)[1] == \
        out.split("particles:")[1].split(" in ")[1].split("\n", 1)[1].split("wrote")[0]


@pytest.mark.parametrize("argv,arg", [(["--particles", "1"], "--particles"),
                                      (["--particles", "8", "--prompts", "0"], "--prompts"),
                                      (["--particles", "8", "--seed", "-1"], "--seed"),
                                      (["--particles", "8", "--dt", "0"], "--dt")])
def test_profile_cli_particles_bad_input(argv, arg, capsys):
    from attnflow.cli import main

    assert main(["profile", *argv]) == 2
    assert f"error: {arg}:" in capsys.readouterr().err
