r"""Velocity fields, energies and dissipation of the particle models (public API).

Every model of theory notes 01-models.md has a name shared by this API and the CLI (see
:data:`MODELS`).  The fields are evaluated by the generated, fused numba kernels in
``attnflow.numerics._generated`` (generated from :mod:`attnflow.symbolic.models` by
``attnflow derive``): O(n d) memory, parallel over tokens, shifted exponentials (online maximum),
so large or negative ``beta`` never overflows an intermediate.

State conventions
-----------------
* ``"sphere"`` models take ``x`` of shape ``(n, d)`` with unit rows (checked to 1e-10 unless
  ``normalize=True``);
* ``"euclidean"`` models (Pre-LN, Peri-LN) take ``x = r theta`` of shape ``(n, d)``, rows nonzero;
* ``"angles"`` models take angles of shape ``(n,)``, or ``(P, n)`` for P independent prompts
  (batched kernel, parallel over prompts).

Kernel dispatch (per call, on the problem size)
-----------------------------------------------
* fewer than :data:`PARALLEL_MIN_PAIRS` (i, j) pairs (n < 256 for one configuration): the serial
  twin ``<kernel>_serial`` (same body, no thread pool).  On the shared 2-core machine 2000 SA
  calls at n = 6 took 0.04-4 s through the parallel kernel and 0.005-0.01 s with one thread
  (bench/bench_kernels.py ``--small``): a parallel region waits for every worker to be scheduled.
* SA attention with d >= :data:`BLAS_MIN_DIM` (every d, as measured): ``sa_attention_blocked`` (BLAS inner products and
  weighted sums on blocks of :data:`BLOCK_ROWS` rows, memory O(n d + rows n) per worker, never
  n x n), run on ``numba.get_num_threads()`` Python threads over disjoint row ranges with BLAS
  itself single-threaded during the call (nested BLAS threads oversubscribe the cores).
* otherwise the fused parallel kernel.

All paths agree to rounding (tests/numerics/test_kernels.py); the serial and parallel twins are
bit-identical.

Energy range: :func:`energy` and :func:`dissipation` are computed from row log-sum-exps and are
finite whenever the true value is below the float64 maximum (about ``|beta| <= 700 - 2 log n``);
the unnormalised fields (``usa``, ``kuramoto``, shared ``multihead``, ``causal_alibi``) are of
size ``e^{|beta|}`` and overflow only when their true value does (``|beta|`` above about 700).

References
----------
theory notes 01-models.md §1.1-1.7, 02-energy.md §2.1, §2.4, 06-interpolation.md §6.1; arXiv
2312.10794 (SA, energy), 2512.01868 (USA), 2605.09213 (causal ALiBi), 2510.22026 (normalisation),
2605.04279 (multi-head), 2411.04551 (attention + perceptron, model ``interp``).
"""

from __future__ import annotations

import contextlib
import ctypes
import dataclasses
import difflib
import glob
import math
import os
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numba
import numpy as np

from attnflow.numerics import _kernel_hooks as _hooks
from attnflow.numerics._generated import causal_alibi as _alibi
from attnflow.numerics._generated import circle as _circle
from attnflow.numerics._generated import interp as _interp
from attnflow.numerics._generated import sphere_attention as _att
from attnflow.numerics._generated import sphere_energy as _energy
from attnflow.numerics._generated import sphere_mean as _mean

__all__ = ["ModelSpec", "MODELS", "velocity", "make_field", "energy", "dissipation", "UNIT_NORM_TOL",
           "PARALLEL_MIN_PAIRS", "BLAS_MIN_DIM", "BLOCK_ROWS"]

#: Tolerance on ``| |x_i| - 1 |`` for sphere models (``normalize=True`` skips the check).
UNIT_NORM_TOL = 1e-10

#: Kernels run their serial twin below this many (i, j) pairs per call (n < 256 for one
#: configuration; P n^2 for P batched prompts, H n^2 for H heads).  Measured (SA, d = 3, load 3):
#: serial 3 / 29 / 440 us per call at n = 16 / 64 / 256, parallel (2 threads) 46-340 / 18-22 /
#: 225-240 us; under load 6 the parallel n = 64 call took 230-750 us.  Below n = 256 a whole
#: serial call is shorter than one scheduler time slice that a parallel region can lose waiting
#: for a descheduled worker, so the serial twin is the robust choice there (at the price of up to
#: 2x on an idle machine for 64 <= n < 256).
PARALLEL_MIN_PAIRS = 256 * 256

