"""attnflow: symbolic-numeric verification of Transformers as interacting particle systems.

Subpackages
-----------
attnflow.symbolic
    SymPy derivations (energies, dissipation identities, reductions) with proof status.
attnflow.numerics
    numba kernels generated from the symbolic definitions, integrators, distances.
attnflow.properties
    Hypothesis strategies and the registry of checkable claims.
attnflow.sweeps
    Parameter sweeps on Dask into zarr stores; ``attnflow.sweep(spec, out)`` (imported on first use).
"""

from attnflow._version import __version__

__all__ = ["__version__", "sweep"]


def __getattr__(name: str):
    # ``attnflow.sweep`` without importing numerics (numba) or the sweep package on ``import attnflow``
    if name == "sweep":
        from attnflow.sweeps import sweep

        return sweep
    raise AttributeError(f"module 'attnflow' has no attribute {name!r}")
