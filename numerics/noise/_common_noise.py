"""Common noise: the deep-and-wide transformer with a random MLP per layer, and its SDE limit (private).

Public names are re-exported by :mod:`attnflow.numerics.noise`.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from attnflow._base.validate import real
from attnflow.numerics.fields import self_attention_kind

from ._kernel import _resolve_activation, lambda_constants
from ._paths import StochasticPath, _n_steps, _positive, _project, _rng, _Saver, _save_every, _sphere_points
from ._sphere import _numpy_attention

__all__ = [
    "LayerWeights",
    "draw_layer_weights",
    "deep_wide_step",
    "simulate_deep_wide",
    "euler_maruyama_common_noise",
]


class LayerWeights(NamedTuple):
    """Random MLP weights of one layer (or stacked over layers along a leading axis).

    ``U`` (m, d), ``b_U`` (m,), ``W`` (d, m), ``b_W`` (d,): :math:`G(y) = m^{-1/2} W\\sigma(Uy/\\sqrt d + b_U) + b_W`.
    """

    U: np.ndarray
    b_U: np.ndarray
    W: np.ndarray
    b_W: np.ndarray


def _draw_layer(rng: np.random.Generator, m: int, d: int, sigma_U: float, sigma_W: float) -> LayerWeights:
    U = rng.standard_normal((m, d))
    b_U = sigma_U * rng.standard_normal(m)
    W = rng.standard_normal((d, m))
    b_W = sigma_W * rng.standard_normal(d)
    return LayerWeights(U, b_U, W, b_W)


def _check_mlp(m, d, sigma_U, sigma_W):
    if isinstance(m, bool) or int(m) != m or m < 1:
        raise ValueError(f"m: MLP width must be a positive integer, got {m!r}")
    for name, s in (("sigma_U", sigma_U), ("sigma_W", sigma_W)):
        if not (np.isfinite(s) and s >= 0):
            raise ValueError(f"{name}: bias standard deviation must be finite and >= 0, got {s!r}")
    return int(m), int(d), float(sigma_U), float(sigma_W)


def draw_layer_weights(L: int, m: int, d: int, sigma_U, sigma_W, seed=None) -> LayerWeights:
    r"""Draw the random MLP weights of ``L`` layers (stacked), as :func:`simulate_deep_wide` does.

    .. math::
        U \in \mathbb{R}^{m\times d},\ W \in \mathbb{R}^{d\times m} \text{ with i.i.d. } N(0,1)
        \text{ entries},\quad b_U \sim N(0, \sigma_U^2 I_m),\quad b_W \sim N(0, \sigma_W^2 I_d),

    fresh for every layer, drawn in the order ``U, b_U, W, b_W`` layer after layer, so the same
    seed reproduces the weights used by :func:`simulate_deep_wide` (memory :math:`2Lmd` floats).

    Parameters
    ----------
    L, m, d : int
    sigma_U, sigma_W : float >= 0
    seed : int or numpy.random.Generator, optional

    Returns
    -------
    LayerWeights
        Arrays with a leading axis of length ``L``.

    References
    ----------
    arXiv:2604.26898 (random MLP layer of the discrete model).
    """
    if isinstance(L, bool) or int(L) != L or L < 1:
        raise ValueError(f"L: number of layers must be a positive integer, got {L!r}")
    if isinstance(d, bool) or int(d) != d or d < 2:
        raise ValueError(f"d: dimension must be an integer >= 2, got {d!r}")
    m, d, sigma_U, sigma_W = _check_mlp(m, d, sigma_U, sigma_W)
    rng = _rng(seed)
    layers = [_draw_layer(rng, m, d, sigma_U, sigma_W) for _ in range(int(L))]
    return LayerWeights(*(np.stack(arrs) for arrs in zip(*layers)))


def _ln(v: np.ndarray) -> np.ndarray:
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def deep_wide_step(x, weights: LayerWeights, *, h, beta, activation="relu", attention: str = "sa") -> np.ndarray:
    r"""One layer of the deep-and-wide transformer with a random MLP (common noise).

    .. math::
        Y = \mathrm{LN}\big(X + h\,\mathrm{Attn}(X)\big), \qquad
        X' = \mathrm{LN}\big(Y + \sqrt h\, G(Y)\big), \qquad
        G(y) = m^{-1/2} W \sigma(U y/\sqrt d + b_U) + b_W,

    with :math:`\mathrm{LN}(v) = v/|v|` row-wise, :math:`h = T/L` and
    :math:`\mathrm{Attn}(X)_i = \sum_j e^{\beta\langle x_i,x_j\rangle}x_j / \sum_k e^{\beta\langle x_i,x_k\rangle}`
    (``attention="sa"``, :math:`Q^\top K = \beta I`, :math:`V = I`) or
    :math:`\frac1n\sum_j e^{\beta\langle x_i,x_j\rangle}x_j` (``"usa"``). The same :math:`G` acts
    on every token: this is the common noise, with :math:`\mathbb{E}[G(x)G(y)^\top] = \kappa(\langle x,y\rangle)I_d`.

    Parameters
    ----------
    x : array_like, shape (n, d)
        Unit vectors.
    weights : LayerWeights
        One layer's weights (``U`` of shape (m, d)).
    h : float > 0
        Layer step :math:`T/L`.
    beta : float
    activation : {"relu", "tanh"} or callable
    attention : {"sa", "usa"}

    Returns
    -------
    ndarray, shape (n, d)

    References
    ----------
    arXiv:2604.26898 (discrete model: attention then random MLP, each followed by LN).
    """
    xx = _sphere_points(x, "x")
    return _deep_wide_step(xx, weights, _positive(h, "h"), _beta(beta), _resolve_activation(activation)[1], _att(attention))


def _beta(beta) -> float:
    return real("beta", beta)


def _att(attention: str) -> str:
    """The normalisation (``"softmax"`` or ``"mean"``) of the plain self-attention model ``attention``."""
    return self_attention_kind(attention, "attention")


def _deep_wide_step(x, weights, h, beta, act, attention):
    n, d = x.shape
    U, b_U, W, b_W = weights
    if U.ndim != 2 or U.shape[1] != d or W.shape != (d, U.shape[0]) or b_U.shape != (U.shape[0],) or b_W.shape != (d,):
        raise ValueError(f"weights: shapes U {U.shape}, b_U {b_U.shape}, W {W.shape}, b_W {b_W.shape} do not fit d = {d}")
    m = U.shape[0]
    y = _ln(x + h * _numpy_attention(x, beta, attention))
    g = (act(y @ U.T / np.sqrt(d) + b_U) @ W.T) / np.sqrt(m) + b_W
    return _ln(y + np.sqrt(h) * g)


def simulate_deep_wide(
    X0,
    *,
    L: int,
    T,
    m: int,
    sigma_U,
    sigma_W,
    beta,
    activation="relu",
    attention: str = "sa",
    seed=None,
    weights: LayerWeights | None = None,
    save_every: int = 1,
) -> StochasticPath:
    r"""Run the deep-and-wide transformer (``L`` layers of :func:`deep_wide_step`) with fresh random MLPs.

    .. math::
        X^{\ell+1} = \mathrm{LN}\Big(\mathrm{LN}\big(X^\ell + h\mathrm{Attn}(X^\ell)\big)
            + \sqrt h\, G_\ell\big(\mathrm{LN}(X^\ell + h\mathrm{Attn}(X^\ell))\big)\Big), \quad h = T/L,

    which as :math:`L, m \to \infty` approximates the common-noise SDE

    .. math::
        dX_i = \Big(P_{X_i}\mathrm{Attn}(\mu^N, X_i) - \frac{\kappa(1)(d-1)}{2}X_i\Big)dt
            + \sum_k \sigma_k(X_i) P_{X_i} dB^k_t, \qquad \sum_k\sigma_k(x)\sigma_k(y) = \kappa(\langle x,y\rangle),

    with the same :math:`B^k` for all tokens (:math:`\kappa` from :func:`kappa_kernel`).
    Coupling: the weights are drawn layer by layer in a fixed order independent of ``beta``,
    ``attention`` and the tokens, so two runs with the same ``seed`` (same ``L, m, d``) share the
    noise; or pass ``weights`` from :func:`draw_layer_weights`.

    Parameters
    ----------
    X0 : array_like, shape (n, d)
        Unit vectors.
    L : int >= 1
        Number of layers.
    T : float > 0
        Total depth-time.
    m : int >= 1
        MLP width.
    sigma_U, sigma_W : float >= 0
        Bias standard deviations.
    beta : float
    activation : {"relu", "tanh"} or callable
    attention : {"sa", "usa"}
    seed : int or numpy.random.Generator, optional
    weights : LayerWeights, optional
        Stacked weights (leading axis ``L``); excludes ``seed``.
    save_every : int

    Returns
    -------
    StochasticPath
        ``times`` are :math:`\ell h`.

    References
    ----------
    arXiv:2604.26898 (stochastic scaling limits of deep and wide transformers).
    """
    x = _sphere_points(X0, "X0")
    n, d = x.shape
    if isinstance(L, bool) or int(L) != L or L < 1:
        raise ValueError(f"L: number of layers must be a positive integer, got {L!r}")
    L = int(L)
    T = _positive(T, "T")
    m, d, sigma_U, sigma_W = _check_mlp(m, d, sigma_U, sigma_W)
    beta = _beta(beta)
    attention = _att(attention)
    act = _resolve_activation(activation)[1]
    every = _save_every(save_every)
    if weights is not None:
        if seed is not None:
            raise ValueError("weights: pass either weights or seed, not both")
        weights = LayerWeights(*(np.asarray(w, dtype=np.float64) for w in weights))
        if weights.U.shape != (L, m, d):
            raise ValueError(f"weights: U has shape {weights.U.shape}, expected {(L, m, d)} (L, m, d)")
    rng = _rng(seed) if weights is None else None
    h = T / L
    saver = _Saver(L, every, x, h)
    for ell in range(L):
        layer = (
            _draw_layer(rng, m, d, sigma_U, sigma_W)
            if weights is None
            else LayerWeights(weights.U[ell], weights.b_U[ell], weights.W[ell], weights.b_W[ell])
        )
        x = _deep_wide_step(x, layer, h, beta, act, attention)
        saver(ell + 1, x)
    return saver.result()


def euler_maruyama_common_noise(
    x0,
    *,
    beta,
    dt,
    t_final,
    m: int,
    sigma_U,
    sigma_W,
    activation="relu",
    attention: str = "sa",
    seed=None,
    weights: LayerWeights | None = None,
    save_every: int = 1,
) -> StochasticPath:
    r"""Projected Euler--Maruyama scheme for the common-noise SDE, with its Itô correction.

    .. math::
        dX_i = \Big(P_{X_i}\mathrm{Attn}(\mu^N, X_i) - \frac{\kappa(1)(d-1)}{2}X_i\Big)dt
            + \sum_k \sigma_k(X_i) P_{X_i} dB^k_t, \qquad \sum_k\sigma_k(x)\sigma_k(y) = \kappa(\langle x,y\rangle),

    with the same :math:`B^k` for every token. One step draws a fresh random MLP field
    :math:`G(y) = m^{-1/2}W\sigma(Uy/\sqrt d + b_U) + b_W` (as in :func:`deep_wide_step`), whose
    increments :math:`\sqrt{\Delta t}\,G(X_i)` have exactly the covariance
    :math:`\kappa(\langle X_i, X_j\rangle)\Delta t\, I_d` of :math:`\sum_k\sigma_k(X_i)\Delta B^k`
    (Gaussian given :math:`U, b_U`; weak order 1 like Euler--Maruyama), and sets

    .. math::
        \tilde X_i = X_i + \Big(P_{X_i}\mathrm{Attn}_i - \frac{\kappa(1)(d-1)}{2}X_i\Big)\Delta t
            + \sqrt{\Delta t}\, P_{X_i} G(X_i), \qquad X_i \leftarrow \tilde X_i/|\tilde X_i|.

    :math:`\kappa(1)` comes from :func:`lambda_constants`. Coupling: the same ``seed`` (or the same
    ``weights`` from :func:`draw_layer_weights` with ``L = n_steps``) gives the same noise for any
    ``beta`` / ``attention``.

    Parameters
    ----------
    x0 : array_like, shape (n, d)
        Unit vectors.
    beta : float
    dt, t_final : float
    m : int
        Width of the random field (its law is exact in the first two moments for every m).
    sigma_U, sigma_W : float >= 0
    activation : {"relu", "tanh"} or callable
    attention : {"sa", "usa"}
    seed : int or numpy.random.Generator, optional
    weights : LayerWeights, optional
        Per-step fields stacked along a leading axis of length ``n_steps``; excludes ``seed``.
    save_every : int

    Returns
    -------
    StochasticPath

    References
    ----------
    arXiv:2604.26898 (common-noise limit and its Itô correction).
    """
    x = _sphere_points(x0, "x0")
    n, d = x.shape
    beta = _beta(beta)
    dt, n_steps = _n_steps(dt, t_final)
    m, d, sigma_U, sigma_W = _check_mlp(m, d, sigma_U, sigma_W)
    attention = _att(attention)
    act = _resolve_activation(activation)[1]
    every = _save_every(save_every)
    k1 = lambda_constants(d, sigma_U, sigma_W, activation).kappa1
    if weights is not None:
        if seed is not None:
            raise ValueError("weights: pass either weights or seed, not both")
        weights = LayerWeights(*(np.asarray(w, dtype=np.float64) for w in weights))
        if weights.U.shape != (n_steps, m, d):
            raise ValueError(f"weights: U has shape {weights.U.shape}, expected {(n_steps, m, d)} (n_steps, m, d)")
    rng = _rng(seed) if weights is None else None
    saver = _Saver(n_steps, every, x, dt)
    sqdt = np.sqrt(dt)
    radial = k1 * (d - 1) / 2.0
    for k in range(n_steps):
        U, b_U, W, b_W = (
            _draw_layer(rng, m, d, sigma_U, sigma_W)
            if weights is None
            else (weights.U[k], weights.b_U[k], weights.W[k], weights.b_W[k])
        )
        g = (act(x @ U.T / np.sqrt(d) + b_U) @ W.T) / np.sqrt(m) + b_W
        step = (_project(x, _numpy_attention(x, beta, attention)) - radial * x) * dt + sqdt * _project(x, g)
        x = x + step
        x /= np.linalg.norm(x, axis=1, keepdims=True)
        saver(k + 1, x)
    return saver.result()
