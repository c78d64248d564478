r"""Reduced Pre-LN system for equiangular tokens (``normalization.preln_rate``).

.. math::
    \dot\varepsilon = -\frac{F_{SA}(1-\varepsilon)}{r},\qquad
    \dot r = \frac{e^\beta + (n-1)\rho e^{\beta\rho}}{e^\beta + (n-1)e^{\beta\rho}},

with :math:`\varepsilon = 1-\rho` and the common radius :math:`r` of the tokens.

References
----------
arXiv:2510.22026 (Pre-LN); arXiv:2512.01868 (equiangular reduction), ``derivations/equiangular.md``.
"""

from __future__ import annotations

import functools
import math

from scipy.integrate import solve_ivp

from attnflow.numerics import equiangular, integrate, make_field
from attnflow.numerics import single_thread
from attnflow.properties.claims._equiangular import pair_eps

__all__ = ["PRELN_REF", "preln_reduced_rhs", "solve_preln_reduced", "preln_reference"]


PRELN_REF = {"n": 8, "beta": 2.0, "rho0": 0.0, "r0": 1.0}


def preln_reduced_rhs(t: float, y, n: int, beta: float):
    r"""Reduced Pre-LN system (``derivations/equiangular.md``) in :math:`\varepsilon = 1-\rho` and the common radius :math:`r`:

    .. math::
        \dot\varepsilon = -\frac{F_{SA}(1-\varepsilon)}{r},\qquad
        \dot r = \frac{e^\beta + (n-1)\rho e^{\beta\rho}}{e^\beta + (n-1)e^{\beta\rho}},

    with :math:`F_{SA}` the SA equiangular right-hand side (arXiv:2512.01868), written with
    :math:`e^{-\beta\varepsilon}` (no overflow, no cancellation near :math:`\rho=1`).

    References
    ----------
    arXiv:2510.22026 (Pre-LN); reduced system derived in ``derivations/equiangular.md``
    (normalization.preln_reduced).
    """
    eps, r = y
    e = math.exp(-beta * eps)
    rho = 1.0 - eps
    f_sa = 2.0 * e * eps * ((n - 1) * rho + 1.0) / (1.0 + (n - 1) * e)
    rdot = (1.0 + (n - 1) * rho * e) / (1.0 + (n - 1) * e)
    return [-f_sa / r, rdot]


def solve_preln_reduced(n: int, beta: float, rho0: float, r0: float, t_final: float, *, post_ln: bool = False,
                        stop_eps: float | None = None):
    r"""Solve :func:`preln_reduced_rhs` (or Post-LN: :math:`r\equiv1`, i.e. SA) with ``solve_ivp``.

    DOP853, rtol 1e-12, atol 1e-300 (relative accuracy on :math:`\varepsilon` down to 1e-300), dense output;
    stops early (terminal event) when :math:`\varepsilon` reaches ``stop_eps`` if given.

    References
    ----------
    arXiv:2510.22026.
    """
    if n < 2 or not (-1.0 / (n - 1) <= rho0 <= 1.0) or not r0 > 0 or not t_final > 0:
        raise ValueError(f"n, rho0, r0, t_final: need n >= 2, -1/(n-1) <= rho0 <= 1, r0 > 0, t_final > 0; "
                         f"got {n}, {rho0}, {r0}, {t_final}")
    if post_ln:
        def rhs(t, y):
            return [preln_reduced_rhs(t, [y[0], 1.0], n, beta)[0]]

        y0 = [1.0 - rho0]
    else:
        def rhs(t, y):
            return preln_reduced_rhs(t, y, n, beta)

        y0 = [1.0 - rho0, r0]
    events = None
    if stop_eps is not None:
        def ev(t, y):
            return y[0] - stop_eps

        ev.terminal = True
        events = ev
    sol = solve_ivp(rhs, (0.0, t_final), y0, method="DOP853", rtol=1e-12, atol=1e-300, dense_output=True,
                    events=events)
    if not sol.success:
        raise RuntimeError(f"solve_ivp failed: {sol.message}")
    return sol


@functools.lru_cache(maxsize=1)
def preln_reference() -> dict[str, float]:
    r"""Reference case (n = 8, β = 2, ρ₀ = 0, r₀ = 1): the constant :math:`C=\lim t^2(1-\rho)`.

    :math:`C` is computed as :math:`r^2(1-\rho)` at :math:`t=10^7` (it converges much faster than
    :math:`t^2(1-\rho)` because :math:`r = t + O(\log t)`), next to :math:`t^2(1-\rho)` at
    :math:`t=10^4, 10^7` from the reduced ODE and at :math:`t=10^4` from ``preln`` particles.

    References
    ----------
    arXiv:2510.22026; ``derivations/equiangular.md`` (normalization.preln_rate; the quoted
    "t²(1−ρ) → 3.736" comes from a numerical run made for this project).
    """
    n, beta, rho0, r0 = PRELN_REF["n"], PRELN_REF["beta"], PRELN_REF["rho0"], PRELN_REF["r0"]
    sol = solve_preln_reduced(n, beta, rho0, r0, 1e7)
    e4, r4 = sol.sol(1e4)
    e7, r7 = sol.sol(1e7)
    x0 = r0 * equiangular(n, n, rho0, seed=0)
    with single_thread():
        res = integrate(make_field("preln", beta=beta), x0, 1e4, method="adaptive", rtol=1e-10, manifold="euclidean")
    eps_p, _ = pair_eps(res.states[-1:])
    return {"C = lim r^2 (1 - rho)": float(r7 * r7 * e7), "t^2 (1 - rho) at t = 1e7": float(1e14 * e7),
            "t^2 (1 - rho) at t = 1e4": float(1e8 * e4), "t^2 (1 - rho) at t = 1e4, particles": float(1e8 * eps_p[0])}