#: SA attention (sa, sqrt, ngpt, preln, periln, SA dissipation) uses the blocked BLAS path from this
#: dimension on, when n^2 >= PARALLEL_MIN_PAIRS.  Measured (bench/bench_kernels.py, 2 threads, load
#: about 3): the blocked path beats the fused parallel kernel at every tested size, 1.3x (d = 3) to
#: 3x (d = 64) at n = 1024..16384, so it is used for every d >= 2; set it to 32 to keep the fused
#: kernel for small d (the hybrid of issue 3), or above any d to disable the BLAS path.
BLAS_MIN_DIM = 2

#: Rows per block of the BLAS path (fewer when n > 16384: one rows x n buffer stays <= 16 MB).
BLOCK_ROWS = 128
_BLOCK_BYTES = 16 * 2**20


@dataclasses.dataclass(frozen=True)
class ModelSpec:
    """Description of one particle model.

    Attributes
    ----------
    name : str
        Model name shared by the API and the CLI.
    manifold : str
        ``"sphere"`` (unit rows, shape (n, d)), ``"angles"`` (shape (n,) or (P, n)) or
        ``"euclidean"`` (x = r theta, shape (n, d)).
    params : tuple of str
        Required parameters.
    optional : dict
        Optional parameters and their defaults.
    gradient_flow : bool
        True if the model is a gradient flow of :func:`energy` for every admissible parameter.
    has_energy : bool
        True if :func:`energy` is defined (possibly under hypotheses on the parameters).
    time_dependent : bool
        True if the field depends on ``t``.
    description : str
        The equation, in words and symbols.
    """

    name: str
    manifold: str
    params: tuple[str, ...] = ()
    optional: dict[str, Any] = dataclasses.field(default_factory=dict)
    gradient_flow: bool = False
    has_energy: bool = False
    time_dependent: bool = False
    description: str = ""


MODELS: dict[str, ModelSpec] = {
    "sa": ModelSpec(
        "sa", "sphere", gradient_flow=True, has_energy=True,
        description="self-attention: dx_i/dt = P_{x_i}(Z_i^{-1} sum_j e^{beta<x_i,x_j>} x_j) (notes §1.1)"),
    "usa": ModelSpec(
        "usa", "sphere", gradient_flow=True, has_energy=True,
        description="unnormalised self-attention: dx_i/dt = P_{x_i}((1/n) sum_j e^{beta<x_i,x_j>} x_j) (notes §1.2)"),
    "qkv": ModelSpec(
        "qkv", "sphere", params=("Q", "K", "V"), has_energy=True,
        description=("general matrices: dx_i/dt = P_{x_i}(Z_i^{-1} sum_j e^{beta<Qx_i,Kx_j>} V x_j) (notes §1.1); "
                     "a gradient flow (energy, dissipation) only when Q^T K = V = V^T; Q = K = I with "
                     "symmetric V is the spectral-selection model")),
    "kuramoto": ModelSpec(
        "kuramoto", "angles", gradient_flow=True, has_energy=True,
        description="USA on the circle: dtheta_i/dt = -(1/n) sum_j e^{beta cos(theta_i-theta_j)} sin(theta_i-theta_j) (notes §1.4)"),
    "causal_alibi": ModelSpec(
        "causal_alibi", "angles", optional={"lam": 1.0},
        description=("causal ALiBi on the circle: dtheta_j/dt = Z_{N,j}^{-1} sum_{k<j} e^{-lam(j-k)/N} "
                     "w_beta'(theta_j-theta_k), w_beta = e^{beta cos}, theta_1 fixed (notes §1.5)")),
    "multihead": ModelSpec(
        "multihead", "sphere", params=("M",), optional={"normalization": "shared"}, has_energy=True,
        description=("H heads with score matrices M (shape (H, d, d)): shared normalisation "
                     "P_{x_i}((1/n) sum_h sum_j e^{beta<x_i,M_h x_j>} M_h x_j) or per_head softmax; "
                     "a gradient flow of sum_h E_h only for shared normalisation and symmetric M_h (notes §1.6)")),
    "preln": ModelSpec(
        "preln", "euclidean",
        description="Pre-LN, x = r theta: dx_i/dt = A_i, A_i the SA attention output on the directions (notes §1.7)"),
    "periln": ModelSpec(
        "periln", "euclidean",
        description="Peri-LN, x = r theta: dx_i/dt = A_i / |A_i| (notes §1.7)"),
    "ngpt": ModelSpec(
        "ngpt", "sphere", optional={"alpha": 1.0},
        description="nGPT: dx_i/dt = alpha P_{x_i} A_i / |A_i| (notes §1.7)"),
    "sqrt": ModelSpec(
        "sqrt", "sphere", time_dependent=True,
        description="sqrt-scaling: dx_i/dt = P_{x_i} A_i / sqrt(t + 1) (notes §1.7)"),
    "interp": ModelSpec(
        "interp", "sphere", params=("V", "B", "W", "U", "b"),
        description=("attention + perceptron (one layer of measure-to-measure interpolation): "
                     "dx_i/dt = P_{x_i}(V A_i + W (U x_i + b)_+), A_i = Z_i^{-1} sum_j e^{beta<B x_i,x_j>} x_j; "
                     "V, B (d, d), W (d, m), U (m, d), b (m,), m >= 0 hidden units; the paper's field is "
                     "beta = 1 (beta scales B); piecewise-constant schedules: one field per layer "
                     "(notes §6.1, arXiv 2411.04551)")),
}


