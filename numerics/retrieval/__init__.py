r"""The lost-in-the-middle retrieval profile of causal ALiBi attention, in closed form.

Model (arXiv 2605.09213; ``derivations/retrieval.md``): tokens are angles on the
circle, token j attends to k < j with ALiBi position weights and content factor
:math:`w_\beta(\theta) = e^{\beta\cos\theta}`.  For iid uniform prompts the correlation between the
last token at depth t and the source token at relative position :math:`\sigma_0` is, per Fourier
mode n and to order 1/N, :math:`g_{a_n}(t, 1; \sigma_0)` with :math:`a_n = n^2 I_n(\beta)`, and the
retrieval profile is

.. math::

    \mathcal S_t(\sigma_0) = \sum_{n\ge1} \omega_n\, g_{a_n}(t,1;\sigma_0), \qquad
    \omega_n = e^{-\pi^2 n^2/(2M^2)}, \qquad
    g_a(t,1;s) = \frac{\lambda e^{\lambda s}}{e^\lambda-1}\,\psi_{at}(Y_\lambda(s)),

:math:`Y_\lambda(s)=\log\frac{e^\lambda-1}{e^{\lambda s}-1}`,
:math:`\psi_c(y)=\sum_{k\ge0}\frac{c^{k+1}y^k}{k!(k+1)!}=\sqrt{c/y}\,I_1(2\sqrt{cy})`.

Evaluation is float64 and vectorised; :math:`\psi` is summed from its entire series for small
:math:`cY` (no 0/0 at :math:`\sigma_0 \to 1`) and from exponentially scaled Bessel functions
otherwise (no overflow as :math:`\sigma_0 \to 0`).  The mode sum is truncated at ``modes`` terms;
:func:`certify_ushape` bounds the rest rigorously.

Public API: :func:`profile`, :func:`profile_derivative`, :func:`mode_response`, :func:`fourier_rates`,
:func:`mode_weights`, :func:`t_crit`, :func:`argmin` (:class:`Argmin`), :func:`soft_accuracy`,
:func:`smallness_condition` (:class:`SmallnessCondition`), :func:`certify_ushape`
(:class:`Certificate`), :func:`solve_volterra_mode` (the independent reference solver); particles
(from ``_particles``): :func:`simulate_causal_alibi` (fused RK4 kernel),
:func:`causal_alibi_velocity`, :func:`fourier_field_coefficients`, :func:`mode_correlation_mc`
(:class:`ParticleEstimate`, Monte Carlo with the variance reduction by rotation
invariance, arXiv 2605.09213).
"""

from ._certify import Certificate
from ._closed import SmallnessCondition
from ._particles import (  # particles and Monte Carlo
    ParticleEstimate,
    causal_alibi_velocity,
    fourier_field_coefficients,
    mode_correlation_mc,
    simulate_causal_alibi,
)
from ._profile import (
    Argmin,
    argmin,
    certify_ushape,
    fourier_rates,
    mode_response,
    mode_weights,
    profile,
    profile_derivative,
    smallness_condition,
    soft_accuracy,
    solve_volterra_mode,
    t_crit,
)

__all__ = [
    "profile",
    "profile_derivative",
    "mode_response",
    "fourier_rates",
    "mode_weights",
    "t_crit",
    "Argmin",
    "argmin",
    "soft_accuracy",
    "SmallnessCondition",
    "smallness_condition",
    "Certificate",
    "certify_ushape",
    "solve_volterra_mode",
    "fourier_field_coefficients",
    "causal_alibi_velocity",
    "simulate_causal_alibi",
    "ParticleEstimate",
    "mode_correlation_mc",
]
