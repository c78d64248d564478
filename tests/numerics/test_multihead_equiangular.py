"""Tests of attnflow.numerics.multihead_equiangular (arXiv 2605.04279 scalar-head regime).

Independent routes: Gram matrices by NumPy; entropies by scipy.stats.entropy on explicitly normalised
softmax rows; the equiangular entropy against the closed form of derivations/multihead.md.
"""

import math

import numpy as np
import pytest
import sympy as sp
from scipy.stats import entropy

from attnflow.numerics.multihead_equiangular import (
    attention_entropy,
    equiangular_tokens,
    gram_offdiagonal,
    scalar_heads,
)


def test_equiangular_tokens_gram():
    x = equiangular_tokens(5, 0.3)
    np.testing.assert_allclose(np.linalg.norm(x, axis=1), 1.0, rtol=1e-15)
    np.testing.assert_allclose(gram_offdiagonal(x), 0.3, rtol=1e-14)


def test_attention_entropy_against_scipy_and_closed_form():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((6, 4))
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    M = scalar_heads([1.5, -0.7], 4)
    beta = 3.0
    ref = []
    for h in range(2):
        s = beta * (x @ M[h] @ x.T)
        A = np.exp(s) / np.exp(s).sum(axis=1, keepdims=True)
        ref.append(np.mean([entropy(row) for row in A]))
    np.testing.assert_allclose(attention_entropy(x, M, beta), ref, rtol=1e-12)
    from attnflow.symbolic import multihead_entropy as ME

    xe = equiangular_tokens(4, 0.4)
    S = attention_entropy(xe, scalar_heads([2.0], 5), 1.3)[0]
    closed = float(ME.head_entropy().subs({ME.c: 2.0, ME.rho: 0.4, ME.n: 4, ME.beta: 1.3}))
    assert S == pytest.approx(closed, rel=1e-13)
    assert attention_entropy(xe, scalar_heads([0.0], 5), 1.0)[0] == pytest.approx(math.log(4))
    assert sp  # closed form evaluated by SymPy


def test_multihead_equiangular_bad_input():
    with pytest.raises(ValueError, match="rho"):
        equiangular_tokens(3, 1.0)
    with pytest.raises(ValueError, match="n"):
        equiangular_tokens(1, 0.5)
    with pytest.raises(ValueError, match="c"):
        scalar_heads([], 3)
    with pytest.raises(ValueError, match="x, M"):
        attention_entropy(np.ones((3, 2)), np.ones((1, 3, 3)), 1.0)
