r"""Spectral selection: stability of pure-mode equilibria (arXiv:2604.26085; ``derivations/spectral.md``).

Model (arXiv:2604.26085; :math:`Q^\top K = V = V^\top`, here :math:`Q=I`, :math:`K=V`)

.. math::
    \dot x_i = P_{x_i}\sum_j K_{ij}Vx_j,\qquad K_{ij}=\frac{e^{\beta\langle x_i,Vx_j\rangle}}{\sum_m e^{\beta\langle x_i,Vx_m\rangle}},

i.e. the package model ``qkv`` with ``Q = I, K = V, V = V``.  At a pure-mode equilibrium
:math:`x_i = s_i v_p` (:math:`Vv_p=\lambda_pv_p`, :math:`s_i=\pm1`) the Jacobian on the product of the
tangent spaces :math:`(v_p^\perp)^n` is computed by central finite differences of the package kernel,
and "asymptotically stable" is decided by the sign of its largest real eigenvalue.  This is compared
with the stated stability criteria (``derivations/spectral.md``: consensus; balanced polarisation with
:math:`\lambda_p>0` and :math:`\lambda_p<0`; unbalanced polarisation with :math:`\sigma(c,r)`).

Spectra are not drawn blindly: for every group split, every sign of :math:`\lambda_p` and every clause
of the stated criterion, the check *constructs* spectra on both sides of each decision boundary, at
least a margin :math:`\delta` away from it (so the numerical decision is unambiguous), with magnitudes
from the drawn seed.  Every example therefore exercises every branch of the criterion.
"""

from __future__ import annotations

import math

import numpy as np
from hypothesis import strategies as st

from attnflow.numerics import make_field, single_thread, velocity
from attnflow.properties import strategies as afs
from attnflow.properties.registry import Measurement, claim, require
from attnflow.properties.strategies import random_orthogonal
from attnflow.symbolic.spectral import corrected_stable

__all__ = ["stated_stability", "tangent_jacobian", "pure_mode_cases", "SpectralCase"]

SRC = ("arXiv:2604.26085 (spectral selection; only the abstract is known); arXiv:2305.05465 (spectrum of the "
       "value matrix selects the limit); stability criteria derived in derivations/spectral.md")
MARGIN = 0.05  # distance of every constructed spectrum from the stated decision boundaries
FD_STEP = 1e-5
AMBIGUOUS = 1e-7  # |max Re| below this is not a numerical decision
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


def _run_cases(ex: dict, consensus: bool, rule: str = "stated") -> Measurement:
    n, d, beta = ex["n"], ex["d"], ex["beta"]
    rng = np.random.default_rng(ex["seed"])
    cases = pure_mode_cases(n, beta, rng, d, consensus=consensus)
    require(len(cases) > 0, "no case could be constructed (internal)")
    compared = ambiguous = 0
    decision = math.inf
    eig_err = 0.0
    mismatches = []
    with single_thread():
        for case in cases:
            p = int(rng.integers(d))
            lam = np.empty(d)
            lam[p] = case["lam_p"]
            lam[[k for k in range(d) if k != p]] = case["others"]
            o = random_orthogonal(rng, d) if ex["rotate"] else np.eye(d)
            v = (o * lam) @ o.T
            v = 0.5 * (v + v.T)
            vp = o[:, p]
            s = np.array([1.0] * case["n_plus"] + [-1.0] * case["n_minus"])
            x = np.ascontiguousarray(s[:, None] * vp[None, :])
            params = {"Q": np.eye(d), "K": v, "V": v}
            speed = float(np.abs(velocity(x, model="qkv", beta=beta, **params)).max())
            require(speed <= 1e-12 * (1.0 + np.abs(lam).max()),
                    f"pure-mode configuration is not an equilibrium: |x'| = {speed:.2e}")
            f = make_field("qkv", beta=beta, **params)
            # orthonormal basis of v_p^perp (random, so the check does not use the eigenbasis)
            g = rng.standard_normal((d, d - 1))
            g -= np.outer(vp, vp @ g)
            basis = np.linalg.qr(g)[0]
            jac = tangent_jacobian(f, x, basis)
            ev = np.linalg.eigvals(jac)
            top = float(ev.real.max())
            if consensus and case["lam_p"] != 0:
                # derived: linearised eigenvalues lambda_k - lambda_p (once per k) and -lambda_p (n - 1 times per k)
                pred = np.sort(np.concatenate([[lk - case["lam_p"] for lk in case["others"]],
                                               np.full((n - 1) * (d - 1), -case["lam_p"])]))
                eig_err = max(eig_err, float(np.max(np.abs(np.sort(ev.real) - pred))),
                              float(np.max(np.abs(ev.imag))))
            if abs(top) <= AMBIGUOUS:
                ambiguous += 1
                continue
            compared += 1
            decision = min(decision, abs(top))
            numeric = top < 0
            expected = case["stated"] if rule == "stated" else all(
                corrected_stable(case["n_plus"], case["n_minus"], beta, case["lam_p"], lk) for lk in case["others"])
            if numeric != expected:
                mismatches.append((case, p, top, ex["rotate"]))
    if mismatches:
        case, p, top, rot = mismatches[0]
        require(False,
                f"{len(mismatches)}/{compared} case(s) disagree; first: n_+ = {case['n_plus']}, n_- = {case['n_minus']}, "
                f"beta = {beta:.4g}, lambda_p = {case['lam_p']:.4g}, other eigenvalues = "
                f"{[round(v, 4) for v in case['others']]} ({'rotated' if rot else 'diagonal'} V, p = {p}): {rule} "
                f"criterion says {'unstable' if top < 0 else 'stable'} (stated-boundary margin {case['margin']:.3g}) but the finite-difference "
                f"Jacobian has max Re eigenvalue {top:.4g}")
    if consensus:
        require(eig_err <= 1e-6, f"finite-difference eigenvalues differ from lambda_k - lambda_p, -lambda_p by {eig_err:.2e}")
    extra = {"cases compared": float(compared), "ambiguous (|max Re| <= 1e-7)": float(ambiguous),
             "stated stable cases": float(sum(c["stated"] for c in cases))}
    if consensus:
        extra["max |FD eigenvalue - predicted|"] = eig_err
    return Measurement(value=decision if math.isfinite(decision) else 0.0, extra=extra)


