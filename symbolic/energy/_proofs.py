r"""Provers of the energy topic (index-free vector algebra, explicit coordinates, concrete points).

Each function returns a :class:`~attnflow.symbolic.proof.Proof`.  The index-free proofs work in
:class:`~attnflow.symbolic.vectors.Space` (valid for every n and d); the size checks rebuild
the energy and the velocity field in explicit coordinates, differentiate the energy by the chain
rule and reduce the residual modulo the sphere constraints (see
:mod:`attnflow.symbolic.energy._coordinates`).

References
----------
arXiv 2312.10794 and 2512.01868 (energy, gradient-flow structure); ``derivations/energy.md``.
"""

from __future__ import annotations

import functools

import mpmath
import sympy as sp

from attnflow.symbolic.energy import _coordinates as C
from attnflow.symbolic.proof import Proof, prove_zero
from attnflow.symbolic.vectors import Space

beta = C.beta
s = sp.Symbol("s", real=True)
n_sym = sp.Symbol("n", positive=True, integer=True)
Z_sym = sp.Symbol("Z", positive=True)

SIZES = ((2, 2), (3, 2), (2, 3), (3, 3))
SIZES_MATRIX = ((2, 2), (3, 2), (2, 3))


# --------------------------------------------------------------------------------------------
# index-free pieces


def kernel_symmetry(symmetric: bool = True, *, with_space: bool = False):
    r"""Residual of :math:`\partial_2 k(a,b)[q] = \partial_1 k(b,a)[q]` for :math:`k(a,b)=e^{\beta\langle a, Mb\rangle}`.

    :math:`\frac{d}{ds}k(a+sp, b+sq)|_0 = \beta e^{\beta\langle a,Mb\rangle}(\langle p,Mb\rangle +
    \langle a, Mq\rangle)`; the second part must equal the first-slot derivative of the swapped
    pair, :math:`\beta e^{\beta\langle b,Ma\rangle}\langle q, Ma\rangle`, for the double sum to have
    gradient :math:`\nabla_{x_i}E = \sum_j e^{\beta\langle x_i,Mx_j\rangle}Mx_j`.
    """
    S = Space()
    a, b, p, q = S.vectors(["a", "b", "p", "q"])
    M = S.linear_map("M", symmetric=symmetric)
    k_ab = sp.exp(beta * (a + s * p).dot(M(b + s * q)))
    d_ab = sp.diff(k_ab, s).subs(s, 0)
    second_slot = sp.expand(d_ab - sp.diff(sp.exp(beta * (a + s * p).dot(M(b))), s).subs(s, 0))
    first_slot_swapped = sp.diff(sp.exp(beta * (b + s * q).dot(M(a))), s).subs(s, 0)
    res = sp.expand(second_slot - first_slot_swapped)
    return (res, S) if with_space else res


def per_particle_residual(normalised: bool) -> sp.Expr:
    r"""Per-particle residual :math:`\langle f, \dot x\rangle - c\,|\dot x|^2`, :math:`\dot x = P_x f / c`, :math:`|x| = 1`."""
    S = Space()
    x = S.vector("x", unit=True)
    f = S.vector("f")
    c = Z_sym if normalised else n_sym
    xdot = S.tangent(x, f) / c
    return sp.expand(f.dot(xdot) - c * xdot.norm2())


def prove_index_free(symmetric_kernel: bool, normalised: bool) -> Proof:
    p1 = prove_zero(kernel_symmetry(symmetric_kernel))
    p_sum = double_sum_gradient()
    p2 = prove_zero(per_particle_residual(normalised))
    return Proof.combine([p1, p_sum, p2], method="index-free vector algebra (kernel symmetry; per-particle identity) "
                         "-> 0; gradient of the double sum by Kronecker-delta summation for symbolic n -> 0")


# --------------------------------------------------------------------------------------------
# explicit coordinates


def _sym_matrix(name: str, d: int) -> sp.Matrix:
    return sp.Matrix(d, d, lambda a, b: sp.Symbol(f"{name}{min(a, b) + 1}{max(a, b) + 1}", real=True))


