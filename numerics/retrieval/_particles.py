r"""Causal ALiBi particles on the circle and the Monte Carlo retrieval estimators (private module).

The public names are re-exported by :mod:`attnflow.numerics.retrieval`.

Model (arXiv 2605.09213, causal ALiBi attention on the circle): angles :math:`\theta_1..\theta_N`,

.. math::

    \dot\theta_j = Z_{N,j}^{-1}\sum_{k<j} r^{\,j-k}\, w_\beta'(\theta_j-\theta_k),\qquad
    r = e^{-\lambda/N},\quad Z_{N,j} = \sum_{k<j} r^{\,j-k},\quad w_\beta(\theta)=e^{\beta\cos\theta},

and :math:`\theta_1` never moves.

Fast evaluation (the *Fourier recursion*).  By Jacobi--Anger,
:math:`w_\beta'(x) = -2\sum_{n\ge1} n I_n(\beta)\sin(nx)`, and with :math:`z_k = e^{i\theta_k}`

.. math::

    \sum_{k<j} r^{\,j-k}\sin\big(n(\theta_j-\theta_k)\big) = \operatorname{Im}\big(z_j^n S_{j,n}\big),\qquad
    S_{1,n} = 0,\quad S_{j+1,n} = r\,\big(S_{j,n} + \bar z_j^{\,n}\big),

so one field evaluation costs :math:`O(N L)` (L Fourier modes, chosen so that the neglected tail
:math:`2\sum_{n>L} n I_n(\beta)` is below ``1e-16 * max(1, sum_n 2 n I_n(beta))``, bounded with
:math:`I_n(\beta)\le(\beta/2)^n I_0(\beta)/n!`) instead of :math:`O(N^2)` exponentials, and it
needs no transcendental function per pair.  The classical RK4 stages are evaluated at
:math:`z\,e^{i h k}` (the stage angles :math:`\theta + h k`) with :math:`e^{ix}` summed from its
Taylor series for :math:`|x| \le 1/2` (error < 1e-21), and :math:`z` is re-synchronised with
:math:`(\cos\theta, \sin\theta)` every 64 steps: the scheme is exactly RK4 in :math:`\theta`
up to rounding.  The whole time loop runs inside one numba kernel, parallel over blocks of
prompts (the prompt index is the innermost, vectorised loop).  The generated kernel
``attnflow.numerics._generated.causal_alibi`` (direct pair sum) is the reference it is tested
against.
"""

from __future__ import annotations

import dataclasses
import math
import time as _time

import numpy as np
from numba import njit, prange
from scipy import special

from attnflow._base.progress import enabled, progress_bar
from attnflow._base.validate import integer, real

from . import _closed as _c

__all__ = [
    "fourier_field_coefficients",
    "causal_alibi_velocity",
    "simulate_causal_alibi",
    "ParticleEstimate",
    "mode_correlation_mc",
]

_BLOCK = 8  # prompts per block (innermost, vectorised loop)
_RESYNC = 64  # steps between re-synchronisations z = e^{i theta}
_TAYLOR_MAX = 0.5  # |h k| bound below which e^{ix} is summed from its Taylor series
_DT_DEFAULT = 0.0025  # the authors' RK4 step (arXiv 2605.09213)


# --------------------------------------------------------------------------------------------
# Fourier coefficients of the content factor


