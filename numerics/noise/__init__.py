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

Public API
----------
Independent noise on the sphere
    euler_maruyama_sphere, attention_drift
Noisy Kuramoto (angles)
    noisy_kuramoto, order_parameter
Common noise (deep-and-wide transformer with random MLPs, and its SDE limit)
    draw_layer_weights, LayerWeights, deep_wide_step, simulate_deep_wide, euler_maruyama_common_noise
Covariance kernel and constants of the random field
    kappa_relu, kappa_kernel, lambda_constants, NoiseConstants, ACTIVATIONS
Shared
    StochasticPath, brownian_increments

References
----------
arXiv:2512.01868 §7 (independent noise), arXiv:2604.26898 (common noise, deep-and-wide limit).
"""

from ._common_noise import (
    LayerWeights,
    deep_wide_step,
    draw_layer_weights,
    euler_maruyama_common_noise,
    simulate_deep_wide,
)
from ._kernel import ACTIVATIONS, NoiseConstants, kappa_kernel, kappa_relu, lambda_constants
from ._kuramoto import _circle_drift, noisy_kuramoto, order_parameter  # noqa: F401  (_circle_drift: tests)
from ._paths import StochasticPath, brownian_increments
from ._sphere import attention_drift, euler_maruyama_sphere

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