def _declaration(kind: str):
    """The declaration of the model ``kind`` and whether its energy's normalisation is a softmax.

    The exponential pair energy of :mod:`attnflow.symbolic.energy._coordinates` is used, so the
    model must declare :math:`F = e^{\beta s}/\beta` (sa, usa, qkv, multihead).
    """
    from attnflow.symbolic.models import beta, get, s

    try:
        decl = get(kind)
    except ValueError as exc:
        raise ValueError(f"kind: {exc}") from None
    if decl.energy is None or sp.simplify(decl.energy - sp.exp(beta * s) / beta) != 0 or decl.manifold != "sphere":
        raise ValueError(f"kind: {kind!r} is not a sphere model with the pair energy e^(beta s)/beta")
    return decl, decl.normalization_for() == "softmax"


def dissipation_residual_sizes(kind: str, n: int, d: int) -> sp.Expr:
    """Explicit-coordinate residual of the dissipation identity, reduced on the spheres.

    ``kind`` in {"sa", "usa", "qkv", "multihead"}; the normaliser :math:`Z_i` of SA is an
    independent positive symbol :math:`z_i` (the identity holds for any positive normaliser).
    """
    X = C.coordinates(n, d)
    decl, normalised = _declaration(kind)
    if decl.heads is not None:  # two heads with symbolic symmetric score matrices
        Ms = [_sym_matrix("a", d), _sym_matrix("m", d)]
    elif decl.energy_score is not None:  # the gradient-flow case Q^T K = V = V^T
        Ms = [_sym_matrix("v", d)]
    else:
        Ms = [sp.eye(d)]
    E = sum(C.energy_explicit(X, M) for M in Ms)
    if decl.heads is not None:
        fields = [C.attention_field(X, M, M, normalised=False) for M in Ms]
        F = [sum((f[i] for f in fields), sp.zeros(d, 1)) for i in range(n)]
        target = n * sum((v.T * v)[0, 0] for v in F)
    elif not normalised:
        F = C.attention_field(X, Ms[0], Ms[0], normalised=False)
        target = n * sum((v.T * v)[0, 0] for v in F)
    else:
        z = sp.symbols(f"z1:{n + 1}", positive=True)
        F = C.attention_field(X, Ms[0], Ms[0], normalised=True, normalisers=z)
        target = sum(zi * (v.T * v)[0, 0] for zi, v in zip(z, F))
    rate = C.chain_rule_rate(E, X, F)
    res, _w = C.weights_to_symbols(rate - target, X, Ms)
    return C.sphere_reduce(res, X)


def prove_sizes(kind: str, sizes) -> Proof:
    bad = []
    for n, d in sizes:
        if dissipation_residual_sizes(kind, n, d) != 0:
            bad.append(f"n={n}, d={d}")
    labels = "(n, d) in {" + ", ".join(f"({n}, {d})" for n, d in sizes) + "}"
    if bad:
        return Proof("refuted", "explicit coordinates, chain rule, reduction on the spheres", "nonzero for " + "; ".join(bad))
    return Proof("proved-for-sizes", "explicit coordinates: chain rule by partial derivatives, residual reduced "
                 "modulo |x_i|^2 = 1 to 0", labels)


@functools.lru_cache(maxsize=None)
def dissipation(kind: str) -> Proof:
    """Index-free proof (general n, d) plus the explicit-size cross-check, for the declared model ``kind``."""
    decl, normalised = _declaration(kind)
    general = prove_index_free(True, normalised)
    if decl.heads is not None:
        sizes = prove_sizes(kind, ((2, 2), (3, 2)))
    else:
        sizes = prove_sizes(kind, SIZES_MATRIX if decl.energy_score is not None else SIZES)
    if sizes.status == "refuted" or general.status == "refuted":
        return Proof("refuted", general.method + "; " + sizes.method, sizes.detail or general.detail)
    return Proof(general.status, general.method + "; cross-check: " + sizes.method,
                 "two heads with symbolic symmetric M_1, M_2, " * (decl.heads is not None) + sizes.detail)


