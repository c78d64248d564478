"""Measure-to-measure interpolation with attention + perceptron blocks (arXiv 2411.04551).

The field :math:`v[\\mu](x) = P_x(V A_B[\\mu](x) + W(Ux + b)_+)` with piecewise-constant
parameters (a :class:`Schedule` of :class:`Layer` s), the integration of N measures under ONE shared
schedule (:func:`flow`), the three-phase construction of Theorem 1.1
(:func:`construct_dirac_interpolation`), and the checks behind the claims
``interpolation.*``: :func:`gate_mass_moved` (gate sign erratum),
:func:`mass_concentration_family` (2√η vs the printed Cη), :func:`cluster_time` (log 1/ε).

Public API
----------
Parameters and field
    Layer, Schedule, attention_average, interp_velocity, layer_field
Flow of N measures
    flow, FlowPath
Construction of Theorem 1.1
    construct_dirac_interpolation, InterpolationResult, ConstructionError, validate_instance,
    draw_instance
Construction of Theorem 1.2 (atomic targets, same-barycentre inputs)
    construct_general_interpolation, GeneralInterpolationResult, validate_general_instance,
    draw_general_instance, same_barycentre_pair, peel_time, measure_w2
Distances to Dirac targets
    dirac_w2, best_dirac_w2
Experiments behind the claims
    gate_layer, gate_mass_moved, GateExperiment, mass_concentration_family, MassConcentration,
    cluster_time, ClusterTimeFit
Figures: :func:`attnflow.plotting.interpolation_clouds`, :func:`attnflow.plotting.interpolation_w2`
(the ``plot`` extra).

References: arXiv 2411.04551 (Theorems 1.1 and 1.2; Lemma 5.2, the coupling inequality).
"""

from ._construct import (
    ConstructionError,
    InterpolationResult,
    construct_dirac_interpolation,
    validate_instance,
)
from ._experiments import (
    ClusterTimeFit,
    GateExperiment,
    MassConcentration,
    cluster_time,
    gate_layer,
    gate_mass_moved,
    mass_concentration_family,
)
from ._field import attention_average, interp_velocity, layer_field
from ._flow import FlowPath, flow
from ._general import (
    GeneralInterpolationResult,
    construct_general_interpolation,
    draw_general_instance,
    measure_w2,
    peel_time,
    same_barycentre_pair,
    validate_general_instance,
)
from ._geometry import best_dirac_w2, dirac_w2
from ._instances import draw_instance
from ._schedule import Layer, Schedule

__all__ = [
    "Layer",
    "Schedule",
    "attention_average",
    "interp_velocity",
    "layer_field",
    "flow",
    "FlowPath",
    "construct_dirac_interpolation",
    "InterpolationResult",
    "ConstructionError",
    "validate_instance",
    "draw_instance",
    "construct_general_interpolation",
    "GeneralInterpolationResult",
    "validate_general_instance",
    "draw_general_instance",
    "same_barycentre_pair",
    "peel_time",
    "measure_w2",
    "dirac_w2",
    "best_dirac_w2",
    "gate_layer",
    "gate_mass_moved",
    "GateExperiment",
    "mass_concentration_family",
    "MassConcentration",
    "cluster_time",
    "ClusterTimeFit",
]
