r"""Spectral-selection helpers of the ``spectral.*`` checks: the stated criterion, constructed spectra,
and the finite-difference Jacobian on the tangent spaces.

For :math:`Q^\top K = V = V^\top` and a pure-mode equilibrium :math:`x_i = s_i v_p`
(:math:`Vv_p=\lambda_pv_p`), :func:`stated_stability` evaluates the stated criterion (consensus,
balanced and unbalanced polarisation with :math:`\sigma(c,r) = (c-r)(cr-1)/(r(c^2-1))`),
:func:`pure_mode_cases` constructs spectra on both sides of every decision boundary of it, and
:func:`tangent_jacobian` differentiates a field on :math:`\prod_i T_{x_i}S^{d-1}` by central
differences.

References
----------
arXiv:2604.26085 (spectral selection; abstract only); criteria derived in ``derivations/spectral.md``.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = [
    "MARGIN",
    "FD_STEP",
    "GAP",
    "unbalanced_sigma",
    "stated_stability",
    "tangent_jacobian",
    "SpectralCase",
    "pure_mode_cases",
]

MARGIN = 0.05  # distance of every constructed spectrum from the stated decision boundaries
FD_STEP = 1e-5
GAP = 0.02  # minimum gap between eigenvalues of V


def unbalanced_sigma(c: float, r: float) -> float:
    r""":math:`\sigma(c,r) = (c-r)(cr-1)/(r(c^2-1))` (``derivations/spectral.md``).

    References
    ----------
    arXiv:2604.26085 (abstract only); derived in ``derivations/spectral.md``.
    """
    return (c - r) * (c * r - 1.0) / (r * (c * c - 1.0))


def stated_stability(n_plus: int, n_minus: int, beta: float, lam_p: float, lam_others) -> tuple[bool, float]:
    r"""The stated stability criterion (``derivations/spectral.md``), and how robust its verdict is.

    * consensus (:math:`n_- = 0`): stable iff :math:`\lambda_p>0` and :math:`\lambda_k<\lambda_p` for all :math:`k\ne p`;
    * balanced (:math:`n_+=n_-`), :math:`\lambda_p>0`: iff :math:`\lambda_k<\lambda_p\tanh(\beta\lambda_p)`;
      :math:`\lambda_p<0`: iff :math:`\lambda_p<\lambda_k<|\lambda_p|\tanh(\beta|\lambda_p|)`;
    * unbalanced, :math:`r=n_+/n_-`, :math:`c=e^{2\beta\lambda_p}`: :math:`\lambda_p>0`: iff
      :math:`\lambda_p>|\log r|/(2\beta)` and :math:`\lambda_k<\lambda_p\sigma(c,r)`; :math:`\lambda_p<0`: iff
      :math:`\lambda_p<-|\log r|/(2\beta)` and :math:`\lambda_p<\lambda_k<\lambda_p\sigma(c,r)`.

    Returns
    -------
    stable : bool
        The stated verdict (all clauses true).
    margin : float
        Robustness: if every clause holds, the smallest slack :math:`|a-b|` of the clauses
        :math:`a<b`; otherwise the largest slack among the false clauses (a perturbation of the
        :math:`\lambda`'s smaller than this cannot change the verdict).

    References
    ----------
    arXiv:2604.26085 (abstract only); criteria derived in ``derivations/spectral.md``.
    """
    if n_plus < 0 or n_minus < 0 or n_plus + n_minus < 2:
        raise ValueError(f"n_plus, n_minus: need group sizes >= 0 with n_plus + n_minus >= 2, got {n_plus}, {n_minus}")
    if beta <= 0:
        raise ValueError(f"beta: the criteria are stated for beta > 0, got {beta}")
    lam_others = [float(v) for v in lam_others]
    clauses: list[tuple[float, float]] = []  # (a, b) meaning the clause a < b
    if n_plus == 0 or n_minus == 0:
        clauses.append((0.0, lam_p))
        clauses += [(lk, lam_p) for lk in lam_others]
    elif n_plus == n_minus:
        t = math.tanh(beta * abs(lam_p))
        if lam_p > 0:
            clauses += [(lk, lam_p * t) for lk in lam_others]
        else:
            clauses += [(lam_p, lk) for lk in lam_others] + [(lk, abs(lam_p) * t) for lk in lam_others]
    else:
        r = n_plus / n_minus
        c = math.exp(2.0 * beta * lam_p)
        thr = abs(math.log(r)) / (2.0 * beta)
        sig = unbalanced_sigma(c, r)
        if lam_p > 0:
            clauses.append((thr, lam_p))
            clauses += [(lk, lam_p * sig) for lk in lam_others]
        else:
            clauses.append((lam_p, -thr))
            clauses += [(lam_p, lk) for lk in lam_others] + [(lk, lam_p * sig) for lk in lam_others]
    slack = [b - a for a, b in clauses]
    stable = all(s > 0 for s in slack)
    margin = min(slack) if stable else max(-s for s in slack if s <= 0)
    return stable, margin


def tangent_jacobian(f, x: np.ndarray, basis: np.ndarray, h: float = FD_STEP) -> np.ndarray:
    r"""Jacobian of the field on :math:`\prod_i T_{x_i}S^{d-1}` at a point whose tokens are :math:`\pm v`.

    All tangent spaces equal :math:`v^\perp`, spanned by the orthonormal columns :math:`b_1..b_{d-1}` of
    ``basis``.  Column :math:`(j,b)` is the central difference along the great circle through
    :math:`x_j` in direction :math:`b_b`:

    .. math::
        J_{(i,a),(j,b)} = \Bigl\langle b_a,\ \frac{f_i(\ldots,R(x_j+hb_b),\ldots)-f_i(\ldots,R(x_j-hb_b),\ldots)}{2h}\Bigr\rangle,
        \qquad R(y)=y/|y|,

    accurate to :math:`O(h^2)` (truncation) plus :math:`O(\epsilon/h)` (round-off).

    References
    ----------
    ``derivations/spectral.md`` (criteria checked against finite-difference Jacobians).
    """
    x = np.asarray(x, dtype=float)
    basis = np.asarray(basis, dtype=float)
    if x.ndim != 2 or basis.ndim != 2 or basis.shape[0] != x.shape[1]:
        raise ValueError(f"x, basis: expected shapes (n, d) and (d, m), got {x.shape} and {basis.shape}")
    if not (h > 0):
        raise ValueError(f"h: expected a positive step, got {h}")
    n, _ = x.shape
    m = basis.shape[1]
    jac = np.empty((n * m, n * m))
    for j in range(n):
        for b in range(m):
            xp = x.copy()
            xm = x.copy()
            xp[j] = x[j] + h * basis[:, b]
            xm[j] = x[j] - h * basis[:, b]
            xp[j] /= np.linalg.norm(xp[j])
            xm[j] /= np.linalg.norm(xm[j])
            df = (f(0.0, xp) - f(0.0, xm)) / (2.0 * h)
            jac[:, j * m + b] = (df @ basis).ravel()
    return jac


class SpectralCase(dict):
    """One constructed case: group sizes, beta, lambda_p, the other eigenvalues, the intended branch."""


def _draw_others(rng, count: int, pattern: str, lo: float, hi: float, lam_p: float) -> list[float] | None:
    d_ = MARGIN
    inside = (max(lo, hi - 4.0) + d_, hi - d_) if hi - d_ > max(lo, hi - 4.0) + d_ else None
    above = (hi + d_, hi + d_ + 2.0)
    below = (lo - d_ - 2.0, lo - d_) if math.isfinite(lo) else None
    for _ in range(40):
        vals = []
        if pattern == "free":
            vals = list(rng.uniform(-3.0, 3.0, count))
        else:
            special = {"inside": inside, "above": above, "below": below}[pattern]
            if special is None:
                return None
            vals.append(rng.uniform(*special))
            rest = inside if inside is not None else special
            vals += list(rng.uniform(*rest, count - 1))
        allv = np.sort(np.array(vals + [lam_p]))
        if np.min(np.diff(allv)) >= GAP:
            return vals
    return None


def pure_mode_cases(n: int, beta: float, rng: np.random.Generator, d: int, *, consensus: bool) -> list[SpectralCase]:
    r"""Constructed spectra covering every branch of :func:`stated_stability` for ``n`` tokens.

    ``consensus=True``: :math:`n_+=n` with :math:`\lambda_p>0` (all :math:`\lambda_k` below
    :math:`\lambda_p`, or one above) and :math:`\lambda_p<0`.  Otherwise every split
    :math:`1\le n_+\le n/2` (the splits :math:`n_+ > n/2` are the same up to :math:`x\mapsto -x`), both
    signs of :math:`\lambda_p`, the clause :math:`|\lambda_p|\gtrless|\log r|/(2\beta)` on both sides
    (unbalanced), and the other eigenvalues inside the stated stability interval, one above it, or one
    below it.  Every case is at least ``MARGIN`` = 0.05 from each decision boundary; eigenvalues of
    ``V`` are at least 0.02 apart.

    References
    ----------
    arXiv:2604.26085 (abstract only); ``derivations/spectral.md``.
    """
    cases: list[SpectralCase] = []
    splits = [(n, 0)] if consensus else [(a, n - a) for a in range(1, n // 2 + 1)]
    for n_plus, n_minus in splits:
        for sign in (1.0, -1.0):
            bal = n_minus == 0 or n_plus == n_minus
            thr = 0.0 if bal else abs(math.log(n_plus / n_minus)) / (2.0 * beta)
            for clause_a in ((None,) if bal else (True, False)):
                if clause_a is None:
                    mag = rng.uniform(0.2, 3.0)
                elif clause_a:
                    mag = thr + MARGIN + rng.uniform(0.0, 2.5)
                else:
                    if thr < 2 * MARGIN + 0.05:
                        continue
                    mag = rng.uniform(MARGIN, thr - MARGIN)
                lam_p = sign * mag
                # stated interval (lo, hi) for the other eigenvalues; None = no interval (never stable)
                if n_minus == 0:
                    lo, hi = (-math.inf, lam_p) if sign > 0 else (None, None)
                elif bal:
                    t = math.tanh(beta * mag)
                    lo, hi = (-math.inf, lam_p * t) if sign > 0 else (lam_p, mag * t)
                else:
                    sig = unbalanced_sigma(math.exp(2.0 * beta * lam_p), n_plus / n_minus)
                    lo, hi = (-math.inf, lam_p * sig) if sign > 0 else (lam_p, lam_p * sig)
                    if sign < 0 and hi <= lo + 2 * MARGIN:
                        lo, hi = None, None
                patterns = ["free"] if lo is None else ["inside", "above"] + (["below"] if math.isfinite(lo) else [])
                for pattern in patterns:
                    others = _draw_others(rng, d - 1, pattern, lo if lo is not None else 0.0,
                                          hi if hi is not None else 0.0, lam_p)
                    if others is None:
                        continue
                    stable, margin = stated_stability(n_plus, n_minus, beta, lam_p, others)
                    if margin < MARGIN / 2:
                        continue
                    cases.append(SpectralCase(n_plus=n_plus, n_minus=n_minus, beta=beta, lam_p=lam_p,
                                              others=others, branch=(sign, clause_a, pattern),
                                              stated=stable, margin=margin))
    return cases