# --------------------------------------------------------------------------------------------
# concrete points (exact configurations, evaluated at 50 digits)


def concrete_rates(X_num, Ms, V_field=None, *, normalised: bool, b=1, heads_shared: bool = False):
    r"""Exact rates at a concrete configuration: returns ``(dE_h/dt for each h, sum_i c_i |xdot_i|^2)``.

    ``Ms`` are the score matrices :math:`Q^\top K` (one per head); ``V_field`` the value matrix
    (single head; defaults to ``Ms[0]``).  With ``heads_shared`` the field is the shared-normalisation
    multi-head field :math:`\frac1n\sum_h\sum_j e^{\beta\langle x_i,M_hx_j\rangle}M_hx_j`.
    """
    n, d = len(X_num), len(X_num[0])
    X = C.coordinates(n, d)
    Ms = [sp.Matrix(M) for M in Ms]
    if heads_shared:
        fields = [C.attention_field(X, M, M, normalised=False) for M in Ms]
        F = [sum((f[i] for f in fields), sp.zeros(d, 1)) for i in range(n)]
        cs = [sp.Integer(n)] * n
    else:
        V = sp.Matrix(V_field) if V_field is not None else Ms[0]
        F = C.attention_field(X, Ms[0], V, normalised=normalised)
        if normalised:
            cs = [sum(sp.exp(beta * C.bilinear(xi, Ms[0], xj)) for xj in X) for xi in X]
        else:
            cs = [sp.Integer(n)] * n
    # energy of head h: (1/(2b)) sum exp(b <x_i, M_h x_j>); for a non-symmetric score matrix
    # this is (1/(2b)) sum exp(b <Q x_i, K x_j>)
    rates = [C.chain_rule_rate(C.energy_explicit(X, M), X, F) for M in Ms]
    target = sum(c * (v.T * v)[0, 0] for c, v in zip(cs, F))
    subs = {X[i][k]: sp.nsimplify(X_num[i][k]) for i in range(n) for k in range(d)}
    subs[beta] = sp.nsimplify(b)
    return [r.xreplace(subs) for r in rates], target.xreplace(subs)


def n50(e: sp.Expr) -> mpmath.mpf:
    return mpmath.mpf(str(sp.N(e, 50)))


# --------------------------------------------------------------------------------------------
# circle


def circle_checks(sizes=(2, 3, 4)) -> tuple[Proof, Proof, Proof]:
    r"""(inner product = cos of the difference; per-pair angular velocity; n dE/dtheta = USA for sizes)."""
    th = sp.symbols("theta1:5", real=True)
    x = [sp.Matrix([sp.cos(t), sp.sin(t)]) for t in th]
    tang = [sp.Matrix([-sp.sin(t), sp.cos(t)]) for t in th]
    ip = (x[0].T * x[1])[0, 0]
    p_ip = prove_zero(ip - sp.cos(th[0] - th[1]))
    proj = x[1] - x[0] * ip
    p_pair = prove_zero((proj.T * tang[0])[0, 0] - sp.sin(th[1] - th[0]))

    def canon(e: sp.Expr) -> sp.Expr:
        return e.replace(lambda a: isinstance(a, sp.exp), lambda a: sp.exp(sp.expand(sp.expand_trig(a.args[0]))))

    cases = {}
    for n in sizes:
        E = sum(sp.exp(beta * sp.cos(th[i] - th[j])) for i in range(n) for j in range(n)) / (2 * beta * n**2)
        res = 0
        for i in range(n):
            f = sum((sp.exp(beta * (x[i].T * x[j])[0, 0]) * x[j] for j in range(n)), sp.zeros(2, 1)) / n
            v = f - x[i] * (x[i].T * f)[0, 0]
            thdot = (v.T * tang[i])[0, 0]
            r = canon(sp.expand(n * sp.diff(E, th[i]) - thdot))
            res += sp.expand(sp.expand_trig(r)) ** 2
        cases[f"n={n}"] = res
    doms = {t: (0, 6.2832) for t in th}
    doms[beta] = (0.1, 5)
    bad = []
    for label, e in cases.items():
        if prove_zero(e, domains=doms, steps=(("expand", sp.expand, 10**9),)).status != "proved":
            bad.append(label)
    if bad:
        p_sizes = Proof("refuted", "explicit angles", "nonzero for " + ", ".join(bad))
    else:
        p_sizes = Proof("proved-for-sizes", "explicit angles: n dE/dtheta_i minus the USA angular velocity "
                        "expands to 0", "n in {" + ", ".join(str(n) for n in sizes) + "}")
    return p_ip, p_pair, p_sizes


