r"""Continuity-equation flows whose velocity is a width-one perceptron with piecewise-constant weights.

On the time interval of piece :math:`k` the velocity is

.. math::
    v_k(x) = w_k\,\sigma(\langle a_k, x\rangle + c_k)\,e_k,\qquad \sigma(z) = \max(z, 0),

held for a duration :math:`\tau_k`; the flow of the continuity equation
:math:`\partial_t\rho + \operatorname{div}(\rho v) = 0` pushes :math:`\rho_0` forward by the
composition of the piece maps (arXiv 2602.08606, the perceptron field with piecewise-constant weights).
Two kinds of piece have a closed-form time-:math:`\tau` map:

* **shear** (:math:`\langle a, e\rangle = 0`): :math:`\langle a, x\rangle` is invariant, so
  :math:`x \mapsto x + \tau w\,\sigma(\langle a,x\rangle + c)\,e` (volume preserving);
* **aligned** (:math:`a = \alpha e`, :math:`|e| = 1`, :math:`\alpha \ne 0`): with
  :math:`z = \alpha\langle e,x\rangle + c`, :math:`\dot z = \alpha w\,\sigma(z)`, hence
  :math:`z \mapsto z\,e^{\alpha w\tau}` for :math:`z > 0` and :math:`z` unchanged otherwise
  (a one-dimensional monotone map along :math:`e`: the gradient of a convex function).

:func:`flow_map` composes these closed forms; :func:`integrate_flow` integrates the same
piecewise-constant field with an adaptive Runge--Kutta method (SciPy's DOP853, one solve per piece):
an independent route to the same map.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np

from attnflow._base.validate import real_array

__all__ = ["Piece", "piece_kind", "flow_map", "integrate_flow", "perceptron_velocity"]

_ORTH_TOL = 1e-12


@dataclasses.dataclass(frozen=True)
class Piece:
    r"""One constant-weight interval of the perceptron field :math:`w\,\sigma(\langle a,x\rangle+c)\,e`.

    Parameters
    ----------
    w : float
        Output weight (the amplitude).
    a : tuple of float
        Input weights :math:`a \in \mathbb R^d`.
    c : float
        Bias.
    e : tuple of float
        Unit output direction :math:`e \in \mathbb R^d`.
    tau : float
        Duration of the interval (> 0).
    """

    w: float
    a: tuple
    c: float
    e: tuple
    tau: float = 1.0

    def __post_init__(self) -> None:
        a = np.asarray(self.a, dtype=float)
        e = np.asarray(self.e, dtype=float)
        if a.ndim != 1 or e.shape != a.shape:
            raise ValueError(f"a, e: expected two vectors of the same length, got shapes {a.shape} and {e.shape}")
        if not (np.all(np.isfinite(a)) and np.all(np.isfinite(e)) and math.isfinite(self.w) and math.isfinite(self.c)):
            raise ValueError("w, a, c, e: must be finite")
        if abs(float(np.linalg.norm(e)) - 1.0) > 1e-12:
            raise ValueError(f"e: the output direction must be a unit vector (|e| = {np.linalg.norm(e):.6g})")
        if not (math.isfinite(self.tau) and self.tau > 0):
            raise ValueError(f"tau: the duration must be finite and > 0, got {self.tau!r}")


def piece_kind(p: Piece) -> str:
    """``"shear"`` (a ⊥ e), ``"aligned"`` (a parallel to e, nonzero) or ``"general"``."""
    a = np.asarray(p.a, dtype=float)
    e = np.asarray(p.e, dtype=float)
    ae = float(a @ e)
    if abs(ae) <= _ORTH_TOL * max(1.0, float(np.linalg.norm(a))):
        return "shear"
    if float(np.linalg.norm(a - ae * e)) <= _ORTH_TOL * max(1.0, abs(ae)):
        return "aligned"
    return "general"


def _points(x, d: int) -> np.ndarray:
    x = np.array(real_array("x", x), dtype=float)
    if x.ndim != 2 or x.shape[1] != d:
        raise ValueError(f"x: expected points of shape (n, {d}), got {x.shape}")
    if not np.all(np.isfinite(x)):
        raise ValueError("x: contains NaN or inf")
    return x


def _check_pieces(pieces) -> list[Piece]:
    pieces = list(pieces)
    if not pieces or not all(isinstance(p, Piece) for p in pieces):
        raise ValueError("pieces: expected a non-empty sequence of Piece")
    d = len(pieces[0].a)
    if any(len(p.a) != d for p in pieces):
        raise ValueError("pieces: every piece must act on the same dimension")
    return pieces


def perceptron_velocity(p: Piece, x) -> np.ndarray:
    r"""The velocity :math:`w\,\sigma(\langle a,x\rangle + c)\,e` of one piece at the points ``x`` (n, d)."""
    a = np.asarray(p.a, dtype=float)
    x = np.asarray(x, dtype=float)
    return p.w * np.maximum(x @ a + p.c, 0.0)[:, None] * np.asarray(p.e, dtype=float)[None, :]


def flow_map(pieces, x) -> np.ndarray:
    r"""The flow of the piecewise-constant perceptron field at time :math:`\sum_k\tau_k`, in closed form.

    .. math::
        \Phi = \Phi_K\circ\cdots\circ\Phi_1,\qquad
        \Phi_k(x) = \begin{cases} x + \tau w\,\sigma(\langle a,x\rangle+c)\,e & \langle a,e\rangle = 0\\
        x + \frac{(e^{\alpha w\tau}-1)\,\sigma(z)}{\alpha}\,e,\ z = \alpha\langle e,x\rangle + c & a = \alpha e
        \end{cases}

    Parameters
    ----------
    pieces : sequence of Piece
        Shear or aligned pieces (``ValueError`` names a general one).
    x : array_like (n, d)

    Returns
    -------
    ndarray (n, d)

    References
    ----------
    arXiv 2602.08606 (perceptron flows with piecewise-constant weights; shear flows; the compressible
    part realised exactly); ``derivations/transport.md`` (``flows.perceptron.exact``).
    """
    pieces = _check_pieces(pieces)
    y = _points(x, len(pieces[0].a))
    for k, p in enumerate(pieces):
        kind = piece_kind(p)
        a = np.asarray(p.a, dtype=float)
        e = np.asarray(p.e, dtype=float)
        if kind == "shear":
            y += p.tau * p.w * np.maximum(y @ a + p.c, 0.0)[:, None] * e[None, :]
        elif kind == "aligned":
            alpha = float(a @ e)
            z = alpha * (y @ e) + p.c
            dz = np.maximum(z, 0.0) * math.expm1(alpha * p.w * p.tau)
            y += (dz / alpha)[:, None] * e[None, :]
        else:
            raise ValueError(f"pieces[{k}]: no closed form for a piece with a neither orthogonal nor parallel to e")
    return y


def integrate_flow(pieces, x, *, rtol: float = 1e-12, atol: float = 1e-13) -> np.ndarray:
    r"""The same flow by adaptive numerical integration (SciPy ``solve_ivp``, DOP853, one solve per piece).

    .. math::
        \dot x = w_k\,\sigma(\langle a_k,x\rangle + c_k)\,e_k,\qquad t\in[T_{k-1}, T_k),

    each piece restarted at its switching time (the field is discontinuous in time).  Any piece kind
    is accepted.  Independent of :func:`flow_map`.

    References
    ----------
    arXiv 2602.08606 (the continuity equation with a perceptron field, piecewise-constant weights).
    """
    from scipy.integrate import solve_ivp

    pieces = _check_pieces(pieces)
    y = _points(x, len(pieces[0].a))
    n, d = y.shape
    for p in pieces:
        def rhs(t, u, p=p):
            return perceptron_velocity(p, u.reshape(n, d)).ravel()

        sol = solve_ivp(rhs, (0.0, p.tau), y.ravel(), method="DOP853", rtol=rtol, atol=atol)
        if not sol.success:
            raise RuntimeError(f"solve_ivp failed on a piece: {sol.message}")
        y = sol.y[:, -1].reshape(n, d)
    return y
