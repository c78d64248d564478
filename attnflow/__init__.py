"""attnflow: symbolic-numeric verification of Transformers as interacting particle systems.

Subpackages
-----------
attnflow.symbolic
    SymPy derivations (energies, dissipation identities, reductions) with proof status.
attnflow.numerics
    numba kernels generated from the symbolic definitions, integrators, distances.
attnflow.properties
    Hypothesis strategies and the registry of checkable claims.
"""

from attnflow._version import __version__

__all__ = ["__version__"]
