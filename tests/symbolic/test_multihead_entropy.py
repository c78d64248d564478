"""The ``multihead`` results (symbolic/multihead_entropy.py): proof statuses, the Gram ODE against a
finite difference of explicit vectors moved by the field (NumPy), and a wrong threshold refuted."""

import math

import numpy as np
import sympy as sp

from attnflow.symbolic import multihead_entropy as ME


def test_results_are_proved():
    for r in ME.results():
        assert r.status == "proved", (r.id, r.proof)


def test_rho_dot_against_the_field_of_explicit_vectors():
    n, rho, beta, cs = 5, 0.35, 1.7, (0.9, -1.4)
    x = np.zeros((n, n + 1))
    x[np.arange(n), np.arange(n)] = math.sqrt(1 - rho)
    x[:, -1] = math.sqrt(rho)
    v = sum(ch * np.exp(beta * ch * (x @ x.T)) @ x for ch in cs) / n
    v -= np.sum(v * x, axis=1, keepdims=True) * x
    h = 1e-6
    G = lambda y: (y / np.linalg.norm(y, axis=1, keepdims=True)) @ (y / np.linalg.norm(y, axis=1, keepdims=True)).T  # noqa: E731
    fd = (G(x + h * v)[0, 1] - G(x - h * v)[0, 1]) / (2 * h)
    c1, c2 = ME.heads(2)
    sym = float(ME.rho_dot((c1, c2)).subs({c1: cs[0], c2: cs[1], ME.rho: rho, ME.n: n, ME.beta: beta}))
    assert abs(fd - sym) < 1e-8


def test_a_wrong_threshold_is_refuted():
    from attnflow.symbolic.proof import prove_zero

    c1, c2 = sp.Symbol("c_1", positive=True), sp.Symbol("c_2", negative=True)
    wrong = sp.log(-c2 / c1) / (c1 - c2)  # without 1/rho_0
    e = ME.sigma((c1, c2), ME.rho0, wrong)
    assert prove_zero(e, domains={c1: (0.1, 2), c2: (-4, -0.1), ME.rho0: (0.05, 0.95)}).status == "refuted"
