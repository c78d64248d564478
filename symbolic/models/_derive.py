r"""Symbolic derivation of a declared model: its field, its energy and the dissipation identity.

:func:`derive_model` turns any declaration -- built in or a user's -- into
:class:`~attnflow.symbolic.result.Result` records with an honest proof status, and
:func:`model_document` renders them as Markdown in the style of ``derivations/*.md``.

For a sphere model with pair weight :math:`w`, normalisation :math:`N_i` (softmax:
:math:`Z_i=\sum_j w(s_{ij})`, mean: :math:`n`) and pair energy :math:`F`, the energy
:math:`E=\tfrac12\sum_{i,j}F(s_{ij})` satisfies

.. math::
    \frac{dE}{dt} = \sum_i N_i\,|\dot x_i|^2

when :math:`F' = w` and the output map is the tangent projection.  The proof for every n and d
(status ``proved``) is machine-checked in five parts, the same argument as
``energy.dissipation.sa`` (derivations/energy.md), with a *generic* weight :math:`w` (an undefined
SymPy function) and :math:`F(z) = \int_0^z w`:

(a) the pointwise identity :math:`F'(s) = w(s)` for the declared :math:`F` and :math:`w`
    (:func:`~attnflow.symbolic.proof.prove_zero`, under its time budget);
(b) kernel symmetry of :math:`k(a,b) = F(\langle a, Mb\rangle)` for symmetric :math:`M`
    (index-free vector algebra, :mod:`attnflow.symbolic.vectors`);
(c) the gradient of the double sum for symbolic n (Kronecker-delta summation);
(d) the pair identity: the first-slot derivative :math:`w(\langle x, My\rangle)\langle u, My\rangle`
    equals the declared field's pair term :math:`w(\langle Qx, Ky\rangle)\langle u, Vy\rangle`
    (under the hypothesis :math:`Q^\top K = M = V = M^\top` when the model has matrices);
(e) the per-particle identity :math:`\langle N A, \Phi(A, x)\rangle = N|\Phi(A, x)|^2` for the
    declared output map :math:`\Phi` and a unit vector x.

Where this does not close, explicit residuals for concrete sizes (:math:`n, d \in \{2, 3\}`, built
from :func:`~attnflow.symbolic.models.velocity_matrix` and
:func:`~attnflow.symbolic.models.energy_expr`) are reduced exactly (status ``proved-for-sizes``), or
evaluated at 50 digits on seeded random configurations on the spheres (``verified-numerically``,
or ``refuted`` with the counterexample configuration).

References
----------
arXiv 2312.10794 (SA energy, Q/K/V), 2512.01868 (USA), 2409.04431 (sigmoid attention);
derivations/energy.md (``energy.dissipation.*``).
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import sympy as sp

from attnflow.symbolic.models import _symbols as S
from attnflow.symbolic.models._declaration import CircleModel, EuclideanModel, Model, SphereModel
from attnflow.symbolic.models._oracle import angle_symbols, energy_expr, velocity_matrix
from attnflow.symbolic.models._pairs import output_coefficients
from attnflow.symbolic.models._params import Matrix, Real
from attnflow.symbolic.models._registry import get
from attnflow.symbolic.proof import BUDGET, STEP_BUDGET, Attempt, Proof, prove_zero
from attnflow.symbolic.result import Result, Step, latex
from attnflow.symbolic.vectors import Space

__all__ = ["derive_model", "model_document", "DeriveConfig", "SIZES", "reduce_on_spheres", "sphere_residual"]

#: The explicit sizes (n, d) of the size checks.
SIZES = ((2, 2), (3, 2), (2, 3), (3, 3))


@dataclasses.dataclass(frozen=True)
class DeriveConfig:
    """Budgets and sizes of :func:`derive_model`.

    Parameters
    ----------
    sizes : tuple of (n, d)
        Sizes of the explicit residuals (default :data:`SIZES`; circle models use the n's).
    step_budget, budget : float
        Time budgets of every :func:`~attnflow.symbolic.proof.prove_zero` call (seconds per rewrite
        step, and for all its steps).
    cross_check : tuple of (n, d)
        The sizes of the explicit cross-check run when the general proof closed (default
        :data:`SIZES`; ``()`` for none).
    """

    sizes: tuple[tuple[int, int], ...] = SIZES
    step_budget: float = STEP_BUDGET
    budget: float = BUDGET
    cross_check: tuple[tuple[int, int], ...] = SIZES

    def __post_init__(self):
        sizes = tuple(tuple(sz) for sz in self.sizes)
        if not sizes or any(len(sz) != 2 or not all(isinstance(k, int) and k >= 2 for k in sz) or sz[1] > 3
                            for sz in sizes):
            raise ValueError(f"sizes: expected pairs (n, d) of integers with n >= 2 and d in (2, 3), got {self.sizes!r}")
        object.__setattr__(self, "sizes", sizes)
        cross = tuple(tuple(sz) for sz in self.cross_check)
        if any(len(sz) != 2 or not all(isinstance(k, int) and k >= 2 for k in sz) or sz[1] > 3 for sz in cross):
            raise ValueError(f"cross_check: expected pairs (n, d) with n >= 2 and d in (2, 3), got {self.cross_check!r}")
        object.__setattr__(self, "cross_check", cross)
        for name in ("step_budget", "budget"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not v > 0:
                raise ValueError(f"{name}: a positive number of seconds, got {v!r}")

    def prove(self, expr, **kw) -> Proof:
        return prove_zero(expr, step_budget=self.step_budget, budget=self.budget, **kw)

    def exact(self, expr) -> Proof:
        """Rewriting only (index-free residuals: their inner-product symbols are not free to sample)."""
        try:
            return self.prove(expr)
        except ValueError:  # no sampling domains: the rewrite steps did not close it
            return Proof("verified-numerically", "rewrite steps did not close", str(expr)[:200])


# --------------------------------------------------------------------------------------------
# sampling domains of the numerical fallback


def _param_domains(decl: Model, keyed: bool) -> dict:
    doms: dict = {S.beta: (0.1, 5.0), S.t: (0.5, 3.0)}
    if decl.t_min is not None:
        doms[S.t] = (decl.t_min + 0.5, decl.t_min + 3.0)
    for p in decl.params:
        if isinstance(p, Real):
            c = float(p.default) if isinstance(p.default, (int, float)) else 0.0
            lo, hi = c - 1.0, c + 1.0
            if p.lo is not None:
                lo = max(lo, p.lo + 0.05)
                hi = max(hi, lo + 1.0)
            doms[p.sym()] = (lo, hi)
    return doms


def _score_domain(decl: Model) -> tuple[float, float]:
    keyed = isinstance(decl, SphereModel) and (decl.keyed or decl.heads is not None or decl.energy_score)
    return (-2.0, 2.0) if keyed else (-1.0, 1.0)


def _domains_for(expr: sp.Expr, base: dict) -> dict:
    doms = dict(base)
    for sym in expr.free_symbols:
        if sym not in doms:
            doms[sym] = (-1.0, 1.0)  # matrix entries
    return doms


# --------------------------------------------------------------------------------------------
# (a) the pointwise identity F' = w


def _pointwise(decl: Model, cfg: DeriveConfig) -> Proof:
    res = sp.diff(decl.energy, S.s) - decl.weight
    doms = _param_domains(decl, False)
    doms[S.s] = _score_domain(decl)
    return cfg.prove(res, domains=_domains_for(res, doms))


# --------------------------------------------------------------------------------------------
# hypotheses of a model with matrices


@dataclasses.dataclass(frozen=True)
class _Structure:
    """What the general argument needs to know of a sphere declaration."""

    energy_map: str | None  # the energy's score matrix M (energy_score), or None for the identity
    hypothesis: str  # LaTeX, "" when there is none
    supported: bool
    reason: str = ""


def _structure(decl: SphereModel) -> _Structure:
    mode = decl.normalization_for()
    if type(decl) is not SphereModel:
        return _Structure(None, "", False, "a Euclidean model")
    if decl.heads is not None:
        return _Structure(None, f"{decl.heads}_h = {decl.heads}_h^{{\\top}}\\ \\text{{for every head }} h", False,
                          "the model has several heads")
    for field, why in (("readout", "a read-out matrix"), ("perceptron", "a perceptron")):
        if getattr(decl, field) is not None:
            return _Structure(None, "", False, f"the model has {why}")
    if mode not in ("softmax", "mean"):
        return _Structure(None, "", False, f"normalisation {mode!r}")
    M = decl.energy_score
    hyp = []
    if decl.query is not None or decl.key is not None:
        q = f"{decl.query}^{{\\top}}" if decl.query else ""
        hyp.append(f"{q}{decl.key or ''} = {M or 'I'}")
    if decl.value is not None and decl.value != M:
        hyp.append(f"{decl.value} = {M or 'I'}")
    if M is not None:
        hyp.append(f"{M} = {M}^{{\\top}}")
    return _Structure(M, ",\\ ".join(hyp), True)


def _condition_check(decl: SphereModel) -> str:
    """Does the declaration's ``energy_condition`` accept a draw satisfying the stated hypothesis and
    reject a general one?  A note for the document (numerical, seeded)."""
    if decl.energy_condition is None or decl.energy_score is None:
        return ""
    d = 3
    rng = np.random.default_rng(0)
    params: dict = {}
    for p in decl.params:
        if isinstance(p, Matrix):
            params[p.name] = rng.standard_normal((d, d))
        elif isinstance(p, Real):
            params[p.name] = float(p.default) if isinstance(p.default, (int, float)) else 1.0
        elif p.default is not None:
            params[p.name] = p.default
    general = dict(params)
    Mm = rng.standard_normal((d, d))
    Mm = Mm + Mm.T
    good = dict(params)
    good[decl.energy_score] = Mm
    if decl.value is not None:
        good[decl.value] = Mm
    Qm = np.eye(d) + 0.1 * rng.standard_normal((d, d))
    if decl.query is not None:
        good[decl.query] = Qm
    if decl.key is not None:
        good[decl.key] = np.linalg.solve(Qm.T, Mm) if decl.query is not None else Mm
    try:
        ok_good = decl.energy_condition(good) is None
        ok_general = decl.energy_condition(general) is not None
    except Exception as exc:  # the user's callable: report, never crash the derivation
        return f"The declaration's `energy_condition` raised {type(exc).__name__} on a seeded draw."
    if ok_good and ok_general:
        return ("The declaration's `energy_condition` agrees with the hypothesis: it accepts a seeded random "
                "draw satisfying it (d = 3) and rejects a seeded general draw.")
    return ("**Note:** the declaration's `energy_condition` " + ("rejects a draw satisfying the hypothesis"
            if not ok_good else "accepts a general draw") + " (seeded, d = 3); the hypothesis stated here is the "
            "one under which the identity was derived.")


# --------------------------------------------------------------------------------------------
# (b)-(e): the general argument in index-free vector algebra


def _general(decl: SphereModel, st: _Structure, cfg: DeriveConfig) -> Proof:
    """Parts (b)-(e) of the general argument (module docstring) with a generic weight ``w``."""
    from attnflow.symbolic.energy._proofs import double_sum_gradient

    w = sp.Function("w")
    tau = sp.Symbol("tau", real=True)
    eps = sp.Symbol("epsilon", real=True)

    def F(z):
        return sp.Integral(w(tau), (tau, 0, z))

    # (b) kernel symmetry of k(a, b) = F(<a, M b>)
    Sp = Space()
    a, b, p, q = Sp.vectors(["a", "b", "p", "q"])
    M = Sp.linear_map(st.energy_map, symmetric=True) if st.energy_map else None

    def e(u, v):
        return u.dot(M(v) if M is not None else v)

    d_ab = sp.diff(F(e(a + eps * p, b + eps * q)), eps).subs(eps, 0)
    second = d_ab - sp.diff(F(e(a + eps * p, b)), eps).subs(eps, 0)
    first_swapped = sp.diff(F(e(b + eps * q, a)), eps).subs(eps, 0)
    p_sym = cfg.exact(sp.expand(second - first_swapped))
    # (c) gradient of the double sum, symbolic n
    p_sum = double_sum_gradient()
    # (d) the pair identity: gradient pair term = the declared field's pair term (hypothesis applied)
    Sd = Space()
    x, y = Sd.vectors(["x", "y"], unit=True)
    u = Sd.vector("u")
    Md = Sd.linear_map(st.energy_map, symmetric=True) if st.energy_map else None
    Qd = Sd.linear_map(decl.query) if decl.query else None
    Kd = Sd.linear_map(decl.key) if decl.key else None
    # first-slot derivative of k(x, y) along u
    gx = sp.diff(F((x + eps * u).dot(Md(y) if Md else y)), eps).subs(eps, 0)
    score = (Qd(x) if Qd else x).dot(Kd(y) if Kd else y)
    target = (Md(y) if Md else y)
    hyp = {}
    if Qd is not None or Kd is not None:  # Q^T K = M: the Gram symbol <x, Q^T K y> is <x, M y>
        (gram,) = score.free_symbols
        hyp[gram] = x.dot(target)
    value = target if (decl.value is not None or st.energy_map is None) else y
    field_pair = w(score.xreplace(hyp)) * u.dot(value)
    p_pair = cfg.exact(sp.expand(gx - field_pair))
    # (e) per-particle identity with the declared output map
    Se = Space()
    xe = Se.vector("x", unit=True)
    f = Se.vector("f")
    Nsym = sp.Symbol("N", positive=True)
    A = f / Nsym
    coeffs = output_coefficients(decl)
    inner = {S.XA: xe.dot(A), S.AA: A.norm2()}
    cA = sp.sympify(coeffs.get("cA", 0)).subs(inner)
    cX = sp.sympify(coeffs.get("cX", 0)).subs(inner)
    xdot = A * cA + xe * cX
    p_part = cfg.exact(sp.expand(f.dot(xdot) - Nsym * xdot.norm2()))
    parts = {"kernel symmetry": p_sym, "double-sum gradient": p_sum, "pair identity": p_pair,
             "per-particle identity": p_part}
    open_parts = [k for k, v in parts.items() if v.status != "proved"]
    if open_parts:
        return Proof("verified-numerically", "index-free argument did not close",
                     "open: " + ", ".join(open_parts), tuple(a for v in parts.values() for a in v.attempts))
    return Proof("proved", "index-free vector algebra with a generic weight w and F = int w: kernel symmetry, "
                 "double-sum gradient (Kronecker-delta summation, symbolic n), pair identity, per-particle "
                 "identity -> 0", "", tuple(a for v in parts.values() for a in v.attempts))


# --------------------------------------------------------------------------------------------
# explicit residuals for concrete sizes


def _canon_atoms(expr: sp.Expr):
    """Replace transcendental atoms by symbols: ``exp(a)`` and ``exp(-a)`` share one symbol ``T``
    (``exp(-a) = 1/T``); other function applications each get a symbol.  Returns ``(expr, back)``."""
    table: dict = {}
    back: dict = {}

    def sym_for(key):
        if key not in table:
            table[key] = sp.Dummy(f"T{len(table)}", positive=isinstance(key, sp.exp))
            back[table[key]] = key
        return table[key]

    def canon_exp(e):
        arg = sp.expand(e.args[0])
        if arg.could_extract_minus_sign():
            return 1 / sym_for(sp.exp(-arg))
        return sym_for(sp.exp(arg))

    out = expr.replace(lambda e: isinstance(e, sp.exp), canon_exp)
    funcs = sorted((f for f in out.atoms(sp.Function) if not isinstance(f, sp.exp)), key=sp.default_sort_key)
    out = out.xreplace({f: sym_for(f) for f in funcs})
    return out, back


def reduce_on_spheres(expr: sp.Expr, X: list[sp.Matrix]) -> sp.Expr:
    r"""Normal form of ``expr`` modulo :math:`|x_i|^2 = 1`, coefficient by coefficient.

    ``expr`` is polynomial in the coordinates with coefficients free of them (transcendental atoms
    already replaced by symbols).  Each power :math:`x_{i,d}^k` is replaced by
    :math:`x_{i,d}^{k \bmod 2}(1-\sum_{k'<d}x_{i,k'}^2)^{\lfloor k/2
floor}`: reduction by the
    generators :math:`|x_i|^2-1`, whose leading terms :math:`x_{i,d}^2` (lex order, last coordinates
    largest) are pairwise coprime -- a Gröbner basis, so the result is the unique normal form over the
    field of the coefficients.  The coefficient of each remaining monomial is put over a common
    denominator separately (small rational functions in the atoms), which is far cheaper than one
    rational function of everything.  ``ValueError`` if a coordinate appears outside a monomial.
    """
    from collections import defaultdict

    coords = [c for xi in X for c in xi]
    lasts = {xi[len(xi) - 1]: [xi[k] for k in range(len(xi) - 1)] for xi in X}
    groups: dict = defaultdict(list)
    cache: dict = {}
    for term in sp.Add.make_args(sp.expand(expr)):
        coeff, mon = term.as_independent(*coords, as_Add=False)
        if mon not in cache:
            red = sp.Integer(1)
            for v, k in (mon.as_powers_dict().items() if mon != 1 else ()):
                if not (v in lasts or v in coords) or not (k.is_Integer and k >= 0):
                    raise ValueError("a coordinate outside a monomial (e.g. in a denominator)")
                red *= v ** (k % 2) * (1 - sum(c**2 for c in lasts[v])) ** (k // 2) if v in lasts else v**k
            cache[mon] = [t.as_independent(*coords, as_Add=False) for t in sp.Add.make_args(sp.expand(red))]
        for c2, m2 in cache[mon]:
            groups[m2].append(coeff * c2)
    out = [sp.cancel(sp.together(sp.Add(*cs))) * m for m, cs in groups.items()]
    return sp.Add(*out)


def _sphere_reduction_step(X: list[sp.Matrix]):
    from attnflow.symbolic.energy._coordinates import sphere_reduce

    def step(expr):
        atomized, _back = _canon_atoms(expr)
        if atomized.atoms(sp.Function) or any(isinstance(a, sp.Pow) and not a.exp.is_Integer
                                              for a in atomized.atoms(sp.Pow)):
            raise ValueError("non-rational atoms remain")
        if _back:  # transcendental atoms: reduce coefficient by coefficient (small rational functions)
            try:
                return reduce_on_spheres(atomized, X)
            except ValueError:  # coordinates in denominators
                pass
        # a rational function of the coordinates: sparse polynomial arithmetic on its numerator
        return sp.expand(sphere_reduce(sp.together(atomized), X))

    return step


def _sphere_parametrisation(n: int, d: int) -> tuple[dict, dict]:
    """Coordinates ``x_i_k`` of points on :math:`S^{d-1}` by angles (d = 2, 3) and their domains."""
    subs, doms = {}, {}
    for i in range(n):
        th = sp.Symbol(f"theta_{i}", real=True)
        doms[th] = (0.0, 2 * math.pi)
        if d == 2:
            subs[sp.Symbol(f"x_{i}_0", real=True)] = sp.cos(th)
            subs[sp.Symbol(f"x_{i}_1", real=True)] = sp.sin(th)
        else:
            ph = sp.Symbol(f"phi_{i}", real=True)
            doms[ph] = (0.1, math.pi - 0.1)
            subs[sp.Symbol(f"x_{i}_0", real=True)] = sp.sin(ph) * sp.cos(th)
            subs[sp.Symbol(f"x_{i}_1", real=True)] = sp.sin(ph) * sp.sin(th)
            subs[sp.Symbol(f"x_{i}_2", real=True)] = sp.cos(ph)
    return subs, doms


def _hypothesis_subs(decl: SphereModel, syms: dict, d: int) -> dict:
    """Symbols of Q, K, V satisfying the hypothesis: Q = I, K = V = M symmetric (the field depends on
    Q, K only through Q^T K)."""
    rep: dict = {}
    if decl.heads is not None:  # the hypothesis of the heads: every M_h symmetric
        for Mh in syms[decl.heads]:
            rep.update({Mh[a, b]: Mh[min(a, b), max(a, b)] for a in range(d) for b in range(d)})
        return rep
    M = decl.energy_score
    if M is None:
        Mm = sp.eye(d)  # no energy score: the hypothesis is Q^T K = V = I
    else:
        Mm = syms[M]
        rep.update({Mm[a, b]: Mm[min(a, b), max(a, b)] for a in range(d) for b in range(d)})
        Mm = Mm.xreplace(rep)
    for name, target in ((decl.query, sp.eye(d)), (decl.key, Mm), (decl.value, Mm)):
        if name is None or name == M or name not in syms:
            continue
        mat = syms[name]
        rep.update({mat[a, b]: target[a, b] for a in range(d) for b in range(d)})
    return rep


def sphere_residual(decl: SphereModel, n: int, d: int) -> tuple[sp.Expr, list[sp.Matrix]]:
    r"""Explicit residual :math:`\frac{dE}{dt} - \sum_i N_i|\dot x_i|^2` for ``n`` points in ``d`` dimensions.

    Built from :func:`velocity_matrix` and :func:`energy_expr` (chain rule by partial derivatives in
    the coordinates); matrices satisfy the hypothesis (Q = I, K = V = M symmetric).
    """
    syms, vel = velocity_matrix(decl, n, d)
    _, E = energy_expr(decl, n, d)
    rep = _hypothesis_subs(decl, syms, d)
    X = syms["x"]
    vel = vel.xreplace(rep)
    E = E.xreplace(rep)
    mode = decl.normalization_for()
    rate = sum((sp.diff(E, X[i, k]) * vel[i, k] for i in range(n) for k in range(d)), sp.Integer(0))
    if mode == "softmax":  # N_i = Z_i = sum_j w(s_ij), the field's own scores
        sv, _ = velocity_matrix(decl, n, d)
        Qm = sv.get(decl.query) if decl.query else None
        Km = sv.get(decl.key) if decl.key else None
        rows = [sp.Matrix(X.row(i)).T for i in range(n)]
        Ns = []
        for i in range(n):
            qi = (Qm * rows[i]) if Qm is not None else rows[i]
            Ns.append(sum((decl.weight.subs(S.s, (qi.T * ((Km * rows[j]) if Km is not None else rows[j]))[0, 0])
                           for j in range(n)), sp.Integer(0)).xreplace(rep))
    else:
        Ns = [sp.Integer(n)] * n
    target = sum((Ns[i] * sum((vel[i, k] ** 2 for k in range(d)), sp.Integer(0)) for i in range(n)), sp.Integer(0))
    return rate - target, [sp.Matrix(X.row(i)).T for i in range(n)]


def _size_proof(decl: Model, n: int, d: int, cfg: DeriveConfig) -> Proof:
    """Exact reduction of the size-(n, d) residual, else 50 digits at random configurations on the spheres."""
    if isinstance(decl, CircleModel):
        return _circle_size(decl, n, cfg)
    res, X = sphere_residual(decl, n, d)
    step = ("transcendental atoms as symbols, reduction modulo |x_i|^2 = 1", _sphere_reduction_step(X), 10**9)
    sub, doms = _sphere_parametrisation(n, d)
    on_sphere = res.xreplace(sub)
    base = _param_domains(decl, False)
    base.update(doms)
    # the exact step runs on the coordinate residual; the numerical check on points of the spheres
    t, attempt = _try_exact(res, step, cfg)
    if t is not None:
        return t
    return _after_exact(cfg.prove(on_sphere, steps=(), domains=_domains_for(on_sphere, base)), attempt, cfg)


def _try_exact(res: sp.Expr, step, cfg: DeriveConfig) -> tuple[Proof | None, Attempt]:
    """Run the exact step under the step budget: ``(Proof or None, its Attempt)``."""
    import time

    from attnflow.symbolic.proof import _run_step

    name, fn, _ = step
    t0 = time.monotonic()
    outcome, _reduced = _run_step(fn, res, min(cfg.step_budget, cfg.budget))
    attempt = Attempt(name, outcome, time.monotonic() - t0)
    if outcome == "zero":
        return Proof("proved", f"{name} -> 0", attempts=(attempt,)), attempt
    return None, attempt


def _after_exact(p: Proof, attempt: Attempt, cfg: DeriveConfig) -> Proof:
    """The numerical proof ``p`` with the exact step's attempt (and its timeout) recorded."""
    note = (f"exact step ran out of time (budget {cfg.step_budget:g} s per step)" if attempt.outcome == "timeout"
            else "")
    detail = "; ".join(x for x in (p.detail, note) if x)
    return Proof(p.status, p.method, detail, (attempt,) + p.attempts)


def _circle_size(decl: CircleModel, n: int, cfg: DeriveConfig) -> Proof:
    th = angle_symbols(n)
    _, vel = velocity_matrix(decl, n)
    _, E = energy_expr(decl, n)
    mode = decl.normalization_for()
    if mode == "softmax":
        Ns = [sum((decl.weight.subs(S.s, sp.cos(th[i] - th[j])) for j in range(n)), sp.Integer(0)) for i in range(n)]
    else:
        Ns = [sp.Integer(n)] * n
    rate = sum((sp.diff(E, th[i]) * vel[i] for i in range(n)), sp.Integer(0))
    res = rate - sum((Ns[i] * vel[i] ** 2 for i in range(n)), sp.Integer(0)) / n**2

    def atoms_then_cancel(e):
        atomized, _ = _canon_atoms(e)
        return sp.cancel(sp.together(sp.expand(atomized)))

    step = ("transcendental atoms as symbols, together/cancel", atoms_then_cancel, 10**9)
    t, attempt = _try_exact(res, step, cfg)
    if t is not None:
        return t
    doms = _param_domains(decl, False)
    doms.update({v: (0.0, 2 * math.pi) for v in th})
    return _after_exact(cfg.prove(res, steps=(), domains=_domains_for(res, doms)), attempt, cfg)


def _sizes(decl: Model, cfg: DeriveConfig, sizes=None) -> Proof:
    sizes = cfg.sizes if sizes is None else sizes
    if isinstance(decl, CircleModel):
        sizes = tuple(dict.fromkeys(n for n, _ in sizes))
        pairs = [(n, 2) for n in sizes]
        label = lambda n, d: f"n={n}"  # noqa: E731
    else:
        pairs = list(sizes)
        label = lambda n, d: f"(n, d) = ({n}, {d})"  # noqa: E731
    proofs = {}
    for n, d in pairs:
        p = _size_proof(decl, n, d, cfg)
        proofs[label(n, d)] = p
        if p.status == "refuted":
            break
    attempts = tuple(a for p in proofs.values() for a in p.attempts)
    bad = {k: p for k, p in proofs.items() if p.status == "refuted"}
    if bad:
        k, p = next(iter(bad.items()))
        return Proof("refuted", f"explicit residual at {k}: " + p.method, f"{k}: {p.detail}", attempts)
    exact = [k for k, p in proofs.items() if p.status == "proved"]
    methods = "; ".join(dict.fromkeys(p.method for p in proofs.values()))
    if len(exact) == len(proofs):
        return Proof("proved-for-sizes", "explicit residual (chain rule by partial derivatives): " + methods,
                     "sizes " + ", ".join(exact), attempts)
    numeric = [f"{k}: {p.detail}" for k, p in proofs.items() if p.status != "proved"]
    return Proof("verified-numerically", "explicit residual: " + methods,
                 ("exact for " + ", ".join(exact) + "; " if exact else "") + "; ".join(numeric), attempts)


def _dissipation(decl: Model, cfg: DeriveConfig) -> Proof:
    pointwise = _pointwise(decl, cfg)
    general = argument = None
    if isinstance(decl, SphereModel):
        st = _structure(decl)
        if st.supported:
            argument = _general(decl, st, cfg)
            general = Proof.combine([pointwise, argument], method=argument.method)
    if general is not None and general.status == "proved":
        if not cfg.cross_check:
            return Proof("proved", "(a) F' = w: " + pointwise.method + "; (b)-(e) " + general.method, "",
                         pointwise.attempts + general.attempts)
        sizes = _sizes(decl, cfg, cfg.cross_check)
        if sizes.status == "refuted":
            return Proof("refuted", "general argument contradicted by the explicit check: " + sizes.method,
                         sizes.detail, general.attempts + sizes.attempts)
        return Proof("proved", "(a) F' = w: " + pointwise.method + "; (b)-(e) " + general.method
                     + "; cross-check: " + sizes.method + f" ({sizes.status})", sizes.detail,
                     general.attempts + sizes.attempts)
    sizes = _sizes(decl, cfg)
    why = ("general argument: " + (general.detail if general is not None and general.detail else "not applicable")
           if general is None or general.status != "refuted" else "")
    if pointwise.status == "refuted":
        why = f"F' = w fails pointwise ({pointwise.detail})"
    detail = "; ".join(x for x in (sizes.detail, why) if x)
    earlier = general.attempts if general is not None else pointwise.attempts
    return Proof(sizes.status, sizes.method, detail, earlier + sizes.attempts)


# --------------------------------------------------------------------------------------------
# statements


def _norm_latex(mode: str) -> tuple[str, str]:
    if mode == "softmax":
        return r"Z_i", r"Z_i = \sum_j w(s_{ij})"
    return r"n", ""


def _score_latex(decl: SphereModel) -> str:
    q = f"{decl.query} x_i" if decl.query else "x_i"
    k = f"{decl.key} x_j" if decl.key else "x_j"
    return rf"s_{{ij}} = \langle {q}, {k}\rangle"


def _field_statement(decl: Model) -> str:
    mode = decl.normalization_for()
    N, Ndef = _norm_latex(mode)
    wl = rf"w(s) = {latex(decl.weight)}"
    if isinstance(decl, CircleModel):
        if mode == "causal":
            return (rf"\dot\theta_j = \frac{{1}}{{\sum_{{k<j}} p(j-k)}}\sum_{{k<j}} p(j-k)\,w(\cos(\theta_j-\theta_k))"
                    rf"\,(-\sin(\theta_j-\theta_k)),\quad {wl},\ p(g) = {latex(decl.position_weight)}")
        Nc = r"\sum_j w(\cos(\theta_i-\theta_j))" if mode == "softmax" else "n"
        return (rf"\dot\theta_i = \frac{{1}}{{{Nc}}}\sum_j w(\cos(\theta_i-\theta_j))\,(-\sin(\theta_i-\theta_j)),"
                rf"\quad {wl}")
    v = f"{decl.value} x_j" if getattr(decl, "value", None) else "x_j"
    A = rf"A_i = \frac{{1}}{{{N}}}\sum_j w(s_{{ij}})\,{v}"
    if decl.heads is not None:
        H = decl.heads
        A = rf"A_i = \sum_h \frac{{1}}{{{N}}}\sum_j w(s^h_{{ij}})\,{H}_h x_j"
    names = {S.A: "A_i", S.X: "x_i", S.H: "H_i", S.XA: r"\langle x_i, A_i\rangle", S.XH: r"\langle x_i, H_i\rangle",
             S.AA: r"|A_i|^2", S.HH: r"|H_i|^2", S.AH: r"\langle A_i, H_i\rangle"}
    out = r"\dot x_i = " + sp.latex(decl.output, order="lex", ln_notation=False, mul_symbol=None, symbol_names=names)
    parts = [out, A, _score_latex(decl) if decl.heads is None else rf"s^h_{{ij}} = \langle x_i, {decl.heads}_h x_j\rangle",
             wl]
    if Ndef:
        parts.append(Ndef)
    return r",\quad ".join(parts)


def _energy_statement(decl: Model) -> str:
    scale = r"\frac{1}{2n^2}" if isinstance(decl, CircleModel) else r"\frac12"
    if getattr(decl, "heads", None) is not None:
        return (rf"E = \frac12\sum_h\sum_{{i,j}} F(\langle x_i, {decl.heads}_h x_j\rangle),\quad F(s) = "
                rf"{latex(decl.energy)},\qquad F'(s) = w(s) = {latex(decl.weight)}")
    sc = r"\cos(\theta_i-\theta_j)" if isinstance(decl, CircleModel) else (
        rf"\langle x_i, {decl.energy_score} x_j\rangle" if getattr(decl, "energy_score", None) else
        r"\langle x_i, x_j\rangle")
    return (rf"E = {scale}\sum_{{i,j}} F({sc}),\quad F(s) = {latex(decl.energy)},\qquad "
            rf"F'(s) = w(s) = {latex(decl.weight)}")


def _dissipation_statement(decl: Model, hyp: str) -> str:
    mode = decl.normalization_for()
    if isinstance(decl, CircleModel):
        rhs = (r"\frac1n\sum_i\dot\theta_i^2" if mode == "mean" else
               r"\frac{1}{n^2}\sum_i Z_i\,\dot\theta_i^2,\ Z_i = \sum_j w(\cos(\theta_i-\theta_j))")
    else:
        rhs = (r"n\sum_i|\dot x_i|^2" if mode == "mean" else r"\sum_i Z_i\,|\dot x_i|^2,\ Z_i = \sum_j w(s_{ij})")
    pre = f"{hyp}:\\quad " if hyp else ""
    return pre + r"\frac{dE}{dt} = " + rhs


# --------------------------------------------------------------------------------------------
# field proofs


def _field_proof(decl: Model, cfg: DeriveConfig) -> Proof:
    if isinstance(decl, CircleModel):
        ti, tj = S.ti, S.tj
        p1 = cfg.prove(sp.cos(ti) * sp.cos(tj) + sp.sin(ti) * sp.sin(tj) - sp.cos(ti - tj))
        p2 = cfg.prove(-sp.sin(ti) * sp.cos(tj) + sp.cos(ti) * sp.sin(tj) + sp.sin(ti - tj))
        return Proof.combine([p1, p2], method="embedding x = (cos theta, sin theta): <x_i, x_j> = cos(theta_i - "
                             "theta_j) and <e_i, P_{x_i} x_j> = -sin(theta_i - theta_j), every pair (all n) -> 0")
    if isinstance(decl, EuclideanModel):
        syms, vel = velocity_matrix(decl, 2, 2)
        r = sp.symbols("r0 r1", positive=True)
        X = syms["x"]
        scaled = vel.xreplace({X[i, k]: r[i] * X[i, k] for i in range(2) for k in range(2)})
        p = cfg.prove(sp.Add(*[(scaled[i, k] - vel[i, k]) ** 2 for i in range(2) for k in range(2)]),
                      domains=_domains_for(vel, {**_param_domains(decl, False), **{v: (0.5, 2.0) for v in r}}))
        if p.status == "proved":
            return Proof("proved-for-sizes", "attention on the directions: v(r_1 x_1, r_2 x_2) = v(x_1, x_2) for "
                         "r_i > 0 (" + p.method + ")", "(n, d) = (2, 2)", p.attempts)
        return p
    Sx = Space()
    x = Sx.vector("x", unit=True)
    A = Sx.vector("A")
    H = Sx.vector("H")
    coeffs = output_coefficients(decl)
    inner = {S.XA: x.dot(A), S.XH: x.dot(H), S.AA: A.norm2(), S.HH: H.norm2(), S.AH: A.dot(H)}
    xdot = (A * sp.sympify(coeffs.get("cA", 0)).subs(inner) + H * sp.sympify(coeffs.get("cH", 0)).subs(inner)
            + x * sp.sympify(coeffs.get("cX", 0)).subs(inner))
    r = sp.expand(x.dot(xdot))
    if r == 0:
        return Proof("proved", "index-free: <x_i, Phi(A_i, H_i, x_i)> with |x_i| = 1 and general A_i, H_i "
                     "expands to 0")
    return Proof("refuted", "index-free: <x_i, Phi(A_i, H_i, x_i)> with |x_i| = 1 and general A_i, H_i is a nonzero "
                 "polynomial in the inner products (which range over an open set)", f"<x, xdot> = {r}")


# --------------------------------------------------------------------------------------------
# public


def derive_model(model, *, config: DeriveConfig | None = None) -> list[Result]:
    r"""Derive the field, the energy and the dissipation identity of a declared model.

    Parameters
    ----------
    model : str or Model
        A registered model name or a declaration (built in or the user's own).
    config : DeriveConfig, optional
        Sizes of the explicit checks and the time budgets of every proof.

    Returns
    -------
    list of Result
        ``<name>.field`` (sphere models: the velocity is tangent, :math:`\langle x_i,\dot x_i\rangle
        = 0`, for every n, d; circle models: the angular form follows from the sphere form;
        Euclidean models: the field depends on the directions only), and when the model declares
        a pair energy ``<name>.energy`` (:math:`F' = w`) and ``<name>.dissipation``
        (:math:`dE/dt = \sum_i N_i|\dot x_i|^2`, see the module docstring for the statuses).
        Proofs are lazy: they run when ``result.proof`` is first read.
    """
    decl = get(model)
    cfg = config or DeriveConfig()
    if not isinstance(cfg, DeriveConfig):
        raise ValueError("config: expected a DeriveConfig(sizes=..., step_budget=..., budget=...)")
    topic = f"model_{decl.name}"
    src = decl.source or "the declaration (no source given)"
    mode = decl.normalization_for()
    field_steps = [Step(f"Declared normalisation: {mode}" + (
        f" (the default choice of {', '.join(map(str, decl.normalization_modes()))})"
        if isinstance(decl.normalization, dict) else "") + ".")]
    if not isinstance(decl, CircleModel):
        try:
            syms, vel = velocity_matrix(decl, 2, 2)
            shown = latex(vel[0, 0])
            if len(shown) <= 4000:
                field_steps.append(Step(r"The small-$n$ field (`velocity_matrix`), first coordinate of "
                                        r"$\dot x_0$ for $n = d = 2$:", shown))
        except Exception:  # noqa: BLE001 - a display step only
            pass
    out = [Result(
        id=f"{decl.name}.field", title="Velocity field", topic=topic, statement=_field_statement(decl), source=src,
        prover=lambda: _field_proof(decl, cfg), steps=tuple(field_steps),
        notes=("" if isinstance(decl, (CircleModel, EuclideanModel)) else
               "Sphere models: the status refers to the tangency of the velocity (the flow stays on the sphere)."),
    )]
    if decl.energy is None:
        return out
    out.append(Result(
        id=f"{decl.name}.energy", title="Pair energy: F' = w", topic=topic, statement=_energy_statement(decl),
        source=src, prover=lambda: _pointwise(decl, cfg),
        steps=(Step("The pair energy is an antiderivative of the pair weight in the score:",
                    rf"F'(s) - w(s) = {latex(sp.diff(decl.energy, S.s) - decl.weight)}"),),
    ))
    hyp, notes = "", ""
    if isinstance(decl, SphereModel) and type(decl) is SphereModel:
        st = _structure(decl)
        hyp = st.hypothesis
        notes = _condition_check(decl)
        if not st.supported:
            notes = (notes + " " if notes else "") + f"The general argument does not apply ({st.reason}); " \
                     "the status comes from the explicit sizes."
    if isinstance(decl, EuclideanModel):
        return out
    steps = [
        Step(r"(a) Pointwise: $F'(s) = w(s)$ for the declared $F$ and $w$ (entry `" + decl.name + ".energy`)."),
        Step(r"(b)-(c) Chain rule on the product of spheres, kernel symmetry of $k(a,b) = F(\langle a, Mb\rangle)$ "
             r"for symmetric $M$ and the gradient of the double sum (symbolic $n$): with a generic weight $w$ and "
             r"$F(z) = \int_0^z w$,",
             r"\frac{dE}{dt} = \sum_i\Big\langle \dot x_i, \sum_j w(\langle x_i, Mx_j\rangle)\,Mx_j\Big\rangle."),
        Step(r"(d) Pair identity: this is $\sum_i\langle\dot x_i, N_iA_i\rangle$ for the declared field"
             + (" under the hypothesis" if hyp else "") + "."),
        Step(r"(e) Per-particle identity for the declared output map $\Phi$ and $|x_i| = 1$: "
             r"$\langle N_iA_i, \Phi(A_i, x_i)\rangle = N_i|\Phi(A_i, x_i)|^2$ (tangent projection)."),
        Step(r"Explicit sizes: the residual built from the small-$n$ field and energy, with the transcendental "
             r"atoms as symbols ($e^{-a} = 1/e^{a}$), is reduced modulo $|x_i|^2 = 1$; otherwise it is evaluated "
             r"at 50 digits on seeded random configurations on the spheres."),
    ]
    if isinstance(decl, CircleModel):
        steps = [steps[0], Step(r"Explicit angles for each $n$: chain rule in $\theta_i$, transcendental atoms as "
                                r"symbols, together/cancel; otherwise 50 digits at seeded random angles.")]
    out.append(Result(
        id=f"{decl.name}.dissipation", title="Energy dissipation identity", topic=topic,
        statement=_dissipation_statement(decl, hyp), source=src, prover=lambda: _dissipation(decl, cfg),
        steps=tuple(steps), notes=notes,
    ))
    return out


def model_document(model, *, config: DeriveConfig | None = None, results: list[Result] | None = None) -> str:
    """The Markdown derivation document of a declared model (byte-identical from run to run).

    ``results`` reuses results of :func:`derive_model` (their proofs are computed at most once).
    """
    from attnflow.symbolic.documents import render_results

    decl = get(model)
    cfg = config or DeriveConfig()
    results = results if results is not None else derive_model(decl, config=cfg)
    params = ", ".join(f"`{p.name}`" for p in decl.params) or "none"
    intro = [
        f"Model `{decl.name}` ({type(decl).__name__}); parameters: {params}; source: "
        f"{decl.source or 'not given'}.",
        "",
        "Statuses: *proved* (general n, d), *proved for sizes* (exact for the listed sizes), *verified "
        "numerically* (50 digits on seeded random points; not a proof), *REFUTED* (with a counterexample).",
        "",
        f"Every proof step ran under a time budget ({cfg.step_budget:g} s per rewrite step, {cfg.budget:g} s per "
        "proof); a step that ran out of time is named in the detail line of its result.",
    ]
    header = (f"<!-- generated by `attnflow derive --models` from the declaration of model {decl.name!r} "
              "(attnflow.symbolic.models.model_document); do not edit by hand -->")
    return render_results(f"Derivation of the model `{decl.name}`", results, header=header, intro=intro)
