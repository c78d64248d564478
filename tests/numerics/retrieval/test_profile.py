"""Closed-form retrieval profile vs independent routes (Volterra solver, mpmath, finite differences,
brute-force grids, quadrature of the soft-accuracy definition) and the U-shape certificate."""

import math

import mpmath
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import integrate, special

from attnflow.numerics import retrieval as R

# ------------------------------------------------------------------------------------------------
# independent references


def mp_profile(s0, beta, lam, t, M, modes=20, dps=30):
    """S_t(s0) from mpmath (Bessel form, log/expm1 in mpmath), no code shared with the module."""
    with mpmath.workdps(dps):
        s0, lam, t, beta, M = map(mpmath.mpf, (s0, lam, t, beta, M))
        if lam == 0:
            p, Y = mpmath.mpf(1), -mpmath.log(s0)
        else:
            p = lam * mpmath.exp(lam * s0) / mpmath.expm1(lam)
            Y = mpmath.log(mpmath.expm1(lam) / mpmath.expm1(lam * s0))
        tot = mpmath.mpf(0)
        for n in range(1, modes + 1):
            c = n * n * mpmath.besseli(n, beta) * t
            w = mpmath.exp(-mpmath.pi**2 * n * n / (2 * M * M))
            psi = c if Y == 0 else mpmath.sqrt(c / Y) * mpmath.besseli(1, 2 * mpmath.sqrt(c * Y))
            tot += w * p * psi
        return float(tot)


# ------------------------------------------------------------------------------------------------
# accuracy against the independent Volterra solver (1e-8 relative required)


@pytest.mark.parametrize("lam", [0.0, 0.5, 1.0, 4.0])
@pytest.mark.parametrize("s0", [1e-3, 0.05, 0.3, 0.7, 0.95, 0.999])
def test_mode_response_matches_volterra_solver(lam, s0):
    for a in (0.1, 1.0, 3.0):
        ts = np.array([0.5, 1.0, 2.0])
        ref = R.solve_volterra_mode(s0, a=a, lam=lam, t=ts)
        got = R.mode_response(s0, a=a, lam=lam, t=ts)
        np.testing.assert_allclose(got, ref, rtol=1e-8, atol=0)


def test_mode_response_interior_cursor_matches_solver():
    # sigma < 1: the cursor in the middle of the prompt
    for lam in (0.0, 2.0):
        ref = R.solve_volterra_mode(0.2, a=1.3, lam=lam, t=1.7, sigma_end=0.6)
        got = R.mode_response(0.2, a=1.3, lam=lam, t=1.7, sigma=0.6)
        assert abs(got - ref) <= 1e-8 * abs(ref)


def test_profile_matches_volterra_mode_sum():
    beta, lam, M, t = 1.0, 1.0, 8.0, 1.5
    a = R.fourier_rates(beta, 20)
    w = R.mode_weights(M, 20)
    s0 = np.array([0.01, 0.2, 0.5, 0.9, 0.99])
    ref = np.array([sum(wn * R.solve_volterra_mode(s, a=an, lam=lam, t=t) for wn, an in zip(w, a)) for s in s0])
    got = R.profile(s0, beta=beta, lam=lam, t=t, M=M)
    np.testing.assert_allclose(got, ref, rtol=1e-8)


# ------------------------------------------------------------------------------------------------
# accuracy against mpmath, stability at both ends


@settings(max_examples=25)
@given(
    s0=st.floats(1e-6, 1.0),
    beta=st.floats(0.05, 5.0),
    lam=st.one_of(st.just(0.0), st.floats(1e-3, 8.0)),
    t=st.floats(0.0, 5.0),
    M=st.floats(1.0, 64.0),
)
def test_profile_matches_mpmath(s0, beta, lam, t, M):
    got = float(R.profile(s0, beta=beta, lam=lam, t=t, M=M))
    ref = mp_profile(s0, beta, lam, t, M)
    assert got == pytest.approx(ref, rel=1e-12, abs=1e-300)


def test_profile_stable_near_one_and_zero():
    beta, lam, M, t = 1.0, 1.0, 8.0, 1.5
    s = np.array([1 - 1e-15, 1 - 1e-12, 1 - 1e-9, 1 - 1e-6, 1.0])
    got = R.profile(s, beta=beta, lam=lam, t=t, M=M)
    ref = [mp_profile(x, beta, lam, t, M, dps=40) for x in s]
    np.testing.assert_allclose(got, ref, rtol=1e-12)
    tiny = np.array([1e-300, 1e-200, 1e-100, 1e-30])
    got = R.profile(tiny, beta=beta, lam=lam, t=t, M=M)
    assert np.all(np.isfinite(got))
    ref = [mp_profile(x, beta, lam, t, M, dps=40) for x in tiny]
    np.testing.assert_allclose(got, ref, rtol=1e-10)
    assert np.all(np.diff(got) < 0)  # primacy: grows as sigma0 -> 0