def fourier_field_coefficients(beta: float, tol: float = 1e-16) -> np.ndarray:
    r"""Coefficients :math:`b_n = -2 n I_n(\beta)`, n = 1..L, of :math:`w_\beta'(x) = \sum_n b_n \sin(nx)`.

    .. math::

        w_\beta'(x) = -\beta\sin x\,e^{\beta\cos x} = -2\sum_{n\ge1} n I_n(\beta)\sin(nx),
        \qquad \sum_{n>L} 2 n I_n(\beta) \le \mathrm{tol}\cdot\max\Big(1, \sum_{n\le L} 2nI_n(\beta)\Big),

    with the tail bounded by :math:`I_n(\beta)\le(\beta/2)^n I_0(\beta)/n!` (termwise from the power
    series, :math:`(k+n)!\ge k!\,n!`).  ``beta = 0`` gives an empty array (no motion).

    References
    ----------
    Jacobi--Anger expansion :math:`e^{\beta\cos x} = I_0(\beta) + 2\sum_{n\ge1} I_n(\beta)\cos(nx)`
    (DLMF 10.35.3); arXiv:2605.09213; ``derivations/retrieval.md``.
    """
    b = real("beta", beta)
    if b < 0:
        raise ValueError(f"beta: the retrieval model needs beta >= 0, got {b}")
    if not (0 < tol < 1):
        raise ValueError(f"tol: expected 0 < tol < 1, got {tol}")
    if b == 0:
        return np.zeros(0)
    if b > 200:
        raise ValueError(f"beta: the Fourier recursion supports beta <= 200 (the field is of size e^beta), got {b}")
    n_all = np.arange(1, int(4 * b + 60) + 1, dtype=float)
    terms = 2.0 * n_all * special.iv(n_all, b)
    total = float(np.sum(terms))
    scale = max(1.0, total)
    log_pref = math.log(special.ive(0, b)) + b + math.log(2.0)
    # rigorous tail bound: sum_{n>L} 2 n (b/2)^n I_0(b) / n!; the ratio of consecutive bound terms is
    # ((n+1)/n) (b/2)/(n+1) = b/(2n) <= 1/2 once n >= b, so the tail is <= 2 x its first term there.
    L = 1
    while True:
        n1 = L + 1
        if n1 >= b:
            log_first = log_pref + math.log(n1) + n1 * math.log(b / 2.0) - math.lgamma(n1 + 1)
            if math.log(2.0) + log_first <= math.log(tol * scale):
                break
        L += 1
        if L > 10_000:  # pragma: no cover - impossible for beta <= 200
            raise RuntimeError("fourier_field_coefficients: no truncation found")
    n = np.arange(1, L + 1, dtype=float)
    return -2.0 * n * special.iv(n, b)


def _position_weights(N: int, lam: float) -> tuple[float, np.ndarray]:
    """r = e^{-lam/N} and 1/Z_{N,j} (0 for the first token), Z by the stable recursion Z_{j+1} = r (Z_j + 1)."""
    r = math.exp(-lam / N)
    zinv = np.zeros(N)
    Z = 0.0
    for j in range(1, N):
        Z = r * (Z + 1.0)
        zinv[j] = 1.0 / Z
    return r, zinv


# --------------------------------------------------------------------------------------------
# numba kernels (block layout: arrays (N, B), the prompt index b innermost)


@njit(cache=True, fastmath={"contract"}, inline="always")
def _cis_taylor(x):
    """(cos x, sin x) from the Taylor series to x^17 / x^18 (error < 1e-21 for |x| <= 1/2)."""
    x2 = x * x
    c = 1.0 + x2 * (-1.0 / 2 + x2 * (1.0 / 24 + x2 * (-1.0 / 720 + x2 * (1.0 / 40320 + x2 * (
        -1.0 / 3628800 + x2 * (1.0 / 479001600 + x2 * (-1.0 / 87178291200 + x2 * (
            1.0 / 20922789888000 + x2 * (-1.0 / 6402373705728000)))))))))
    s = x * (1.0 + x2 * (-1.0 / 6 + x2 * (1.0 / 120 + x2 * (-1.0 / 5040 + x2 * (1.0 / 362880 + x2 * (
        -1.0 / 39916800 + x2 * (1.0 / 6227020800 + x2 * (-1.0 / 1307674368000 + x2 * (
            1.0 / 355687428096000 + x2 * (-1.0 / 121645100408832000))))))))))
    return c, s


@njit(cache=True, fastmath={"contract"})
def _field_block(zr, zi, coef, r, zinv, out, Sre, Sim, pr, pim, acc):
    """out[j, b] = Z_j^{-1} sum_n coef[n] Im(z_j^{n+1} S_{j,n+1}) for one block of _BLOCK prompts."""
    N = zr.shape[0]
    L = coef.shape[0]
    for n in range(L):
        for b in range(_BLOCK):
            Sre[n, b] = 0.0
            Sim[n, b] = 0.0
    for j in range(N):
        for b in range(_BLOCK):
            pr[b] = 1.0
            pim[b] = 0.0
            acc[b] = 0.0
        for n in range(L):
            cn = coef[n]
            for b in range(_BLOCK):
                ar = zr[j, b]
                ai = zi[j, b]
                tr = pr[b] * ar - pim[b] * ai
                ti = pr[b] * ai + pim[b] * ar
                pr[b] = tr
                pim[b] = ti
                sr = Sre[n, b]
                si = Sim[n, b]
                acc[b] += cn * (tr * si + ti * sr)
                Sre[n, b] = r * (sr + tr)
                Sim[n, b] = r * (si - ti)
        zj = zinv[j]
        for b in range(_BLOCK):
            out[j, b] = acc[b] * zj


