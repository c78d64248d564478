r"""Scalar-head multi-head attention on equiangular tokens: configurations and attention entropies.

Tokens :math:`x_i = \sqrt{1-\rho}\,e_i + \sqrt\rho\,e_{n+1}\in S^n` have :math:`\langle x_i,x_j\rangle=\rho`;
heads :math:`M_h = c_h I`.  The head entropy is the mean over rows of the entropy of
:math:`A_{ij} = \mathrm{softmax}_j(\beta\langle x_i, M_h x_j\rangle)` (log-sum-exp form):

.. math:: S_h = \frac1n\sum_i\Bigl(\log\sum_j e^{s_{ij}} - \sum_j A_{ij}s_{ij}\Bigr),\qquad s_{ij} = \beta\langle x_i,M_hx_j\rangle .

References
----------
arXiv 2605.04279 and arXiv 2605.18870 (multi-head; scalar-head equiangular regime, entropy production);
``derivations/multihead.md``.
"""

from __future__ import annotations

import math

import numpy as np

from attnflow._base.validate import real, real_array

__all__ = ["equiangular_tokens", "scalar_heads", "attention_entropy", "gram_offdiagonal"]


def equiangular_tokens(n: int, rho: float) -> np.ndarray:
    r""":math:`n` unit vectors of :math:`\mathbb R^{n+1}` with pairwise inner product :math:`\rho\in[0,1)`.

    .. math:: x_i = \sqrt{1-\rho}\,e_i + \sqrt\rho\,e_{n+1}.

    References
    ----------
    ``derivations/multihead.md`` (multihead.equiangular.rho).
    """
    if isinstance(n, bool) or int(n) != n or n < 2:
        raise ValueError(f"n: must be an integer >= 2, got {n!r}")
    r = real("rho", rho, lo=0.0, hi=1.0, hi_strict=True)
    x = np.zeros((int(n), int(n) + 1))
    x[np.arange(int(n)), np.arange(int(n))] = math.sqrt(1.0 - r)
    x[:, -1] = math.sqrt(r)
    return x


def scalar_heads(c, d: int) -> np.ndarray:
    r"""Head matrices :math:`M_h = c_h I_d`, shape ``(H, d, d)``.

    References
    ----------
    arXiv 2605.04279 (scalar-head regime).
    """
    cs = real_array("c", c).ravel()
    if cs.size < 1 or not np.all(np.isfinite(cs)):
        raise ValueError("c: need at least one finite head coefficient")
    if isinstance(d, bool) or int(d) != d or d < 1:
        raise ValueError(f"d: must be an integer >= 1, got {d!r}")
    return cs[:, None, None] * np.eye(int(d))[None]


def attention_entropy(x, M, beta: float) -> np.ndarray:
    r"""Row-averaged softmax entropy :math:`S_h` of every head, shape ``(H,)`` (log-sum-exp, shifted).

    References
    ----------
    arXiv 2605.04279 (attention entropy); ``derivations/multihead.md`` (multihead.equiangular.entropy).
    """
    x = real_array("x", x)
    M = real_array("M", M)
    if x.ndim != 2 or M.ndim != 3 or M.shape[1:] != (x.shape[1], x.shape[1]):
        raise ValueError(f"x, M: expected (n, d) and (H, d, d), got {x.shape} and {M.shape}")
    b = real("beta", beta)
    out = np.empty(M.shape[0])
    for h in range(M.shape[0]):
        s = b * (x @ M[h] @ x.T)
        smax = s.max(axis=1, keepdims=True)
        e = np.exp(s - smax)
        Z = e.sum(axis=1, keepdims=True)
        A = e / Z
        out[h] = float(np.mean(np.log(Z[:, 0]) + smax[:, 0] - np.sum(A * s, axis=1)))
    return out


def gram_offdiagonal(x) -> np.ndarray:
    r"""The off-diagonal inner products :math:`\langle x_i,x_j\rangle`, :math:`i<j` (flat array)."""
    x = real_array("x", x)
    G = x @ x.T
    return G[np.triu_indices(x.shape[0], 1)]