def test_small_lambda_approaches_lambda_zero():
    s = np.array([1e-4, 0.1, 0.5, 0.9, 1.0])
    S0 = R.profile(s, beta=1.0, lam=0.0, t=1.0, M=8)
    for lam in (1e-4, 1e-6, 1e-8):
        Sl = R.profile(s, beta=1.0, lam=lam, t=1.0, M=8)
        assert np.max(np.abs(Sl / S0 - 1)) < 20 * lam


def test_profile_broadcasts_over_times():
    s = np.linspace(0.01, 1, 7)
    ts = np.array([0.3, 1.0, 2.5])
    table = R.profile(s[None, :], beta=1.0, lam=1.0, t=ts[:, None], M=8)
    assert table.shape == (3, 7)
    for i, t in enumerate(ts):
        np.testing.assert_array_equal(table[i], R.profile(s, beta=1.0, lam=1.0, t=t, M=8))


def test_derivatives_match_finite_differences():
    for lam in (0.0, 0.7, 3.0):
        s = np.array([0.05, 0.3, 0.6, 0.95])
        h = 1e-5
        kw = dict(beta=1.3, lam=lam, t=1.1, M=8)
        d1 = R.profile_derivative(s, **kw)
        fd1 = (R.profile(s + h, **kw) - R.profile(s - h, **kw)) / (2 * h)
        np.testing.assert_allclose(d1, fd1, rtol=1e-7)
        d2 = R.profile_derivative(s, order=2, **kw)
        fd2 = (R.profile_derivative(s + h, **kw) - R.profile_derivative(s - h, **kw)) / (2 * h)
        np.testing.assert_allclose(d2, fd2, rtol=1e-6)


# ------------------------------------------------------------------------------------------------
# t_crit, end value, smallness: example of derivations/retrieval.md (retrieval.smallness)


def test_example_of_notes():
    sc = R.smallness_condition(beta=1.0, lam=1.0, t=1.5)
    assert sc.holds and sc.argmax_n == 1
    assert round(sc.t_bound, 3) == 2.237
    assert sc.lhs == pytest.approx(1.5 * special.iv(1, 1.0), rel=1e-14)
    assert sc.rhs == pytest.approx(2 * (1 - math.exp(-1)), rel=1e-14)
    assert R.t_crit(beta=1.0, lam=1.0, M=8) == pytest.approx(2.457, abs=5e-4)
    assert not R.smallness_condition(beta=1.0, lam=1.0, t=2.3).holds


def test_sup_rate_against_brute_force():
    for beta in (0.1, 1.0, 3.0, 4.8, 12.0):
        sc = R.smallness_condition(beta=beta, lam=1.0, t=1.0)
        n = np.arange(1, 400)
        a = n**2 * special.iv(n, beta)
        assert sc.sup_a == pytest.approx(a.max(), rel=1e-14)
        assert sc.argmax_n == n[a.argmax()]
    # large lam: the 3 - sqrt 3 term binds
    assert R.smallness_condition(beta=1.0, lam=5.0, t=1.0).binding == "3 - sqrt 3"


@pytest.mark.parametrize("beta,lam,M", [(1.0, 1.0, 8.0), (2.5, 0.4, 16.0), (0.3, 3.0, 4.0)])
def test_t_crit_is_the_sign_change_of_the_right_slope(beta, lam, M):
    tc = R.t_crit(beta=beta, lam=lam, M=M)
    h = 1e-7
    for t, sign in ((tc * (1 - 1e-4), 1), (tc * (1 + 1e-4), -1)):
        # one-sided finite difference at sigma0 = 1 (independent of the analytic derivative)
        fd = (R.profile(1.0, beta=beta, lam=lam, t=t, M=M) - R.profile(1 - h, beta=beta, lam=lam, t=t, M=M)) / h
        assert np.sign(fd) == sign


def test_end_value_formula():
    for beta, lam, M, t in [(1.0, 1.0, 8.0, 1.5), (3.0, 0.0, 5.0, 0.2), (0.5, 6.0, 32.0, 4.0)]:
        a = np.array([n * n * float(mpmath.besseli(n, beta)) for n in range(1, 21)])
        w = np.exp(-np.pi**2 * np.arange(1, 21) ** 2 / (2 * M * M))
        kap = 1.0 if lam == 0 else lam / (1 - math.exp(-lam))
        assert R.profile(1.0, beta=beta, lam=lam, t=t, M=M) == pytest.approx(kap * t * np.dot(w, a), rel=1e-13)


