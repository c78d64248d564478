r"""Clustering helpers of the ``cluster.*`` and ``metastability.*`` checks.

Hemisphere decisions (Wendel's probability, Gordan certificates), stationary configurations and
their speeds, event-driven integration with :func:`attnflow.numerics.integrate`, cluster
diagnostics (diameter, minimal inner product), time and Lipschitz scales, and the well-separated
caps of the metastability experiment.

References
----------
arXiv:2312.10794 §2, §6 (hemisphere collapse, stationary configurations); arXiv:2410.06833
(metastability); arXiv:2512.01868 (clustering diagram).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
from scipy.optimize import linprog

from attnflow.numerics import integrate, make_field, velocity
from attnflow.numerics.fields import MODELS, self_attention_kind, time_scale
from attnflow.numerics._reference import velocity_ref
from attnflow.properties.strategies import regular_simplex

__all__ = [
    "wendel_probability",
    "in_open_hemisphere",
    "stationary_configuration",
    "relative_speed",
    "integrate_until",
    "diameter",
    "min_inner",
    "hemisphere_speed_scale",
    "hemisphere_rate_bound",
    "d3_horizon",
    "describe",
    "random_qk",
    "META_RTOL",
    "cap_configuration",
    "cap_alpha",
    "escape_time",
]


def wendel_probability(n: int, d: int) -> float:
    r"""Wendel's formula :math:`P_{n,d} = 2^{-(n-1)}\sum_{k=0}^{d-1}\binom{n-1}{k}` (equals 1 for ``d >= n``).

    References
    ----------
    J. G. Wendel, "A problem in geometric probability", Math. Scand. 11 (1962) 109-111.
    """
    if n < 1 or d < 1:
        raise ValueError(f"n, d: expected positive sizes, got n={n}, d={d}")
    return sum(math.comb(n - 1, k) for k in range(d)) / 2 ** (n - 1)


def in_open_hemisphere(x: np.ndarray, perceptron_steps: int = 30) -> bool:
    r"""Whether :math:`\exists w:\ \langle x_i,w\rangle>0\ \forall i`, decided with verified certificates.

    By Gordan's theorem exactly one of the two systems is solvable:

    .. math:: \exists w:\ Xw>0 \qquad\text{or}\qquad \exists\lambda\ge0,\ \textstyle\sum_i\lambda_i=1,\ X^\top\lambda=0 .

    1. a few perceptron steps from the mean direction look for a separating :math:`w` (verified
       exactly: :math:`\min_i\langle x_i,w\rangle>0`);
    2. otherwise the Gordan LP (``scipy.optimize.linprog``, HiGHS) looks for :math:`\lambda`; a
       solution is verified (:math:`\lambda\ge0`, :math:`|X^\top\lambda|\le10^{-9}`);
    3. if that LP is infeasible, the primal LP :math:`Xw\ge1` (strictness by scaling) must return a
       verified :math:`w`.  Inconsistent answers raise ``RuntimeError`` (never a silent guess).

    References
    ----------
    Gordan's theorem of the alternative (e.g. Schrijver, *Theory of Linear and Integer Programming*, §7.8);
    arXiv:2312.10794 (clustering from a hemisphere start).
    """
    x = np.asarray(x, dtype=float)
    if x.ndim != 2 or x.shape[0] < 1:
        raise ValueError(f"x: expected an (n, d) array of points, got shape {x.shape}")
    n, d = x.shape
    w = x.sum(axis=0)
    for _ in range(perceptron_steps):
        s = x @ w
        k = int(np.argmin(s))
        if s[k] > 0:
            return True
        w = w + x[k]
    a_eq = np.vstack([x.T, np.ones((1, n))])
    b_eq = np.concatenate([np.zeros(d), [1.0]])
    alt = linprog(np.zeros(n), A_eq=a_eq, b_eq=b_eq, bounds=[(0, None)] * n, method="highs")
    if alt.status == 0:
        lam = alt.x
        if np.min(lam) < -1e-12 or np.linalg.norm(x.T @ lam) > 1e-9:
            raise RuntimeError("Gordan LP returned an unverifiable certificate")
        return False
    if alt.status != 2:
        raise RuntimeError(f"Gordan LP: {alt.message}")
    res = linprog(np.zeros(d), A_ub=-x, b_ub=-np.ones(n), bounds=[(None, None)] * d, method="highs")
    if res.status != 0 or not np.min(x @ res.x) > 0:
        raise RuntimeError("hemisphere LPs disagree: neither a separating w nor a Gordan certificate")
    return True


def stationary_configuration(kind: str, n: int, d: int, seed: int) -> np.ndarray:
    r"""A stationary configuration, randomly rotated: an antipodal pair :math:`\{x,-x\}` (``n = 2``),
    a regular simplex (:math:`\langle x_i,x_j\rangle=-1/(n-1)`, ``kind`` ``"simplex"`` or
    ``"simplex_large"``), or (``"polygon"``) angles of shape ``(3, n)``: three rotated regular
    ``n``-gons on the circle, :math:`\theta_j = \phi + 2\pi j/n`.

    References
    ----------
    arXiv:2312.10794 §6.
    """
    rng = np.random.default_rng(seed)
    if kind == "antipodal":
        x = rng.standard_normal(d)
        x /= np.linalg.norm(x)
        return np.stack([x, -x])
    if kind in ("simplex", "simplex_large"):
        return regular_simplex(n, d, rng=np.random.default_rng(seed))
    if kind == "polygon":
        phases = rng.uniform(0.0, 2 * np.pi, size=(3, 1))
        return np.mod(phases + 2 * np.pi * np.arange(n) / n, 2 * np.pi)
    raise ValueError(f"kind: expected 'antipodal', 'simplex', 'simplex_large' or 'polygon', got {kind!r}")


def _circle_field_np(theta: np.ndarray, beta: float) -> np.ndarray:
    diff = theta[..., :, None] - theta[..., None, :]
    return -np.mean(np.exp(beta * (np.cos(diff) - 1.0)) * np.sin(diff), axis=-1)


def relative_speed(x: np.ndarray, model: str, beta: float) -> float:
    r""":math:`\max_i|\dot x_i|` relative to the unprojected attention sum (SA: weights sum to 1; USA: scale of
    :math:`\frac1n\sum_j e^{\beta\langle x_i,x_j\rangle}x_j` plus :math:`e^\beta/n`; Kuramoto on angles: in
    units of :math:`e^{\beta}`), the larger of the plain-NumPy field and the generated kernel
    (:func:`attnflow.numerics.velocity`), so both implementations are held to the claim.

    References
    ----------
    arXiv:2312.10794 §2 (SA, USA); arXiv:2512.01868 (USA, Kuramoto form on the circle).
    """
    circle = MODELS[model].manifold == "angles" if model in MODELS else False
    if circle:  # the Kuramoto form on the circle (its NumPy field below)
        scale = float(np.exp(beta))
        fields = (_circle_field_np(x, beta) * scale, velocity(x, model=model, beta=beta))
    elif self_attention_kind(model) == "softmax":
        fields = (velocity_ref(x, model, beta), velocity(x, model=model, beta=beta))
        scale = 1.0
    else:
        raw = np.exp(beta * (x @ x.T)) @ x / x.shape[0]  # unprojected sums (1/n) sum_j e^{beta<x_i,x_j>} x_j
        scale = float(np.linalg.norm(raw, axis=1).max()) + np.exp(beta) / x.shape[0]
        fields = (velocity_ref(x, model, beta), velocity(x, model=model, beta=beta))
    return max(float(np.abs(f).max()) if circle else float(np.linalg.norm(f, axis=1).max())
               for f in fields) / scale


def integrate_until(
    f: Callable[[float, np.ndarray], np.ndarray],
    x0: np.ndarray,
    stop: Callable[[np.ndarray, np.ndarray], int | None],
    *,
    rtol: float,
    first_chunk: float,
    t_max: float,
    manifold: str = "sphere",
) -> tuple[np.ndarray, np.ndarray, float | None]:
    r"""Integrate :math:`\dot x = f(t, x)` with the adaptive Dormand–Prince pair until ``stop`` fires.

    Chunks of length ``first_chunk``, ``2 first_chunk``, ``4 first_chunk``, ... are integrated with
    :func:`attnflow.numerics.integrate` (``method="adaptive"``, every accepted step saved); after each
    chunk ``stop(times, states)`` returns the index of the first saved state at which the event has
    happened (or ``None``).  The total time never exceeds ``t_max``.

    .. math:: t^* = \min\{t_k : \mathrm{stop}(x(t_k))\},\qquad t_k \text{ the accepted steps.}

    Parameters
    ----------
    f : callable
        Field ``f(t, x)`` (e.g. from :func:`attnflow.numerics.make_field`).
    x0 : ndarray
        Initial state.
    stop : callable
        ``stop(times, states) -> int | None`` (vectorised over the saved states of one chunk).
    rtol : float
        Relative tolerance of the adaptive integrator (``atol = 1e-3 rtol``).
    first_chunk, t_max : float
        Length of the first chunk and the largest total time (both > 0).
    manifold : {"sphere", "euclidean", "angles"}

    Returns
    -------
    times, states, t_stop
        All saved times and states up to the event (inclusive), and the event time (``None`` if it
        did not happen by ``t_max``; then everything up to ``t_max`` is returned).

    References
    ----------
    Hairer–Nørsett–Wanner I, §II.4–5 (Dormand–Prince 5(4), step control);
    arXiv:2410.06833 (metastable plateaus make adaptive steps worthwhile).
    """
    if not (first_chunk > 0 and t_max > 0):
        raise ValueError(f"first_chunk, t_max: need positive times, got {first_chunk}, {t_max}")
    ts, xs = [np.array([0.0])], [np.asarray(x0, dtype=float)[None]]
    k0 = stop(ts[0], xs[0])
    if k0 is not None:
        return ts[0], xs[0], 0.0
    t, x, chunk = 0.0, np.ascontiguousarray(x0, dtype=float), float(first_chunk)
    while t < t_max:
        length = min(chunk, t_max - t)
        res = integrate(f, x, length, method="adaptive", rtol=rtol, manifold=manifold, t0=t)
        times, states = res.times[1:], res.states[1:]
        k = stop(times, states)
        if k is not None:
            ts.append(times[: k + 1])
            xs.append(states[: k + 1])
            return np.concatenate(ts), np.concatenate(xs), float(times[k])
        ts.append(times)
        xs.append(states)
        t, x = float(times[-1]), np.ascontiguousarray(states[-1])
        chunk *= 2.0
    return np.concatenate(ts), np.concatenate(xs), None


def _stack(states) -> np.ndarray:
    s = np.asarray(states, dtype=float)
    if s.ndim < 2 or s.shape[-2] < 1 or s.shape[-1] < 1:
        raise ValueError(f"states: expected configurations of shape (..., n, d), got shape {s.shape}")
    if not np.all(np.isfinite(s)):
        raise ValueError("states: contains NaN or inf")
    return s


def diameter(states: np.ndarray) -> np.ndarray:
    r"""Chordal diameter :math:`\max_{i,j}|x_i - x_j|` of each configuration in a stack ``(..., n, d)``.

    Computed from the differences (no cancellation in :math:`2 - 2\langle x_i,x_j\rangle`), so it is
    accurate down to round-off :math:`\sim 10^{-16}`.

    References
    ----------
    Chordal metric :math:`|x-y|` of :math:`R^d`; arXiv:2312.10794 (exponential collapse from a hemisphere).
    """
    s = _stack(states)
    diff = s[..., :, None, :] - s[..., None, :, :]
    return np.sqrt(np.max(np.sum(diff * diff, axis=-1), axis=(-2, -1)))


def min_inner(states: np.ndarray) -> np.ndarray:
    r""":math:`\min_{i,j}\langle x_i, x_j\rangle` for each configuration in a stack ``(..., n, d)``.

    One cluster at level ``tol`` (the :math:`\langle x_i,x_j\rangle \ge 0.999` criterion of
    2512.01868 for ``tol = 1e-3``) means :math:`\min_{i,j}\langle x_i,x_j\rangle \ge 1-\mathrm{tol}`.

    References
    ----------
    arXiv:2512.01868 (clustering diagram); arXiv:2312.10794 (high-dimensional clustering).
    """
    s = _stack(states)
    return np.min(np.einsum("...id,...jd->...ij", s, s), axis=(-2, -1))


def hemisphere_speed_scale(model: str, beta: float, q: np.ndarray | None = None,
                           k: np.ndarray | None = None) -> tuple[float, float]:
    r"""Time scale ``s`` and Lipschitz scale ``L`` of a model, used to choose horizons and steps.

    .. math::
        \text{SA}: s=1,\ L=1+2\beta;\qquad \text{USA}: s=e^{\beta},\ L=e^{\beta}(1+2\beta);\qquad
        Q,K,V{=}I: s=1,\ L=1+2\beta\|Q\|_2\|K\|_2 .

    (Softmax weights sum to one and change at rate :math:`\le 2\beta\|Q^\top K\|` per unit move; the
    USA weights are at most :math:`e^{\beta}/n` each.)  Horizons are ``T_nat / s`` and steps
    ``c / L``.

    References
    ----------
    arXiv:2312.10794 (self-attention on the sphere), arXiv:2512.01868 (unnormalised self-attention).
    """
    spec = MODELS[model] if model in MODELS else None
    if spec is not None and getattr(spec, "query", None) is not None and spec.normalization == "softmax":
        if q is None or k is None:
            raise ValueError(f"q, k: the {model} model needs its Q and K matrices")
        return 1.0, 1.0 + 2.0 * beta * float(np.linalg.norm(q, 2) * np.linalg.norm(k, 2))
    s = time_scale(model, beta)  # SA 1, USA e^beta
    return s, s * (1.0 + 2.0 * beta)


def hemisphere_rate_bound(n: int, beta: float) -> float:
    r"""The worst-case collapse rate from the hemisphere proof, :math:`\lambda_* = 1/(2ne^{2\beta})`.

    From :math:`\dot\alpha \ge (1-\alpha)/(2ne^{2\beta})` for :math:`\alpha(t)=\min_i\langle x_i,x^*\rangle`.

    References
    ----------
    arXiv:2312.10794 (hemisphere collapse).
    """
    return 1.0 / (2.0 * n * math.exp(2.0 * beta))


def d3_horizon(model: str, beta: float, n: int) -> float:
    r"""Horizon of ``cluster.d3.single``: :math:`T = 50 + 100e^{2\beta}` for SA, :math:`T\,n e^{-\beta}` for USA.

    A metastable pair of clusters at angle :math:`\theta` interacts with weight
    :math:`e^{-\beta(1-\cos\theta)} \ge e^{-2\beta}`, so plateaus last :math:`O(e^{2\beta})` SA time
    units; USA runs :math:`e^{\beta}m/n` times faster inside a cluster of :math:`m` tokens.

    References
    ----------
    arXiv:2410.06833 (metastability).
    """
    t = 50.0 + 100.0 * math.exp(2.0 * beta)
    return t if self_attention_kind(model) == "softmax" else t * n * math.exp(-beta)


def describe(ex: dict) -> str:
    parts = []
    for key, val in ex.items():
        if isinstance(val, np.ndarray):
            parts.append(f"{key}=array{val.shape}")
        elif isinstance(val, float):
            parts.append(f"{key}={val:.6g}")
        else:
            parts.append(f"{key}={val!r}")
    return "{" + ", ".join(parts) + "}"


def random_qk(seed: int, d: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return rng.standard_normal((d, d)) / math.sqrt(d), rng.standard_normal((d, d)) / math.sqrt(d)


META_RTOL = 1e-9


def cap_configuration(k: int, d: int, per_cap: int, theta: float, eps: float,
                      seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    r"""``k`` caps :math:`S_q(\varepsilon)=\{x:\langle x,w_q\rangle\ge1-\varepsilon\}` with pairwise angle ``theta``.

    The centres are :math:`w_q = \cos\varphi\,e_1 + \sin\varphi\,(\cos\tfrac{2\pi q}{k}e_2 + \sin\tfrac{2\pi q}{k}e_3)`
    for :math:`k\ge3` with :math:`\cos^2\varphi + \sin^2\varphi\cos\tfrac{2\pi}{k} = \cos\theta` (all pairs
    at angle :math:`\theta`), and :math:`w_{0,1} = (\cos\tfrac\theta2, \pm\sin\tfrac\theta2, 0, ...)` for
    :math:`k=2`.  Each cap holds ``per_cap`` tokens with heights :math:`\langle x,w_q\rangle` uniform in
    :math:`[1-\varepsilon, 1]` and uniform tangent directions.

    Returns
    -------
    x, w, labels
        Tokens ``(k per_cap, d)``, centres ``(k, d)``, cap index of each token.

    References
    ----------
    arXiv:2410.06833 (metastability from well-separated caps).
    """
    if k < 2 or d < 3 or per_cap < 1 or not (0 < eps < 1) or not (0 < theta < math.pi):
        raise ValueError(f"k, d, per_cap, eps, theta: need k >= 2, d >= 3, per_cap >= 1, 0 < eps < 1, "
                         f"0 < theta < pi; got {k}, {d}, {per_cap}, {eps}, {theta}")
    w = np.zeros((k, d))
    if k == 2:
        w[0, :2] = [math.cos(theta / 2), math.sin(theta / 2)]
        w[1, :2] = [math.cos(theta / 2), -math.sin(theta / 2)]
    else:
        c = math.cos(2 * math.pi / k)
        s2 = (1.0 - math.cos(theta)) / (1.0 - c)  # sin^2 phi
        if s2 > 1.0:
            raise ValueError(f"theta: {k} caps cannot be pairwise at angle {theta:.4g} in a cone; use a smaller theta")
        cp, sp = math.sqrt(1.0 - s2), math.sqrt(s2)
        for q in range(k):
            a = 2 * math.pi * q / k
            w[q, :3] = [cp, sp * math.cos(a), sp * math.sin(a)]
    rng = np.random.default_rng(seed)
    xs, labels = [], []
    for q in range(k):
        for _ in range(per_cap):
            h = rng.uniform(1.0 - eps, 1.0)
            u = rng.standard_normal(d)
            u -= (u @ w[q]) * w[q]
            u /= np.linalg.norm(u)
            xs.append(h * w[q] + math.sqrt(max(0.0, 1.0 - h * h)) * u)
            labels.append(q)
    x = np.array(xs)
    return x / np.linalg.norm(x, axis=1, keepdims=True), w, np.array(labels)


def cap_alpha(theta: float, eps: float) -> float:
    r""":math:`\alpha = \max\{\langle x,y\rangle: x\in S_i(2\varepsilon), y\in S_j(2\varepsilon)\}` for caps at angle :math:`\theta`:

    .. math:: \alpha = \cos\bigl(\max(\theta - 2\arccos(1-2\varepsilon),\ 0)\bigr).

    References
    ----------
    arXiv:2410.06833.
    """
    return math.cos(max(theta - 2.0 * math.acos(1.0 - 2.0 * eps), 0.0))


def escape_time(x0: np.ndarray, w: np.ndarray, labels: np.ndarray, beta: float, eps: float,
                *, model: str = "sa", t_max: float = 1e6) -> float | None:
    r"""First time a token leaves its :math:`2\varepsilon`-cap, or tokens of two caps merge:

    .. math:: T_{\rm esc} = \inf\{t: \exists i\ \langle x_i(t), w_{q(i)}\rangle < 1-2\varepsilon\ \text{ or }\
              \exists q(i)\ne q(j)\ \langle x_i(t),x_j(t)\rangle \ge 1-2\varepsilon\},

    resolved on the accepted steps of the adaptive integrator (rtol 1e-9).  For ``model="usa"`` the
    time is reported in the rescaled units of 2410.06833 (:math:`t\,e^{\beta}`: the rescaled field is
    :math:`e^{-\beta}` times the USA field).  ``None`` if nothing happens before ``t_max``.

    References
    ----------
    arXiv:2410.06833 (caps, escape time :math:`T_2`).
    """
    scale = time_scale(model, beta)  # SA or USA (ValueError naming model otherwise)
    if not (0 < eps < 0.5):
        raise ValueError(f"eps: expected a cap size in (0, 0.5), got {eps}")
    labels = np.asarray(labels)
    if labels.shape != (np.asarray(x0).shape[0],) or labels.min() < 0 or labels.max() >= len(w):
        raise ValueError(f"labels: expected one cap index in [0, {len(w)}) per token, got shape {labels.shape}")
    other = labels[:, None] != labels[None, :]

    def stop(times, states):
        own = np.sum(states * w[labels][None], axis=-1).min(axis=1)
        g = np.einsum("kid,kjd->kij", states, states)
        cross = np.where(other[None], g, -np.inf).max(axis=(1, 2))
        hit = np.nonzero((own < 1.0 - 2.0 * eps) | (cross >= 1.0 - 2.0 * eps))[0]
        return int(hit[0]) if hit.size else None

    f = make_field(model, beta=beta)
    _, _, t_stop = integrate_until(f, x0, stop, rtol=META_RTOL, first_chunk=1.0 / scale, t_max=t_max / scale)
    return None if t_stop is None else t_stop * scale
