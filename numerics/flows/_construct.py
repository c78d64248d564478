r"""Perceptron pieces that realise piecewise-linear maps exactly (arXiv 2602.08606, the two factors).

* :func:`monotone_pieces` -- the compressible factor: an increasing piecewise-linear map
  :math:`s\mapsto g(s)` of one coordinate :math:`s = \langle e,x\rangle` (the gradient of the convex
  function :math:`\psi(x) = G(\langle e,x\rangle) + \tfrac12|x-\langle e,x\rangle e|^2`, :math:`G' = g`),
  by aligned pieces: one scaling about the first node, one slope change per interior node
  (at the node's current image), one translation.
* :func:`shear_pieces` -- the incompressible factor when it is a shear
  :math:`x\mapsto x + g(\langle a,x\rangle)\,e` with :math:`a\perp e`: one constant piece, one slope,
  one kink per interior node.

With :math:`K` intervals each factor takes :math:`K+1` pieces.  Both are exact on
:math:`\{\langle\cdot,x\rangle \ge s_0\}` (the first node), where the interpolant is extended linearly
beyond the last node; with ``two_sided=True`` (one more piece) they are exact on the whole line, linear
below the first node too.
"""

from __future__ import annotations

import math

import numpy as np

from attnflow._base.validate import real_array
from attnflow.numerics.flows._perceptron import Piece, flow_map

__all__ = ["monotone_pieces", "shear_pieces", "pl_interpolant"]


def _nodes_values(nodes, values):
    s = np.asarray(real_array("nodes", nodes), dtype=float)
    v = np.asarray(real_array("values", values), dtype=float)
    if s.ndim != 1 or s.shape != v.shape or s.size < 2:
        raise ValueError(f"nodes, values: expected two 1-D arrays of equal length >= 2, got {s.shape}, {v.shape}")
    if not (np.all(np.isfinite(s)) and np.all(np.isfinite(v))):
        raise ValueError("nodes, values: must be finite")
    if np.any(np.diff(s) <= 0):
        raise ValueError("nodes: must be strictly increasing")
    return s, v


def pl_interpolant(nodes, values, s) -> np.ndarray:
    r"""The piecewise-linear interpolant through ``(nodes, values)``, extended linearly beyond both ends.

    .. math:: g_K(s) = v_0 + \sigma_0 (s - s_0) + \sum_{k=1}^{K-1} (\sigma_k - \sigma_{k-1})(s - s_k)_+,
       \qquad \sigma_k = \frac{v_{k+1}-v_k}{s_{k+1}-s_k}\quad (s \ge s_0).
    """
    s0, v = _nodes_values(nodes, values)
    s = np.asarray(s, dtype=float)
    slopes = np.diff(v) / np.diff(s0)
    out = v[0] + slopes[0] * (s - s0[0])
    for k in range(1, len(slopes)):
        out = out + (slopes[k] - slopes[k - 1]) * np.maximum(s - s0[k], 0.0)
    return out


def _unit(v, name):
    v = np.asarray(v, dtype=float)
    nv = float(np.linalg.norm(v))
    if v.ndim != 1 or not math.isfinite(nv) or nv == 0:
        raise ValueError(f"{name}: expected a nonzero finite vector")
    return v / nv


def monotone_pieces(nodes, values, e, *, two_sided: bool = False) -> list[Piece]:
    r"""Aligned pieces whose flow is :math:`x \mapsto x + (g_K(\langle e,x\rangle) - \langle e,x\rangle)\,e`.

    ``values`` must be strictly increasing (``ValueError`` otherwise).  Pieces, each of duration 1:

    1. scaling about :math:`s_0`: :math:`w = \log\sigma_0`, :math:`a = e`, :math:`c = -s_0`;
    2. for :math:`k = 1..K-1`: :math:`w = \log(\sigma_k/\sigma_{k-1})`, :math:`a = e`,
       :math:`c = -p_k` with :math:`p_k` the image of :math:`s_k` after the previous pieces;
    3. translation: :math:`w = v_0 - s_0`, :math:`a = 0`, :math:`c = 1`.

    ``two_sided=True`` adds, first, the scaling below the first node (:math:`a = -e`, :math:`c = s_0`,
    :math:`w = -\log\sigma_0`), so that the map is exact on the whole line (linear beyond both end nodes).

    References
    ----------
    arXiv 2602.08606 (the compressible factor, the gradient of a convex function, realised exactly).
    """
    s, v = _nodes_values(nodes, values)
    e = _unit(e, "e")
    slopes = np.diff(v) / np.diff(s)
    if np.any(slopes <= 0):
        raise ValueError("values: a monotone factor needs strictly increasing values")
    pieces = [Piece(w=math.log(slopes[0]), a=tuple(e), c=-float(s[0]), e=tuple(e))]
    if two_sided:
        pieces.insert(0, Piece(w=-math.log(slopes[0]), a=tuple(-e), c=float(s[0]), e=tuple(e)))
    for k in range(1, len(slopes)):
        # image of node k under the pieces so far (its coordinate along e)
        pk = float(flow_map(pieces, (s[k] * e)[None, :])[0] @ e)
        pieces.append(Piece(w=math.log(slopes[k] / slopes[k - 1]), a=tuple(e), c=-pk, e=tuple(e)))
    pieces.append(Piece(w=float(v[0] - s[0]), a=tuple(np.zeros_like(e)), c=1.0, e=tuple(e)))
    return pieces


def shear_pieces(nodes, values, a, e, *, two_sided: bool = False) -> list[Piece]:
    r"""Shear pieces whose flow is :math:`x\mapsto x + g_K(\langle a,x\rangle)\,e` (:math:`a \perp e`).

    Pieces of duration 1: the constant :math:`g_K(s_0)` (:math:`a = 0`, :math:`c = 1`), the slope
    :math:`\sigma_0` (:math:`c = -s_0`) and one kink :math:`\sigma_k-\sigma_{k-1}` at each interior node;
    ``two_sided=True`` adds the slope below the first node (:math:`w = -\sigma_0`, input :math:`-a`,
    :math:`c = s_0`), exact on the whole line.

    References
    ----------
    arXiv 2602.08606 (the incompressible factor through shear flows).
    """
    s, v = _nodes_values(nodes, values)
    a = _unit(a, "a")
    e = _unit(e, "e")
    if abs(float(a @ e)) > 1e-12:
        raise ValueError("a, e: a shear needs the input direction a orthogonal to the output direction e")
    slopes = np.diff(v) / np.diff(s)
    z = tuple(np.zeros_like(e))
    pieces = [Piece(w=float(v[0]), a=z, c=1.0, e=tuple(e)),
              Piece(w=float(slopes[0]), a=tuple(a), c=-float(s[0]), e=tuple(e))]
    if two_sided:
        pieces.append(Piece(w=-float(slopes[0]), a=tuple(-a), c=float(s[0]), e=tuple(e)))
    for k in range(1, len(slopes)):
        pieces.append(Piece(w=float(slopes[k] - slopes[k - 1]), a=tuple(a), c=-float(s[k]), e=tuple(e)))
    return pieces