# ------------------------------------------------------------------------------------------------
# argmin


@pytest.mark.parametrize("t", [0.25, 1.0, 2.0, 2.4])
def test_argmin_against_brute_force_grid(t):
    kw = dict(beta=1.0, lam=1.0, t=t, M=8)
    am = R.argmin(**kw)
    assert am.interior
    s = np.linspace(1e-3, 1.0, 200001)
    S = R.profile(s, **kw)
    i = int(np.argmin(S))
    assert abs(am.sigma0 - s[i]) < 2e-5
    assert am.value <= S[i] + 1e-12
    assert abs(R.profile_derivative(am.sigma0, **kw)) < 1e-9 * am.value / am.sigma0


def test_argmin_reports_absence():
    am = R.argmin(beta=1.0, lam=1.0, t=3.0, M=8)
    assert not am and am.sigma0 == 1.0 and "no recency" in am.reason
    am0 = R.argmin(beta=1.0, lam=0.0, t=1.0, M=8)
    assert not am0 and "lam = 0" in am0.reason
    flat = R.argmin(beta=1.0, lam=1.0, t=0.0, M=8)
    assert not flat and flat.sigma0 is None
    assert "no interior minimum" in str(am)


# ------------------------------------------------------------------------------------------------
# soft accuracy: first-order formula vs quadrature of the Gaussian-sum definition


def test_soft_accuracy_vs_definition_by_quadrature():
    beta, lam, M, t, N, s0 = 1.0, 1.0, 8.0, 1.5, 64, 0.3
    a = R.fourier_rates(beta, 20)
    g = np.array([R.mode_response(s0, a=an, lam=lam, t=t) for an in a])
    # law of x = theta_N(t) - theta_i*(0) with Fourier coefficients E e^{inx} = g_n/N (n != 0), 1 (n = 0)
    dens = lambda x: (1 + 2 * np.sum(g / N * np.cos(np.arange(1, 21) * x))) / (2 * np.pi)
    gauss = lambda x: sum(math.exp(-M * M * (x - 2 * math.pi * k) ** 2 / (2 * math.pi**2)) for k in range(-3, 4))
    val, _ = integrate.quad(lambda x: dens(x) * gauss(x), -math.pi, math.pi, epsabs=1e-14, epsrel=1e-13, limit=200)
    got = R.soft_accuracy(s0, beta=beta, lam=lam, t=t, M=M, N=N)
    assert got == pytest.approx(val, rel=1e-11)


# ------------------------------------------------------------------------------------------------
# certification (claim retrieval.ushape)


def _dense_sign_changes(kw):
    s = np.concatenate([np.geomspace(1e-12, 1e-3, 2000), np.linspace(1e-3, 1.0, 20000)])
    d = R.profile_derivative(s, **kw)
    return s, d


@settings(max_examples=12)
@given(
    beta=st.floats(0.2, 3.0),
    lam=st.floats(0.2, 4.0),
    frac=st.floats(0.05, 1.0),
    M=st.floats(2.0, 64.0),
)
def test_certified_inside_smallness_condition(beta, lam, frac, M):
    bound = R.smallness_condition(beta=beta, lam=lam, t=1.0).t_bound
    t = frac * bound
    assert R.smallness_condition(beta=beta, lam=lam, t=t).holds
    cert = R.certify_ushape(beta=beta, lam=lam, t=t, M=M)
    assert cert.verdict == "certified", str(cert)
    assert cert.primacy and cert.recency and cert.unique_minimum and cert.critical_points == 1
    # the bracket contains the numerical minimiser
    am = R.argmin(beta=beta, lam=lam, t=t, M=M)
    assert cert.bracket[0] <= am.sigma0 <= cert.bracket[1]


def test_certificate_consistent_with_dense_derivative_signs():
    for kw in (dict(beta=1.0, lam=1.0, t=1.5, M=8), dict(beta=1.0, lam=1.0, t=2.4, M=8),
               dict(beta=0.1, lam=5.0, t=30.0, M=8)):
        cert = R.certify_ushape(**kw)
        assert cert.verdict == "certified"
        s, d = _dense_sign_changes(kw)
        changes = np.nonzero(np.diff(np.sign(d)) != 0)[0]
        assert len(changes) == 1
        assert cert.bracket[0] <= s[changes[0] + 1] and s[changes[0]] <= cert.bracket[1]
        assert np.all(d[s <= cert.sigma_tail] < 0)


