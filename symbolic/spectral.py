r"""Spectral selection for symmetric value matrices: pure-mode equilibria and their linearisation.

Dynamics (arXiv 2604.26085, spectral selection; Q^T K = V = V^T, V = diag(lambda_1..lambda_d)):

.. math::

    \dot x_i = P_{x_i}\sum_j K_{ij} V x_j,\qquad
    K_{ij} = \frac{e^{\beta\langle x_i, V x_j\rangle}}{\sum_m e^{\beta\langle x_i, V x_m\rangle}}.

The Jacobian at a pure-mode equilibrium x_i = s_i e_p is computed by differentiating the explicit
particle field (n = 2, 3, 4; d = 3; symbolic lambda's and beta), shown to equal
``J_k = lambda_k K^0 - diag(m)`` on each eigen-direction ``e_k`` (k != p), and its eigenvalues are
derived for consensus, balanced and unbalanced polarisation.  The stability criteria stated for
arXiv 2604.26085 (derived for this project: only the abstract is known) are compared with "all
eigenvalues negative" on random draws.

Public API
----------
results
    the results of the ``spectral`` document.
polarization_block
    the 2x2 block of ``J_k`` on group-constant vectors (general group sizes).
stated_stable, linear_stable
    the stated stability criterion and the one implied by the derived eigenvalues.
"""

from __future__ import annotations

import functools
import math
import random

import sympy as sp

from attnflow.symbolic.proof import Proof, prove_all, prove_zero
from attnflow.symbolic.result import Result, Step

__all__ = [
    "results",
    "particle_jacobian",
    "predicted_block",
    "polarization_block",
    "stated_stable",
    "corrected_stable",
    "linear_stable",
    "unbalanced_sigma",
]

TOPIC = "spectral"
SRC = "arXiv 2604.26085 (spectral selection; only the abstract is known)"

beta = sp.Symbol("beta", positive=True)
lam = sp.symbols("lambda_1:4", real=True)
lp, lk = sp.Symbol("lambda_p", real=True), sp.Symbol("lambda_k", real=True)
e = sp.Symbol("e", positive=True)  # e^{beta lambda_p}
A, B = sp.symbols("n_+ n_-", positive=True, integer=True)
c = sp.Symbol("c", positive=True)  # e^{2 beta lambda_p}
x = sp.Symbol("x")

_TOGETHER = (("together/cancel", lambda ex: sp.cancel(sp.together(ex)), 10**6),)

#: sign patterns (up to permutation and a global sign) for the sized Jacobian computations
SIGN_PATTERNS = ((1, 1), (1, -1), (1, 1, 1), (1, 1, -1), (1, 1, 1, 1), (1, 1, -1, -1), (1, 1, 1, -1))


# --------------------------------------------------------------------------------------------
# sized Jacobians from the particle field


@functools.lru_cache(maxsize=None)
def particle_jacobian(signs: tuple[int, ...], d: int = 3) -> sp.Matrix:
    r"""Jacobian of the particle field at :math:`x_i = s_i e_1`, on the product of tangent spaces.

    Column (k, l): token ``l`` moves to :math:`s_l e_1 + t e_k` (a tangent direction, k >= 2); the
    entries are :math:`\partial_t \dot x_{i,k'}|_{t=0}`, computed by the chain rule through logits,
    softmax weights, weighted sum and projection.  Rows and columns are ordered by (k, i)
    (direction-major); :math:`e^{\beta\lambda_1}` is written as the positive symbol ``e``.

    .. math::

        \dot x_i = P_{x_i}\sum_j \mathrm{softmax}_j(\beta\langle x_i, V x_j\rangle)\, V x_j,
        \qquad V = \mathrm{diag}(\lambda_1, \dots, \lambda_d).

    References
    ----------
    arXiv 2604.26085 (spectral selection; abstract only); ``derivations/spectral.md``.
    """
    if d < 2 or d > len(lam):
        raise ValueError(f"d: expected 2 <= d <= {len(lam)}, got {d}")
    if any(s not in (1, -1) for s in signs) or len(signs) < 2:
        raise ValueError(f"signs: expected at least two entries, each +1 or -1, got {signs}")
    n = len(signs)
    V = sp.diag(*lam[:d])
    base = [sp.Matrix([signs[i]] + [0] * (d - 1)) for i in range(n)]
    J = sp.zeros(n * (d - 1), n * (d - 1))
    # column (k, l): move only token l, x_l = s_l e_1 + t e_k; differentiate the field at t = 0 by
    # forward-mode product/chain rule through logits, softmax weights, weighted sum and projection
    for k in range(1, d):
        for l in range(n):
            dx = [sp.zeros(d, 1) for _ in range(n)]
            dx[l][k] = 1
            for i in range(n):
                L0 = [beta * (base[i].T * V * base[j])[0, 0] for j in range(n)]
                dL = [beta * ((dx[i].T * V * base[j])[0, 0] + (base[i].T * V * dx[j])[0, 0]) for j in range(n)]
                w0 = [sp.exp(v) for v in L0]
                dw = [w0[j] * dL[j] for j in range(n)]
                Z0, dZ = sum(w0), sum(dw)
                F0 = sum((w0[j] * V * base[j] for j in range(n)), sp.zeros(d, 1)) / Z0
                dF = (sum((dw[j] * V * base[j] + w0[j] * V * dx[j] for j in range(n)), sp.zeros(d, 1)) / Z0
                      - F0 * dZ / Z0)
                dfield = (dF - ((dx[i].T * F0)[0, 0] + (base[i].T * dF)[0, 0]) * base[i]
                          - (base[i].T * F0)[0, 0] * dx[i])
                for kk in range(1, d):
                    J[(kk - 1) * n + i, (k - 1) * n + l] = dfield[kk]
    return J.subs(sp.exp(beta * lam[0]), e).applyfunc(sp.cancel)