@njit(cache=True, fastmath={"contract"})
def _field_single(zr, zi, coef, r, zinv, out, PwR, PwI, Sre, Sim):
    """The same field for one prompt (arrays (N, 1)): powers vectorised over tokens, the
    recursion vectorised over modes."""
    N = zr.shape[0]
    L = coef.shape[0]
    if L == 0:
        for j in range(N):
            out[j, 0] = 0.0
        return
    for j in range(N):
        PwR[0, j] = zr[j, 0]
        PwI[0, j] = zi[j, 0]
    for n in range(1, L):
        for j in range(N):
            a = PwR[n - 1, j]
            c = PwI[n - 1, j]
            PwR[n, j] = a * zr[j, 0] - c * zi[j, 0]
            PwI[n, j] = a * zi[j, 0] + c * zr[j, 0]
    for n in range(L):
        Sre[n] = 0.0
        Sim[n] = 0.0
    for j in range(N):
        acc = 0.0
        for n in range(L):
            tr = PwR[n, j]
            ti = PwI[n, j]
            sr = Sre[n]
            si = Sim[n]
            acc += coef[n] * (tr * si + ti * sr)
            Sre[n] = r * (sr + tr)
            Sim[n] = r * (si - ti)
        out[j, 0] = acc * zinv[j]


@njit(cache=True, fastmath={"contract"})
def _field(zr, zi, coef, r, zinv, out, Sre, Sim, pr, pim, acc, PwR, PwI):
    if zr.shape[1] == 1:
        _field_single(zr, zi, coef, r, zinv, out, PwR, PwI, Sre[:, 0], Sim[:, 0])
    else:
        _field_block(zr, zi, coef, r, zinv, out, Sre, Sim, pr, pim, acc)


@njit(cache=True, fastmath={"contract"})
def _rotate(zr, zi, k, h, taylor, outr, outi):
    """(outr + i outi) = (zr + i zi) e^{i h k} elementwise."""
    N, B = zr.shape
    for j in range(N):
        for b in range(B):
            x = h * k[j, b]
            if taylor:
                c, s = _cis_taylor(x)
            else:
                c = math.cos(x)
                s = math.sin(x)
            a = zr[j, b]
            d = zi[j, b]
            outr[j, b] = a * c - d * s
            outi[j, b] = a * s + d * c


@njit(cache=True, parallel=True, fastmath={"contract"})
def _integrate(theta0, coef, r, zinv, h, nsteps, save_steps, col0, taylor, out):
    """RK4 for P prompts (theta0 shape (P, N)); out[s, p, :] = theta[p, col0:] after save_steps[s] steps."""
    P, N = theta0.shape
    L = coef.shape[0]
    nfull = P // _BLOCK
    nblocks = nfull + (P - nfull * _BLOCK)  # full blocks of _BLOCK prompts, then single prompts
    nsave = save_steps.shape[0]
    for blk in prange(nblocks):
        if blk < nfull:
            p0 = blk * _BLOCK
            B = _BLOCK
        else:
            p0 = nfull * _BLOCK + (blk - nfull)
            B = 1
        PwR = np.empty((max(L, 1), N if B == 1 else 1))
        PwI = np.empty((max(L, 1), N if B == 1 else 1))
        th = np.empty((N, B))
        for j in range(N):
            for b in range(B):
                th[j, b] = theta0[p0 + b, j]
        zr = np.cos(th)
        zi = np.sin(th)
        z2r = np.empty((N, B))
        z2i = np.empty((N, B))
        k1 = np.empty((N, B))
        k2 = np.empty((N, B))
        k3 = np.empty((N, B))
        k4 = np.empty((N, B))
        Sre = np.empty((max(L, 1), B))
        Sim = np.empty((max(L, 1), B))
        pr = np.empty(B)
        pim = np.empty(B)
        acc = np.empty(B)
        isave = 0
        while isave < nsave and save_steps[isave] == 0:
            for j in range(col0, N):
                for b in range(B):
                    out[isave, p0 + b, j - col0] = th[j, b]
            isave += 1
        for step in range(1, nsteps + 1):
            _field(zr, zi, coef, r, zinv, k1, Sre, Sim, pr, pim, acc, PwR, PwI)
            _rotate(zr, zi, k1, 0.5 * h, taylor, z2r, z2i)
            _field(z2r, z2i, coef, r, zinv, k2, Sre, Sim, pr, pim, acc, PwR, PwI)
            _rotate(zr, zi, k2, 0.5 * h, taylor, z2r, z2i)
            _field(z2r, z2i, coef, r, zinv, k3, Sre, Sim, pr, pim, acc, PwR, PwI)
            _rotate(zr, zi, k3, h, taylor, z2r, z2i)
            _field(z2r, z2i, coef, r, zinv, k4, Sre, Sim, pr, pim, acc, PwR, PwI)
            for j in range(N):
                for b in range(B):
                    k1[j, b] = (k1[j, b] + 2.0 * k2[j, b] + 2.0 * k3[j, b] + k4[j, b]) * (1.0 / 6.0)
                    th[j, b] += h * k1[j, b]
            if step % _RESYNC == 0:
                for j in range(N):
                    for b in range(B):
                        zr[j, b] = math.cos(th[j, b])
                        zi[j, b] = math.sin(th[j, b])
            else:
                _rotate(zr, zi, k1, h, taylor, z2r, z2i)
                for j in range(N):
                    for b in range(B):
                        zr[j, b] = z2r[j, b]
                        zi[j, b] = z2i[j, b]
            while isave < nsave and save_steps[isave] == step:
                for j in range(col0, N):
                    for b in range(B):
                        out[isave, p0 + b, j - col0] = th[j, b]
                isave += 1


