"""The registered claims, one module per claim-id prefix.

``claims/<prefix>.py`` holds exactly the claims whose id starts with ``<prefix>.`` (their strategies,
tolerances and check bodies); the numerics and glue the checks share live in private modules named
after their concept (``_energy``, ``_multihead``, ``_clustering``, ``_equiangular``, ``_preln``,
``_long_context``, ``_spectral``, ``_wasserstein``, ``_experiments``, ``_stats``, ``_noise``, ``_retrieval``, ``_phase_diagram``, ``_transport``).  To add a family, create ``claims/<prefix>.py`` defining claims with
:func:`attnflow.properties.registry.claim` and append its module path to :data:`MODULES`.
"""

from __future__ import annotations

import importlib

__all__ = ["MODULES", "load"]

#: Claim modules, imported in this order (the order of ``attnflow check`` and its reports).
MODULES: list[str] = [
    "attnflow.properties.claims.energy",
    "attnflow.properties.claims.cluster",
    "attnflow.properties.claims.equiangular",
    "attnflow.properties.claims.long_context",
    "attnflow.properties.claims.multihead",
    "attnflow.properties.claims.metastability",
    "attnflow.properties.claims.normalization",
    "attnflow.properties.claims.spectral",
    "attnflow.properties.claims.wasserstein",
    "attnflow.properties.claims.chaos",
    "attnflow.properties.claims.meanfield",
    "attnflow.properties.claims.noise",
    "attnflow.properties.claims.retrieval",
    "attnflow.properties.claims.interpolation",
    "attnflow.properties.claims.flows",
    "attnflow.properties.claims.transport",
    "attnflow.properties.claims.localization",
    "attnflow.properties.claims.lowtemp",
    "attnflow.properties.claims.ensemble",
    "attnflow.properties.claims.phase_diagram",
    "attnflow.properties.claims.kernel",
    "attnflow.properties.claims.integrator",
    "attnflow.properties.claims.model",  # model.<name>.<family>, generated for every registered model
]


def load() -> None:
    """Import every claim module (each registers its claims on import)."""
    for name in MODULES:
        importlib.import_module(name)