def predicted_block(signs: tuple[int, ...], lam_k: sp.Expr, lam_p: sp.Expr = lam[0]) -> sp.Matrix:
    r"""The derived block :math:`J_k = \lambda_k K^0 - \mathrm{diag}(m)` at :math:`x_i = s_i e_p`.

    .. math::

        K^0_{ij} = \frac{e^{\beta\lambda_p s_i s_j}}{\sum_l e^{\beta\lambda_p s_i s_l}},\qquad
        m_i = \lambda_p \sum_j K^0_{ij} s_i s_j.

    References
    ----------
    arXiv 2604.26085 (spectral selection; abstract only); derived in ``derivations/spectral.md``.
    """
    n = len(signs)
    W = sp.Matrix(n, n, lambda i, j: e ** (signs[i] * signs[j]))
    K0 = sp.diag(*[1 / sum(W.row(i)) for i in range(n)]) * W
    m = [lam_p * sum(K0[i, j] * signs[i] * signs[j] for j in range(n)) for i in range(n)]
    return lam_k * K0 - sp.diag(*m)


def polarization_block() -> tuple[sp.Matrix, sp.Expr, sp.Expr]:
    r"""2x2 block of :math:`J_k` on vectors constant on each group, and the in-group rates.

    With :math:`n_\pm` tokens at :math:`\pm e_p`, :math:`e = e^{\beta\lambda_p}`,
    :math:`Z_+ = n_+ e + n_-/e`, :math:`Z_- = n_- e + n_+/e`:

    .. math::

        M = \begin{pmatrix} n_+ e/Z_+ & n_-/(e Z_+) \\ n_+/(e Z_-) & n_- e/Z_- \end{pmatrix},\quad
        m_\pm = \lambda_p\frac{n_\pm e - n_\mp/e}{Z_\pm},\quad J_k|_{\text{groups}} = \lambda_k M - \mathrm{diag}(m_+, m_-).

    Returns ``(block, m_plus, m_minus)``.

    References
    ----------
    arXiv 2604.26085 (spectral selection; abstract only); derived in ``derivations/spectral.md``.
    """
    Zp, Zm = A * e + B / e, B * e + A / e
    M = sp.Matrix([[A * e / Zp, B / (e * Zp)], [A / (e * Zm), B * e / Zm]])
    mp = lp * (A * e - B / e) / Zp
    mm = lp * (B * e - A / e) / Zm
    return lk * M - sp.diag(mp, mm), mp, mm


def unbalanced_sigma(c_, r_):
    r"""The threshold factor of the unbalanced polarisation criterion.

    .. math:: \sigma(c, r) = \frac{(c-r)(cr-1)}{r(c^2-1)},\qquad c = e^{2\beta\lambda_p},\ r = n_+/n_-.

    References
    ----------
    arXiv 2604.26085 (spectral selection; abstract only); derived in ``derivations/spectral.md``.
    """
    return (c_ - r_) * (c_ * r_ - 1) / (r_ * (c_**2 - 1))


# --------------------------------------------------------------------------------------------
# stability: stated criterion vs derived eigenvalues (float evaluation, used on random draws)