@njit(cache=True, parallel=True, fastmath=False)
def _velocity_batched(theta, coef, r, zinv, out):
    P, N = theta.shape
    L = coef.shape[0]
    nfull = P // _BLOCK
    nblocks = nfull + (P - nfull * _BLOCK)
    for blk in prange(nblocks):
        if blk < nfull:
            p0 = blk * _BLOCK
            B = _BLOCK
        else:
            p0 = nfull * _BLOCK + (blk - nfull)
            B = 1
        zr = np.empty((N, B))
        zi = np.empty((N, B))
        for j in range(N):
            for b in range(B):
                zr[j, b] = math.cos(theta[p0 + b, j])
                zi[j, b] = math.sin(theta[p0 + b, j])
        v = np.empty((N, B))
        _field(zr, zi, coef, r, zinv, v, np.empty((max(L, 1), B)), np.empty((max(L, 1), B)),
               np.empty(B), np.empty(B), np.empty(B), np.empty((max(L, 1), N)), np.empty((max(L, 1), N)))
        for j in range(N):
            for b in range(B):
                out[p0 + b, j] = v[j, b]


# --------------------------------------------------------------------------------------------
# validation helpers


def _check_angles(theta0) -> np.ndarray:
    try:
        a = np.asarray(theta0, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"theta0: not a numeric array ({exc})") from None
    if a.ndim not in (1, 2):
        raise ValueError(f"theta0: expected angles of shape (N,) or (P, N), got shape {a.shape}")
    if a.shape[-1] < 2 or a.size == 0:
        raise ValueError(f"theta0: need N >= 2 tokens (and P >= 1 prompts), got shape {a.shape}")
    if not np.all(np.isfinite(a)):
        raise ValueError("theta0: contains NaN or infinite angles")
    return a


def _check_dt(dt) -> float:
    d = real("dt", dt)
    if d <= 0:
        raise ValueError(f"dt: the RK4 step must be > 0, got {d}")
    return d


def _step_grid(t: float, dt: float, times) -> tuple[float, int, np.ndarray, np.ndarray]:
    """Steps of size h = t / ceil(t/dt) <= dt; the requested save times must be grid points."""
    nsteps = max(1, int(math.ceil(t / dt - 1e-9))) if t > 0 else 0
    h = t / nsteps if nsteps else 0.0
    if times is None:
        tt = np.array([t])
    else:
        tt = np.atleast_1d(np.asarray(times, dtype=float))
        if tt.ndim != 1 or tt.size == 0 or not np.all(np.isfinite(tt)):
            raise ValueError("times: expected a non-empty 1-D array of finite save times")
        if np.any(tt < 0) or np.any(tt > t * (1 + 1e-12)) or np.any(np.diff(tt) <= 0):
            raise ValueError(f"times: save times must be increasing and lie in [0, t = {t}]")
    if nsteps == 0:
        steps = np.zeros(tt.size, dtype=np.int64)
    else:
        steps = np.rint(tt / h).astype(np.int64)
        bad = np.abs(steps * h - tt) > 1e-9 * max(1.0, t)
        if np.any(bad):
            raise ValueError(f"times: {tt[bad][0]} is not on the RK4 grid h = t/ceil(t/dt) = {h:.6g}; "
                             "choose save times that are multiples of h")
    return h, nsteps, steps, tt