# --------------------------------------------------------------------------------------------
# validation


def _model_spec(model) -> ModelSpec:
    if not isinstance(model, str) or model not in MODELS:
        close = difflib.get_close_matches(str(model).lower(), list(MODELS), n=3, cutoff=0.5)
        hint = f"; did you mean {', '.join(close)}?" if close else ""
        raise ValueError(f"model: unknown model {model!r}{hint} (known: {', '.join(MODELS)})")
    return MODELS[model]


def _real(name: str, value, *, lo=None, lo_strict=False) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise ValueError(f"{name}: expected a real number, got {type(value).__name__}")
    v = float(value)
    if not math.isfinite(v):
        raise ValueError(f"{name}: must be finite, got {v}")
    if lo is not None and (v < lo or (lo_strict and v == lo)):
        op = ">" if lo_strict else ">="
        raise ValueError(f"{name}: must be {op} {lo}, got {v}")
    return v


def _matrix(name: str, value, shape: tuple[int, ...]) -> np.ndarray:
    try:
        a = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name}: not a numeric array ({exc})") from None
    if a.shape != shape:
        raise ValueError(f"{name}: expected shape {shape}, got {a.shape}")
    if not np.all(np.isfinite(a)):
        raise ValueError(f"{name}: contains NaN or infinite entries")
    return np.ascontiguousarray(a)


def _params(spec: ModelSpec, params: dict, d: int | None) -> dict[str, Any]:
    """Check names, fill defaults, convert and check values (matrix shapes need ``d``)."""
    allowed = set(spec.params) | set(spec.optional)
    extra = sorted(set(params) - allowed)
    if extra:
        ok = ", ".join(sorted(allowed)) or "none"
        raise ValueError(f"{extra[0]}: not a parameter of model {spec.name!r} (parameters: {ok})")
    missing = [p for p in spec.params if p not in params]
    if missing:
        raise ValueError(f"{missing[0]}: model {spec.name!r} requires parameter(s) {', '.join(spec.params)}")
    p = {**spec.optional, **params}
    out: dict[str, Any] = {}
    for name, value in p.items():
        if name in ("B", "W", "U", "b"):
            continue  # the interp block, checked together below (shapes depend on d and m)
        if name in ("Q", "K", "V"):
            if d is None:
                a = np.asarray(value, dtype=np.float64)
                if a.ndim != 2 or a.shape[0] != a.shape[1]:
                    raise ValueError(f"{name}: expected a square (d, d) matrix, got shape {a.shape}")
                d = a.shape[0]
            out[name] = _matrix(name, value, (d, d))
        elif name == "M":
            a = np.asarray(value, dtype=np.float64)
            if a.ndim != 3 or a.shape[0] < 1 or (d is not None and a.shape[1:] != (d, d)) or a.shape[1] != a.shape[2]:
                want = f"(H, {d}, {d})" if d is not None else "(H, d, d)"
                raise ValueError(f"M: expected shape {want} with H >= 1 heads, got {a.shape}")
            out[name] = _matrix(name, a, a.shape)
        elif name == "normalization":
            if value not in ("shared", "per_head"):
                raise ValueError(f"normalization: expected 'shared' or 'per_head', got {value!r}")
            out[name] = value
        elif name == "lam":
            out[name] = _real("lam", value, lo=0.0)
        elif name == "alpha":
            out[name] = _real("alpha", value, lo=0.0, lo_strict=True)
        else:  # pragma: no cover - every declared parameter is handled above
            raise AssertionError(name)
    dims = {a.shape[-1] for k, a in out.items() if k in ("Q", "K", "V", "M")}
    if len(dims) > 1:
        raise ValueError(f"Q, K, V: matrices must all be (d, d) with the same d, got sizes {sorted(dims)}")
    if spec.name == "interp":
        out.update(_interp_params(p, out["V"].shape[0]))
    return out


def _array(name: str, value) -> np.ndarray:
    try:
        return np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name}: not a numeric array ({exc})") from None