def stated_stable(n_plus: int, n_minus: int, beta_: float, lam_p: float, lam_k: float) -> bool:
    r"""Stability of ``n_plus`` tokens at +e_p and ``n_minus`` at -e_p as stated (criteria for arXiv 2604.26085).

    One other eigen-direction ``lam_k`` (the criteria are "for all k != p", one block per k):

    .. math::

        \text{consensus: } \lambda_p>0,\ \lambda_k<\lambda_p;\quad
        n_+=n_-:\ \lambda_k<\lambda_p\tanh(\beta\lambda_p)\ (\lambda_p>0),\
        \lambda_p<\lambda_k<|\lambda_p|\tanh(\beta|\lambda_p|)\ (\lambda_p<0);

    unbalanced: :math:`\lambda_p > |\log r|/(2\beta)` and :math:`\lambda_k < \lambda_p\sigma(c,r)`
    (:math:`\lambda_p>0`), :math:`\lambda_p < -|\log r|/(2\beta)` and
    :math:`\lambda_p<\lambda_k<\lambda_p\sigma(c,r)` (:math:`\lambda_p<0`).

    References
    ----------
    arXiv 2604.26085 (spectral selection; abstract only); derived in ``derivations/spectral.md``.
    """
    if n_plus < 0 or n_minus < 0 or n_plus + n_minus < 2:
        raise ValueError("n_plus, n_minus: need non-negative group sizes with n_plus + n_minus >= 2")
    if n_minus == 0 or n_plus == 0:
        return lam_p > 0 and lam_k < lam_p
    if n_plus == n_minus:
        tb = math.tanh(beta_ * abs(lam_p))
        if lam_p > 0:
            return lam_k < lam_p * tb
        return lam_p < lam_k < abs(lam_p) * tb
    r_ = n_plus / n_minus
    c_ = math.exp(2 * beta_ * lam_p)
    sig = unbalanced_sigma(c_, r_)
    if lam_p > 0:
        return lam_p > abs(math.log(r_)) / (2 * beta_) and lam_k < lam_p * sig
    return lam_p < -abs(math.log(r_)) / (2 * beta_) and lam_p < lam_k < lam_p * sig


def corrected_stable(n_plus: int, n_minus: int, beta_: float, lam_p: float, lam_k: float) -> bool:
    r"""The stated criterion, corrected for a group of a single token.

    For :math:`n_+ \ne n_-`, :math:`\min(n_+, n_-) = 1` and :math:`\lambda_p > 0` the condition
    :math:`\lambda_p > |\log r|/(2\beta)` is dropped:

    .. math:: \text{stable} \iff \lambda_k < \lambda_p\,\sigma(c, r).

    Every other case is :func:`stated_stable`.

    References
    ----------
    Derived here (result ``spectral.polarization.unbalanced_corrected``, ``derivations/spectral.md``);
    arXiv 2604.26085 (abstract only).
    """
    if n_plus != n_minus and min(n_plus, n_minus) == 1 and lam_p > 0:
        c_ = math.exp(2 * beta_ * lam_p)
        return lam_k < lam_p * unbalanced_sigma(c_, n_plus / n_minus)
    return stated_stable(n_plus, n_minus, beta_, lam_p, lam_k)


@functools.lru_cache(maxsize=None)
def _block_functions():
    block, mp, mm = polarization_block()
    tr = sp.cancel(block.trace())
    det = sp.cancel(block.det())
    args = (A, B, e, lp, lk)
    return (sp.lambdify(args, tr, "math"), sp.lambdify(args, det, "math"),
            sp.lambdify(args, mp, "math"), sp.lambdify(args, mm, "math"))


def linear_stable(n_plus: int, n_minus: int, beta_: float, lam_p: float, lam_k: float,
                  margin: float = 1e-9) -> bool | None:
    r"""Stability implied by the derived eigenvalues (``None`` when an eigenvalue is within ``margin``).

    .. math::

        \operatorname{spec}J_k = \{-m_+^{(n_+-1)},\ -m_-^{(n_--1)}\}\cup\operatorname{spec}
        \big(\lambda_k M - \operatorname{diag}(m_+, m_-)\big),

    the 2x2 part tested by trace < 0 and determinant > 0 (:func:`polarization_block`); consensus
    (one empty group): :math:`\{\lambda_k-\lambda_p, -\lambda_p\}`.

    References
    ----------
    arXiv 2604.26085 (spectral selection; abstract only); derived in ``derivations/spectral.md``.
    """
    if n_plus < 0 or n_minus < 0 or n_plus + n_minus < 2:
        raise ValueError("n_plus, n_minus: need non-negative group sizes with n_plus + n_minus >= 2")
    if n_minus == 0 or n_plus == 0:
        eig = [lam_k - lam_p, -lam_p]
        if min(abs(v) for v in eig) < margin:
            return None
        return max(eig) < 0
    tr, det, mp, mm = _block_functions()
    ev = math.exp(beta_ * lam_p)
    vals = (n_plus, n_minus, ev, lam_p, lam_k)
    t_, d_ = tr(*vals), det(*vals)
    group = ([-mp(*vals)] if n_plus >= 2 else []) + ([-mm(*vals)] if n_minus >= 2 else [])
    if abs(d_) < margin or any(abs(g) < margin for g in group) or (d_ > 0 and abs(t_) < margin):
        return None
    return d_ > 0 and t_ < 0 and all(g < 0 for g in group)


