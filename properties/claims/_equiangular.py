r"""Equiangular reduction: right-hand sides, closed forms and reduced-ODE solutions.

If :math:`\langle x_i(0),x_j(0)\rangle=\rho_0` for all :math:`i\ne j`, the configuration stays
equiangular and

.. math::
    \text{SA: }\dot\rho = \frac{2e^{\beta\rho}(1-\rho)((n-1)\rho+1)}{e^\beta+(n-1)e^{\beta\rho}},\qquad
    \text{USA: }\dot\rho = \tfrac2n e^{\beta\rho}(1-\rho)((n-1)\rho+1).

References
----------
arXiv:2512.01868 (equiangular reduction); ``derivations/equiangular.md``.
"""

from __future__ import annotations

import functools
import math

import numpy as np
import sympy as sp
from scipy.integrate import solve_ivp
from scipy.special import expi

from attnflow.numerics.fields import self_attention_kind
from attnflow.symbolic import equiangular as EQ

__all__ = [
    "rho_dot_sa",
    "rho_dot_usa",
    "eps_dot_sa",
    "rho_dot_oracle",
    "consensus_rate",
    "rho_beta0",
    "hitting_F",
    "bound_constants",
    "pair_eps",
    "equiangular_ode",
]


@functools.lru_cache(maxsize=None)
def _lambdified(name: str, kind: str = ""):
    """The stated expression ``name`` of :mod:`attnflow.symbolic.equiangular` as a float function."""
    if name == "rho_dot":
        return sp.lambdify((EQ.rho, EQ.n, EQ.beta), EQ.rho_dot_stated(kind), "math")
    if name == "eps_dot":  # d(1 - rho)/dt with rho = 1 - eps substituted symbolically (no cancellation)
        return sp.lambdify((EQ.eps, EQ.n, EQ.beta), -EQ.rho_dot_stated(kind, rho_=1 - EQ.eps), "math")
    if name == "rate":
        return sp.lambdify((EQ.beta,), EQ.consensus_rate_stated(kind), "math")
    if name == "rho_dot_oracle":
        return sp.lambdify((EQ.rho, EQ.n, EQ.beta), EQ.rho_dot_derived(kind), "math")
    if name == "beta0":
        return sp.lambdify((EQ.t, EQ.n, EQ.rho0), EQ.closed_form_beta0(), "numpy")
    if name == "hitting":
        return sp.lambdify((EQ.s, EQ.n, EQ.beta), EQ.hitting_time_antiderivative(), [{"Ei": expi}, "math"])
    raise ValueError(f"name: unknown stated expression {name!r}")


def rho_dot_sa(rho: float, n: int, beta: float) -> float:
    r"""SA equiangular ODE right-hand side, the package's stated expression
    (:func:`attnflow.symbolic.equiangular.rho_dot_stated`, lambdified):

    .. math:: \dot\rho = \frac{2e^{\beta\rho}(1-\rho)((n-1)\rho+1)}{e^\beta+(n-1)e^{\beta\rho}}.

    References
    ----------
    arXiv:2512.01868 (equiangular reduction); ``derivations/equiangular.md``.
    """
    return _stated(_rho_dot_sa_stable, "rho_dot", "SA", rho, n, beta)


def rho_dot_usa(rho: float, n: int, beta: float) -> float:
    r"""USA equiangular ODE right-hand side, the package's stated expression (lambdified):

    .. math:: \dot\rho = \tfrac2n e^{\beta\rho}(1-\rho)((n-1)\rho+1).

    References
    ----------
    arXiv:2512.01868 (equiangular reduction); ``derivations/equiangular.md``.
    """
    return _stated(_rho_dot_usa_stable, "rho_dot", "USA", rho, n, beta)


def eps_dot_sa(eps: float, n: int, beta: float) -> float:
    r""":math:`\dot\varepsilon` for :math:`\varepsilon = 1-\rho` (SA): the stated ODE with :math:`\rho = 1-\varepsilon`
    substituted symbolically, so :math:`1-\rho` is :math:`\varepsilon` exactly (no cancellation near consensus).

    References
    ----------
    arXiv:2512.01868 (equiangular reduction); ``derivations/equiangular.md``.
    """
    return float(_lambdified("eps_dot", "SA")(eps, n, beta))


def rho_dot_oracle(kind: str, rho: float, n: int, beta: float) -> float:
    r"""The equiangular ODE *derived* from the particle field by the SymPy oracle
    (:func:`attnflow.symbolic.equiangular.rho_dot_derived`, lambdified); ``kind`` is ``"SA"`` or ``"USA"``.

    References
    ----------
    arXiv:2312.10794, arXiv:2512.01868 (equiangular reduction); ``derivations/equiangular.md``.
    """
    return float(_lambdified("rho_dot_oracle", kind)(rho, n, beta))