# --------------------------------------------------------------------------------------------
# variations along the geodesic push-forward


def _geodesic(S: Space, x, v, r):
    return x * sp.cos(s * r) + v * (sp.sin(s * r) / r)


def variation_kernels():
    r"""Pair kernel derivatives and the stated integrands, for generic unit x, y with tangents a, b.

    Returns ``(K1, K2, I1, I2, sphere, S)``: :math:`K_m = \frac{d^m}{ds^m}\frac{1}{2\beta}e^{\beta\langle
    T_sx, T_sy\rangle}|_{s=0}`; :math:`I_m(x,y)` the stated integrands of ``energy.variation.first`` and
    ``energy.variation.second`` with v(x) = a, v(y) = b (each as the pair ``(I_m(x, y), I_m(y, x))``);
    ``sphere`` the residual of :math:`|T_sx|^2 - 1`; ``S`` the :class:`~attnflow.symbolic.vectors.Space`.
    """
    S = Space()
    x, y = S.vectors(["x", "y"], unit=True)
    a, b = S.vectors(["a", "b"])
    S.orthogonal(x, a)
    S.orthogonal(y, b)
    ra, rb = sp.sqrt(a.norm2()), sp.sqrt(b.norm2())
    Tx, Ty = _geodesic(S, x, a, ra), _geodesic(S, y, b, rb)
    sphere = sp.expand(Tx.norm2() - 1)
    k = sp.exp(beta * Tx.dot(Ty)) / (2 * beta)
    K1 = sp.expand(sp.diff(k, s).subs(s, 0))
    K2 = sp.expand(sp.diff(k, s, 2).subs(s, 0))
    def I1(p, q, vp, vq):
        return sp.exp(beta * p.dot(q)) * vp.dot(q)

    def I2(p, q, vp, vq):
        return sp.exp(beta * p.dot(q)) * (beta * vp.dot(q) ** 2 - p.dot(q) * vp.norm2()
                                          + beta * vp.dot(q) * vq.dot(p) + vp.dot(vq))

    return (K1, K2, (I1(x, y, a, b), I1(y, x, b, a)), (I2(x, y, a, b), I2(y, x, b, a)), sphere, S)


def dirac_variations():
    r"""At :math:`\mu = \delta_x`: first and second derivative of :math:`E(T_s\#\delta_x)` for any tangent a."""
    S = Space()
    x = S.vector("x", unit=True)
    a = S.vector("a")
    S.orthogonal(x, a)
    ra = sp.sqrt(a.norm2())
    Tx = _geodesic(S, x, a, ra)
    k = sp.exp(beta * Tx.dot(Tx)) / (2 * beta)
    d1 = sp.diff(k, s).subs(s, 0)
    d2 = sp.diff(k, s, 2).subs(s, 0)
    I1 = sp.exp(beta * x.dot(x)) * a.dot(x)
    I2 = sp.exp(beta * x.dot(x)) * (beta * a.dot(x) ** 2 - x.dot(x) * a.norm2() + beta * a.dot(x) ** 2 + a.norm2())
    # rigid rotation: a = A x, A antisymmetric (<x, A x> = 0 follows; imposed as the constraint)
    R = Space()
    xr = R.vector("x", unit=True)
    A = R.linear_map("A")
    R.orthogonal(xr, A(xr))
    Trot = _geodesic(R, xr, A(xr), sp.sqrt(A(xr).norm2()))
    krot = sp.exp(beta * Trot.dot(Trot)) / (2 * beta)
    return d1, d2, I1, I2, sp.diff(krot, s).subs(s, 0), sp.diff(krot, s, 2).subs(s, 0)


