"""Numerical kernels, integrators, distances and dynamics (``attnflow.numerics``).

Public API
----------
Fields (kernels generated from ``attnflow.symbolic.models`` by ``attnflow derive``)
    MODELS, ModelSpec, velocity, make_field, energy, dissipation, single_thread
Simulation
    simulate, Trajectory, integrate, METHODS; initial states random_sphere, equiangular,
    random_angles, random_matrices
Distances
    wasserstein, wasserstein_circle, sliced_wasserstein, cost_matrix
Stochastic dynamics
    euler_maruyama_sphere, euler_maruyama_common_noise, brownian_increments, attention_drift,
    noisy_kuramoto, order_parameter, simulate_deep_wide, deep_wide_step, draw_layer_weights,
    kappa_relu, kappa_kernel, lambda_constants, StochasticPath
Measure-to-measure interpolation
    Layer, Schedule, interp_velocity, construct_dirac_interpolation

Submodules with their own namespace: ``retrieval`` (lost in the middle), ``localization``,
``lowtemp``, ``interpolation``, ``noise``, ``wasserstein``, ``flows`` (perceptron normalizing flows),
``transport`` (the flow-map transport representative), ``observables`` (pair fraction, Gram statistics,
cluster counts, time to cluster, ensemble standard errors).
"""

from attnflow.numerics._threads import single_thread
from attnflow.numerics.fields import MODELS, ModelSpec, dissipation, energy, make_field, velocity
from attnflow.numerics.initial import equiangular, random_angles, random_matrices, random_sphere
from attnflow.numerics.integrators import METHODS, integrate
from attnflow.numerics.interpolation import Layer, Schedule, construct_dirac_interpolation, interp_velocity
from attnflow.numerics.noise import (
    StochasticPath,
    attention_drift,
    brownian_increments,
    deep_wide_step,
    draw_layer_weights,
    euler_maruyama_common_noise,
    euler_maruyama_sphere,
    kappa_kernel,
    kappa_relu,
    lambda_constants,
    noisy_kuramoto,
    order_parameter,
    simulate_deep_wide,
)
from attnflow.numerics.simulate import simulate
from attnflow.numerics.trajectory import Trajectory
from attnflow.numerics.wasserstein import cost_matrix, sliced_wasserstein, wasserstein, wasserstein_circle

__all__ = [
    # fields
    "MODELS",
    "ModelSpec",
    "velocity",
    "make_field",
    "energy",
    "dissipation",
    "single_thread",
    # simulation
    "simulate",
    "Trajectory",
    "integrate",
    "METHODS",
    "random_sphere",
    "equiangular",
    "random_angles",
    "random_matrices",
    # distances
    "wasserstein",
    "wasserstein_circle",
    "sliced_wasserstein",
    "cost_matrix",
    # stochastic dynamics
    "StochasticPath",
    "attention_drift",
    "brownian_increments",
    "euler_maruyama_sphere",
    "euler_maruyama_common_noise",
    "noisy_kuramoto",
    "order_parameter",
    "draw_layer_weights",
    "deep_wide_step",
    "simulate_deep_wide",
    "kappa_relu",
    "kappa_kernel",
    "lambda_constants",
    # interpolation
    "Layer",
    "Schedule",
    "interp_velocity",
    "construct_dirac_interpolation",
]