def consensus_rate(kind: str, beta: float) -> float:
    r"""The stated decay rate of :math:`1-\rho` at consensus: 2 (SA), :math:`2e^\beta` (USA); the package's
    statement :func:`attnflow.symbolic.equiangular.consensus_rate_stated`, lambdified.

    References
    ----------
    arXiv:2512.01868 (equiangular reduction); ``derivations/equiangular.md``.
    """
    return float(_lambdified("rate", kind)(beta))


def rho_beta0(t, n: int, rho0: float):
    r""":math:`\rho(t) = (Ke^{2t}-1)/(Ke^{2t}+n-1)`, :math:`K=(1+(n-1)\rho_0)/(1-\rho_0)` (β = 0): the package's
    stated closed form (:func:`attnflow.symbolic.equiangular.closed_form_beta0`, lambdified).

    References
    ----------
    arXiv:2512.01868 (equiangular reduction); ``derivations/equiangular.md``.
    """
    return _lambdified("beta0")(np.asarray(t, dtype=float), n, rho0)


def hitting_F(s: float, n: int, beta: float) -> float:
    r"""The antiderivative :math:`F` of :math:`1/\dot\rho_{SA}`, the package's stated expression
    (:func:`attnflow.symbolic.equiangular.hitting_time_antiderivative`, lambdified, ``Ei`` = ``scipy.special.expi``):

    .. math:: F(s) = \tfrac{1}{2n}\bigl[-(n-1)\log(1-s) + (n-1)\log(1+(n-1)s) - \mathrm{Ei}(\beta(1-s))
              + e^{\beta n/(n-1)}\,\mathrm{Ei}\bigl(-\beta\tfrac{1+(n-1)s}{n-1}\bigr)\bigr].

    References
    ----------
    arXiv:2512.01868 (equiangular reduction); ``derivations/equiangular.md``.
    """
    return _stated(_hitting_F_stable, "hitting", "", s, n, beta)


def _stated(stable, name: str, kind: str, *args) -> float:
    """The stated expression ``name`` (lambdified) at ``args``; where float64 cannot evaluate it as
    written (an overflow, or inf - inf at extreme beta), the same expression rearranged to avoid the
    overflow (``stable``), which returns honest +-inf or 0 where the value is beyond float64."""
    try:
        v = float(_lambdified(name, kind)(*args))
    except (OverflowError, ZeroDivisionError, ValueError):
        v = math.nan
    return v if math.isfinite(v) else stable(*args)


def _rho_dot_sa_stable(rho: float, n: int, beta: float) -> float:
    # the same expression divided through by e^{beta} (or e^{beta rho}): no overflow at any beta
    x = beta * (rho - 1.0)
    if x > 0.0:  # beta < 0: divide through by e^x (no overflow); the limit is 2(1-rho)((n-1)rho+1)/(n-1)
        e = math.exp(-x)
        return 2.0 * (1.0 - rho) * ((n - 1) * rho + 1.0) / (e + (n - 1))
    e = math.exp(x)
    return 2.0 * e * (1.0 - rho) * ((n - 1) * rho + 1.0) / (1.0 + (n - 1) * e)


def _rho_dot_usa_stable(rho: float, n: int, beta: float) -> float:
    # the same expression in logs: e^{beta rho} beyond float64 is an honest +-inf
    f = 2.0 / n * (1.0 - rho) * ((n - 1) * rho + 1.0)
    if f == 0.0:
        return 0.0
    x = beta * rho + math.log(abs(f))  # e^{beta rho} beyond float64 (beta rho > 709): an honest +-inf
    return math.copysign(math.exp(x) if x < 709.0 else math.inf, f)


def _hitting_F_stable(s: float, n: int, beta: float) -> float:
    # the same expression with e^{-y} Ei(y) and e^{x} Ei(-x) scaled (asymptotic series beyond 700)
    m = n - 1
    y = beta * (1.0 - s)  # e^{beta n/m} Ei(-x) = e^{y} e^{x} Ei(-x), x = beta (1 + m s)/m = beta n/m - y
    x = beta * (1.0 + m * s) / m
    bracket = -_ei_scaled(y) + _ei_scaled_neg(x)  # (-Ei(y) + e^{beta n/m} Ei(-x)) e^{-y}
    logs = -m * math.log1p(-s) + m * math.log1p(m * s)
    if y < 700.0:
        return (logs + math.exp(y) * bracket) / (2.0 * n)
    big = bracket * math.exp(min(y, 709.0)) if y <= 709.0 else math.copysign(math.inf, bracket)
    return (logs + big) / (2.0 * n)  # beyond float64: an honest +-inf, never inf - inf


