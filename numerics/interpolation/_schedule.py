"""Piecewise-constant parameter schedules theta(t) = (V, B, W, U, b)(t) (private).

Public names are re-exported by :mod:`attnflow.numerics.interpolation`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

__all__ = ["Layer", "Schedule"]


def _as_matrix(name: str, value, shape: tuple[int, int]) -> np.ndarray:
    arr = np.array(value, dtype=np.float64, copy=True)
    if arr.shape != shape:
        raise ValueError(f"{name}: expected shape {shape}, got {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name}: entries must be finite (got NaN or inf)")
    arr.setflags(write=False)
    return arr


@dataclass(frozen=True, eq=False)
class Layer:
    r"""One piece of a piecewise-constant schedule: parameters held fixed for ``duration``.

    The field of the layer is :math:`v[\mu](x) = P_x(V A_B[\mu](x) + W(Ux + b)_+)`
    (:func:`attnflow.numerics.interpolation.interp_velocity`).

    Parameters
    ----------
    duration : float
        Length of the time interval, ``> 0``.
    V, B : (d, d) arrays
        Value and attention matrices.
    W : (d, m) array, U : (m, d) array, b : (m,) array
        Perceptron block with ``m >= 0`` hidden units (``m = 0``: no perceptron).
    label : str
        Free text saying what the layer is for (e.g. ``"match: cloud 2 leg 1"``); not a parameter.

    References
    ----------
    arXiv 2411.04551, §1 (piecewise-constant parameters, "switches").
    """

    duration: float
    V: np.ndarray
    B: np.ndarray
    W: np.ndarray
    U: np.ndarray
    b: np.ndarray
    label: str = ""

    def __post_init__(self):
        dur = float(self.duration)
        if not np.isfinite(dur) or dur <= 0.0:
            raise ValueError(f"duration: must be a finite positive number, got {self.duration!r}")
        object.__setattr__(self, "duration", dur)
        V = np.asarray(self.V, dtype=np.float64)
        if V.ndim != 2 or V.shape[0] != V.shape[1] or V.shape[0] < 1:
            raise ValueError(f"V: expected a square (d, d) matrix, got shape {V.shape}")
        d = V.shape[0]
        W = np.asarray(self.W, dtype=np.float64)
        if W.ndim == 1 and W.size == 0:
            W = W.reshape(d, 0)
        if W.ndim != 2 or W.shape[0] != d:
            raise ValueError(f"W: expected shape (d={d}, m), got {W.shape}")
        m = W.shape[1]
        U = np.asarray(self.U, dtype=np.float64)
        if U.size == 0 and m == 0:
            U = U.reshape(0, d)
        object.__setattr__(self, "V", _as_matrix("V", V, (d, d)))
        object.__setattr__(self, "B", _as_matrix("B", self.B, (d, d)))
        object.__setattr__(self, "W", _as_matrix("W", W, (d, m)))
        object.__setattr__(self, "U", _as_matrix("U", U, (m, d)))
        b = np.array(self.b, dtype=np.float64, copy=True).reshape(-1)
        if b.shape != (m,):
            raise ValueError(f"b: expected shape ({m},), got {b.shape}")
        if not np.all(np.isfinite(b)):
            raise ValueError("b: entries must be finite (got NaN or inf)")
        b.setflags(write=False)
        object.__setattr__(self, "b", b)

    # -- constructors -------------------------------------------------------------------------
    @classmethod
    def attention(cls, duration: float, V, B, label: str = "") -> "Layer":
        """A pure attention layer (``W = 0``, no hidden units)."""
        V = np.asarray(V, dtype=np.float64)
        d = V.shape[0]
        return cls(duration, V, B, np.zeros((d, 0)), np.zeros((0, d)), np.zeros(0), label)

    @classmethod
    def perceptron(cls, duration: float, W, U, b, label: str = "") -> "Layer":
        """A pure perceptron layer (``V = B = 0``)."""
        W = np.atleast_2d(np.asarray(W, dtype=np.float64))
        d = W.shape[0]
        return cls(duration, np.zeros((d, d)), np.zeros((d, d)), W, U, b, label)

    # -- bookkeeping --------------------------------------------------------------------------
    @property
    def dim(self) -> int:
        """Ambient dimension ``d``."""
        return self.V.shape[0]

    @property
    def hidden(self) -> int:
        """Number of perceptron units ``m``."""
        return self.W.shape[1]

    @property
    def norm_inf(self) -> float:
        r"""Largest absolute entry of :math:`(V, B, W, U, b)` in this layer."""
        parts = [np.abs(a).max() for a in (self.V, self.B, self.W, self.U, self.b) if a.size]
        return float(max(parts)) if parts else 0.0

    def same_parameters(self, other: "Layer") -> bool:
        """True iff every parameter array is identical (durations and labels are ignored)."""
        for name in ("V", "B", "W", "U", "b"):
            a, c = getattr(self, name), getattr(other, name)
            if a.shape != c.shape or not np.array_equal(a, c):
                return False
        return True

    def scaled(self, duration: float, speed: float) -> "Layer":
        r"""Same layer, new duration, velocity multiplied by ``speed > 0``.

        ``V`` is multiplied by ``speed``; the perceptron block by :math:`\sqrt{speed}` in each of
        ``W, U, b`` (exact, since :math:`(s(Ux+b))_+ = s(Ux+b)_+` for ``s > 0``), which keeps
        :math:`\|\theta\|_\infty` balanced.
        """
        if not (np.isfinite(speed) and speed > 0):
            raise ValueError(f"speed: must be a finite positive factor, got {speed!r}")
        r = math.sqrt(speed)
        return Layer(duration, self.V * speed, self.B, self.W * r, self.U * r, self.b * r, self.label)


@dataclass(frozen=True)
class Schedule:
    r"""A piecewise-constant parameter schedule :math:`\theta(t)`: an ordered list of layers.

    Attributes
    ----------
    layers : tuple of Layer
    switches : int
        Number of parameter jumps: consecutive layers whose parameters differ.
    norm_inf : float
        :math:`\|\theta\|_\infty = \max_{t} \max |\text{entry of } (V, B, W, U, b)(t)|`.
    total_time : float
        Sum of the layer durations.

    References
    ----------
    arXiv 2411.04551, Theorem 1.1 (switch count ``O(dN)``, ``‖θ‖_∞``).
    """

    layers: tuple = field(default_factory=tuple)

    def __post_init__(self):
        layers = tuple(self.layers)
        for k, lay in enumerate(layers):
            if not isinstance(lay, Layer):
                raise ValueError(f"layers[{k}]: expected a Layer, got {type(lay).__name__}")
        dims = {lay.dim for lay in layers}
        if len(dims) > 1:
            raise ValueError(f"layers: all layers must share the dimension d, got {sorted(dims)}")
        object.__setattr__(self, "layers", layers)

    def __len__(self) -> int:
        return len(self.layers)

    def __iter__(self):
        return iter(self.layers)

    def __getitem__(self, k):
        return self.layers[k]

    def __add__(self, other: "Schedule") -> "Schedule":
        return Schedule(self.layers + tuple(other.layers))

    @property
    def dim(self) -> int | None:
        return self.layers[0].dim if self.layers else None

    @property
    def switches(self) -> int:
        """Number of parameter jumps between consecutive layers."""
        return sum(
            not a.same_parameters(b) for a, b in zip(self.layers[:-1], self.layers[1:])
        )

    @property
    def norm_inf(self) -> float:
        """Largest absolute parameter entry over all layers (0 for an empty schedule)."""
        return max((lay.norm_inf for lay in self.layers), default=0.0)

    @property
    def total_time(self) -> float:
        return float(sum(lay.duration for lay in self.layers))

    @property
    def switch_times(self) -> np.ndarray:
        """Times at which the parameters jump."""
        ends = np.cumsum([lay.duration for lay in self.layers])
        return np.array(
            [ends[k] for k in range(len(self.layers) - 1)
             if not self.layers[k].same_parameters(self.layers[k + 1])]
        )

    def rescaled(self, total_time: float) -> "Schedule":
        """Exact time change to ``total_time``: durations / λ, velocity × λ (λ = old/new time).

        The flow of the rescaled schedule at time ``t/λ`` equals the original flow at ``t``.
        """
        total_time = float(total_time)
        if not np.isfinite(total_time) or total_time <= 0:
            raise ValueError(f"total_time: must be a finite positive number, got {total_time!r}")
        lam = self.total_time / total_time
        return Schedule(tuple(lay.scaled(lay.duration / lam, lam) for lay in self.layers))

    def fitted(self, total_time: float) -> "Schedule":
        r"""Time change to ``total_time`` that minimises :math:`\|\theta\|_\infty`.

        Layer ``k`` is run ``λ_k`` times faster (duration / λ_k; an exact time change of that piece,
        so the flow map of every layer - hence of the schedule - is unchanged).  With
        :meth:`Layer.scaled`, the attention entries grow like ``λ`` and the perceptron entries like
        ``√λ``; the ``λ_k`` equalise the largest entry ``M`` across layers, with ``M`` found by
        bisection so that :math:`\sum_k \tau_k/\lambda_k(M) = ` ``total_time``.  ``B`` does not scale
        and is a floor for ``M``.
        """
        total_time = float(total_time)
        if not np.isfinite(total_time) or total_time <= 0:
            raise ValueError(f"total_time: must be a finite positive number, got {total_time!r}")
        if not self.layers:
            raise ValueError("schedule: empty schedule has no time to change")

        def factors(M):
            lams = []
            for lay in self.layers:
                v = np.abs(lay.V).max() if lay.V.size else 0.0
                parts = [np.abs(a).max() for a in (lay.W, lay.U, lay.b) if a.size]
                e = max(parts) if parts and np.any(lay.W != 0) else 0.0
                cands = []
                if v > 0:
                    cands.append(M / v)
                if e > 0:
                    cands.append((M / e) ** 2)
                lams.append(min(cands) if cands else 1.0)
            return np.array(lams)

        durs = np.array([lay.duration for lay in self.layers])
        lo, hi = 1e-12, 1e12
        for _ in range(200):
            mid = math.sqrt(lo * hi)
            if (durs / factors(mid)).sum() > total_time:
                lo = mid
            else:
                hi = mid
        lams = factors(hi)
        lams *= (durs / lams).sum() / total_time  # exact total time
        return Schedule(tuple(lay.scaled(lay.duration / lam, lam) for lay, lam in zip(self.layers, lams)))

    def summary(self) -> str:
        """Readable multi-line table of the layers."""
        head = (
            f"Schedule: {len(self.layers)} layers, {self.switches} switches, "
            f"total time {self.total_time:.4g}, ||theta||_inf = {self.norm_inf:.4g}"
        )
        lines = [head, f"  {'#':>3} {'duration':>10} {'m':>2} {'|theta|inf':>10}  label"]
        for k, lay in enumerate(self.layers):
            lines.append(
                f"  {k:>3} {lay.duration:>10.4g} {lay.hidden:>2} {lay.norm_inf:>10.4g}  {lay.label}"
            )
        return "\n".join(lines)

    def __repr__(self) -> str:
        return (
            f"Schedule(layers={len(self.layers)}, switches={self.switches}, "
            f"total_time={self.total_time:.4g}, norm_inf={self.norm_inf:.4g})"
        )
