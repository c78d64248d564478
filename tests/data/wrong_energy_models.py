"""A sigmoid weight declared with the energy e^{beta s}/beta, which is NOT its Lyapunov function
(F' = e^{beta s} != w): the claim model.sigmoid_wrong.dissipation must fail."""

import sympy as sp

from attnflow.models import SphereModel, beta, s

sigmoid_wrong = SphereModel(
    name="sigmoid_wrong",
    weight=1 / (1 + sp.exp(-beta * s)),
    normalization="mean",
    energy=sp.exp(beta * s) / beta,
    source="negative control: wrong energy",
)