def _ei_scaled(y: float) -> float:
    """e^{-y} Ei(y): direct below y = 700, the asymptotic series sum_k k!/y^{k+1} above (error < 1e-16)."""
    if y < 700.0:
        return math.exp(-y) * float(expi(y))
    term, total, k = 1.0 / y, 0.0, 0
    while abs(term) > 1e-18 * abs(total + term) and k < 60:
        total += term
        k += 1
        term *= k / y
    return total


def _ei_scaled_neg(x: float) -> float:
    """e^{x} Ei(-x) = -e^{x} E1(x) for x > 0: direct below x = 700, the asymptotic series above."""
    if x < 700.0:
        return math.exp(x) * float(expi(-x))
    term, total, k = 1.0 / x, 0.0, 0
    while abs(term) > 1e-18 * abs(total + term) and k < 60:
        total += term
        k += 1
        term *= -k / x
    return -total


def bound_constants(n: int, beta: float, rho0: float) -> tuple[float, float]:
    r""":math:`C=\max(1-\rho_0,1)`, :math:`\lambda = q/(e^{\beta C}+n-1)`, :math:`q=\min((n-1)\rho_0+1,1)` (arXiv:2512.01868).

    References
    ----------
    arXiv:2512.01868 (equiangular reduction); ``derivations/equiangular.md``.
    """
    c = max(1.0 - rho0, 1.0)
    q = min((n - 1) * rho0 + 1.0, 1.0)
    x = beta * c
    return c, (q / (math.exp(x) + n - 1) if x < 709.0 else 0.0)  # e^{beta C} beyond float64: lambda underflows to 0


def pair_eps(states: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    r"""Mean and spread over pairs of :math:`\varepsilon_{ij} = 1-\langle u_i,u_j\rangle = |u_i-u_j|^2/2`.

    ``u`` are the unit directions of the rows of ``states`` (shape ``(k, n, d)``); computing
    :math:`\varepsilon` from differences keeps full relative accuracy when :math:`\varepsilon\ll 1`.

    Returns
    -------
    mean, spread : ndarray (k,)
        Mean of :math:`\varepsilon_{ij}` over :math:`i<j`, and :math:`\max-\min` over :math:`i<j`.

    References
    ----------
    arXiv:2512.01868 (equiangular reduction); ``derivations/equiangular.md``.
    """
    s = np.asarray(states, dtype=float)
    if s.ndim < 2 or s.shape[-2] < 2:
        raise ValueError(f"states: expected configurations (..., n, d) with n >= 2, got shape {s.shape}")
    u = s / np.linalg.norm(s, axis=-1, keepdims=True)
    n = u.shape[-2]
    iu = np.triu_indices(n, 1)
    diff = u[..., :, None, :] - u[..., None, :, :]
    eps = 0.5 * np.sum(diff * diff, axis=-1)[..., iu[0], iu[1]]
    return eps.mean(axis=-1), eps.max(axis=-1) - eps.min(axis=-1)


def equiangular_ode(model: str, n: int, beta: float, rho0: float, t_final: float | None = None,
                    stop_eps: float | None = None):
    r"""Solve the equiangular ODE of arXiv:2512.01868 with ``solve_ivp`` (DOP853, rtol 1e-12, atol 1e-14):

    .. math::
        \text{SA: }\dot\rho = \frac{2e^{\beta\rho}(1-\rho)((n-1)\rho+1)}{e^\beta+(n-1)e^{\beta\rho}},\qquad
        \text{USA: }\dot\rho = \tfrac2n e^{\beta\rho}(1-\rho)((n-1)\rho+1).

    Integrates to ``t_final``, or until :math:`1-\rho` = ``stop_eps`` (terminal event).  Returns the
    ``solve_ivp`` solution with dense output.

    References
    ----------
    arXiv:2512.01868; ``derivations/equiangular.md``.
    """
    kind = self_attention_kind(model)  # SA or USA; ValueError naming model otherwise
    if n < 2 or not (-1.0 / (n - 1) <= rho0 <= 1.0):
        raise ValueError(f"rho0: need n >= 2 and -1/(n-1) <= rho0 <= 1, got n={n}, rho0={rho0}")
    rd = {"softmax": rho_dot_sa, "mean": rho_dot_usa}[kind]
    events = None
    if stop_eps is not None:
        def ev(t, y):
            return (1.0 - y[0]) - stop_eps

        ev.terminal = True
        events = ev
    t_end = 1e4 if t_final is None else t_final
    sol = solve_ivp(lambda t, y: [rd(y[0], n, beta)], (0.0, t_end), [rho0], method="DOP853", rtol=1e-12,
                    atol=1e-14, events=events, dense_output=True)
    if not sol.success:
        raise RuntimeError(f"solve_ivp failed: {sol.message}")
    return sol
