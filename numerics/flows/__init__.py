r"""Normalizing flows of the continuity equation with a perceptron field (``attnflow.numerics.flows``).

Public API
----------
Piece, piece_kind, perceptron_velocity
    one constant-weight interval of :math:`w\,\sigma(\langle a,x\rangle+c)\,e`;
flow_map, integrate_flow
    the flow of a sequence of pieces: closed form / adaptive Runge--Kutta (independent routes);
monotone_pieces, shear_pieces, pl_interpolant
    pieces realising an increasing piecewise-linear profile (the gradient of a convex function) and a
    piecewise-linear shear exactly;
kr_map, kr_profiles, kr_flow_pieces, kr_errors, kr_error_bound
    the Knöthe--Rosenblatt map of the uniform square to the sinh-banana and its perceptron-flow
    approximation with :math:`2(K+1)` pieces;
banana_map, banana_errors
    the KR map of :math:`N(0, I_2)` onto the Gaussian banana (a shear) and its :math:`(K+2)`-piece flow.

References
----------
arXiv 2602.08606 (constructive conditional normalizing flows); ``derivations/transport.md``.
"""

from attnflow.numerics.flows._construct import monotone_pieces, pl_interpolant, shear_pieces
from attnflow.numerics.flows._knothe import (
    banana_errors,
    banana_map,
    kr_error_bound,
    kr_errors,
    kr_flow_pieces,
    kr_map,
    kr_profiles,
)
from attnflow.numerics.flows._perceptron import Piece, flow_map, integrate_flow, perceptron_velocity, piece_kind

__all__ = [
    "Piece",
    "piece_kind",
    "perceptron_velocity",
    "flow_map",
    "integrate_flow",
    "monotone_pieces",
    "shear_pieces",
    "pl_interpolant",
    "kr_map",
    "kr_profiles",
    "kr_flow_pieces",
    "kr_errors",
    "kr_error_bound",
    "banana_map",
    "banana_errors",
]