def _examples(n_min: int):
    @st.composite
    def examples(draw):
        return {
            "n": draw(st.integers(n_min, 6)),
            "d": draw(st.integers(2, 4)),
            "beta": draw(st.floats(0.3, 3.0, allow_nan=False)),
            "rotate": draw(st.booleans()),
            "seed": draw(afs.seeds()),
        }

    return examples()


_TOL = (f"decision by the sign of the largest real eigenvalue of the central-difference Jacobian (h = {FD_STEP:g}; "
        "truncation O(h^2 (beta lambda)^3) ~ 1e-8, round-off ~ 1e-11) on the product of tangent spaces, in a random "
        "orthonormal basis; every constructed spectrum is >= 0.05 away from each stated decision boundary "
        "(and V's eigenvalues >= 0.02 apart), which keeps the true eigenvalues >= ~1e-3 away from 0; cases with "
        "|max Re| <= 1e-7 are counted as ambiguous and not compared; beta in [0.3, 3], |lambda| <= ~6, d in [2, 4], "
        "V diagonal or Haar-rotated")


@claim(
    id="spectral.consensus",
    title="consensus on an eigenvector e_p is stable iff lambda_p > 0 and lambda_k < lambda_p (k != p)",
    source=SRC,
    latex=r"x_i=v_p\ \forall i:\ \text{asymptotically stable}\iff\lambda_p>0\ \text{and}\ \lambda_k<\lambda_p\ "
    r"\forall k\ne p;\quad \operatorname{spec}J=\{\lambda_k-\lambda_p,\ -\lambda_p^{(n-1)}\}_{k\ne p}",
    hypotheses=_examples(2),
    expect="holds",
    tolerance=_TOL + "; consensus eigenvalues also compared with lambda_k - lambda_p and -lambda_p to 1e-6",
    measure="min |max Re eigenvalue| over compared cases (decision margin)",
    aggregate="min",
    describe=lambda ex: repr(ex),
)
def consensus(ex):
    return _run_cases(ex, consensus=True)


_POLARIZATION_LATEX = (
    r"n_+=n_-:\ \lambda_p>0:\ \lambda_k<\lambda_p\tanh(\beta\lambda_p);\ \lambda_p<0:\ \lambda_p<\lambda_k<"
    r"|\lambda_p|\tanh(\beta|\lambda_p|);\quad n_+\ne n_-,\ r=\tfrac{n_+}{n_-},\ c=e^{2\beta\lambda_p},\ "
    r"\sigma=\tfrac{(c-r)(cr-1)}{r(c^2-1)}:\ \lambda_p>0:\ \lambda_p>\tfrac{|\log r|}{2\beta},\ \lambda_k<\lambda_p\sigma;"
    r"\ \lambda_p<0:\ \lambda_p<-\tfrac{|\log r|}{2\beta},\ \lambda_p<\lambda_k<\lambda_p\sigma"
)


@claim(
    id="spectral.polarization",
    title="polarised pure modes (n_+ tokens at v_p, n_- at -v_p): stability criteria as stated",
    source=SRC,
    latex=_POLARIZATION_LATEX,
    hypotheses=_examples(3),
    expect="fails",
    finding=("REFUTED by attnflow: the printed unbalanced criterion is wrong when one group is a single token "
             "and lambda_p > 0 (the condition lambda_p > |log r|/(2 beta) comes from a within-group eigenvalue "
             "that does not exist for a group of one); every other branch agrees. Corrected criterion: "
             "spectral.polarization.corrected; symbolic: derivations/spectral.md "
             "(spectral.polarization.unbalanced, .unbalanced_corrected)"),
    tolerance=_TOL + "; all group splits 1 <= n_+ <= n/2 (3 <= n <= 6), including a single token on one side",
    measure="min |max Re eigenvalue| over compared cases (decision margin)",
    aggregate="min",
    describe=lambda ex: repr(ex),
)
def polarization(ex):
    return _run_cases(ex, consensus=False)


@claim(
    id="spectral.polarization.corrected",
    title="polarised pure modes: the corrected criterion (single-token group, lambda_p > 0: "
          "stable iff lambda_k < lambda_p sigma(c, r)); all other branches as printed",
    source=SRC + "; corrected here (derivations/spectral.md, spectral.polarization.unbalanced_corrected)",
    latex=r"\min(n_+,n_-)=1,\ n_+\ne n_-,\ \lambda_p>0:\ \text{stable}\iff\lambda_k<\lambda_p\,\sigma(c,r)"
    r"\ \forall k\ne p;\ \text{otherwise as stated}",
    hypotheses=_examples(2),
    expect="holds",
    tolerance=_TOL + "; all group splits 1 <= n_+ <= n/2 (n <= 6), including a single token on one side",
    measure="min |max Re eigenvalue| over compared cases (decision margin)",
    aggregate="min",
    describe=lambda ex: repr(ex),
)
def polarization_corrected(ex):
    return _run_cases(ex, consensus=False, rule="corrected")
