"""Closed-form retrieval profile of the causal ALiBi model (private implementation).

Everything here is float64 NumPy/SciPy, vectorised.  The public names are re-exported by
:mod:`attnflow.numerics.retrieval`, which also documents them; see that module for the
mathematics (``derivations/retrieval.md``, arXiv 2605.09213).

Notation used throughout:

* ``s`` = sigma0 in (0, 1], the position of the relevant fact;
* ``Y(s) = log((e^lam - 1)/(e^{lam s} - 1))`` (lam > 0), ``Y = -log s`` (lam = 0);
* ``p(s) = k_lam(1, s) = lam e^{lam s}/(e^lam - 1)`` (lam > 0), ``p = 1`` (lam = 0);
* ``phi_nu(c, y) = sum_k c^{k+nu} y^k / (k! (k+nu)!) = (c/y)^{nu/2} I_nu(2 sqrt(c y))``;
  ``psi_c = phi_1``, ``psi_c' = phi_2``, ``psi_c'' = phi_3`` (derivatives in y).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import special

from attnflow._base.validate import real, real_array

__all__ = [
    "check_params",
    "fourier_rates",
    "mode_weights",
    "position_Y",
    "position_weight",
    "phi",
    "Psi",
    "profile_and_derivatives",
    "mode_response",
    "SmallnessCondition",
    "smallness_condition",
    "sup_rate",
]

#: z = c*y below which phi_nu is summed from its (entire) power series instead of via Bessel I.
_SERIES_Z = 0.25
_SERIES_TERMS = 14  # z^14/(14! 15!) < 1e-30 for z <= 0.25


# --------------------------------------------------------------------------------------------
# input validation


def check_params(*, beta=None, lam=None, t=None, M=None, modes=None, N=None, beta_positive=False):
    """Validate the common parameters; raise ``ValueError`` naming the bad argument."""
    out = {}
    if beta is not None:
        b = real("beta", beta)
        if b < 0 or (beta_positive and b == 0):
            need = "beta > 0" if beta_positive else "beta >= 0"
            raise ValueError(f"beta: the retrieval profile needs {need} (inverse temperature), got {b}")
        out["beta"] = b
    if lam is not None:
        lv = real("lam", lam)
        if lv < 0:
            raise ValueError(f"lam: the ALiBi slope must be >= 0, got {lv}")
        out["lam"] = lv
    if t is not None:
        ta = real_array("t", t)
        if not np.all(np.isfinite(ta)):
            raise ValueError("t: times must be finite (no NaN/inf)")
        if np.any(ta < 0):
            raise ValueError(f"t: times must be >= 0, got min {ta.min()}")
        out["t"] = ta
    if M is not None:
        Mv = real("M", M)
        if Mv <= 0:
            raise ValueError(f"M: the vocabulary size must be > 0, got {M}")
        out["M"] = Mv
    if modes is not None:
        if isinstance(modes, bool) or int(modes) != modes or int(modes) < 1:
            raise ValueError(f"modes: the number of Fourier modes must be an integer >= 1, got {modes!r}")
        out["modes"] = int(modes)
    if N is not None:
        if isinstance(N, bool) or int(N) != N or int(N) < 2:
            raise ValueError(f"N: the prompt length must be an integer >= 2, got {N!r}")
        out["N"] = int(N)
    return out


def check_sigma0(sigma0) -> np.ndarray:
    s = real_array("sigma0", sigma0)
    if s.size and not np.all(np.isfinite(s)):
        raise ValueError("sigma0: positions must be finite (no NaN/inf)")
    if s.size and (np.any(s <= 0) or np.any(s > 1)):
        raise ValueError(
            f"sigma0: positions must lie in (0, 1], got values in [{s.min()}, {s.max()}]"
        )
    return s


# --------------------------------------------------------------------------------------------
# mode data


def fourier_rates(beta: float, modes: int) -> np.ndarray:
    """a_n = n^2 I_n(beta), n = 1..modes."""
    n = np.arange(1, modes + 1, dtype=float)
    return n * n * special.iv(n, beta)


def mode_weights(M: float, modes: int) -> np.ndarray:
    """omega_n = exp(-pi^2 n^2 / (2 M^2)), n = 1..modes."""
    n = np.arange(1, modes + 1, dtype=float)
    return np.exp(-(np.pi**2) * n * n / (2.0 * M * M))


def sup_rate(beta: float) -> tuple[float, int]:
    """(sup_{n>=1} a_n, argmax n) over ALL n >= 1.

    Uses the elementary bound a_n <= B_n = n^2 (beta/2)^n/n! exp(beta^2/(4(n+1))) (from
    (n+k)! >= n! (n+1)^k in the series of I_n).  B_{n+1}/B_n <= (n+1) beta/(2 n^2), which decreases
    in n; once it is < 1 at n and B_{n+1} is below the best a_m found, no m > n can win.
    """
    if beta == 0:
        return 0.0, 1
    best, arg = -1.0, 1
    n = 1
    while n < 100000:
        a = n * n * float(special.iv(n, beta))
        if a > best:
            best, arg = a, n
        ratio = (n + 1) * beta / (2.0 * n * n)
        m = n + 1
        log_b = 2 * math.log(m) + m * math.log(beta / 2) - math.lgamma(m + 1) + beta * beta / (4 * (m + 1))
        if ratio < 1 and log_b < math.log(best):
            return best, arg
        n += 1
    raise ValueError(f"beta: too large to bound sup_n n^2 I_n(beta) (beta={beta})")  # pragma: no cover


# --------------------------------------------------------------------------------------------
# position variables


def _logexpm1(x: np.ndarray) -> np.ndarray:
    """log(e^x - 1) for x > 0 without overflow or cancellation."""
    x = np.asarray(x, dtype=float)
    out = np.empty_like(x)
    big = x > 1.0
    out[big] = x[big] + np.log1p(-np.exp(-x[big]))
    out[~big] = np.log(np.expm1(x[~big]))
    return out


def position_Y(s: np.ndarray, lam: float, sigma=1.0) -> np.ndarray:
    """Y(sigma; s) = log((e^{lam sigma} - 1)/(e^{lam s} - 1)); log(sigma/s) for lam = 0.

    Stable for s -> sigma (log1p form, the 0/0 region) and for s -> 0 (log-expm1 form).
    """
    s, sigma = np.broadcast_arrays(np.asarray(s, dtype=float), np.asarray(sigma, dtype=float))
    if lam == 0.0:
        return np.maximum(np.log(sigma) - np.log(s), 0.0)
    out = np.empty(s.shape)
    # the log1p form only where lam (sigma - s) is small: beyond, expm1(lam (s - sigma)) rounds to -1
    near = (s > 0.5 * sigma) & (lam * (sigma - s) < 1.0)
    # e^{lam s} - 1 = (e^{lam sigma} - 1) (1 + expm1(lam (s - sigma)) / (1 - e^{-lam sigma}))
    q = np.expm1(lam * (s[near] - sigma[near])) / (-np.expm1(-lam * sigma[near]))
    out[near] = -np.log1p(q)
    far = ~near
    out[far] = _logexpm1(lam * sigma[far]) - _logexpm1(lam * s[far])
    return np.maximum(out, 0.0)


def position_weight(s: np.ndarray, lam: float) -> np.ndarray:
    """p(s) = k_lam(1, s) = lam e^{lam s}/(e^lam - 1) = lam e^{lam(s-1)}/(1 - e^{-lam}); 1 for lam = 0."""
    s = np.asarray(s, dtype=float)
    if lam == 0.0:
        return np.ones_like(s)
    return lam * np.exp(lam * (s - 1.0)) / (-np.expm1(-lam))


# --------------------------------------------------------------------------------------------
# phi_nu(c, y) = (c/y)^{nu/2} I_nu(2 sqrt(c y))


def phi(nu: int, c: np.ndarray, y: np.ndarray) -> np.ndarray:
    """phi_nu(c, y) = sum_k c^{k+nu} y^k/(k!(k+nu)!), broadcasting c against y (c, y >= 0)."""
    c, y = np.broadcast_arrays(np.asarray(c, dtype=float), np.asarray(y, dtype=float))
    z = c * y
    out = np.empty(z.shape)
    small = z < _SERIES_Z
    if np.any(small):
        zs = z[small]
        # Horner on sum_k z^k / (k! (k+nu)!)
        acc = np.full(zs.shape, 1.0 / (math.factorial(_SERIES_TERMS) * math.factorial(_SERIES_TERMS + nu)))
        for k in range(_SERIES_TERMS - 1, -1, -1):
            acc = acc * zs + 1.0 / (math.factorial(k) * math.factorial(k + nu))
        out[small] = c[small] ** nu * acc
    big = ~small
    if np.any(big):
        zb, cb = z[big], c[big]
        x = 2.0 * np.sqrt(zb)
        if nu == 1:
            scaled = special.i1e(x)
        else:
            scaled = special.ive(nu, x)
        # (c/y)^{nu/2} = c^nu (2/x)^nu ; multiply by e^x last (log form avoids spurious overflow)
        with np.errstate(over="ignore"):
            out[big] = np.exp(x + nu * np.log(2.0 * cb / x)) * scaled
    return out


def log_fourier_rates(beta: float, modes: int) -> np.ndarray:
    """log a_n = 2 log n + beta + log ive_n(beta): finite where a_n = n^2 I_n(beta) overflows (beta >~ 700)."""
    n = np.arange(1, modes + 1, dtype=float)
    with np.errstate(divide="ignore"):
        return 2.0 * np.log(n) + beta + np.log(special.ive(n, beta))


def log_phi(nu: int, log_c: np.ndarray, y: np.ndarray) -> np.ndarray:
    """log phi_nu(c, y) from log c (-inf where phi = 0), without the overflow of c = t a_n or of
    e^{2 sqrt(c y)} and without the underflow of c^nu: the series branch sums z^k/(k!(k+nu)!) and
    adds nu log c, the Bessel branch adds x + nu log(2c/x) + log ive_nu(x), x = 2 sqrt(c y)."""
    log_c, y = np.broadcast_arrays(np.asarray(log_c, dtype=float), np.asarray(y, dtype=float))
    out = np.empty(log_c.shape)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        log_z = log_c + np.log(y)
        small = ~(log_z >= math.log(_SERIES_Z))  # NaN (0 * inf) falls in the series branch
        if np.any(small):
            zs = np.exp(log_z[small])
            zs = np.where(np.isnan(zs), 0.0, zs)
            acc = np.full(zs.shape, 1.0 / (math.factorial(_SERIES_TERMS) * math.factorial(_SERIES_TERMS + nu)))
            for k in range(_SERIES_TERMS - 1, -1, -1):
                acc = acc * zs + 1.0 / (math.factorial(k) * math.factorial(k + nu))
            out[small] = nu * log_c[small] + np.log(acc)
        big = ~small
        if np.any(big):
            lz, lc = log_z[big], log_c[big]
            x = 2.0 * np.exp(0.5 * lz)
            scaled = special.i1e(x) if nu == 1 else special.ive(nu, x)
            out[big] = x + nu * (math.log(2.0) + lc - np.log(x)) + np.log(scaled)
    return out


def _mode_arrays(beta, lam, M, modes):
    a = fourier_rates(beta, modes)
    w = mode_weights(M, modes)
    return a, w


def profile_and_derivatives(s, t, *, beta, lam, M, modes, order=0):
    """S_t(s) and (order >= 1) dS/ds, (order >= 2) d2S/ds2; broadcasting s against t.

    S = p(s) Psi(Y(s)),  Psi(y) = sum_n w_n psi_{a_n t}(y);
    S' = lam p [Psi - (1 + e^Y/(e^lam - 1)) Psi'] (lam > 0),  S' = -Psi'(Y)/s (lam = 0);
    S'' = p' (...) from the chain rule with Y' = -q(s), q = lam/(1 - e^{-lam s}), Y'' = lam^2 e^{-lam s}/(1-e^{-lam s})^2.
    """
    s = np.asarray(s, dtype=float)
    t = np.asarray(t, dtype=float)
    s_b, t_b = np.broadcast_arrays(s, t)
    a, w = _mode_arrays(beta, lam, M, modes)
    Y = position_Y(s_b, lam)
    # p(s) = lam e^{lam (s-1)} / (1 - e^{-lam}) is combined with phi in logs: at lam ~ 1e3 p underflows
    # where phi overflows, and their product is an ordinary number (or an honest inf / 0)
    if lam == 0.0:
        log_p = np.zeros(s_b.shape)
    else:
        log_p = math.log(lam) + lam * (s_b - 1.0) - math.log(-math.expm1(-lam))
    with np.errstate(divide="ignore"):
        log_c = np.log(t_b[..., None]) + log_fourier_rates(beta, modes)
    Yb = Y[..., None]
    with np.errstate(divide="ignore"):
        lw = np.log(w)  # a mode of zero weight contributes e^{-inf} = 0

    def weighted(nu):  # p(s) sum_n w_n phi_nu(c_n, Y(s))
        with np.errstate(over="ignore"):
            return np.exp(log_p[..., None] + lw + log_phi(nu, log_c, Yb)).sum(axis=-1)

    P1 = weighted(1)
    out = [P1]
    if order >= 1:
        P2 = weighted(2)
        if lam == 0.0:
            q = 1.0 / s_b
            out.append(-P2 * q)
        else:
            q = lam / (-np.expm1(-lam * s_b))
            out.append(lam * P1 - q * P2)
        if order >= 2:
            P3 = weighted(3)
            if lam == 0.0:
                Ypp = 1.0 / s_b**2
                out.append(P3 * q * q + P2 * Ypp)
            else:
                em = -np.expm1(-lam * s_b)
                Ypp = lam * lam * np.exp(-lam * s_b) / (em * em)
                out.append(lam * lam * P1 - 2 * lam * q * P2 + q * q * P3 + Ypp * P2)
    return out


def mode_response(sigma0, *, a, lam, t, sigma=1.0):
    """g_a(t, sigma; sigma0) = k_lam(sigma, sigma0) psi_{a t}(Y(sigma; sigma0)); 0 for sigma0 > sigma.

    At sigma0 = sigma the value is the limit sigma0 -> sigma^-, k_lam(sigma, sigma) a t.
    """
    s0, sg, tt = np.broadcast_arrays(
        np.asarray(sigma0, dtype=float), np.asarray(sigma, dtype=float), np.asarray(t, dtype=float)
    )
    inside = s0 <= sg
    s_in = np.where(inside, s0, sg)
    if lam == 0.0:
        k = 1.0 / sg
    else:
        k = lam * np.exp(-lam * (sg - s_in)) / (-np.expm1(-lam * sg))
    Y = position_Y(s_in, lam, sg)
    val = k * phi(1, a * tt, Y)
    return np.where(inside, val, 0.0)


# --------------------------------------------------------------------------------------------
# smallness condition


@dataclass(frozen=True)
class SmallnessCondition:
    """The hypothesis t sup_n a_n <= min{3 - sqrt 3, 2(1 - e^{-lam})} of the U-shape theorem."""

    holds: bool
    lhs: float          #: t * sup_{n>=1} a_n
    rhs: float          #: min{3 - sqrt 3, 2 (1 - e^{-lam})}
    sup_a: float        #: sup_{n>=1} n^2 I_n(beta)
    argmax_n: int       #: the n attaining the sup
    t_bound: float      #: largest t satisfying the condition (rhs / sup_a)
    binding: str        #: which term of the min binds: "3 - sqrt 3" or "2(1 - e^-lam)"

    def __str__(self) -> str:
        rel = "<=" if self.holds else ">"
        return (
            f"t sup_n a_n = {self.lhs:.6g} {rel} min(3 - sqrt 3, 2(1 - e^-lam)) = {self.rhs:.6g} "
            f"[{'holds' if self.holds else 'fails'}; sup at n = {self.argmax_n}; t <= {self.t_bound:.6g}; "
            f"binding term {self.binding}]"
        )


def smallness_condition(*, beta, lam, t) -> SmallnessCondition:
    p = check_params(beta=beta, lam=lam, t=t, beta_positive=True)
    tt = float(np.asarray(p["t"]).reshape(-1)[0]) if np.ndim(p["t"]) == 0 else None
    if tt is None:
        raise ValueError("t: smallness_condition takes one scalar time")
    sup_a, n_star = sup_rate(p["beta"])
    r1 = 3.0 - math.sqrt(3.0)
    r2 = -2.0 * math.expm1(-p["lam"])
    rhs = min(r1, r2)
    binding = "3 - sqrt 3" if r1 <= r2 else "2(1 - e^-lam)"
    lhs = tt * sup_a
    return SmallnessCondition(lhs <= rhs, lhs, rhs, sup_a, n_star, rhs / sup_a, binding)
