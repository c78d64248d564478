"""Covariance kernel of the random MLP field of the deep-and-wide model, and its constants.

Public names are re-exported by :mod:`attnflow.numerics.noise`.
"""

from __future__ import annotations

from typing import Callable, NamedTuple

import numpy as np
from scipy import integrate

__all__ = ["ACTIVATIONS", "kappa_relu", "kappa_kernel", "lambda_constants", "NoiseConstants"]


def _relu(z):
    return np.maximum(z, 0.0)


def _relu_prime(z):
    return (np.asarray(z) > 0).astype(np.float64)


def _tanh_prime(z):
    return 1.0 - np.tanh(z) ** 2


#: Named activations: name -> (sigma, sigma').
ACTIVATIONS: dict[str, tuple[Callable, Callable]] = {
    "relu": (_relu, _relu_prime),
    "tanh": (np.tanh, _tanh_prime),
}


def _resolve_activation(activation, activation_prime=None) -> tuple[str | None, Callable, Callable]:
    if isinstance(activation, str):
        if activation not in ACTIVATIONS:
            raise ValueError(
                f"activation: unknown activation {activation!r}; choose {', '.join(ACTIVATIONS)} or pass a callable"
            )
        f, fp = ACTIVATIONS[activation]
        return activation, f, fp
    if not callable(activation):
        raise ValueError(f"activation: expected a name or a callable, got {activation!r}")
    if activation_prime is None:
        h = 1e-5

        def activation_prime(z, _f=activation):  # central difference, O(h^2) for smooth sigma
            z = np.asarray(z, dtype=np.float64)
            return (_f(z + h) - _f(z - h)) / (2.0 * h)

    elif not callable(activation_prime):
        raise ValueError("activation_prime: expected a callable sigma'(z) or None")
    return None, activation, activation_prime


def _check_d_sigmas(d, sigma_U, sigma_W):
    if int(d) != d or d < 2:
        raise ValueError(f"d: ambient dimension must be an integer >= 2, got {d!r}")
    for name, s in (("sigma_U", sigma_U), ("sigma_W", sigma_W)):
        if not (np.isfinite(s) and s >= 0):
            raise ValueError(f"{name}: bias standard deviation must be finite and >= 0, got {s!r}")
    return int(d), float(sigma_U), float(sigma_W)


def _check_rho(rho):
    if np.iscomplexobj(rho):
        raise ValueError("rho: expected real inner products, got complex values")
    r = np.asarray(rho, dtype=np.float64)
    if not np.all(np.isfinite(r)) or np.any(np.abs(r) > 1.0 + 1e-12):
        raise ValueError("rho: inner products must lie in [-1, 1]; clip <x, y> of unit vectors")
    return np.clip(r, -1.0, 1.0)


def kappa_relu(rho, d, sigma_U, sigma_W):
    r"""Covariance kernel of the ReLU random field (arc-cosine kernel).

    .. math::
        \kappa(\rho) = \frac{s^2}{2\pi}\big(\sin\vartheta + (\pi - \vartheta)\cos\vartheta\big) + \sigma_W^2,
        \qquad s^2 = \tfrac1d + \sigma_U^2, \quad \cos\vartheta = \frac{\rho/d + \sigma_U^2}{s^2},

    i.e. :math:`\kappa(\langle x,y\rangle) = \mathbb{E}[\sigma(g_1)\sigma(g_2)] + \sigma_W^2` for the
    centred Gaussian pair :math:`g_1 = \langle u,x\rangle/\sqrt d + b_U`,
    :math:`g_2 = \langle u,y\rangle/\sqrt d + b_U` (:math:`u \sim N(0, I_d)`, :math:`b_U \sim N(0, \sigma_U^2)`),
    so that :math:`\mathbb{E}[G(x) G(y)^\top] = \kappa(\langle x, y\rangle) I_d`.

    Parameters
    ----------
    rho : float or array_like in [-1, 1]
    d : int >= 2
    sigma_U, sigma_W : float >= 0

    Returns
    -------
    float or ndarray

    References
    ----------
    arXiv:2604.26898 (stochastic scaling limits); arXiv:2604.26898 closed forms for
    ReLU; Cho & Saul, *Kernel methods for deep learning* (NeurIPS 2009).
    """
    d, sigma_U, sigma_W = _check_d_sigmas(d, sigma_U, sigma_W)
    r = _check_rho(rho)
    s2 = 1.0 / d + sigma_U**2
    cos_t = np.clip((r / d + sigma_U**2) / s2, -1.0, 1.0)
    t = np.arccos(cos_t)
    out = s2 / (2.0 * np.pi) * (np.sin(t) + (np.pi - t) * cos_t) + sigma_W**2
    return float(out) if np.ndim(out) == 0 else out