def _taylor_ok(coef: np.ndarray, h: float) -> bool:
    return float(np.sum(np.abs(coef))) * h <= _TAYLOR_MAX


# --------------------------------------------------------------------------------------------
# public: field and simulator


def causal_alibi_velocity(theta, *, beta, lam) -> np.ndarray:
    r"""The causal ALiBi field by the Fourier recursion (same values as the generated kernel).

    .. math::

        \dot\theta_j = Z_{N,j}^{-1}\sum_{n=1}^{L} b_n\,\operatorname{Im}\big(z_j^n S_{j,n}\big),\quad
        S_{j+1,n} = e^{-\lambda/N}\big(S_{j,n} + \bar z_j^{\,n}\big),\quad z_j = e^{i\theta_j},

    with :math:`b_n` from :func:`fourier_field_coefficients` (truncation error below
    ``1e-16 * max(1, sum 2 n I_n(beta))`` absolute).

    Parameters
    ----------
    theta : array_like, shape (N,) or (P, N)
    beta : float
        Inverse temperature, 0 <= beta <= 200.
    lam : float
        ALiBi slope >= 0.

    References
    ----------
    arXiv 2605.09213.
    """
    a = _check_angles(theta)
    p = _c.check_params(beta=beta, lam=lam)
    coef = fourier_field_coefficients(p["beta"])
    r, zinv = _position_weights(a.shape[-1], p["lam"])
    A = np.ascontiguousarray(a.reshape(-1, a.shape[-1]))
    out = np.empty_like(A)
    _velocity_batched(A, coef, r, zinv, out)
    return out.reshape(a.shape)


def simulate_causal_alibi(theta0, *, beta, lam, t, dt=_DT_DEFAULT, times=None, last_only=False) -> np.ndarray:
    r"""Integrate the causal ALiBi particles with classical RK4 (one fused numba kernel).

    .. math::

        \dot\theta_j = Z_{N,j}^{-1}\sum_{k<j} e^{-\lambda(j-k)/N} w_\beta'(\theta_j-\theta_k),\qquad
        \theta_{m+1} = \theta_m + \tfrac h6(k_1 + 2k_2 + 2k_3 + k_4),

    with :math:`h = t/\lceil t/dt\rceil \le dt` and the field evaluated by the Fourier recursion
    (see :func:`causal_alibi_velocity`).  P prompts (rows of ``theta0``) are integrated in one
    kernel call, parallel over blocks of prompts.  Angles are not wrapped.

    Parameters
    ----------
    theta0 : array_like, shape (N,) or (P, N)
        Initial angles, N >= 2.
    beta, lam : float
        Inverse temperature (0..200) and ALiBi slope (>= 0).
    t : float
        Final time >= 0.
    dt : float
        Maximal RK4 step (default 0.0025, as the authors).
    times : array_like, optional
        Increasing save times in [0, t], multiples of h; default ``[t]``.
    last_only : bool
        Return only the last token (saves memory in Monte Carlo runs).

    Returns
    -------
    numpy.ndarray
        Shape ``(T,) + theta0.shape`` (``(T, P)`` / ``(T,)`` with ``last_only``).

    References
    ----------
    arXiv 2605.09213 (RK4, dt = 0.0025, N = 64, beta = lam = 1, T = 10).
    """
    a = _check_angles(theta0)
    p = _c.check_params(beta=beta, lam=lam, t=t)
    if np.ndim(p["t"]) != 0:
        raise ValueError("t: expected one final time (use times= for snapshots)")
    tf = float(p["t"])
    h, nsteps, steps, _ = _step_grid(tf, _check_dt(dt), times)
    coef = fourier_field_coefficients(p["beta"])
    N = a.shape[-1]
    r, zinv = _position_weights(N, p["lam"])
    A = np.ascontiguousarray(a.reshape(-1, N))
    col0 = N - 1 if last_only else 0
    out = np.empty((steps.size, A.shape[0], N - col0))
    _integrate(A, coef, r, zinv, h, nsteps, steps, col0, _taylor_ok(coef, h), out)
    if last_only:
        out = out[:, :, 0]
        return out if a.ndim == 2 else out[:, 0]
    return out if a.ndim == 2 else out[:, 0, :]