def _interp_params(p: dict, d: int) -> dict[str, np.ndarray]:
    """B (d, d), W (d, m), U (m, d), b (m,) of the interp model; m = W.shape[1] >= 0 hidden units."""
    B = _matrix("B", p["B"], (d, d))
    W = _array("W", p["W"])
    if W.ndim != 2 or W.shape[0] != d:
        raise ValueError(f"W: expected shape ({d}, m) for d = {d} (from V) and m >= 0 hidden units, got {W.shape}; "
                         "pass np.zeros((d, 0)) for no perceptron")
    m = W.shape[1]
    U = _array("U", p["U"])
    if U.shape != (m, d):
        raise ValueError(f"U: expected shape ({m}, {d}) to match W of shape {W.shape}, got {U.shape}")
    b = _array("b", p["b"])
    if b.shape != (m,):
        raise ValueError(f"b: expected shape ({m},) to match W of shape {W.shape}, got {b.shape}")
    return {"B": B, "W": _matrix("W", W, (d, m)), "U": _matrix("U", U, (m, d)), "b": _matrix("b", b, (m,))}


def _state(spec: ModelSpec, x, normalize: bool) -> np.ndarray:
    try:
        a = np.asarray(x, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"x: not a numeric array ({exc})") from None
    if spec.manifold == "angles":
        if a.ndim not in (1, 2) or a.shape[-1] < 1 or a.size == 0:
            raise ValueError(f"x: model {spec.name!r} takes angles of shape (n,) or (P, n), got {a.shape}")
    else:
        if a.ndim != 2 or a.shape[0] < 1 or a.shape[1] < 2:
            raise ValueError(f"x: model {spec.name!r} takes points of shape (n, d) with n >= 1, d >= 2, got {a.shape}")
    if not np.all(np.isfinite(a)):
        raise ValueError("x: contains NaN or infinite entries")
    if spec.manifold in ("sphere", "euclidean"):
        norms = np.linalg.norm(a, axis=1)
        if np.any(norms == 0.0):
            raise ValueError(f"x: row {int(np.argmin(norms))} is zero; points need a direction")
        if spec.manifold == "sphere":
            if normalize:
                a = a / norms[:, None]
            else:
                err = np.abs(norms - 1.0)
                if np.any(err > UNIT_NORM_TOL):
                    i = int(np.argmax(err))
                    raise ValueError(
                        f"x: row {i} has norm {norms[i]!r}, not 1 within {UNIT_NORM_TOL}; "
                        "normalise the points or pass normalize=True")
    return np.ascontiguousarray(a)


def _dim_check(spec: ModelSpec, x: np.ndarray, p: dict) -> None:
    if spec.manifold == "angles":
        return
    d = x.shape[1]
    for name in ("Q", "K", "V", "B"):
        if name in p and p[name].shape != (d, d):
            raise ValueError(f"{name}: expected shape ({d}, {d}) to match x of shape {x.shape}, got {p[name].shape}")
    if "M" in p and p["M"].shape[1:] != (d, d):
        raise ValueError(f"M: expected shape (H, {d}, {d}) to match x of shape {x.shape}, got {p['M'].shape}")


# --------------------------------------------------------------------------------------------
# kernels wrapped as f(t, x)


def _pick(kernel, pairs: int):
    """The kernel, or its serial twin for problems below :data:`PARALLEL_MIN_PAIRS` pairs."""
    if pairs >= PARALLEL_MIN_PAIRS:
        return kernel
    return getattr(_SERIAL_MODULE[kernel.__module__], kernel.__name__ + "_serial")


_SERIAL_MODULE = {m.__name__: m for m in (_alibi, _circle, _att, _energy, _mean, _interp)}


class _BlasThreads:
    """Make the (bundled OpenBLAS of) NumPy single-threaded while a blocked call runs."""

    def __init__(self):
        self._lock = threading.Lock()
        self._depth = 0
        self._saved = None
        self._get = self._set = None
        libs = sorted(glob.glob(os.path.join(os.path.dirname(np.__file__), os.pardir, "numpy.libs", "*openblas*")))
        for path in libs:
            try:
                lib = ctypes.CDLL(path)
            except OSError:
                continue
            for get, set_ in (("scipy_openblas_get_num_threads64_", "scipy_openblas_set_num_threads64_"),
                              ("openblas_get_num_threads64_", "openblas_set_num_threads64_"),
                              ("openblas_get_num_threads", "openblas_set_num_threads")):
                if hasattr(lib, get) and hasattr(lib, set_):
                    self._get, self._set = getattr(lib, get), getattr(lib, set_)
                    self._get.restype = ctypes.c_int
                    self._set.argtypes = [ctypes.c_int]
                    return

    @contextlib.contextmanager
    def single(self):
        if self._set is None:  # unknown BLAS: leave its threading alone
            yield
            return
        with self._lock:
            if self._depth == 0:
                self._saved = int(self._get())
                self._set(1)
            self._depth += 1
        try:
            yield
        finally:
            with self._lock:
                self._depth -= 1
                if self._depth == 0:
                    self._set(self._saved)


