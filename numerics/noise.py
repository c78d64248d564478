"""Stochastic token dynamics on the sphere: independent noise, noisy Kuramoto, common noise.

All simulators are seeded (``numpy.random.default_rng(seed)``) and reproducible, and can share one
noise realisation between two systems, which is what coupled comparisons need (e.g. the same
Brownian path driving two inverse temperatures, or a finite system and its reference):

* pass the **same integer seed** to both runs: the increments are drawn step by step in a fixed
  order that does not depend on the model parameters, so both runs see identical noise without
  storing it; or
* draw the increments once with :func:`brownian_increments` (or the layer weights with
  :func:`draw_layer_weights`) and pass the array to both runs (``increments=`` / ``weights=``).
  For the same seed both routes give bit-identical paths.

References
----------
Theory notes 01-models.md §1.8, 05-wasserstein.md §5.5; arXiv:2512.01868 §7 (independent noise),
arXiv:2604.26898 (common noise, deep-and-wide limit).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, NamedTuple

import numpy as np

from ._noise_kernel import ACTIVATIONS, NoiseConstants, _resolve_activation, kappa_kernel, kappa_relu, lambda_constants

__all__ = [
    "StochasticPath",
    "LayerWeights",
    "NoiseConstants",
    "ACTIVATIONS",
    "brownian_increments",
    "attention_drift",
    "euler_maruyama_sphere",
    "noisy_kuramoto",
    "order_parameter",
    "draw_layer_weights",
    "deep_wide_step",
    "simulate_deep_wide",
    "euler_maruyama_common_noise",
    "kappa_relu",
    "kappa_kernel",
    "lambda_constants",
]

_UNIT_TOL = 1e-8


@dataclass(frozen=True)
class StochasticPath:
    """A saved stochastic trajectory.

    Attributes
    ----------
    times : ndarray, shape (k,)
        Saved times (the first is 0, the last the final time).
    states : ndarray, shape (k, n, d) or (k, n) for angles
        Saved states; ``states[-1]`` is the final state.
    """

    times: np.ndarray
    states: np.ndarray

    @property
    def final(self) -> np.ndarray:
        """The final state."""
        return self.states[-1]


# ----------------------------------------------------------------------------------------------
# validation helpers
# ----------------------------------------------------------------------------------------------
def _rng(seed) -> np.random.Generator:
    if isinstance(seed, np.random.Generator):
        return seed
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, (int, np.integer))):
        raise ValueError(f"seed: expected None, an int or a numpy.random.Generator, got {seed!r}")
    return np.random.default_rng(seed)


def _sphere_points(x, name: str) -> np.ndarray:
    arr = np.array(x, dtype=np.float64, copy=True)
    if arr.ndim != 2 or arr.shape[0] < 1 or arr.shape[1] < 2:
        raise ValueError(f"{name}: expected shape (n, d) with n >= 1 and d >= 2, got {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name}: contains NaN or inf; pass finite unit vectors")
    dev = float(np.max(np.abs(np.linalg.norm(arr, axis=1) - 1.0)))
    if dev > _UNIT_TOL:
        raise ValueError(
            f"{name}: rows must be unit vectors (max ||x_i| - 1| = {dev:.3g}); "
            "normalise with x / np.linalg.norm(x, axis=1, keepdims=True)"
        )
    return arr / np.linalg.norm(arr, axis=1, keepdims=True)


def _positive(value, name: str, *, allow_inf: bool = False) -> float:
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name}: expected a positive number, got {value!r}") from None
    if np.isnan(v) or v <= 0 or (np.isinf(v) and not allow_inf):
        raise ValueError(f"{name}: must be a positive {'number' if allow_inf else 'finite number'}, got {value!r}")
    return v


def _n_steps(dt, t_final) -> tuple[float, int]:
    dt = _positive(dt, "dt")
    try:
        t_final = float(t_final)
    except (TypeError, ValueError):
        raise ValueError(f"t_final: expected a number >= 0, got {t_final!r}") from None
    if not np.isfinite(t_final) or t_final < 0:
        raise ValueError(f"t_final: must be finite and >= 0, got {t_final!r}")
    k = int(round(t_final / dt))
    if abs(k * dt - t_final) > 1e-9 * max(1.0, t_final):
        raise ValueError(f"t_final: {t_final} is not a whole number of steps dt = {dt}; choose dt = t_final / k")
    return dt, k


def _save_every(save_every) -> int:
    if isinstance(save_every, bool) or int(save_every) != save_every or save_every < 1:
        raise ValueError(f"save_every: must be a positive integer, got {save_every!r}")
    return int(save_every)


def _check_increments(increments, seed, shape: tuple, name: str = "increments"):
    if increments is None:
        return None
    if seed is not None:
        raise ValueError(f"{name}: pass either {name} or seed, not both (the increments already fix the noise)")
    inc = np.asarray(increments, dtype=np.float64)
    if inc.shape != shape:
        raise ValueError(f"{name}: expected shape {shape} (n_steps, ...), got {inc.shape}")
    if not np.all(np.isfinite(inc)):
        raise ValueError(f"{name}: contains NaN or inf")
    return inc


class _Saver:
    def __init__(self, n_steps: int, every: int, x0: np.ndarray, dt: float):
        self.idx = sorted(set(range(0, n_steps + 1, every)) | {n_steps})
        self.states = np.empty((len(self.idx),) + x0.shape)
        self.times = np.array(self.idx, dtype=np.float64) * dt
        self.states[0] = x0
        self.k = 1

    def __call__(self, step: int, x: np.ndarray):
        if self.k < len(self.idx) and step == self.idx[self.k]:
            self.states[self.k] = x
            self.k += 1

    def result(self) -> StochasticPath:
        return StochasticPath(self.times, self.states)


def brownian_increments(n_steps: int, shape, dt, seed=None) -> np.ndarray:
    r"""Pre-drawn Brownian increments :math:`\Delta W_k \sim N(0, \Delta t\, I)`, shape ``(n_steps, *shape)``.

    .. math::
        \Delta W_k = \sqrt{\Delta t}\, \xi_k, \qquad \xi_k \sim N(0, I) \text{ i.i.d.}

    Drawn with ``numpy.random.default_rng(seed).standard_normal`` in one call, which produces the
    same numbers as the step-by-step draws of the simulators for the same seed, so passing this
    array or the seed gives identical paths. Pass one array to two simulations to drive both with
    the same noise.

    Parameters
    ----------
    n_steps : int >= 0
    shape : tuple of int
        Shape of one increment (``(n, d)`` on the sphere, ``(n,)`` for angles).
    dt : float > 0
    seed : int or numpy.random.Generator, optional

    Returns
    -------
    ndarray

    References
    ----------
    Kloeden & Platen, *Numerical Solution of SDEs* (1992), §10.2; theory notes 01-models.md §1.8.
    """
    if isinstance(n_steps, bool) or int(n_steps) != n_steps or n_steps < 0:
        raise ValueError(f"n_steps: must be an integer >= 0, got {n_steps!r}")
    dt = _positive(dt, "dt")
    shape = tuple(int(s) for s in np.atleast_1d(shape))
    if any(s < 1 for s in shape):
        raise ValueError(f"shape: every size must be >= 1, got {shape}")
    return np.sqrt(dt) * _rng(seed).standard_normal((int(n_steps),) + shape)


# ----------------------------------------------------------------------------------------------
# attention drift
# ----------------------------------------------------------------------------------------------
def _numpy_attention(x: np.ndarray, beta: float, model: str) -> np.ndarray:
    logits = beta * (x @ x.T)
    if model == "sa":
        w = np.exp(logits - logits.max(axis=1, keepdims=True))
        w /= w.sum(axis=1, keepdims=True)
        return w @ x
    # usa: (1/n) sum_j e^{beta <x_i, x_j>} x_j = e^{|beta|} (1/n) sum_j e^{beta<x_i,x_j> - |beta|} x_j
    shift = abs(beta)
    return (np.exp(logits - shift) @ x) * (np.exp(shift) / x.shape[0])


def _project(x: np.ndarray, v: np.ndarray) -> np.ndarray:
    return v - np.sum(x * v, axis=1, keepdims=True) * x


def _compiled_field(model: str, beta: float):
    """The numba field of ``attnflow.numerics.fields`` if it exists and agrees with NumPy, else None."""
    try:
        from attnflow.numerics.fields import make_field  # written by the kernels helper
    except Exception:
        return None
    try:
        fld = make_field(model, beta=beta)
        probe = np.random.default_rng(12345).standard_normal((7, 3))
        probe /= np.linalg.norm(probe, axis=1, keepdims=True)
        ref = _project(probe, _numpy_attention(probe, beta, model))
        got = _project(probe, np.asarray(fld(0.0, probe), dtype=np.float64))
        if got.shape == ref.shape and np.allclose(got, ref, rtol=1e-10, atol=1e-12):
            return fld
    except Exception:
        return None
    return None


def attention_drift(beta, model: str = "usa", *, backend: str = "auto") -> Callable:
    r"""Attention vector field as a drift ``f(t, X)`` for :func:`euler_maruyama_sphere`.

    .. math::
        \text{usa:}\quad f_i = \frac1n \sum_j e^{\beta\langle x_i, x_j\rangle} x_j, \qquad
        \text{sa:}\quad f_i = \frac{\sum_j e^{\beta\langle x_i, x_j\rangle} x_j}{\sum_k e^{\beta\langle x_i, x_k\rangle}}.

    (The simulator applies the tangent projection :math:`P_{x_i}`.) The softmax logits are shifted
    by their row maximum; the USA sum is evaluated as :math:`e^{|\beta|}\frac1n\sum_j
    e^{\beta\langle x_i,x_j\rangle - |\beta|}x_j`. ``backend="auto"`` uses the numba field
    ``attnflow.numerics.fields.make_field(model, beta=beta)`` (called as ``f(t, x)``; it returns the
    projected velocity, which the scheme projects again harmlessly) when it is importable and agrees with
    the NumPy formula on a probe configuration, otherwise NumPy; the chosen backend is stored in
    the returned function's ``backend`` attribute.

    Parameters
    ----------
    beta : float
        Inverse temperature (any real; negative is legal).
    model : {"usa", "sa"}
    backend : {"auto", "numpy"}

    Returns
    -------
    callable
        ``f(t, X) -> ndarray`` of shape ``(n, d)``.

    References
    ----------
    Theory notes 01-models.md §1.1, §1.2, §1.8; arXiv:2312.10794, arXiv:2512.01868.
    """
    if model not in ("usa", "sa"):
        raise ValueError(f"model: unknown model {model!r}; choose 'usa' or 'sa'")
    if backend not in ("auto", "numpy"):
        raise ValueError(f"backend: unknown backend {backend!r}; choose 'auto' or 'numpy'")
    try:
        beta = float(beta)
    except (TypeError, ValueError):
        raise ValueError(f"beta: expected a real number, got {beta!r}") from None
    if not np.isfinite(beta):
        raise ValueError(f"beta: must be finite, got {beta}")
    fld = _compiled_field(model, beta) if backend == "auto" else None
    if fld is not None:

        def drift(t, x, _f=fld):
            return np.asarray(_f(float(t), np.ascontiguousarray(x, dtype=np.float64)), dtype=np.float64)

        drift.backend = "numba"
    else:

        def drift(t, x, _b=beta, _m=model):
            return _numpy_attention(x, _b, _m)

        drift.backend = "numpy"
    return drift


# ----------------------------------------------------------------------------------------------
# independent noise on the sphere
# ----------------------------------------------------------------------------------------------
def euler_maruyama_sphere(
    x0,
    drift: Callable | None,
    *,
    kappa,
    dt,
    t_final,
    seed=None,
    increments=None,
    save_every: int = 1,
) -> StochasticPath:
    r"""Projected Euler--Maruyama scheme for tokens with independent noise on :math:`S^{d-1}`.

    Solves the Itô SDE (Brownian motion with generator :math:`\kappa^{-1}\Delta_{S^{d-1}}` plus drift)

    .. math::
        dX_i = \Big(P_{X_i} f(t, X)_i - \frac{d-1}{\kappa} X_i\Big)dt + \sqrt{2/\kappa}\; P_{X_i}\, dW_i,
        \qquad P_x = I - x x^\top,

    with independent ambient Brownian motions :math:`W_i` in :math:`\mathbb{R}^d`; the radial term is
    the Itô correction of :math:`\sqrt{2/\kappa}\,P_X \circ dW` (Stratonovich). One step:

    .. math::
        \tilde X_i = X_i + \Big(P_{X_i} f_i - \tfrac{d-1}{\kappa} X_i\Big)\Delta t
            + \sqrt{2/\kappa}\, P_{X_i}\Delta W_i, \qquad X_i \leftarrow \tilde X_i / |\tilde X_i|,

    weak order 1 (the renormalisation changes the step by :math:`O(\Delta t^{3/2})` in mean square).
    For :math:`f = 0`, :math:`\mathbb{E}\langle X_t, x_0\rangle = e^{-(d-1)t/\kappa}` because linear
    functions are eigenfunctions of :math:`\Delta_{S^{d-1}}` with eigenvalue :math:`-(d-1)`.

    Coupling: two calls with the same ``seed`` (and the same ``n``, ``d``, ``dt``, ``t_final``) use
    identical increments whatever the drift; or pass one array from :func:`brownian_increments`.

    Parameters
    ----------
    x0 : array_like, shape (n, d)
        Unit vectors.
    drift : callable or None
        ``f(t, X) -> (n, d)`` ambient field, projected by the scheme (e.g. :func:`attention_drift`);
        None for pure Brownian motion.
    kappa : float > 0 or inf
        Inverse noise level (``inf``: no noise, the explicit Euler + renormalisation scheme).
    dt, t_final : float
        Step and final time (``t_final`` a whole number of steps).
    seed : int or numpy.random.Generator, optional
    increments : ndarray, shape (n_steps, n, d), optional
        Pre-drawn :math:`\Delta W` (variance ``dt``); excludes ``seed``.
    save_every : int
        Save every ``save_every`` steps (the final state is always saved).

    Returns
    -------
    StochasticPath

    References
    ----------
    arXiv:2512.01868 §7; theory notes 01-models.md §1.8. Hsu, *Stochastic Analysis on Manifolds*
    (2002), §3.1 (Brownian motion on the sphere, Itô form); Kloeden & Platen (1992).
    """
    x = _sphere_points(x0, "x0")
    n, d = x.shape
    kappa = _positive(kappa, "kappa", allow_inf=True)
    dt, n_steps = _n_steps(dt, t_final)
    every = _save_every(save_every)
    if drift is not None and not callable(drift):
        raise ValueError("drift: expected a callable f(t, X) or None")
    inc = _check_increments(increments, seed, (n_steps, n, d))
    rng = _rng(seed) if inc is None else None
    noise = np.sqrt(2.0 / kappa) if np.isfinite(kappa) else 0.0
    radial = (d - 1) / kappa
    saver = _Saver(n_steps, every, x, dt)
    sqdt = np.sqrt(dt)
    for k in range(n_steps):
        t = k * dt
        step = -radial * dt * x
        if drift is not None:
            f = np.asarray(drift(t, x), dtype=np.float64)
            if f.shape != (n, d):
                raise ValueError(f"drift: returned shape {f.shape}, expected {(n, d)}")
            step += _project(x, f) * dt
        dw = inc[k] if inc is not None else sqdt * rng.standard_normal((n, d))
        if noise:
            step += noise * _project(x, dw)
        x = x + step
        x /= np.linalg.norm(x, axis=1, keepdims=True)
        saver(k + 1, x)
    return saver.result()


# ----------------------------------------------------------------------------------------------
# circle
# ----------------------------------------------------------------------------------------------
def order_parameter(theta) -> np.ndarray | float:
    r"""Kuramoto order parameter :math:`r = \big|\frac1n\sum_j e^{i\theta_j}\big|` over the last axis.

    .. math::
        r\, e^{i\psi} = \frac1n \sum_{j=1}^n e^{i\theta_j}

    Parameters
    ----------
    theta : array_like, shape (..., n)
        Angles in radians.

    Returns
    -------
    float or ndarray of shape (...)

    References
    ----------
    Theory notes 01-models.md §1.4, §1.8; Kuramoto (1975); arXiv:2512.01868 §7.
    """
    th = np.asarray(theta, dtype=np.float64)
    if th.ndim < 1 or th.shape[-1] < 1:
        raise ValueError(f"theta: expected angles with a last axis of size >= 1, got shape {th.shape}")
    if not np.all(np.isfinite(th)):
        raise ValueError("theta: contains NaN or inf")
    r = np.hypot(np.cos(th).mean(axis=-1), np.sin(th).mean(axis=-1))
    return float(r) if np.ndim(r) == 0 else r


def _circle_drift(th: np.ndarray, beta: float) -> np.ndarray:
    if beta == 0.0:
        z = np.exp(1j * th).mean()
        return np.imag(z * np.exp(-1j * th))  # (1/n) sum_j sin(theta_j - theta_i)
    diff = th[None, :] - th[:, None]  # theta_j - theta_i
    c = np.cos(diff)
    w = np.exp(beta * (c - 1.0)) * np.exp(beta) if beta > 0 else np.exp(beta * (c + 1.0)) * np.exp(-beta)
    return (w * np.sin(diff)).mean(axis=1)


def noisy_kuramoto(
    theta0,
    *,
    kappa,
    dt,
    t_final,
    beta=0.0,
    seed=None,
    increments=None,
    save_every: int = 1,
) -> StochasticPath:
    r"""Euler--Maruyama for the noisy Kuramoto / circle-USA model in angles.

    .. math::
        d\theta_i = \frac1n \sum_{j=1}^n e^{\beta\cos(\theta_i - \theta_j)} \sin(\theta_j - \theta_i)\, dt
            + \sqrt{2/\kappa}\, dW_i,

    which at :math:`\beta = 0` is :math:`d\theta_i = -\frac1n\sum_j \sin(\theta_i - \theta_j)dt +
    \sqrt{2/\kappa}dW_i = r\sin(\psi - \theta_i)dt + \sqrt{2/\kappa}dW_i` (evaluated in :math:`O(n)`
    through the order parameter :math:`re^{i\psi}`). The noise is additive, so Euler--Maruyama has
    strong order 1; it is Brownian motion on :math:`S^1` with generator :math:`\kappa^{-1}\partial_\theta^2`.
    Expected behaviour (theory notes, [derived]): the uniform law is the only stationary state for
    :math:`\kappa \le 2`; above, :math:`r = I_1(\kappa r)/I_0(\kappa r)`.

    Parameters
    ----------
    theta0 : array_like, shape (n,)
        Initial angles (radians).
    kappa : float > 0 or inf
    dt, t_final : float
    beta : float
        Inverse temperature (default 0, the Kuramoto model).
    seed : int or numpy.random.Generator, optional
    increments : ndarray, shape (n_steps, n), optional
        Pre-drawn :math:`\Delta W` (variance ``dt``); excludes ``seed``.
    save_every : int

    Returns
    -------
    StochasticPath
        Angles (not reduced mod :math:`2\pi`); use :func:`order_parameter` on ``states``.

    References
    ----------
    arXiv:2512.01868 §7; theory notes 01-models.md §1.4, §1.8; Bertini, Giacomin & Pakdaman,
    J. Stat. Phys. 138 (2010) (noisy Kuramoto, phase transition at the critical coupling).
    """
    th = np.array(theta0, dtype=np.float64, copy=True)
    if th.ndim != 1 or th.shape[0] < 1:
        raise ValueError(f"theta0: expected a 1-D array of n >= 1 angles, got shape {th.shape}")
    if not np.all(np.isfinite(th)):
        raise ValueError("theta0: contains NaN or inf")
    n = th.shape[0]
    kappa = _positive(kappa, "kappa", allow_inf=True)
    try:
        beta = float(beta)
    except (TypeError, ValueError):
        raise ValueError(f"beta: expected a real number, got {beta!r}") from None
    if not np.isfinite(beta):
        raise ValueError(f"beta: must be finite, got {beta}")
    dt, n_steps = _n_steps(dt, t_final)
    every = _save_every(save_every)
    inc = _check_increments(increments, seed, (n_steps, n))
    rng = _rng(seed) if inc is None else None
    noise = np.sqrt(2.0 / kappa) if np.isfinite(kappa) else 0.0
    saver = _Saver(n_steps, every, th, dt)
    sqdt = np.sqrt(dt)
    for k in range(n_steps):
        dw = inc[k] if inc is not None else sqdt * rng.standard_normal(n)
        th = th + _circle_drift(th, beta) * dt + noise * dw
        saver(k + 1, th)
    return saver.result()


# ----------------------------------------------------------------------------------------------
# common noise: the deep-and-wide transformer with a random MLP per layer
# ----------------------------------------------------------------------------------------------
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
    arXiv:2604.26898; theory notes 01-models.md §1.8.
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
    arXiv:2604.26898; theory notes 01-models.md §1.8, 05-wasserstein.md §5.5.
    """
    xx = _sphere_points(x, "x")
    return _deep_wide_step(xx, weights, _positive(h, "h"), _beta(beta), _resolve_activation(activation)[1], _att(attention))


def _beta(beta) -> float:
    try:
        b = float(beta)
    except (TypeError, ValueError):
        raise ValueError(f"beta: expected a real number, got {beta!r}") from None
    if not np.isfinite(b):
        raise ValueError(f"beta: must be finite, got {beta}")
    return b


def _att(attention: str) -> str:
    if attention not in ("sa", "usa"):
        raise ValueError(f"attention: unknown attention {attention!r}; choose 'sa' or 'usa'")
    return attention


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
    arXiv:2604.26898 (stochastic scaling limits of deep and wide transformers); theory notes
    01-models.md §1.8, 05-wasserstein.md §5.5.
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
    arXiv:2604.26898 (common-noise limit and its Itô correction); theory notes 01-models.md §1.8,
    05-wasserstein.md §5.5.
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