# --------------------------------------------------------------------------------------------
# Monte Carlo


@dataclasses.dataclass(frozen=True)
class ParticleEstimate:
    r"""Monte Carlo estimates of the retrieval correlations (one row per fact position).

    Attributes
    ----------
    sigma0 : ndarray (S,)
        Requested fact positions; the fact is token ``i_star = floor(sigma0 N)`` (1-based).
    i_star : ndarray (S,) of int
    N, prompts, phases, rows : int
        Prompt length, independent prompt draws per position, phases per draw (1 without
        variance reduction), kernel rows simulated in total.
    t, beta, lam : float
    modes : int
        Fourier modes n = 1..modes estimated.
    estimate, stderr : ndarray (S, modes)
        :math:`N\,\mathrm{Re}\,\widehat{E}[e^{in(\theta_N(t)-\theta_{i^*}(0))}]` and its standard error.
    estimate_imag, stderr_imag : ndarray (S, modes)
        The imaginary part (0 in expectation by reflection symmetry) and its standard error.
    closed_form : ndarray (S, modes)
        :math:`g_{a_n}(t,1;\sigma_0)`, the N -> infinity limit (``derivations/retrieval.md``).
    M : float or None
    soft_accuracy, soft_accuracy_stderr : ndarray (S,) or None
        :math:`\mathcal A_N(t,\sigma_0)` estimated from the wrapped-Gaussian score of the particles.
    soft_accuracy_closed : ndarray (S,) or None
        The first-order closed form :func:`soft_accuracy` (20 modes).
    encoding : str
    variance_reduction : bool
    seed : int
    seconds : float
        Wall time of the simulation.
    samples : ndarray (S, prompts, modes) complex
        Per-prompt values :math:`N\,\frac1K\sum_k e^{-in\varphi_k}e^{in\theta_N(t;p,\varphi_k)}` (their
        mean is ``estimate + 1j * estimate_imag``), for bootstrap confidence intervals.
    """

    sigma0: np.ndarray
    i_star: np.ndarray
    N: int
    prompts: int
    phases: int
    rows: int
    t: float
    beta: float
    lam: float
    modes: int
    estimate: np.ndarray
    stderr: np.ndarray
    estimate_imag: np.ndarray
    stderr_imag: np.ndarray
    closed_form: np.ndarray
    M: float | None
    soft_accuracy: np.ndarray | None
    soft_accuracy_stderr: np.ndarray | None
    soft_accuracy_closed: np.ndarray | None
    encoding: str
    variance_reduction: bool
    seed: int
    seconds: float
    samples: np.ndarray

    @property
    def error(self) -> np.ndarray:
        """estimate - closed_form, shape (S, modes)."""
        return self.estimate - self.closed_form

    @property
    def z_scores(self) -> np.ndarray:
        """(estimate - closed_form) / stderr, shape (S, modes)."""
        return self.error / self.stderr


def _wrapped_score(delta: np.ndarray, M: float) -> np.ndarray:
    r""":math:`\sum_k \exp(-M^2(\Delta-2\pi k)^2/(2\pi^2))`, k truncated where terms < 1e-17."""
    d = np.remainder(delta + np.pi, 2 * np.pi) - np.pi  # in [-pi, pi)
    K = int(math.ceil((math.sqrt(2 * 39.2) * 1.0 / M + 1) / 2)) + 1  # (2K-1) M >= ~8.9
    out = np.zeros_like(d)
    for k in range(-K, K + 1):
        out += np.exp(-(M * M) * (d - 2 * np.pi * k) ** 2 / (2 * np.pi**2))
    return out


