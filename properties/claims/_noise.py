r"""Noise helpers of the ``noise.*`` checks: the noisy-Kuramoto experiment and its reference values, the
ReLU noise constants by quadrature, the synchronisation bound and the common-noise experiments.

``kuramoto_*``
    :math:`\beta = 0` noisy Kuramoto (independent noise): the stationary order parameter
    :math:`r = I_1(\kappa r)/I_0(\kappa r)`, the linear susceptibility of :math:`n\,\mathbb E r^2` below
    :math:`\kappa = 2`, and one run with batch means.
``relu_*``, ``F_sync``, ``lambda_bar_prime``, ``energy_D``
    the ReLU constants :math:`\lambda_1, \bar\lambda` (printed closed forms and their quadrature
    definitions), the function :math:`F(u)` of the synchronisation bound and
    :math:`\bar\lambda' = -\inf F`, the energy :math:`E^D_\beta`.
``sync_energy_experiment``, ``common_noise_only``, ``collapse_experiment``
    replicates of the common-noise SDE, and pure common noise (attention switched off).

References
----------
arXiv:2512.01868 §7 (independent noise); arXiv:2604.26898 (common noise, noise-driven
synchronisation); Bertini, Giacomin & Pakdaman, J. Stat. Phys. 138 (2010).
"""

from __future__ import annotations

import math

import numpy as np
from scipy import integrate
from scipy.optimize import brentq, minimize_scalar
from scipy.special import ive

from attnflow.numerics.noise import (
    ACTIVATIONS,
    euler_maruyama_common_noise,
    kappa_kernel,
    kappa_relu,
    lambda_constants,
    noisy_kuramoto,
    order_parameter,
)

__all__ = [
    "kuramoto_r_star",
    "kuramoto_susceptibility",
    "KURAMOTO_N",
    "KURAMOTO_DT",
    "KURAMOTO_T",
    "KURAMOTO_BURN",
    "KURAMOTO_BATCHES",
    "kuramoto_run",
    "relu_closed_forms",
    "relu_constants_quadrature",
    "energy_D",
    "F_sync",
    "lambda_bar_prime",
    "SYNC",
    "sync_energy_experiment",
    "common_noise_only",
    "ODD",
    "collapse_experiment",
]

#: Noisy-Kuramoto run parameters: particles, step, horizon, burn-in, batches of the batch means.
KURAMOTO_N, KURAMOTO_DT, KURAMOTO_T, KURAMOTO_BURN, KURAMOTO_BATCHES = 1000, 0.025, 120.0, 40.0, 8


# ---------------------------------------------------------------------------------------- Kuramoto
def kuramoto_r_star(kappa: float) -> float:
    r"""Stationary order parameter of the mean-field noisy Kuramoto model: the root of

    .. math:: r = \frac{I_1(\kappa r)}{I_0(\kappa r)},\qquad r\in(0,1),

    (``scipy.optimize.brentq`` on the exponentially scaled ratio ``ive(1, .)/ive(0, .)``); 0 for
    :math:`\kappa\le2` (then :math:`r=0` is the only root since :math:`I_1(x)/I_0(x) < x/2`).

    References
    ----------
    Noisy Kuramoto model (arXiv:2512.01868 §7, independent noise at beta = 0); self-consistency equation
    derived for this project; Bertini, Giacomin & Pakdaman, J. Stat. Phys. 138 (2010).
    """
    if not (kappa > 0 and math.isfinite(kappa)):
        raise ValueError(f"kappa: expected a finite positive number, got {kappa!r}")
    if kappa <= 2.0:
        return 0.0
    g = lambda r: ive(1, kappa * r) / ive(0, kappa * r) - r  # noqa: E731
    return float(brentq(g, 1e-12, 1.0, xtol=1e-15, rtol=1e-14))