def _compare_criteria(draws: int, seed: int, *, kind: str, sign: int = 0, min_group: int = 1,
                      criterion=None):
    """Random draws; returns (number compared, first disagreement or None).

    ``kind`` in consensus/balanced/unbalanced; ``sign`` = +1/-1 restricts the sign of lambda_p.
    """
    rng = random.Random(seed)
    compared = 0
    for _ in range(draws):
        if kind == "consensus":
            npl, nmi = rng.randint(2, 6), 0
        elif kind == "balanced":
            h = rng.randint(1, 3)
            npl, nmi = h, h
        else:
            while True:
                npl, nmi = rng.randint(min_group, 5), rng.randint(min_group, 5)
                if npl != nmi:
                    break
        b = rng.uniform(0.1, 3.0)
        lpv = rng.uniform(-3, 3)
        if sign:
            lpv = sign * abs(lpv)
        lkv = rng.uniform(-4, 4)
        truth = linear_stable(npl, nmi, b, lpv, lkv)
        if truth is None:
            continue
        compared += 1
        if truth != (criterion or stated_stable)(npl, nmi, b, lpv, lkv):
            return compared, dict(n_plus=npl, n_minus=nmi, beta=round(b, 6), lambda_p=round(lpv, 6),
                                  lambda_k=round(lkv, 6), derived_stable=truth)
    return compared, None


# --------------------------------------------------------------------------------------------
# provers


def _prove_equilibria() -> Proof:
    # P_{s_i e_p} V (s_j e_p) = s_i s_j (V e_p - <e_p, V e_p> e_p), zero for every softmax weight;
    # general d: V = diag(lambda_1..lambda_d) acts on e_p by its p-th diagonal entry
    d = sp.Symbol("d", positive=True, integer=True)
    p_, k_ = sp.symbols("p k", positive=True, integer=True)
    v_k = sp.Piecewise((lp, sp.Eq(k_, p_)), (0, True))  # (V e_p)_k
    e_k = sp.Piecewise((1, sp.Eq(k_, p_)), (0, True))  # (e_p)_k
    residual = sp.piecewise_fold(v_k - lp * e_k)
    ok = sp.simplify(residual) == 0 and d.is_integer
    return Proof("proved" if ok else "refuted",
                 "componentwise: (V e_p)_k - <e_p, V e_p> (e_p)_k = 0 for every k (symbolic d, p, k); "
                 "hence every term of the field vanishes after projection, for any weights")


def _prove_linearization() -> Proof:
    cases = {}
    for signs in SIGN_PATTERNS:
        J = particle_jacobian(signs)
        n = len(signs)
        for bk, k in enumerate((1, 2)):
            pred = predicted_block(signs, lam[k])
            for bj in range(2):
                blk = J[bk * n:(bk + 1) * n, bj * n:(bj + 1) * n]
                target = pred if bj == bk else sp.zeros(n, n)
                cases[f"s={signs}, block ({k + 1},{bj + 2})"] = sum(
                    ((blk - target).applyfunc(sp.cancel)).applyfunc(lambda v: v**2))
    out = prove_all(cases, steps=_TOGETHER)
    if out.status != "proved-for-sizes":
        return out
    return Proof(out.status, "every entry of (particle Jacobian - predicted block) cancels to 0 exactly "
                 "(sympy.cancel), for each listed sign pattern, p = 1, d = 3", out.detail)


def _charpoly_cases(patterns, eigen):
    """Characteristic polynomial of each diagonal block of the particle Jacobian minus the predicted
    one; ``eigen(signs, lam_k, lam_p)`` returns ``[(eigenvalue, multiplicity), ...]``."""
    cases = {}
    for signs in patterns:
        J = particle_jacobian(signs)
        n = len(signs)
        for bk, k in enumerate((1, 2)):
            blk = J[bk * n:(bk + 1) * n, bk * n:(bk + 1) * n]
            cp = blk.charpoly(x).as_expr()
            pred = sp.Integer(1)
            for val, mult in eigen(signs, lam[k], lam[0]):
                pred *= (x - val) ** mult
            cases[f"s={signs}, k={k + 1}"] = cp - pred
    return cases


def _consensus_eigen(signs, lam_k, lam_p):
    return [(lam_k - lam_p, 1), (-lam_p, len(signs) - 1)]


def _balanced_eigen(signs, lam_k, lam_p):
    T = (e**2 - 1) / (e**2 + 1)  # tanh(beta lambda_p)
    return [(lam_k - lam_p * T, 1), (T * (lam_k - lam_p), 1), (-lam_p * T, len(signs) - 2)]


