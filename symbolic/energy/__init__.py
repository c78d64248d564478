r"""Topic ``energy``: the interaction energy, its dissipation along attention dynamics, variations.

Every identity of ``derivations/energy.md`` is derived from the model definitions: the energy is
built, differentiated along the particle velocity field (chain rule), and the residual against the
stated identity is reduced to 0, in an index-free vector algebra (:mod:`attnflow.symbolic.vectors`,
valid for every n and d) and, as a cross-check, in explicit coordinates for small n and d.

.. math::

    E_\beta = \frac{1}{2\beta}\sum_{i,j=1}^n e^{\beta\langle x_i, x_j\rangle}, \qquad
    \frac{dE_\beta}{dt} = \sum_i Z_i\,|\dot x_i|^2 \ \text{(SA)}, \qquad
    \frac{dE_\beta}{dt} = n\sum_i|\dot x_i|^2 \ \text{(USA)}.

Public API
----------
results
    the :class:`~attnflow.symbolic.result.Result` list of the ``energy`` document (proofs lazy).
TOPIC
    the topic name, ``"energy"``.

Implementation (private): ``_results`` (statements, derivation steps, provers of each result),
``_proofs`` (index-free, explicit-coordinate and concrete-point provers), ``_coordinates``
(energies and velocity fields in explicit coordinates, sphere reduction), ``_uniform`` (energy of
the uniform measure: moment and Bessel series).

References
----------
arXiv 2312.10794 (interaction energy, gradient-flow structure of SA, hemisphere argument);
2512.01868 (survey: USA, mean-field energy identities); 2604.26898 (dissipative sign convention);
2605.04279, 2605.18870 (multi-head, abstracts only); ``derivations/energy.md``.
"""

from attnflow.symbolic.energy._proofs import variation_kernels
from attnflow.symbolic.energy._results import TOPIC, results
from attnflow.symbolic.energy._uniform import beta, d, uniform_energy_closed_form

__all__ = ["results", "TOPIC", "uniform_energy_closed_form", "d", "beta", "variation_kernels"]