def kuramoto_susceptibility(kappa: float, dt: float = 0.0) -> float:
    r"""Stationary :math:`n\,\mathbb E r^2` below threshold, for the SDE (``dt = 0``) or its Euler--Maruyama chain.

    Linearising :math:`Z=\frac1n\sum_j e^{i\theta_j}` about the uniform law (derived for this project):
    :math:`dZ = -(\tfrac1\kappa-\tfrac12)Z\,dt + dM`, :math:`d\langle M,\bar M\rangle = \tfrac{2}{\kappa n}dt`, so

    .. math:: n\,\mathbb E|Z|^2 = \frac{1}{1-\kappa/2};\qquad
              \text{Euler--Maruyama: } Z' = q^{1/2}(1+\tfrac{dt}2)Z + \xi,\ q = e^{-2dt/\kappa}
              \ \Rightarrow\ n\,\mathbb E|Z|^2 = \frac{1-q}{1-q(1+dt/2)^2}

    (the Gaussian angle increments shrink :math:`e^{i\theta}` by exactly :math:`e^{-dt/\kappa}`; the
    drift is explicit). The second tends to the first as :math:`dt\to0`.

    References
    ----------
    arXiv:2512.01868 §7 (independent noise); derived for this project; Kloeden & Platen (1992)
    (Euler--Maruyama).
    """
    if not (0 < kappa < 2):
        raise ValueError(f"kappa: the susceptibility is finite only below threshold, 0 < kappa < 2; got {kappa}")
    if dt == 0:
        return 1.0 / (1.0 - kappa / 2.0)
    q = math.exp(-2.0 * dt / kappa)
    return (1.0 - q) / (1.0 - q * (1.0 + dt / 2.0) ** 2)


def kuramoto_run(kappa: float, seed: int, n: int = KURAMOTO_N, dt: float = KURAMOTO_DT, t_final: float = KURAMOTO_T,
                 burn: float = KURAMOTO_BURN, batches: int = KURAMOTO_BATCHES) -> dict:
    r"""One noisy-Kuramoto run (:math:`\beta=0`) and batch means of :math:`r` and :math:`n r^2` after ``burn``.

    Below threshold the run starts *synchronised* (all angles 0: the uniform law must attract it);
    above it starts from iid uniform angles (the uniform law must repel it).

    Returns
    -------
    dict with ``r``, ``r_se``, ``nr2``, ``nr2_se`` (batch means and their standard errors).

    References
    ----------
    arXiv:2512.01868 §7 (independent noise); Flyvbjerg & Petersen, J. Chem. Phys. 91 (1989) (batch means).
    """
    rng = np.random.default_rng(seed)
    th0 = np.zeros(n) if kappa < 2 else rng.uniform(0.0, 2.0 * math.pi, n)
    every = 4
    p = noisy_kuramoto(th0, kappa=kappa, dt=dt, t_final=t_final, seed=rng, save_every=every)
    r = order_parameter(p.states)
    r = r[p.times >= burn]
    rb = np.array([b.mean() for b in np.array_split(r, batches)])
    qb = np.array([(n * b**2).mean() for b in np.array_split(r, batches)])
    return {"r": float(rb.mean()), "r_se": float(rb.std(ddof=1) / math.sqrt(batches)),
            "nr2": float(qb.mean()), "nr2_se": float(qb.std(ddof=1) / math.sqrt(batches))}


# ---------------------------------------------------------------------------------------- ReLU constants
def relu_closed_forms(d: int, sigma_U: float, sigma_W: float) -> tuple[float, float]:
    r"""The printed ReLU closed forms :math:`(\lambda_1, \bar\lambda)`:

    .. math:: \lambda_1 = -\frac1{2d} - (\sigma_U^2+2\sigma_W^2)\frac{d-1}4,\qquad
              \bar\lambda = \frac1d - (\sigma_U^2+2\sigma_W^2)\frac{d-3}2.

    References
    ----------
    arXiv:2604.26898.
    """
    a = sigma_U**2 + 2.0 * sigma_W**2
    return -1.0 / (2 * d) - a * (d - 1) / 4.0, 1.0 / d - a * (d - 3) / 2.0