def test_certified_outside_smallness_condition():
    # beta = 1, lam = 1, M = 8: condition holds for t <= 2.237, recency up to t_crit = 2.457
    assert not R.smallness_condition(beta=1.0, lam=1.0, t=2.4).holds
    assert R.certify_ushape(beta=1.0, lam=1.0, t=2.4, M=8).verdict == "certified"


def test_not_u_shaped_cases():
    c = R.certify_ushape(beta=1.0, lam=1.0, t=3.0, M=8)
    assert c.verdict == "not U-shaped" and c.recency is False
    assert R.profile_derivative(1.0, beta=1.0, lam=1.0, t=3.0, M=8) < 0
    c0 = R.certify_ushape(beta=1.0, lam=0.0, t=1.0, M=8)
    assert c0.verdict == "not U-shaped" and c0.recency is False
    assert R.certify_ushape(beta=1.0, lam=1.0, t=0.0, M=8).verdict == "not U-shaped"


def test_no_recency_but_interior_local_minimum():
    # large lam, t > t_crit: S_t decreases, has an interior local minimum and a local maximum, and
    # decreases again into sigma0 = 1 (outside the smallness condition)
    kw = dict(beta=3.0, lam=10.0, t=0.5, M=32)
    assert kw["t"] > R.t_crit(beta=3.0, lam=10.0, M=32)
    c = R.certify_ushape(**kw)
    assert c.verdict == "not U-shaped" and c.recency is False and c.critical_points == 2
    s, d = _dense_sign_changes(kw)
    assert len(np.nonzero(np.diff(np.sign(d)) != 0)[0]) == 2
    am = R.argmin(**kw)
    assert am.interior and len(am.local_minima) == 1 and am.value < R.profile(1.0, **kw)


def test_inconclusive_when_enclosure_cannot_decide():
    # 3 modes: the rigorous bound on the discarded modes (n >= 4) is too wide to separate the zero
    # of S_t'; with 20 modes the same parameters are certified
    c = R.certify_ushape(beta=1.0, lam=1.0, t=2.0, M=8, modes=3)
    assert c.verdict == "inconclusive", str(c)
    assert R.certify_ushape(beta=1.0, lam=1.0, t=2.0, M=8, modes=20).verdict == "certified"
    # at the 3-mode threshold the sign of S_t'(1^-) is not decided by the enclosure
    tc3 = R.t_crit(beta=1.0, lam=1.0, M=8, modes=3)
    c3 = R.certify_ushape(beta=1.0, lam=1.0, t=tc3, M=8, modes=3)
    assert c3.verdict == "inconclusive" and c3.recency is None, str(c3)


# ------------------------------------------------------------------------------------------------
# bad input


@pytest.mark.parametrize(
    "call,arg",
    [
        (lambda: R.profile(0.5, beta=1, lam=1, t=1, M=0), "M"),
        (lambda: R.profile(0.5, beta=1, lam=1, t=-1, M=8), "t"),
        (lambda: R.profile(0.0, beta=1, lam=1, t=1, M=8), "sigma0"),
        (lambda: R.profile(1.5, beta=1, lam=1, t=1, M=8), "sigma0"),
        (lambda: R.profile(np.nan, beta=1, lam=1, t=1, M=8), "sigma0"),
        (lambda: R.profile(0.5, beta=1, lam=1, t=1, M=8, modes=0), "modes"),
        (lambda: R.profile(0.5, beta=1, lam=-1, t=1, M=8), "lam"),
        (lambda: R.profile(0.5, beta=-1, lam=1, t=1, M=8), "beta"),
        (lambda: R.t_crit(beta=0, lam=1, M=8), "beta"),
        (lambda: R.smallness_condition(beta=0, lam=1, t=1), "beta"),
        (lambda: R.soft_accuracy(0.5, beta=1, lam=1, t=1, M=8, N=1), "N"),
        (lambda: R.argmin(beta=1, lam=1, t=-0.1, M=8), "t"),
        (lambda: R.certify_ushape(beta=1, lam=1, t=1, M=-2), "M"),
        (lambda: R.mode_response(0.5, a=-1, lam=1, t=1), "a"),
        (lambda: R.profile_derivative(0.5, beta=1, lam=1, t=1, M=8, order=3), "order"),
    ],
)
def test_bad_input_names_the_argument(call, arg):
    with pytest.raises(ValueError, match=rf"^{arg}:"):
        call()