def _trig_then_expand(e: sp.Expr) -> sp.Expr:
    return sp.expand(sp.trigsimp(sp.expand(e)))


VARIATION_STEPS = (("expand", sp.expand, 10**9), ("trigonometric simplification", _trig_then_expand, 10**6))


# --------------------------------------------------------------------------------------------
# hemisphere


def hemisphere_residuals():
    r"""(per-summand identity for :math:`\langle P_{x_i}x_j, w\rangle`; inequality-step residual)."""
    S = Space()
    xi, xj = S.vectors(["x_i", "x_j"], unit=True)
    w = S.vector("w")
    per_summand = sp.expand(S.tangent(xi, xj).dot(w) - (xj.dot(w) - xi.dot(xj) * xi.dot(w)))
    r = xi.dot(w)
    bracket = xj.dot(w) - xi.dot(xj) * r
    step = sp.expand((bracket - r * (1 - xi.dot(xj))) - (xj.dot(w) - r))
    return per_summand, step, S


# --------------------------------------------------------------------------------------------
# gradient of a symmetric double sum, for symbolic n


def _canonical_sums(e: sp.Expr) -> sp.Expr:
    """Rename the summation index of every single-limit Sum to one canonical dummy ``m``."""
    m = sp.Symbol("m", integer=True, positive=True)

    def ren(S: sp.Sum) -> sp.Sum:
        (var, lo, hi), = S.limits
        return sp.Sum(S.function.xreplace({var: m}), (m, lo, hi))

    return e.replace(lambda a: isinstance(a, sp.Sum) and len(a.limits) == 1, ren)


def double_sum_gradient() -> Proof:
    r"""For symbolic n: :math:`\partial_{x_i}\sum_{j,k=1}^n k(x_j,x_k)[u] = 2\sum_k \partial_1k(x_i,x_k)[u]`.

    The derivative of the pair (j, k) along a motion of particle i alone is
    :math:`\delta_{ij}A(j,k) + \delta_{ik}B(j,k)` with :math:`A = \partial_1 k[u]`, :math:`B = \partial_2 k[u]`;
    the kernel symmetry (vector algebra, :func:`kernel_symmetry`) gives :math:`B(j,k) = A(k,j)`.  SymPy
    sums the Kronecker deltas over :math:`j, k = 1..n` (for :math:`1 \le i \le n`).
    """
    i, j, k = sp.symbols("i j k", integer=True, positive=True)
    A = sp.Function("A")
    total = sp.Sum(sp.KroneckerDelta(i, j) * A(j, k) + sp.KroneckerDelta(i, k) * A(k, j), (j, 1, n_sym), (k, 1, n_sym))
    done = total.doit()
    pieces = list(done.atoms(sp.Piecewise))
    # the standing assumption 1 <= i <= n selects the first branch of each Piecewise
    done = done.replace(lambda a: isinstance(a, sp.Piecewise), lambda a: a.args[0][0])
    conds = {str(p.args[0][1]) for p in pieces}
    if not conds <= {str(i <= n_sym)}:
        return Proof("verified-numerically", "unexpected branch conditions", ", ".join(sorted(conds)))
    res = _canonical_sums(sp.expand(done)) - _canonical_sums(2 * sp.Sum(A(i, k), (k, 1, n_sym)))
    p = prove_zero(sp.expand(res))
    if p.status != "proved":
        return Proof("verified-numerically", "Kronecker-delta summation did not close", str(res))
    return Proof("proved", "Kronecker-delta summation over j, k = 1..n for symbolic n -> 0")


def circle_kernel_odd() -> Proof:
    r""":math:`\varphi(t) = e^{\beta\cos t}`: :math:`\varphi'` is odd, so the circle kernel has the slot symmetry."""
    t = sp.Symbol("t", real=True)
    phi = sp.exp(beta * sp.cos(t))
    dphi = sp.diff(phi, t)
    return prove_zero(dphi + dphi.subs(t, -t))
