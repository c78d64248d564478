"""The models known to the numerics: a live view of the symbolic model registry.

:data:`MODELS` maps every registered model name to its declaration
(:class:`attnflow.symbolic.models.Model`: ``manifold``, ``required``, ``optional``,
``gradient_flow``, ``has_energy``, ``time_dependent``, ``description``, ...); a model registered
later (a user's own, see :mod:`attnflow.models`) appears in it at once.  :func:`model_spec` looks
a model up by name, or accepts a declaration object directly.
"""

from __future__ import annotations

from attnflow.symbolic.models import MODELS, Model, get, self_attention_kind, time_scale

__all__ = ["MODELS", "ModelSpec", "model_spec", "self_attention_kind", "time_scale"]

#: The declaration base class (the type of every value of :data:`MODELS`).
ModelSpec = Model


def model_spec(model) -> Model:
    """The declaration of ``model`` (a registered name or a declaration); ``ValueError`` otherwise."""
    return get(model)
