"""The registered claims, one module per family of ``claims.md``.

To add a family, create ``claims/<family>.py`` defining claims with
:func:`attnflow.properties.registry.claim` and append its module path to :data:`MODULES`.
"""

from __future__ import annotations

import importlib

__all__ = ["MODULES", "load"]

#: Claim modules, imported in this order (the order of ``attnflow check`` and its reports).
MODULES: list[str] = [
    "attnflow.properties.claims.energy_bounds",
    "attnflow.properties.claims.cluster",
    "attnflow.properties.claims.equiangular",
    "attnflow.properties.claims.long_context",
    "attnflow.properties.claims.energy",
    "attnflow.properties.claims.multihead",
    "attnflow.properties.claims.clustering",
    "attnflow.properties.claims.dynamics",
    "attnflow.properties.claims.spectral",
    "attnflow.properties.claims.wasserstein",
    "attnflow.properties.claims.noise",
    "attnflow.properties.claims.retrieval",
    "attnflow.properties.claims.interpolation",
]


def load() -> None:
    """Import every claim module (each registers its claims on import)."""
    for name in MODULES:
        importlib.import_module(name)
