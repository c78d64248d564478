r"""Wasserstein helpers of the ``wasserstein.*`` checks: random smooth maps of the sphere for the coupling
inequality :math:`W_2(S_\#\mu,\psi_\#\mu)\le\|S-\psi\|_{L^2(\mu)}`.

References
----------
arXiv:2411.04551, Lemma 5.2 (coupling inequality).
"""

from __future__ import annotations

import numpy as np

__all__ = ["sphere_map"]


def sphere_map(rng, d, scale):
    a = np.eye(d) + scale * rng.standard_normal((d, d))
    b = scale * rng.standard_normal(d)

    def f(x):
        y = x @ a.T + b
        return y / np.linalg.norm(y, axis=1, keepdims=True)

    return f