def _polarization_eigenstructure_cases(patterns) -> dict[str, sp.Expr]:
    """Residuals showing spec(J_k) = {-m_+ (n_+ - 1), -m_- (n_- - 1)} + spec(2x2 block).

    In-group differences e_a - e_b must be eigenvectors with eigenvalue -m_(group), and J_k maps the
    group indicators 1_+, 1_- by the transpose of :func:`polarization_block` in that basis; these
    n vectors form a basis of R^n, so this determines the spectrum with multiplicities.
    """
    block, mp, mm = polarization_block()
    cases = {}
    for signs in patterns:
        n = len(signs)
        J = particle_jacobian(signs)
        plus = [i for i in range(n) if signs[i] == 1]
        minus = [i for i in range(n) if signs[i] == -1]
        sub = {A: len(plus), B: len(minus)}
        for bk, k in enumerate((1, 2)):
            blk = J[bk * n:(bk + 1) * n, bk * n:(bk + 1) * n]
            s2 = {**sub, lk: lam[k], lp: lam[0]}
            res = []
            for group, m_ in ((plus, mp), (minus, mm)):
                for a, b in zip(group, group[1:]):
                    v = sp.zeros(n, 1)
                    v[a], v[b] = 1, -1
                    res.extend(blk * v + m_.subs(s2) * v)
            ind = [sp.Matrix([1 if signs[i] == sg else 0 for i in range(n)]) for sg in (1, -1)]
            Bk = block.subs(s2)
            for col in range(2):
                # J 1_col = sum_row Bk[row, col] 1_row  (block acts on the coefficients of 1_+, 1_-)
                res.extend(blk * ind[col] - (Bk[0, col] * ind[0] + Bk[1, col] * ind[1]))
            cases[f"s={signs}, k={k + 1}"] = sum(sp.cancel(r_) ** 2 for r_ in res)
    return cases


def _criteria_proof(kind: str, seeds: tuple[int, ...] = (0,), draws: int = 400, **kw) -> tuple[int, dict | None]:
    """Compare stated and derived stability on ``draws`` random draws per seed."""
    total = 0
    for sd in seeds:
        cnt, bad = _compare_criteria(draws, sd, kind=kind, **kw)
        total += cnt
        if bad is not None:
            return total, bad
    return total, None


def _prove_stability(patterns, eigen, kind: str, sign: int = 0, extra: str = "") -> Proof:
    eig = prove_all(_charpoly_cases(patterns, eigen), steps=_TOGETHER)
    if eig.status == "refuted":
        return eig
    count, bad = _criteria_proof(kind, sign=sign)
    if bad is not None:
        return Proof("refuted", f"eigenvalues {eig.status}; stated criterion vs derived eigenvalue signs "
                     f"on random draws (seed 0)", f"counterexample: {bad}")
    return Proof(eig.status,
                 "characteristic polynomial of each block of the particle Jacobian equals the predicted one "
                 f"({eig.method}); the stated criterion agrees with 'all eigenvalues < 0' on {count} random "
                 f"draws of group sizes, beta, lambda_p, lambda_k (seed 0){extra}", eig.detail)


@functools.lru_cache(maxsize=None)
def _unbalanced_eigen_proof() -> Proof:
    return prove_all(_polarization_eigenstructure_cases(((1, 1, -1), (1, 1, 1, -1), (1, 1, 1, -1, -1))),
                     steps=_TOGETHER)


@functools.lru_cache(maxsize=None)
def _prove_unbalanced_general() -> Proof:
    block, mp, mm = polarization_block()
    det = sp.cancel(block.det())
    sig = unbalanced_sigma(e**2, A / B)
    predicted_det = (lk - lp) * A * B * (e**4 - 1) * (lk - lp * sig) / ((A + B * e**2) * (A * e**2 + B))
    return prove_zero(det - predicted_det, steps=_TOGETHER)


def _prove_unbalanced_stated() -> Proof:
    eig = _unbalanced_eigen_proof()
    det = _prove_unbalanced_general()
    count, bad = _criteria_proof("unbalanced")
    if bad is None:
        return Proof.combine([eig, det])
    return Proof("refuted",
                 f"eigen-structure of the particle Jacobian, n = 3, 4, 5 ({eig.status}), 2x2 group block determinant "
                 f"(general n_+, n_-: {det.method}); stated criterion vs eigenvalue signs on random draws "
                 "(seed 0)",
                 f"counterexample after {count} draws: {bad}; the condition lambda_p > |log r|/(2 beta) "
                 "comes from the in-group eigenvalues -m_+, -m_-, and -m_+ (resp. -m_-) does not exist when "
                 "n_+ = 1 (resp. n_- = 1)")