def relu_constants_quadrature(d: int, sigma_U: float, sigma_W: float) -> dict:
    r""":math:`\kappa(1)`, :math:`\kappa'(1)` from their definitions by adaptive quadrature, and the
    derived :math:`\lambda_1`, :math:`\bar\lambda`:

    .. math::
        \kappa(1) = \mathbb E[\sigma(sZ)^2]+\sigma_W^2,\quad \kappa'(1)=\tfrac1d\mathbb E[\sigma'(sZ)^2],
        \quad s^2 = \tfrac1d+\sigma_U^2,

        \bar\lambda = (d-1)\kappa'(1)-(d-3)\kappa(1),\qquad \lambda_1=\tfrac12[(d-3)\kappa'(1)-(d-1)\kappa(1)],

    (:math:`X/\sqrt d+\sigma_U b\sim N(0,s^2)`; ``scipy.integrate.quad`` on :math:`(-\infty,0]` and
    :math:`[0,\infty)`). Also :math:`\kappa'(1)` as the one-sided derivative of the arc-cosine kernel
    :math:`\kappa(\rho)`: :math:`\kappa` has a :math:`(1-\rho)^{3/2}` term at :math:`\rho=1`
    (:math:`\vartheta\sim\sqrt{1-\rho}`), so backward quotients :math:`D(h)` err by :math:`O(h^{1/2})` and
    :math:`2D(h/4)-D(h)` (:math:`h=10^{-6}`) removes that term -- an independent route to the :math:`1/d`
    (not :math:`1/d^2`) normalisation.

    References
    ----------
    arXiv:2604.26898 (the paper's 1/d^2 misprint).
    """
    s = math.sqrt(1.0 / d + sigma_U**2)
    phi = lambda z: math.exp(-0.5 * z * z) / math.sqrt(2.0 * math.pi)  # noqa: E731
    relu2 = integrate.quad(lambda z: (s * z) ** 2 * phi(z), 0.0, np.inf, epsabs=1e-15, epsrel=1e-13)[0]
    step2 = integrate.quad(phi, 0.0, np.inf, epsabs=1e-15, epsrel=1e-13)[0]  # E[1{sZ > 0}^2]
    k1 = relu2 + sigma_W**2
    dk1 = step2 / d
    # kappa(rho) = kappa(1) - kappa'(1)(1 - rho) + c (1 - rho)^{3/2} + O((1 - rho)^2) (theta ~ sqrt(1 - rho)):
    # backward quotients D(h) = kappa'(1) + c' h^{1/2} + O(h); Richardson for the h^{1/2} term
    h = 1e-6
    k_1 = kappa_relu(1.0, d, sigma_U, sigma_W)
    quot = lambda hh: (k_1 - kappa_relu(1.0 - hh, d, sigma_U, sigma_W)) / hh  # noqa: E731
    fd = 2.0 * quot(h / 4.0) - quot(h)
    return {"kappa1": k1, "dkappa1": dk1, "dkappa1_fd": float(fd),
            "lambda_bar": (d - 1) * dk1 - (d - 3) * k1, "lambda1": 0.5 * ((d - 3) * dk1 - (d - 1) * k1)}


# ---------------------------------------------------------------------------------------- sync energy
def energy_D(x: np.ndarray, beta: float) -> float:
    r"""Energy of 2604.26898: :math:`E^D_\beta(\mu)=\tfrac12\iint(e^\beta-e^{\beta\langle x,y\rangle})d\mu d\mu`,
    evaluated as :math:`\tfrac{e^\beta}2\,\mathrm{mean}_{ij}(-\mathrm{expm1}(\beta(\langle x_i,x_j\rangle-1)))`.

    References
    ----------
    arXiv:2604.26898 (energy :math:`E^D_\beta`); ``derivations/energy.md`` (energy.dissipative_form).
    """
    g = np.clip(x @ x.T, -1.0, 1.0)
    return float(0.5 * math.exp(beta) * np.mean(-np.expm1(beta * (g - 1.0))))