def kappa_kernel(rho, d, sigma_U, sigma_W, activation="relu", *, activation_prime=None, n_quad: int = 96):
    r"""Covariance kernel :math:`\kappa(\rho)` of the random MLP field for any activation.

    .. math::
        \kappa(\rho) = \mathbb{E}[\sigma(g_1)\sigma(g_2)] + \sigma_W^2, \qquad
        (g_1, g_2) \sim N\Big(0, \begin{pmatrix} s^2 & c \\ c & s^2\end{pmatrix}\Big),\
        s^2 = \tfrac1d + \sigma_U^2,\ c = \tfrac{\rho}{d} + \sigma_U^2.

    ReLU uses the closed form :func:`kappa_relu`; other activations a tensor Gauss--Hermite rule
    with ``n_quad`` nodes per axis (exact for polynomials of degree < 2 n_quad; accurate for smooth
    activations).

    Parameters
    ----------
    rho : float or array_like in [-1, 1]
    d : int >= 2
    sigma_U, sigma_W : float >= 0
    activation : {"relu", "tanh"} or callable
    activation_prime : callable, optional
        Unused here (accepted for a uniform signature with :func:`lambda_constants`).
    n_quad : int

    Returns
    -------
    float or ndarray

    References
    ----------
    arXiv:2604.26898 (kernel of the random MLP field).
    """
    name, f, _ = _resolve_activation(activation, activation_prime)
    if name == "relu":
        return kappa_relu(rho, d, sigma_U, sigma_W)
    d, sigma_U, sigma_W = _check_d_sigmas(d, sigma_U, sigma_W)
    r = _check_rho(rho)
    s2 = 1.0 / d + sigma_U**2
    s = np.sqrt(s2)
    z, w = np.polynomial.hermite_e.hermegauss(int(n_quad))
    w = w / np.sqrt(2.0 * np.pi)
    corr = np.clip((np.atleast_1d(r) / d + sigma_U**2) / s2, -1.0, 1.0)
    out = np.empty_like(corr)
    z1, z2 = np.meshgrid(z, z, indexing="ij")
    ww = np.outer(w, w)
    f1 = f(s * z1)
    for k, c in enumerate(corr):
        g2 = s * (c * z1 + np.sqrt(max(1.0 - c * c, 0.0)) * z2)
        out[k] = np.sum(ww * f1 * f(g2))
    out = out + sigma_W**2
    return float(out[0]) if np.ndim(r) == 0 else out.reshape(np.shape(r))


class NoiseConstants(NamedTuple):
    """Constants of the common-noise limit (see :func:`lambda_constants`)."""

    kappa1: float
    dkappa1: float
    lambda1: float
    lambda_bar: float


def _gauss_mean(fun, s: float) -> float:
    """E[fun(s Z)] for Z ~ N(0, 1) by adaptive quadrature, split at 0 (ReLU kinks)."""
    dens = lambda z: np.exp(-0.5 * z * z) / np.sqrt(2.0 * np.pi)  # noqa: E731
    left = integrate.quad(lambda z: fun(s * z) * dens(z), -np.inf, 0.0, epsabs=1e-14, epsrel=1e-12, limit=200)[0]
    right = integrate.quad(lambda z: fun(s * z) * dens(z), 0.0, np.inf, epsabs=1e-14, epsrel=1e-12, limit=200)[0]
    return left + right


def lambda_constants(d, sigma_U, sigma_W, activation="relu", *, activation_prime=None) -> NoiseConstants:
    r"""The constants :math:`\kappa(1)`, :math:`\kappa'(1)`, :math:`\lambda_1`, :math:`\bar\lambda` of the common-noise limit.

    .. math::
        \kappa(1) = \mathbb{E}\big[\sigma(X/\sqrt d + \sigma_U b)^2\big] + \sigma_W^2, \qquad
        \kappa'(1) = \tfrac1d\,\mathbb{E}\big[\sigma'(X/\sqrt d + \sigma_U b)^2\big],

        \bar\lambda = (d-1)\kappa'(1) - (d-3)\kappa(1), \qquad
        \lambda_1 = \tfrac12\big[(d-3)\kappa'(1) - (d-1)\kappa(1)\big],

    with :math:`X, b` independent standard normals. :math:`\bar\lambda` is the linear rate of
    :math:`1 - \langle X, Y\rangle` for two nearby tokens (drift of the two-point motion) and
    :math:`\lambda_1 = \tfrac12(\bar\lambda - 2\kappa(1) - 2\kappa'(1))` the exponential rate of
    their distance (top Lyapunov exponent) -- this interpretation of :math:`\lambda_1` is derived
    for this project from the two-point generator. For ReLU they reduce to
    :math:`\kappa(1) = s^2/2 + \sigma_W^2`, :math:`\kappa'(1) = 1/(2d)`,
    :math:`\lambda_1 = -\tfrac1{2d} - (\sigma_U^2 + 2\sigma_W^2)\tfrac{d-1}4`,
    :math:`\bar\lambda = \tfrac1d - (\sigma_U^2 + 2\sigma_W^2)\tfrac{d-3}2`. Other activations use
    adaptive quadrature of the one-dimensional Gaussian expectations (:math:`X/\sqrt d + \sigma_U b
    \sim N(0, s^2)`), with a central-difference :math:`\sigma'` if none is given.

    Parameters
    ----------
    d : int >= 2
    sigma_U, sigma_W : float >= 0
    activation : {"relu", "tanh"} or callable
    activation_prime : callable, optional
        Derivative of a callable activation.

    Returns
    -------
    NoiseConstants
        ``(kappa1, dkappa1, lambda1, lambda_bar)``.

    References
    ----------
    arXiv:2604.26898 (noise-driven synchronisation: hypothesis :math:`\bar\lambda < 0`); the paper
    prints :math:`1/d^2` in one place where :math:`1/d` is right (checked for this project).
    """
    name, f, fp = _resolve_activation(activation, activation_prime)
    d, sigma_U, sigma_W = _check_d_sigmas(d, sigma_U, sigma_W)
    s2 = 1.0 / d + sigma_U**2
    if name == "relu":
        k1 = s2 / 2.0 + sigma_W**2
        dk1 = 1.0 / (2.0 * d)
    else:
        s = np.sqrt(s2)
        k1 = _gauss_mean(lambda z: float(f(z)) ** 2, s) + sigma_W**2
        dk1 = _gauss_mean(lambda z: float(fp(z)) ** 2, s) / d
    lam_bar = (d - 1) * dk1 - (d - 3) * k1
    lam1 = 0.5 * ((d - 3) * dk1 - (d - 1) * k1)
    return NoiseConstants(float(k1), float(dk1), float(lam1), float(lam_bar))