def _prove_unbalanced_corrected() -> Proof:
    eig = _unbalanced_eigen_proof()
    det = _prove_unbalanced_general()
    count2, bad2 = _criteria_proof("unbalanced", seeds=(1,), draws=600, min_group=2)
    count1, bad1 = _criteria_proof("unbalanced", seeds=(2,), draws=600, criterion=corrected_stable)
    if bad1 is not None or bad2 is not None or eig.status == "refuted" or det.status == "refuted":
        return Proof("refuted", "corrected criterion vs eigenvalue signs",
                     f"counterexample: {bad2 or bad1}; eigenvalues: {eig.detail}")
    return Proof(eig.status,
                 f"eigen-structure of the particle Jacobian blocks exact for n = 3, 4, 5 ({eig.method}); 2x2 determinant for general group "
                 f"sizes ({det.method}); agreement with 'all eigenvalues < 0' on {count2} random draws with "
                 f"n_+, n_- >= 2 (stated criterion, seed 1) and {count1} draws with group sizes 1..5 "
                 "(corrected criterion, seed 2)", eig.detail)


def _prove_small_beta() -> Proof:
    a = sp.Symbol("a", real=True)
    per_pair = sp.series(sp.exp(beta * a) / (2 * beta), beta, 0, 2).removeO()
    p1 = prove_zero(per_pair - (1 / (2 * beta) + a / 2 + beta * a**2 / 4), steps=_TOGETHER)

    def taylor_of_energy(E_times_beta: sp.Expr) -> sp.Expr:
        # E = (beta E)/beta; Taylor coefficients of beta E at beta = 0 by differentiation
        return sum(sp.diff(E_times_beta, beta, j).subs(beta, 0) / sp.factorial(j) * beta ** (j - 1)
                   for j in range(3))

    # bilinearity: sum_{ij} <x_i, V x_j> = <S, V S>, explicit for n = 2, 3, d = 2, symmetric V
    cases = {}
    for n in (2, 3):
        xs = [sp.Matrix(sp.symbols(f"x_{i}_1:3", real=True)) for i in range(n)]
        v11, v12, v22 = sp.symbols("v_11 v_12 v_22", real=True)
        V = sp.Matrix([[v11, v12], [v12, v22]])
        S = sum(xs, sp.zeros(2, 1))
        total = sum((xi.T * V * xj)[0, 0] for xi in xs for xj in xs)
        cases[f"n={n}"] = sp.expand(total - (S.T * V * S)[0, 0])
        # and the whole expansion of the explicit energy to O(beta)
        if n == 2:
            ser = taylor_of_energy(sum(sp.exp(beta * (xi.T * V * xj)[0, 0]) for xi in xs for xj in xs) / 2)
            pred = (n**2 / (2 * beta) + (S.T * V * S)[0, 0] / 2
                    + beta / 4 * sum((xi.T * V * xj)[0, 0] ** 2 for xi in xs for xj in xs))
            cases["explicit series, n=2"] = sp.expand(ser - pred)
    sized = prove_all(cases)
    if p1.status == "refuted" or sized.status == "refuted":
        return Proof.combine([p1, sized])
    return Proof("proved", f"termwise Taylor series of e^(beta a)/(2 beta) ({p1.method}) and bilinearity "
                 f"sum_ij <x_i, V x_j> = <S, V S>; cross-check: explicit n = 2, 3, d = 2 ({sized.status})",
                 sized.detail)


# --------------------------------------------------------------------------------------------
# results