def F_sync(u, d: int, beta: float, sigma_U: float, sigma_W: float, activation="relu"):
    r"""The function of the synchronisation bound (arXiv:2604.26898):

    .. math::
        F(u) = \frac{\beta e^{\beta u}G(u)}{e^\beta-e^{\beta u}},\qquad
        G(u) = \kappa(u)\bigl(d-2+u^2-\beta u(1-u^2)\bigr)+\kappa(1)\bigl(\beta(1-u^2)-(d-1)u\bigr),

    for :math:`u\in[-1,1)`, written with :math:`e^{\beta(u-1)}` (no overflow).

    References
    ----------
    arXiv:2604.26898.
    """
    u = np.asarray(u, dtype=float)
    k = kappa_kernel(u, d, sigma_U, sigma_W, activation)
    k1 = lambda_constants(d, sigma_U, sigma_W, activation).kappa1
    g = k * (d - 2 + u * u - beta * u * (1 - u * u)) + k1 * (beta * (1 - u * u) - (d - 1) * u)
    e = np.exp(beta * (u - 1.0))
    return beta * e * g / (-np.expm1(beta * (u - 1.0)))


def lambda_bar_prime(d: int, beta: float, sigma_U: float, sigma_W: float, activation="relu",
                     grid: int = 20001) -> tuple[float, float]:
    r""":math:`\bar\lambda' = -\inf_{u\in[-1,1)}F(u)`: a fine grid on :math:`[-1, 1-10^{-6}]` plus a bounded
    local minimisation (``scipy.optimize.minimize_scalar``) around the best grid point; the limit
    :math:`F(1^-)=-\bar\lambda` is included. Returns ``(lambda_bar_prime, argmin)``.

    References
    ----------
    arXiv:2604.26898.
    """
    u = np.linspace(-1.0, 1.0 - 1e-6, grid)
    f = F_sync(u, d, beta, sigma_U, sigma_W, activation)
    i = int(np.argmin(f))
    best_u, best_f = float(u[i]), float(f[i])
    lo, hi = u[max(i - 1, 0)], u[min(i + 1, grid - 1)]
    if hi > lo:
        res = minimize_scalar(lambda v: float(F_sync(v, d, beta, sigma_U, sigma_W, activation)), bounds=(lo, hi),
                              method="bounded", options={"xatol": 1e-12})
        if res.fun < best_f:
            best_u, best_f = float(res.x), float(res.fun)
    lbar = lambda_constants(d, sigma_U, sigma_W, activation).lambda_bar
    if -lbar < best_f:
        best_u, best_f = 1.0, -lbar
    return -best_f, best_u


SYNC = {"d": 8, "sigma_U": 0.3, "sigma_W": 0.3, "beta": 1.0, "n": 16, "m": 256, "dt": 0.02, "T": 3.0,
        "replicates": 24, "attention": "sa"}


def sync_energy_experiment(seed: int, p: dict = SYNC) -> dict:
    r"""Replicates of the common-noise SDE (``euler_maruyama_common_noise``, attention :math:`Q^\top K=\beta I`,
    :math:`V=I`) from one fixed :math:`\mu_0`: times, mean and standard error of :math:`E^D_\beta(\mu_t)`,
    :math:`E^D_\beta(\mu_0)` and :math:`\bar\lambda'`.

    References
    ----------
    arXiv:2604.26898.
    """
    rng = np.random.default_rng(seed)
    x0 = rng.standard_normal((p["n"], p["d"]))
    x0 /= np.linalg.norm(x0, axis=1, keepdims=True)
    every = 10
    vals = []
    for _ in range(p["replicates"]):
        path = euler_maruyama_common_noise(x0, beta=p["beta"], dt=p["dt"], t_final=p["T"], m=p["m"],
                                           sigma_U=p["sigma_U"], sigma_W=p["sigma_W"], activation="relu",
                                           attention=p["attention"], seed=rng, save_every=every)
        vals.append([energy_D(s, p["beta"]) for s in path.states])
    vals = np.array(vals)
    lp, _ = lambda_bar_prime(p["d"], p["beta"], p["sigma_U"], p["sigma_W"])
    return {"times": path.times, "mean": vals.mean(0), "se": vals.std(0, ddof=1) / math.sqrt(len(vals)),
            "E0": energy_D(x0, p["beta"]), "lambda_bar_prime": lp}


