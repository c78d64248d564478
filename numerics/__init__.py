"""Numerical kernels, integrators and distances (``attnflow.numerics``)."""

__all__: list[str] = []