_BLAS = _BlasThreads()
_POOL: ThreadPoolExecutor | None = None
_POOL_LOCK = threading.Lock()


def _pool() -> ThreadPoolExecutor:
    global _POOL
    with _POOL_LOCK:
        if _POOL is None:
            _POOL = ThreadPoolExecutor(max_workers=numba.config.NUMBA_NUM_THREADS, thread_name_prefix="attnflow-blas")
        return _POOL


def _block_rows(n: int) -> int:
    return max(16, min(BLOCK_ROWS, _BLOCK_BYTES // (8 * n)))


def _attention_blocked(x: np.ndarray, beta: float, project: bool, out: np.ndarray, logz: np.ndarray) -> None:
    n = x.shape[0]
    rows = _block_rows(n)
    workers = max(1, min(numba.get_num_threads(), n // rows))
    with _BLAS.single():
        if workers == 1:
            _hooks.call(_att.sa_attention_blocked, x, beta, project, out, logz, 0, n, rows)
            return
        cuts = [n * w // workers for w in range(workers + 1)]
        futures = [_pool().submit(_hooks.call, _att.sa_attention_blocked, x, beta, project, out, logz, a, b, rows)
                   for a, b in zip(cuts[:-1], cuts[1:])]
        for fut in futures:
            fut.result()


def _attention(x: np.ndarray, beta: float, project: bool) -> tuple[np.ndarray, np.ndarray]:
    n, d = x.shape
    out = np.empty_like(x)
    logz = np.empty(n)
    if n * n < PARALLEL_MIN_PAIRS:
        _hooks.call(_att.sa_attention_serial, x, beta, project, out, logz)
    elif d >= BLAS_MIN_DIM:
        _attention_blocked(x, beta, project, out, logz)
    else:
        _hooks.call(_att.sa_attention, x, beta, project, out, logz)
    return out, logz


def _tangent(x: np.ndarray, v: np.ndarray) -> np.ndarray:
    return v - np.sum(x * v, axis=1, keepdims=True) * x


def _interp_rows(x: np.ndarray, beta: float, p: dict, project: bool) -> np.ndarray:
    """The generated ``interp_velocity`` kernel on the rows of ``x`` (validated parameters ``p``).

    The kernel skips the attention sum when V = 0 (pointwise field): then the work is O(n m d) and
    the serial twin is used unless n itself reaches PARALLEL_MIN_PAIRS.
    """
    out = np.empty_like(x)
    n = x.shape[0]
    pairs = n * n if np.any(p["V"] != 0.0) else n
    _hooks.call(_pick(_interp.interp_velocity, pairs), x, p["V"], p["B"], p["W"], p["U"], p["b"], beta, project, out)
    return out


def _builder(model: str, beta: float, p: dict) -> Callable[[float, np.ndarray], np.ndarray]:
    if model == "sa":
        return lambda t, x: _attention(x, beta, True)[0]
    if model == "usa":
        def f(t, x):
            out = np.empty_like(x)
            _hooks.call(_pick(_mean.usa_velocity, x.shape[0] ** 2), x, beta, out)
            return out
        return f
    if model == "qkv":
        QT, KT, VT = (np.ascontiguousarray(p[k].T) for k in ("Q", "K", "V"))

        def f(t, x):
            out = np.empty_like(x)
            logz = np.empty(x.shape[0])
            _hooks.call(_pick(_att.qkv_attention, x.shape[0] ** 2), x, x @ QT, x @ KT, x @ VT, beta, True, out, logz)
            return out
        return f
    if model == "multihead":
        MT = np.ascontiguousarray(np.transpose(p["M"], (0, 2, 1)))
        kern = _mean.multihead_shared if p["normalization"] == "shared" else _att.multihead_per_head

        def f(t, x):
            out = np.empty_like(x)
            _hooks.call(_pick(kern, MT.shape[0] * x.shape[0] ** 2), x, np.ascontiguousarray(x @ MT), beta, out)
            return out
        return f
    if model == "kuramoto":
        def f(t, x):
            out = np.empty_like(x)
            kern = _circle.kuramoto_velocity if x.ndim == 1 else _circle.kuramoto_velocity_batched
            _hooks.call(_pick(kern, x.size * x.shape[-1]), x, beta, out)
            return out
        return f
    if model == "causal_alibi":
        lam = p["lam"]

        def f(t, x):
            out = np.empty_like(x)
            kern = _alibi.causal_alibi_velocity if x.ndim == 1 else _alibi.causal_alibi_velocity_batched
            _hooks.call(_pick(kern, x.size * x.shape[-1] // 2), x, beta, lam, out)
            return out
        return f
    if model in ("preln", "periln"):
        def f(t, x):
            theta = x / np.linalg.norm(x, axis=1, keepdims=True)
            A = _attention(np.ascontiguousarray(theta), beta, False)[0]
            return A if model == "preln" else A / np.linalg.norm(A, axis=1, keepdims=True)
        return f
    if model == "ngpt":
        alpha = p["alpha"]

        def f(t, x):
            A = _attention(x, beta, False)[0]
            return alpha * _tangent(x, A) / np.linalg.norm(A, axis=1, keepdims=True)
        return f
    if model == "sqrt":
        return lambda t, x: _attention(x, beta, True)[0] / math.sqrt(t + 1.0)
    if model == "interp":
        return lambda t, x: _interp_rows(x, beta, p, True)
    raise AssertionError(model)  # pragma: no cover


# --------------------------------------------------------------------------------------------
# public API


def velocity(x, *, model: str = "sa", beta, t: float = 0.0, normalize: bool = False, **params) -> np.ndarray:
    r"""The velocity :math:`\dot x` of ``model`` at the state ``x`` (same shape as ``x``).

    For the default model (SA, theory notes §1.1)

    .. math::
        \dot x_i = P_{x_i}\Big(Z_i^{-1}\sum_{j} e^{\beta\langle x_i,x_j\rangle} x_j\Big),\qquad
        Z_i = \sum_k e^{\beta\langle x_i,x_k\rangle},\qquad P_x y = y - \langle x,y\rangle x;

    the other models are listed in :data:`MODELS` (``MODELS[name].description``).  Pre-LN and
    Peri-LN act on :math:`x=r\theta` with :math:`\dot x_i=A_i` and :math:`\dot x_i=A_i/\|A_i\|`
    (derived in :func:`attnflow.symbolic.models.normalisation_checks`).

    Parameters
    ----------
    x : array_like
        State: ``(n, d)`` points, or angles ``(n,)`` / ``(P, n)`` for angle models.
    model : str
        A key of :data:`MODELS`.
    beta : float
        Inverse temperature (any finite real; negative values are legal).
    t : float
        Time (used by ``sqrt``; must be > -1).
    normalize : bool
        Sphere models: project the rows of ``x`` onto the sphere instead of rejecting
        rows whose norm differs from 1 by more than :data:`UNIT_NORM_TOL`.
    **params
        Model parameters (``Q, K, V``; ``M, normalization``; ``lam``; ``alpha``; ``V, B, W, U, b``
        for ``interp``, whose field is
        :math:`P_{x_i}(V A_i + W(Ux_i + b)_+)` with :math:`A_i = Z_i^{-1}\sum_j e^{\beta\langle Bx_i,x_j\rangle}x_j`,
        the paper's at ``beta=1``).

    Returns
    -------
    numpy.ndarray
        The velocity, float64, with the shape of ``x``.

    Raises
    ------
    ValueError
        Naming the argument: unknown model (with close matches), missing or unknown parameters,
        bad shapes, non-finite values, points off the sphere, a vanishing attention output for
        Peri-LN / nGPT.

    References
    ----------
    theory notes 01-models.md §1.1-1.7, 06-interpolation.md §6.1; arXiv 2312.10794 (eq. for SA),
    2512.01868 (USA), 2605.09213 (causal ALiBi), 2510.22026 (normalisation schemes), 2411.04551
    (eq. (1.1)-(1.2), ``interp``).
    """
    spec = _model_spec(model)
    b = _real("beta", beta)
    tt = _real("t", t)
    if tt <= -1.0:
        raise ValueError(f"t: must be > -1 (the sqrt scheme divides by sqrt(t + 1)), got {tt}")
    a = _state(spec, x, normalize)
    p = _params(spec, params, None if spec.manifold == "angles" else a.shape[1])
    _dim_check(spec, a, p)
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        v = _builder(model, b, p)(tt, a)
    if not np.all(np.isfinite(v)):
        if model in ("periln", "ngpt"):
            raise ValueError(f"x: the attention output A_i vanishes for some token; the {model} field A/|A| is undefined")
        raise ValueError(f"beta: the {model} field overflows float64 at beta={b} (true value too large)")
    return v


def make_field(model: str, *, beta, **params) -> Callable[[float, np.ndarray], np.ndarray]:
    r"""A fast field ``f(t, x)`` for integrators: parameters validated once, no per-call checks.

    ``f(t, x)`` returns the same value as ``velocity(x, model=model, beta=beta, t=t, **params)``
    for a valid C-contiguous float64 ``x``; for angle models a 2-D ``x`` of shape ``(P, n)`` is
    P independent prompts (batched kernel, parallel over prompts).

    .. math:: f(t, x) = \dot x \quad\text{(see :func:`velocity`)}

    Parameters
    ----------
    model : str
        A key of :data:`MODELS`.
    beta : float
        Inverse temperature.
    **params
        Model parameters; matrix sizes are checked against ``x`` only at the first call shape
        by the caller (``f`` does not validate).

    Returns
    -------
    callable
        ``f(t: float, x: ndarray) -> ndarray``.

    References
    ----------
    theory notes 01-models.md §1.1-1.7.
    """
    spec = _model_spec(model)
    b = _real("beta", beta)
    p = _params(spec, params, None)
    return _builder(model, b, p)


def _row_lse_sphere(x: np.ndarray, beta: float, Ms: list[np.ndarray]) -> np.ndarray:
    """log sum_j exp(beta <x_i, M x_j>) for each row and each M (concatenated)."""
    logs = []
    for M in Ms:
        m = np.empty(x.shape[0])
        z = np.empty(x.shape[0])
        _hooks.call(_pick(_energy.sphere_row_lse, x.shape[0] ** 2), x, np.ascontiguousarray(x @ M.T), beta, m, z)
        logs.append(m + np.log(z))
    return np.concatenate(logs)


def _logsumexp(v: np.ndarray) -> float:
    mx = float(np.max(v))
    return mx + math.log(float(np.sum(np.exp(v - mx))))


def _gradient_flow_matrices(spec: ModelSpec, p: dict, what: str) -> list[np.ndarray]:
    if spec.name in ("sa", "usa"):
        return [None]  # type: ignore[list-item]
    if spec.name == "qkv":
        Q, K, V = p["Q"], p["K"], p["V"]
        scale = max(1.0, float(np.max(np.abs(V))))
        if not np.allclose(Q.T @ K, V, rtol=0, atol=1e-10 * scale) or not np.allclose(V, V.T, rtol=0, atol=1e-10 * scale):
            raise ValueError(
                f"V: the {what} of model 'qkv' requires Q^T K = V = V^T (02-energy.md §2.1); "
                "general Q, K, V is not a gradient flow")
        return [V]
    if spec.name == "multihead":
        M = p["M"]
        if not np.allclose(M, np.transpose(M, (0, 2, 1)), rtol=0, atol=1e-10 * max(1.0, float(np.max(np.abs(M))))):
            raise ValueError(f"M: the {what} of model 'multihead' requires symmetric M_h (01-models.md §1.6)")
        return list(M)
    raise ValueError(f"model: {spec.name!r} has no {what} (models with one: "
                     f"{', '.join(k for k, s in MODELS.items() if s.has_energy)})")


def energy(x, *, model: str = "sa", beta, **params) -> float:
    r"""The interaction energy of the particles, in the particle normalisation.

    .. math::
        E = \frac{1}{2\beta}\sum_{i,j=1}^n e^{\beta\langle x_i, x_j\rangle}\ (\texttt{sa}, \texttt{usa}),\quad
        \frac{1}{2\beta}\sum_{i,j} e^{\beta\langle x_i, V x_j\rangle}\ (\texttt{qkv},\ Q^\top K = V = V^\top),\quad
        \sum_h \frac{1}{2\beta}\sum_{i,j} e^{\beta\langle x_i, M_h x_j\rangle}\ (\texttt{multihead}),

    and the circle form :math:`E = \frac{1}{2\beta n^2}\sum_{i,j} e^{\beta\cos(\theta_i-\theta_j)}`
    (``kuramoto``, for which :math:`\dot\theta = n\nabla E`).  Computed from fused row
    log-sum-exps (no n x n array); finite whenever the true value is below the float64 maximum.

    Parameters
    ----------
    x : array_like
        State (see :func:`velocity`); unit rows required for sphere models.
    model : str
        ``sa``, ``usa``, ``qkv``, ``kuramoto`` or ``multihead`` (``MODELS[m].has_energy``).
    beta : float
        Nonzero inverse temperature (negative allowed; E is then negative).
    **params
        Model parameters; ``qkv`` needs Q^T K = V = V^T and ``multihead`` symmetric M_h.

    Returns
    -------
    float

    Raises
    ------
    ValueError
        Bad input, a model without energy, or parameters outside the gradient-flow hypotheses.
    OverflowError
        If the energy itself exceeds the float64 range (|beta| above about 700).

    References
    ----------
    theory notes 02-energy.md §2.1 (particle normalisation table), §2.4 (circle);
    arXiv 2312.10794, 2512.01868.
    """
    spec = _model_spec(model)
    b = _real("beta", beta)
    if b == 0.0:
        raise ValueError("beta: the energy (1/(2 beta)) sum e^{beta <x_i,x_j>} needs beta != 0")
    if not spec.has_energy:
        _gradient_flow_matrices(spec, {}, "energy")
    a = _state(spec, x, False)
    p = _params(spec, params, None if spec.manifold == "angles" else a.shape[1])
    _dim_check(spec, a, p)
    if spec.name == "kuramoto":
        if a.ndim != 1:
            raise ValueError(f"x: energy takes one configuration of shape (n,), got {a.shape}")
        m = np.empty(a.shape[0])
        z = np.empty(a.shape[0])
        _hooks.call(_pick(_circle.circle_row_lse, a.shape[0] ** 2), a, b, m, z)
        log_total = _logsumexp(m + np.log(z))
        return _signed_exp(log_total - math.log(2 * abs(b) * a.shape[0] ** 2), b)
    Ms = _gradient_flow_matrices(spec, p, "energy")
    Ms = [np.eye(a.shape[1]) if M is None else M for M in Ms]
    log_total = _logsumexp(_row_lse_sphere(a, b, Ms))
    return _signed_exp(log_total - math.log(2 * abs(b)), b)


def _signed_exp(log_value: float, beta: float) -> float:
    try:
        return math.copysign(math.exp(log_value), beta)
    except OverflowError:
        raise OverflowError(
            f"beta: the energy e^{log_value:.1f} exceeds the float64 range at beta={beta} "
            "(finite up to about |beta| = 700 - 2 log n)") from None


def dissipation(x, *, model: str, beta, **params) -> float:
    r"""The right side of the dissipation identity :math:`\frac{d}{dt}E = \mathcal D(x)`.

    .. math::
        \mathcal D = \sum_i Z_i\|\dot x_i\|^2\ (\texttt{sa};\ \texttt{qkv with } Z_i=\textstyle\sum_k e^{\beta\langle x_i,Vx_k\rangle}),\quad
        n\sum_i\|\dot x_i\|^2\ (\texttt{usa}, \texttt{multihead shared}),\quad
        \frac1n\sum_i\dot\theta_i^2\ (\texttt{kuramoto}),

    with :math:`E` as in :func:`energy`.  Per-head multi-head has no such identity (ValueError).

    Parameters
    ----------
    x, model, beta, **params
        As for :func:`energy`.

    Returns
    -------
    float

    References
    ----------
    theory notes 02-energy.md §2.1 (particle rows), §2.4; arXiv 2312.10794, 2512.01868.
    """
    spec = _model_spec(model)
    b = _real("beta", beta)
    if not spec.has_energy:
        _gradient_flow_matrices(spec, {}, "dissipation")
    a = _state(spec, x, False)
    p = _params(spec, params, None if spec.manifold == "angles" else a.shape[1])
    _dim_check(spec, a, p)
    n = a.shape[-1] if spec.manifold == "angles" else a.shape[0]
    if spec.name == "kuramoto":
        if a.ndim != 1:
            raise ValueError(f"x: dissipation takes one configuration of shape (n,), got {a.shape}")
        v = _builder("kuramoto", b, p)(0.0, a)
        return float(np.sum(v * v) / n)
    if spec.name == "multihead" and p["normalization"] != "shared":
        raise ValueError("normalization: the per-head multi-head model has no dissipation identity "
                         "(01-models.md §1.6); use normalization='shared'")
    _gradient_flow_matrices(spec, p, "dissipation")
    if spec.name in ("usa", "multihead"):
        v = _builder(spec.name, b, p)(0.0, a)
        return float(n * np.sum(v * v))
    if spec.name == "sa":
        v, logz = _attention(a, b, True)
    else:  # qkv with Q^T K = V: the logits are beta <x_i, V x_k>
        v = np.empty_like(a)
        logz = np.empty(n)
        _hooks.call(_pick(_att.qkv_attention, n * n), a, a @ p["Q"].T, a @ p["K"].T, a @ p["V"].T, b, True, v, logz)
    sq = np.sum(v * v, axis=1)
    with np.errstate(divide="ignore"):
        return float(np.sum(np.exp(logz + np.log(sq))))