# ---------------------------------------------------------------------------------------- odd control
def common_noise_only(x0, *, dt: float, t_final: float, m: int, sigma_U: float, sigma_W: float,
                      activation="relu", seed=None) -> np.ndarray:
    r"""Pure common noise (attention switched off): Euler--Maruyama with the Itô correction,

    .. math::
        \tilde X_i = X_i - \frac{\kappa(1)(d-1)}{2}X_i\,\Delta t + \sqrt{\Delta t}\,P_{X_i}G(X_i),\qquad
        X_i\leftarrow\tilde X_i/|\tilde X_i|,\qquad G(y)=m^{-1/2}W\sigma(Uy/\sqrt d+b_U)+b_W,

    the scheme of :func:`attnflow.numerics.noise.euler_maruyama_common_noise` without the attention
    drift (the library function always includes it). The fresh weights are drawn in the same order
    ``U, b_U, W, b_W``, so a single token (for which SA attention vanishes) follows the library path
    exactly for the same seed. Returns the final state.

    References
    ----------
    arXiv:2604.26898 (common noise).
    """
    x = np.array(x0, dtype=np.float64, copy=True)
    rng = np.random.default_rng(seed) if not isinstance(seed, np.random.Generator) else seed
    if activation not in ACTIVATIONS:
        raise ValueError(f"activation: expected one of {', '.join(ACTIVATIONS)}, got {activation!r}")
    if x.ndim != 2 or x.shape[1] < 2 or not np.allclose(np.linalg.norm(x, axis=1), 1.0, atol=1e-8):
        raise ValueError(f"x0: expected unit rows of shape (n, d >= 2), got shape {x.shape}")
    if not (dt > 0 and t_final >= 0) or int(m) != m or m < 1:
        raise ValueError(f"dt/t_final/m: need dt > 0, t_final >= 0, integer m >= 1; got {dt}, {t_final}, {m}")
    act = ACTIVATIONS[activation][0]
    n, d = x.shape
    radial = lambda_constants(d, sigma_U, sigma_W, activation).kappa1 * (d - 1) / 2.0
    steps = int(round(t_final / dt))
    sq = math.sqrt(dt)
    for _ in range(steps):
        U = rng.standard_normal((m, d))
        b_U = sigma_U * rng.standard_normal(m)
        W = rng.standard_normal((d, m))
        b_W = sigma_W * rng.standard_normal(d)
        g = (act(x @ U.T / math.sqrt(d) + b_U) @ W.T) / math.sqrt(m) + b_W
        g -= np.sum(g * x, axis=1, keepdims=True) * x
        x = x - radial * dt * x + sq * g
        x /= np.linalg.norm(x, axis=1, keepdims=True)
    return x


ODD = {"d": 8, "beta": 1.0, "n": 16, "m": 256, "dt": 0.05, "T": 20.0, "replicates": 3}


def collapse_experiment(seed: int, activation: str, sigma: float, p: dict = ODD) -> dict:
    r"""Pure common noise from one random :math:`\mu_0`: mean of :math:`E^D(\mu_T)/E^D(\mu_0)` over
    replicates and the fraction of token pairs that end nearly antipodal (:math:`\langle x_i,x_j\rangle<-0.9`).

    References
    ----------
    arXiv:2604.26898 (odd fields: the antipodal set is invariant).
    """
    rng = np.random.default_rng(seed)
    x0 = rng.standard_normal((p["n"], p["d"]))
    x0 /= np.linalg.norm(x0, axis=1, keepdims=True)
    e0 = energy_D(x0, p["beta"])
    ratios, anti = [], []
    for _ in range(p["replicates"]):
        x = common_noise_only(x0, dt=p["dt"], t_final=p["T"], m=p["m"], sigma_U=sigma, sigma_W=sigma,
                              activation=activation, seed=rng)
        ratios.append(energy_D(x, p["beta"]) / e0)
        g = x @ x.T
        anti.append(float(np.mean(g[np.triu_indices(p["n"], 1)] < -0.9)))
    return {"ratio": float(np.mean(ratios)), "antipodal_pairs": float(np.mean(anti)),
            "lambda_bar": lambda_constants(p["d"], sigma, sigma, activation).lambda_bar}