def mode_correlation_mc(sigma0, *, beta, lam, t, N, prompts, modes=3, phases=16, seed=0, M=None,
                        encoding="uniform", variance_reduction=True, dt=_DT_DEFAULT,
                        progress: bool | None = None) -> ParticleEstimate:
    r"""Monte Carlo estimate of :math:`N\,E[e^{in(\theta_N(t)-\theta_{i^*}(0))}]`, n = 1..modes (and of :math:`\mathcal A_N`).

    The fact is token :math:`i^* = \lfloor\sigma_0 N\rfloor` (1-based; must satisfy
    :math:`1\le i^*\le N-1`).  With variance reduction (default), each of the ``prompts``
    independent prompts is simulated ``phases`` = K times with :math:`\theta_{i^*}(0) = \varphi_k =
    2\pi k/K` and all other tokens common (common random numbers), and

    .. math::

        \widehat C_n = \frac{N}{P}\sum_{p=1}^{P}\frac1K\sum_{k=0}^{K-1}
        e^{-in\varphi_k}\,e^{in\theta_N(t;\,p,\varphi_k)},

    which is unbiased for every K because, by rotation invariance of the other tokens' law,
    :math:`E[e^{in(\theta_N(t)-\theta_{i^*}(0))}\mid\theta_{i^*}(0)=\varphi]` does not depend on
    :math:`\varphi`; the leading O(1) noise cancels in the phase average (exactly for n not a
    multiple of K).  Without variance reduction each prompt is simulated once with
    :math:`\theta_{i^*}(0)` drawn like the others.  Standard errors are the sample standard
    deviation over prompts divided by :math:`\sqrt P`.  The soft accuracy is estimated from the same
    particles with the wrapped-Gaussian score

    .. math::

        \mathcal A_N(t,\sigma_0) = E\sum_{k\in\mathbb Z}
        \exp\Big(-\frac{M^2(\theta_N(t)-\theta_{i^*}(0)-2\pi k)^2}{2\pi^2}\Big)

    (phase-averaged per prompt in the same way) and printed beside the first-order closed form
    :math:`\sqrt{\pi/2}/M + \sqrt{2\pi}\,\mathcal S_t(\sigma_0)/(MN)`.

    Parameters
    ----------
    sigma0 : float or array_like (S,)
        Fact positions in (0, 1); all positions are simulated in one kernel call.
    beta, lam, t : float
        Inverse temperature (> 0), ALiBi slope (>= 0), time (>= 0).
    N : int
        Prompt length, >= 2.
    prompts : int
        Independent prompt draws per position, >= 2 (for a standard error).
    modes : int
        Fourier modes n = 1..modes to estimate (>= 1).
    phases : int
        K, the number of equispaced phases (>= 1; ignored without variance reduction).
    seed : int
        ``numpy.random.default_rng(seed)``; the result is reproducible bit for bit.
    M : float, optional
        Vocabulary size for the soft accuracy (> 0); required for ``encoding="codeword"``.
    encoding : {"uniform", "codeword"}
        iid uniform angles (the closed form's case), or codewords :math:`2\pi m/M` with m uniform
        in {0..M-1} (retrieval task of arXiv 2605.09213; needs an integer M, and K must divide M so that the
        phases are codewords).
    variance_reduction : bool
    dt : float
        RK4 step (default 0.0025).
    progress : bool or None
        A progress bar over the prompts: None (default) automatic (:mod:`attnflow._base.progress`),
        True always, False never; the numbers are the same either way.

    Returns
    -------
    ParticleEstimate

    References
    ----------
    arXiv 2605.09213 (accuracy, Poisson summation; closed form; variance reduction by rotation
    invariance); ``derivations/retrieval.md``; an earlier Monte Carlo run for this project showed an error
    trend ~ N^{-0.6}.
    """
    N = integer("N", N, minimum=2)
    prompts = integer("prompts", prompts, minimum=2)
    modes = integer("modes", modes, minimum=1)
    phases = integer("phases", phases, minimum=1)
    seed = integer("seed", seed, minimum=0)
    p = _c.check_params(beta=beta, lam=lam, t=t, beta_positive=True)
    if np.ndim(p["t"]) != 0:
        raise ValueError("t: expected one time")
    tf = float(p["t"])
    s = np.atleast_1d(_c.check_sigma0(sigma0)).astype(float)
    if s.ndim != 1:
        raise ValueError(f"sigma0: expected a scalar or a 1-D array, got shape {np.shape(sigma0)}")
    istar = np.floor(s * N + 1e-9).astype(np.int64)
    bad = (istar < 1) | (istar > N - 1)
    if np.any(bad):
        raise ValueError(f"sigma0: the fact token floor(sigma0 N) must lie in 1..N-1 (N = {N}); "
                         f"sigma0 = {s[bad][0]} gives {istar[bad][0]}; use 1/N <= sigma0 < 1 (e.g. sigma0 = i/N)")
    if encoding not in ("uniform", "codeword"):
        raise ValueError(f"encoding: expected 'uniform' or 'codeword', got {encoding!r}")
    Mv = None
    if M is not None:
        Mv = _c.check_params(M=M)["M"]
    if encoding == "codeword":
        if Mv is None or Mv != int(Mv) or Mv < 2:
            raise ValueError(f"M: codeword encoding needs an integer vocabulary size M >= 2, got {M!r}")
        if variance_reduction and int(Mv) % phases:
            raise ValueError(f"phases: with codeword encoding the phases 2 pi k/K must be codewords; "
                             f"K = {phases} must divide M = {int(Mv)}")
    K = phases if variance_reduction else 1
    rng = np.random.default_rng(seed)
    S = s.size
    if encoding == "uniform":
        base = rng.uniform(0.0, 2 * np.pi, size=(S, prompts, N))
    else:
        base = (2 * np.pi / Mv) * rng.integers(0, int(Mv), size=(S, prompts, N)).astype(float)
    X = np.repeat(base[:, :, None, :], K, axis=2)  # (S, P, K, N)
    if variance_reduction:
        phi = 2 * np.pi * np.arange(K) / K
        for si in range(S):
            X[si, :, :, istar[si] - 1] = phi[None, :]
    src = np.take_along_axis(X, (istar - 1)[:, None, None, None], axis=3)[..., 0]  # (S, P, K)
    rows = S * prompts * K
    t0 = _time.perf_counter()
    flat = X.reshape(rows, N)
    if enabled(progress):  # rows are independent systems: chunks give the same numbers, with a bar
        chunks = np.array_split(np.arange(rows), min(rows, 20))
        out = np.empty_like(flat)
        bar = progress_bar(progress, total=rows, desc="prompts", unit="prompt")
        try:
            for idx in chunks:
                out[idx] = simulate_causal_alibi(flat[idx], beta=p["beta"], lam=p["lam"], t=tf, dt=dt, last_only=True)[-1]
                bar.update(idx.size)
        finally:
            bar.close()
        last = out.reshape(S, prompts, K)
    else:
        last = simulate_causal_alibi(flat, beta=p["beta"], lam=p["lam"], t=tf, dt=dt,
                                     last_only=True)[-1].reshape(S, prompts, K)
    seconds = _time.perf_counter() - t0
    delta = last - src  # (S, P, K)
    n = np.arange(1, modes + 1)
    ph = np.exp(1j * n[None, None, None, :] * delta[..., None]).mean(axis=2)  # (S, P, modes)
    est = N * ph.mean(axis=1)
    se_r = N * ph.real.std(axis=1, ddof=1) / math.sqrt(prompts)
    se_i = N * ph.imag.std(axis=1, ddof=1) / math.sqrt(prompts)
    a = _c.fourier_rates(p["beta"], modes)
    closed = np.stack([_c.mode_response(s, a=float(an), lam=p["lam"], t=np.asarray(tf), sigma=np.asarray(1.0))
                       for an in a], axis=-1)
    acc = acc_se = acc_cf = None
    if Mv is not None:
        score = _wrapped_score(delta, Mv).mean(axis=2)  # (S, P)
        acc = score.mean(axis=1)
        acc_se = score.std(axis=1, ddof=1) / math.sqrt(prompts)
        Sprof = _c.profile_and_derivatives(s, np.asarray(tf), beta=p["beta"], lam=p["lam"], M=Mv, modes=20)[0]
        acc_cf = math.sqrt(math.pi / 2) / Mv + math.sqrt(2 * math.pi) / (Mv * N) * np.asarray(Sprof)
    return ParticleEstimate(
        sigma0=s, i_star=istar, N=N, prompts=prompts, phases=K, rows=rows, t=tf, beta=p["beta"], lam=p["lam"],
        modes=modes, estimate=est.real, stderr=se_r, estimate_imag=est.imag, stderr_imag=se_i,
        closed_form=np.asarray(closed, dtype=float).reshape(S, modes), M=Mv, soft_accuracy=acc,
        soft_accuracy_stderr=acc_se, soft_accuracy_closed=acc_cf, encoding=encoding,
        variance_reduction=bool(variance_reduction), seed=seed, seconds=seconds, samples=N * ph)
