"""Three user-declared models (the README's sigmoid example and two more), loaded by the tests.

Loading this file runs it (attnflow.models.load), like pytest runs a conftest.py.
"""

import numpy as np
import sympy as sp

from attnflow.models import Matrix, SphereModel, beta, s

b = sp.Symbol("b", real=True)

# sigmoid attention, mean normalisation (arXiv 2409.04431); F' = w with F = softplus / beta
sigmoid = SphereModel(
    name="sigmoid",
    weight=1 / (1 + sp.exp(-(beta * s + b))),
    normalization="mean",
    energy=sp.log(1 + sp.exp(beta * s + b)) / beta,
    params={b: 0.0},
    source="arXiv 2409.04431",
)


def _draw(d, seed, *, symmetric=False, **_):
    rng = np.random.default_rng(seed)
    g = rng.standard_normal((3, d, d)) / np.sqrt(d)
    if symmetric:
        v = 0.5 * (g[2] + g[2].T)
        return {"Q": np.eye(d), "K": v.copy(), "V": v}
    return {"Q": g[0], "K": g[1], "V": g[2]}


def _gradient_flow(p):
    Q, K, V = p["Q"], p["K"], p["V"]
    if not (np.allclose(Q.T @ K, V, atol=1e-10) and np.allclose(V, V.T, atol=1e-10)):
        return "V: the {what} of model 'sigmoid_qkv' needs Q^T K = V = V^T"
    return None


# sigmoid attention with query, key and value matrices (a gradient flow when Q^T K = V = V^T)
sigmoid_qkv = SphereModel(
    name="sigmoid_qkv",
    weight=1 / (1 + sp.exp(-beta * s)),
    normalization="mean",
    query="Q", key="K", value="V",
    params=(Matrix("Q"), Matrix("K"), Matrix("V")),
    energy=sp.log(1 + sp.exp(beta * s)) / beta,
    energy_score="V",
    energy_condition=_gradient_flow,
    draw_params=_draw,
    source="arXiv 2409.04431 (with Q, K, V)",
)

# a polynomial (non-exponential, unbounded) weight; F = (1 + beta s)^3 / (3 beta), F' = w
quadratic = SphereModel(
    name="quadratic",
    weight=(1 + beta * s) ** 2,
    normalization="mean",
    energy=(1 + beta * s) ** 3 / (3 * beta),
    source="polynomial attention weight (test model)",
)