def results() -> list[Result]:
    """The results of the ``spectral`` document (proofs are computed lazily)."""
    src = SRC + "; stability criteria derived here"
    lin_steps = (
        Step("Perturb x_i = s_i e_p + u_i with u_i orthogonal to e_p. The logits change only at second "
             "order because <e_p, V u> = lambda_p <e_p, u> = 0, so K = K^0 + O(u^2).",
             r"K^0_{ij} = \frac{e^{\beta\lambda_p s_i s_j}}{\sum_l e^{\beta\lambda_p s_i s_l}}"),
        Step("The e_p components cancel in the projection; the tangent part decouples along the "
             "eigen-directions e_k, k != p:",
             r"\dot u_{i,k} = \lambda_k\sum_j K^0_{ij}u_{j,k} - m_i u_{i,k},\qquad "
             r"m_i = \lambda_p\sum_j K^0_{ij}s_is_j"),
    )
    return [
        Result(
            id="spectral.equilibria",
            title="Pure-mode configurations are equilibria",
            topic=TOPIC,
            statement=r"V e_p = \lambda_p e_p,\ x_i = s_i e_p\ (s_i=\pm1)\ \Longrightarrow\ \dot x_i = 0",
            source=src,
            prover=_prove_equilibria,
            steps=(Step("Every term of the field is a multiple of V x_j = lambda_p s_j e_p, which the "
                        "projection onto the tangent space at s_i e_p removes."),),
        ),
        Result(
            id="spectral.linearization",
            title="Linearisation at a pure-mode equilibrium",
            topic=TOPIC,
            statement=r"J = \bigoplus_{k\neq p} J_k,\qquad J_k = \lambda_k K^0 - \operatorname{diag}(m)",
            source=src,
            prover=_prove_linearization,
            steps=lin_steps + (Step(
                "Cross-check: the Jacobian of the explicit particle field (exact differentiation by the "
                "chain rule through logits, softmax, weighted sum and projection; symbolic lambda_1, "
                "lambda_2, lambda_3 and beta, p = 1, d = 3) equals this block "
                "structure for every sign pattern with n = 2, 3, 4 (up to permutation and global sign)."),),
        ),
        Result(
            id="spectral.consensus",
            title="Consensus on e_p: eigenvalues and stability",
            topic=TOPIC,
            statement=r"\operatorname{spec}J_k = \{\lambda_k-\lambda_p,\ -\lambda_p^{\,(n-1)}\};\quad "
                      r"\text{stable}\iff \lambda_p>0,\ \lambda_k<\lambda_p\ \forall k\neq p",
            source=src,
            prover=lambda: _prove_stability(((1, 1), (1, 1, 1), (1, 1, 1, 1)), _consensus_eigen, "consensus"),
            steps=(Step("All s_i equal: K^0 = 11^T/n and m_i = lambda_p.",
                        r"J_k = \frac{\lambda_k}{n}\mathbf 1\mathbf 1^{\mathsf T} - \lambda_p I"),
                   Step("Eigenvectors: the all-ones vector (lambda_k - lambda_p) and its orthogonal "
                        "complement (-lambda_p). Relative displacements decay like e^{-lambda_p t}, "
                        "so 1 - <x_i, x_j> ~ |x_i - x_j|^2/2 decays at rate 2 lambda_p.")),
        ),
        Result(
            id="spectral.polarization.balanced_positive",
            title="Balanced polarisation, lambda_p > 0",
            topic=TOPIC,
            statement=r"n_+=n_-:\ \operatorname{spec}J_k=\{\lambda_k-\lambda_p T,\ T(\lambda_k-\lambda_p),\ "
                      r"-\lambda_p T^{\,(n-2)}\},\ T=\tanh(\beta\lambda_p);\quad \lambda_p>0:\ "
                      r"\text{stable}\iff\lambda_k<\lambda_p\tanh(\beta\lambda_p)\ \forall k\neq p",
            source=src,
            prover=lambda: _prove_stability(((1, -1), (1, 1, -1, -1)), _balanced_eigen, "balanced", 1),
            steps=(Step("With n_+ = n_- = n/2 the weight matrix is a combination of two rank-one "
                        "matrices, and m_i = lambda_p tanh(beta lambda_p) for every i.",
                        r"K^0 = \frac{\cosh(\beta\lambda_p)\mathbf 1\mathbf 1^{\mathsf T}+\sinh(\beta\lambda_p)"
                        r"ss^{\mathsf T}}{n\cosh(\beta\lambda_p)}"),
                   Step("Eigenvalues of K^0: 1 on the all-ones vector, tanh(beta lambda_p) on s (orthogonal "
                        "to it because the groups are balanced), 0 on the rest."),
                   Step("For lambda_p > 0, T > 0: the condition lambda_k < lambda_p T implies "
                        "lambda_k < lambda_p, and -lambda_p T < 0.")),
        ),
        Result(
            id="spectral.polarization.balanced_negative",
            title="Balanced polarisation, lambda_p < 0",
            topic=TOPIC,
            statement=r"n_+=n_-,\ \lambda_p<0:\ \text{stable}\iff \lambda_p<\lambda_k<|\lambda_p|"
                      r"\tanh(\beta|\lambda_p|)\ \forall k\neq p",
            source=src,
            prover=lambda: _prove_stability(((1, -1), (1, 1, -1, -1)), _balanced_eigen, "balanced", -1),
            steps=(Step("Same eigenvalues as for lambda_p > 0; now T = tanh(beta lambda_p) < 0, so "
                        "T(lambda_k - lambda_p) < 0 iff lambda_k > lambda_p, lambda_k - lambda_p T < 0 iff "
                        "lambda_k < |lambda_p| tanh(beta |lambda_p|), and -lambda_p T < 0 always."),),
        ),
        Result(
            id="spectral.polarization.unbalanced",
            title="Unbalanced polarisation: the stated criterion",
            topic=TOPIC,
            statement=r"r=\tfrac{n_+}{n_-},\ c=e^{2\beta\lambda_p},\ \sigma=\tfrac{(c-r)(cr-1)}{r(c^2-1)}:\ "
                      r"\lambda_p>0:\ \text{stable}\iff\lambda_p>\tfrac{|\log r|}{2\beta},\ \lambda_k<\lambda_p\sigma;"
                      r"\ \lambda_p<0:\ \text{stable}\iff\lambda_p<-\tfrac{|\log r|}{2\beta},\ "
                      r"\lambda_p<\lambda_k<\lambda_p\sigma",
            source=src,
            prover=_prove_unbalanced_stated,
            steps=(
                Step("Vectors supported on one group with zero sum there are killed by K^0 (its rows "
                     "are constant on each group): eigenvalues -m_+ (multiplicity n_+ - 1) and -m_- "
                     "(multiplicity n_- - 1).",
                     r"m_\pm = \lambda_p\frac{n_\pm e^{\beta\lambda_p}-n_\mp e^{-\beta\lambda_p}}"
                     r"{n_\pm e^{\beta\lambda_p}+n_\mp e^{-\beta\lambda_p}}"),
                Step("On group-constant vectors J_k acts as a 2x2 matrix whose determinant factors "
                     "through sigma (proved for general n_+, n_-):",
                     r"\det = \frac{n_+n_-(c^2-1)(\lambda_k-\lambda_p)(\lambda_k-\lambda_p\sigma(c,r))}"
                     r"{(n_++n_-c)(n_+c+n_-)}"),
                Step("m_+ > 0 and m_- > 0 together are equivalent to 2 beta |lambda_p| > |log r| with the "
                     "sign of lambda_p; they are required only when both groups have at least two tokens."),
            ),
            notes="**Finding.** The stated criterion is wrong when one group is a single token (n₊ = 1 or "
                  "n₋ = 1, e.g. n = 3 with signs (+, +, −)): the in-group eigenvalue of the singleton "
                  "group does not exist, and for λ_p > 0 the condition λ_p > |log r|/(2β) is not "
                  "necessary. Explicit example: n = 3, s = (+1, +1, −1), β = 1, V = diag(0.1, −5, −5), "
                  "p = 1: λ_p = 0.1 < log 2/2, yet all linearised eigenvalues are negative (≈ −0.042, "
                  "−0.44, −5.02, each twice; checked by finite differences in the tests). See "
                  "`spectral.polarization.unbalanced_groups2` for the range where the statement holds.",
        ),
        Result(
            id="spectral.polarization.unbalanced_corrected",
            title="Unbalanced polarisation: corrected criterion",
            topic=TOPIC,
            statement=r"n_+,n_-\ge 2:\ \text{as stated};\quad \min(n_+,n_-)=1,\ \lambda_p>0:\ "
                      r"\text{stable}\iff\lambda_k<\lambda_p\,\sigma(c,r)\ \forall k\neq p;\quad "
                      r"\min(n_+,n_-)=1,\ \lambda_p<0:\ \text{as stated}",
            source=src,
            prover=_prove_unbalanced_corrected,
            steps=(Step("Stability of the 2x2 block: det > 0 and trace < 0, with the determinant above and "
                        "trace linear in lambda_k; together with m_+, m_- > 0."),),
            notes="For a singleton group and λ_p > 0, σ(c, r) may be negative (c < max(r, 1/r)), so the "
                  "equilibrium can be stable with λ_p < |log r|/(2β) when every other λ_k is negative "
                  "enough. For λ_p < 0 with a singleton group the stated condition survives because the "
                  "remaining in-group rate gives exactly c < min(r, 1/r). `linear_stable` (derived "
                  "eigenvalues) is compared with finite-difference Jacobians of the NumPy field in the tests.",
        ),
        Result(
            id="spectral.small_beta",
            title="Small-beta expansion of the energy",
            topic=TOPIC,
            statement=r"E_\beta = \frac{1}{2\beta}\sum_{i,j}e^{\beta\langle x_i,Vx_j\rangle} = \frac{n^2}{2\beta}"
                      r"+\frac12\Big\langle\sum_i x_i, V\sum_i x_i\Big\rangle+\frac{\beta}{4}\sum_{i,j}"
                      r"\langle x_i,Vx_j\rangle^2+O(\beta^2)",
            source=src,
            prover=_prove_small_beta,
            steps=(Step("Expand each term:", r"\frac{e^{\beta a}}{2\beta} = \frac{1}{2\beta}+\frac a2+"
                        r"\frac{\beta a^2}{4}+O(\beta^2)"),
                   Step("Sum over the n^2 pairs; bilinearity gives the middle term.")),
        ),
    ]

