r"""Transport: a Knöthe--Rosenblatt map realised by a perceptron flow (arXiv 2602.08606), and the
sensitivity of the attention field to its measure (arXiv 2604.16653).

The explicit pair of 2-D measures used by the ``flows.*`` claims:

.. math::
    \mu = \mathrm{Unif}([-1,1]^2),\qquad
    \nu(y) = \frac{1}{4\sqrt{1+y_1^2}}\ \text{ on } \{|y_1|\le\sinh 1,\ |y_2 - b\,y_1^2|\le 1\},

a "banana" whose first marginal is stretched by :math:`\sinh`.  The Knöthe--Rosenblatt (KR) map
:math:`T = (h(x_1),\ x_2 + m(x_1))`, :math:`h = \sinh`, :math:`m = b\sinh^2`, is triangular with
increasing diagonal entries and pushes :math:`\mu` to :math:`\nu`; it factors as :math:`T = D\circ S`
with :math:`S(x) = (x_1, x_2 + m(x_1))` a shear (incompressible) and :math:`D(x) = (h(x_1), x_2)` the
gradient of the convex function :math:`\cosh x_1 + x_2^2/2` (compressible): the polar-like
decomposition of arXiv 2602.08606 in the case where the incompressible factor is itself a shear.

Public API
----------
results
    the results of the ``transport`` document.
kr_factors, kr_map, target_density
    :math:`h`, :math:`m`; :math:`T`; the density of :math:`\nu` (SymPy expressions);
gaussian_banana_map, gaussian_banana_density
    the KR map :math:`(x_1, x_2 + b(x_1^2-1))` of :math:`N(0,I_2)` onto the Gaussian banana, and its density;
interpolation_bound
    :math:`M\Delta^2/8`, the sharp piecewise-linear interpolation error for :math:`|f''|\le M`;
field_lipschitz_constant
    :math:`(1+2|\beta|)e^{2|\beta|}`: :math:`|v[\mu](x)-v[\nu](x)|` per unit of pairing cost (SA).
"""

from __future__ import annotations

import sympy as sp

from attnflow.symbolic.proof import Proof, prove_zero
from attnflow.symbolic.result import Result, Step, latex

__all__ = ["results", "kr_factors", "kr_map", "target_density", "gaussian_banana_map", "gaussian_banana_density", "interpolation_bound", "field_lipschitz_constant", "x1", "x2", "b", "M", "delta"]

TOPIC = "transport"
SRC = "arXiv 2602.08606 (constructive conditional normalizing flows; abstract)"
SRC_TR = "arXiv 2604.16653 (transport representations; a Lipschitz F admits a continuous representative)"

x1 = sp.Symbol("x_1", real=True)
x2 = sp.Symbol("x_2", real=True)
b = sp.Symbol("b", positive=True)
y1 = sp.Symbol("y_1", real=True)
y2 = sp.Symbol("y_2", real=True)
t = sp.Symbol("t", nonnegative=True)
w = sp.Symbol("w", real=True)
alpha = sp.Symbol("alpha", real=True, nonzero=True)
z0 = sp.Symbol("z_0", positive=True)
s = sp.Symbol("s", real=True)
delta = sp.Symbol("Delta", positive=True)
M = sp.Symbol("M", positive=True)

_DOM = {x1: (-1, 1), x2: (-1, 1), b: (0.1, 3), t: (0, 2), w: (-2, 2), alpha: (0.2, 2), z0: (0.1, 2),
        s: (0, 1), delta: (0.1, 1), M: (0.1, 5)}


def _prove_cases(cases: dict, domains) -> Proof:
    """Each residual proved zero for general symbols: the weakest status wins, labels in the detail."""
    proofs = [prove_zero(e, domains=domains) for e in cases.values()]
    p = Proof.combine(proofs)
    if p.status == "refuted":
        bad = [f"{k}: {q.detail}" for k, q in zip(cases, proofs) if q.status == "refuted"]
        return Proof("refuted", p.method, "; ".join(bad))
    return Proof(p.status, p.method, "identities: " + ", ".join(cases))


def kr_factors(b_=b) -> tuple[sp.Expr, sp.Expr]:
    r"""The two one-dimensional profiles of the KR map: :math:`h(x_1) = \sinh x_1`, :math:`m(x_1) = b\sinh^2 x_1`.

    References
    ----------
    ``derivations/transport.md`` (``flows.kr.triangular``, ``flows.kr.pushforward``).
    """
    h = sp.sinh(x1)
    return h, b_ * h**2


def kr_map(b_=b) -> tuple[sp.Expr, sp.Expr]:
    r"""The KR map :math:`T(x) = D(S(x)) = (h(x_1),\ x_2 + m(x_1))` of :math:`\mu\to\nu`.

    References
    ----------
    arXiv 2602.08606 (the KR rearrangement as the regular map to approximate); ``derivations/transport.md``.
    """
    h, m = kr_factors(b_)
    # S(x) = (x1, x2 + m(x1)), then D(y) = (h(y1), y2)
    s1, s2 = x1, x2 + m
    return h.subs(x1, s1), s2


def target_density(b_=b) -> sp.Expr:
    r"""The density of :math:`\nu` on its support: :math:`1/(4\sqrt{1+y_1^2})` (a function of ``y_1``)."""
    return 1 / (4 * sp.sqrt(1 + y1**2))


def _phi(u):
    return sp.exp(-u**2 / 2) / sp.sqrt(2 * sp.pi)


def gaussian_banana_map(b_=b) -> tuple[sp.Expr, sp.Expr]:
    r"""The KR map :math:`T_G(x) = (x_1,\ x_2 + b(x_1^2-1))` of :math:`N(0, I_2)` onto the Gaussian banana.

    References
    ----------
    arXiv 2602.08606 (KR maps); ``derivations/transport.md`` (``flows.kr.gaussian_banana``).
    """
    return x1, x2 + b_ * (x1**2 - 1)


def gaussian_banana_density(b_=b) -> sp.Expr:
    r"""The banana density :math:`\nu_G(y) = \varphi(y_1)\,\varphi(y_2 - b(y_1^2-1))` (``y_1``, ``y_2``)."""
    return _phi(y1) * _phi(y2 - b_ * (y1**2 - 1))


def _prove_gaussian_banana() -> Proof:
    T1, T2 = gaussian_banana_map()
    J = sp.Matrix([[sp.diff(c, v) for v in (x1, x2)] for c in (T1, T2)])
    nu = gaussian_banana_density().subs({y1: T1, y2: T2}, simultaneous=True)
    return _prove_cases({"nu_G(T(x)) det DT(x) = phi(x1) phi(x2)": nu * J.det() - _phi(x1) * _phi(x2),
                         "dT1/dx2 = 0": J[0, 1], "dT2/dx2 = 1": J[1, 1] - 1}, _DOM)


def interpolation_bound() -> sp.Expr:
    r"""The piecewise-linear interpolation error bound :math:`M\Delta^2/8` (:math:`|f''|\le M`, spacing :math:`\Delta`).

    References
    ----------
    The classical interpolation error :math:`f - I f = \tfrac12 f''(\xi)\,s(s-\Delta)`; sharpness proved in
    ``derivations/transport.md`` (``flows.interpolation.sharp``).
    """
    return M * delta**2 / 8


def field_lipschitz_constant(beta_=None) -> sp.Expr:
    r"""The constant :math:`L(\beta) = (1+2|\beta|)\,e^{2|\beta|}` of the SA field's dependence on its measure.

    For :math:`\mu = \sum_j w_j\delta_{y_j}`, :math:`\nu = \sum_j w_j\delta_{y'_j}` (same weights, unit
    :math:`y_j, y'_j`) and any unit :math:`x`,

    .. math::
        |v[\mu](x) - v[\nu](x)| \le L(\beta)\sum_j w_j|y_j - y'_j|,

    from :math:`\partial_{y_j}A = p_j\,(I + \beta(y_j - A)x^\top)` (``transport.field_sensitivity``),
    :math:`p_j = w_je^{\beta\langle x,y_j\rangle}/Z \le w_je^{2|\beta|}` and :math:`|y_j - A|\le 2` along the
    chords :math:`y_j + s(y'_j - y_j)` (inside the unit ball), and :math:`|P_x|\le 1`.

    References
    ----------
    arXiv 2604.16653 (continuity of the transport representative); ``derivations/transport.md``.
    """
    bt = sp.Symbol("beta", real=True) if beta_ is None else beta_
    return (1 + 2 * sp.Abs(bt)) * sp.exp(2 * sp.Abs(bt))


def _softmax_mean(n: int, d: int):
    bt = sp.Symbol("beta", real=True)
    xs = sp.Matrix(sp.symbols(f"x_1:{d + 1}", real=True))
    ys = [sp.Matrix(sp.symbols(f"y_{j}_1:{d + 1}", real=True)) for j in range(1, n + 1)]
    ws = sp.symbols(f"w_1:{n + 1}", positive=True)
    es = [sp.exp(bt * (xs.T * y)[0]) for y in ys]
    Z = sum(w_ * e for w_, e in zip(ws, es))
    A = sum((w_ * e * y for w_, e, y in zip(ws, es, ys)), sp.zeros(d, 1)) / Z
    return bt, xs, ys, ws, es, Z, A


def _prove_sensitivity() -> Proof:
    cases, domains = {}, {}
    for n_, d_ in ((2, 2), (3, 2), (2, 3)):
        bt, xs, ys, ws, es, Z, A = _softmax_mean(n_, d_)
        J = A.jacobian(ys[0])
        p1 = ws[0] * es[0] / Z
        R = J - p1 * (sp.eye(d_) + bt * (ys[0] - A) * xs.T)
        for i in range(d_):
            for k in range(d_):
                cases[f"n={n_}, d={d_}, entry ({i},{k})"] = R[i, k]
        domains.update({bt: (-3, 3), **{v: (-1, 1) for v in xs}, **{v: (-1, 1) for y in ys for v in y},
                        **{w_: (0.1, 1) for w_ in ws}})
    proofs = [prove_zero(e, domains=domains) for e in cases.values()]
    p = Proof.combine(proofs)
    if p.status == "refuted":
        return p
    sizes = "sizes (n, d) = (2, 2), (3, 2), (2, 3), every entry of the d x d Jacobian"
    return Proof("proved-for-sizes" if p.status == "proved" else p.status, p.method, sizes)


def _jacobian():
    T1, T2 = kr_map()
    return sp.Matrix([[sp.diff(T1, x1), sp.diff(T1, x2)], [sp.diff(T2, x1), sp.diff(T2, x2)]])


def _prove_triangular() -> Proof:
    J = _jacobian()
    h, _ = kr_factors()
    psi = sp.cosh(x1) + x2**2 / 2  # the convex potential of the compressible factor D(x) = (h(x1), x2)
    H = sp.hessian(psi, (x1, x2))
    return _prove_cases({"dT1/dx2 = 0": J[0, 1], "dT2/dx2 = 1": J[1, 1] - 1,
                         "dT1/dx1 = cosh x1 (> 0)": J[0, 0] - sp.cosh(x1),
                         "grad psi = D: d psi/dx1 - h": sp.diff(psi, x1) - h, "d psi/dx2 - x2": sp.diff(psi, x2) - x2,
                         "Hessian psi = diag(cosh x1, 1)": (H - sp.diag(sp.cosh(x1), 1)).norm() ** 2}, _DOM)


def _prove_pushforward() -> Proof:
    T1, T2 = kr_map()
    J = _jacobian()
    nu = target_density().subs(y1, T1)
    return _prove_cases({"nu(T(x)) det DT(x) = mu(x) = 1/4": nu * J.det() - sp.Rational(1, 4),
                      "T2 - b T1^2 = x2 (support onto support)": T2 - b * T1**2 - x2,
                      "T1(+-1) = +-sinh 1": T1.subs(x1, 1) - sp.sinh(1)}, _DOM)


def _prove_pieces() -> Proof:
    # aligned piece on z > 0: z(t) = z0 e^{alpha w t} solves dz/dt = alpha w z; shear: <a, x> invariant
    z = z0 * sp.exp(alpha * w * t)
    a1, a2, e1, e2, c = sp.symbols("a_1 a_2 e_1 e_2 c", real=True)
    X1 = sp.Symbol("X_1", real=True)
    X2 = sp.Symbol("X_2", real=True)
    # shear with a = (a1, a2), e = (-a2, a1) (orthogonal): x(t) = x0 + t w relu(<a, x0> + c) e
    u = sp.Symbol("u", positive=True)  # the value of relu(<a, x0> + c) on its positive side
    xt = sp.Matrix([X1 - t * w * u * a2, X2 + t * w * u * a1])
    inv = (a1 * xt[0] + a2 * xt[1]) - (a1 * X1 + a2 * X2)
    return _prove_cases({"aligned: dz/dt - alpha w z": sp.diff(z, t) - alpha * w * z,
                      "aligned: z(0) = z0": z.subs(t, 0) - z0,
                      "shear: <a, x(t)> - <a, x0>": inv}, {**_DOM, a1: (-1, 1), a2: (-1, 1),
                                                                   X1: (-1, 1), X2: (-1, 1), u: (0.1, 2)})


def _prove_interpolation() -> Proof:
    # f = M s^2 / 2 on [0, Delta]: f - I f = -(M/2) s (Delta - s), whose extreme value is -M Delta^2 / 8
    f = M * s**2 / 2
    interp = f.subs(s, 0) + (f.subs(s, delta) - f.subs(s, 0)) / delta * s
    err = f - interp
    crit = sp.solve(sp.diff(err, s), s)
    if crit != [delta / 2]:
        return Proof("refuted", "critical point of the interpolation error", f"critical points {crit}")
    return _prove_cases({"f - I f = -(M/2) s (Delta - s)": err + M * s * (delta - s) / 2,
                      "max |f - I f| = M Delta^2 / 8": err.subs(s, delta / 2) + interpolation_bound()}, _DOM)


def results() -> list[Result]:
    T1, T2 = kr_map()
    return [
        Result(
            id="flows.kr.triangular",
            title="The Knöthe-Rosenblatt map of the uniform square to the sinh-banana is triangular and increasing",
            topic=TOPIC,
            statement=r"T(x) = \Big(" + latex(T1) + ",\\ " + latex(T2) + r"\Big),\quad "
                      r"\partial_{x_2}T_1 = 0,\ \partial_{x_1}T_1 = \cosh x_1 > 0,\ \partial_{x_2}T_2 = 1 > 0;\quad"
                      r"\ T = \nabla\psi\circ S,\ \psi = \cosh x_1 + \tfrac12x_2^2,\ \nabla^2\psi = \mathrm{diag}(\cosh x_1, 1)\succ 0",
            source=SRC + "; the explicit pair chosen here",
            prover=_prove_triangular,
            steps=(
                Step("mu uniform on the square; T1 is the increasing map of the first marginals, T2(x1, .) the "
                     "increasing map of the conditionals, so T is the (unique) KR rearrangement of mu onto T#mu.",
                     r"T = D\circ S,\quad S(x) = (x_1,\ x_2 + m(x_1)),\quad D(x) = (h(x_1),\ x_2),\quad "
                     r"h = \sinh,\ m = b\sinh^2"),
                Step("D is the gradient of the convex function psi(x) = cosh x1 + x2^2 / 2 (Hessian diag(cosh x1, 1) "
                     "is positive definite); S is a shear (det DS = 1)."),
            ),
        ),
        Result(
            id="flows.kr.pushforward",
            title="Pushforward identity: T pushes the uniform square to the sinh-banana",
            topic=TOPIC,
            statement=r"\nu(T(x))\,\det DT(x) = \mu(x) = \tfrac14,\qquad \nu(y) = " + latex(target_density())
                      + r"\ \text{on}\ \{|y_1|\le\sinh 1,\ |y_2-b\,y_1^2|\le 1\}",
            source=SRC + "; the change of variables formula for the explicit pair",
            prover=_prove_pushforward,
            steps=(Step("det DT = cosh x1 and sqrt(1 + sinh^2 x1) = cosh x1; T2 - b T1^2 = x2 maps |x2| <= 1 onto the "
                        "band of the banana."),),
        ),
        Result(
            id="flows.kr.gaussian_banana",
            title="The Gaussian banana: KR map of N(0, I) is a pure shear, and it pushes N(0, I) to the banana",
            topic=TOPIC,
            statement=r"T_G(x) = (x_1,\ x_2 + b(x_1^2-1)),\quad \nu_G(T_G(x))\det DT_G(x) = \varphi(x_1)\varphi(x_2),"
                      r"\quad \nu_G(y) = \varphi(y_1)\,\varphi(y_2 - b(y_1^2-1))",
            source=SRC + "; the classical banana target",
            prover=_prove_gaussian_banana,
            steps=(Step("T_G is triangular with dT1/dx1 = dT2/dx2 = 1: the KR map of N(0, I) onto nu_G, with a trivial "
                        "compressible factor; only the shear x2 += b(x1^2 - 1) is realised (K + 2 pieces, two-sided)."),),
        ),
        Result(
            id="flows.perceptron.exact",
            title="Closed-form flows of the perceptron pieces (aligned: exponential scaling; shear: invariant ridge)",
            topic=TOPIC,
            statement=r"\dot x = w\,\sigma(\langle a,x\rangle+c)\,e:\quad a=\alpha e \Rightarrow z(t) = z_0e^{\alpha wt}"
                      r"\ (z=\alpha\langle e,x\rangle+c>0);\quad a\perp e\Rightarrow x(t) = x_0 + tw\,\sigma(\langle a,x_0\rangle+c)\,e",
            source=SRC + " (the compressible part realised exactly; shear flows)",
            prover=_prove_pieces,
            steps=(
                Step("Aligned piece: z = alpha <e, x> + c obeys dz/dt = alpha w relu(z); z = 0 is an equilibrium, so a "
                     "trajectory keeps its sign and z(t) = z0 e^{alpha w t} on z0 > 0. The time-tau map is increasing "
                     "and piecewise linear along e: the gradient of a convex function."),
                Step("Shear piece: d<a, x>/dt = w relu(.) <a, e> = 0, so the velocity is constant along each trajectory."),
                Step("Composition: K+1 aligned pieces realise any increasing piecewise-linear profile with K intervals "
                     "(scaling about the first node, one slope ratio per interior node at its current image, one "
                     "translation); K+1 shear pieces realise any piecewise-linear shear profile."),
            ),
        ),
        Result(
            id="transport.field_sensitivity",
            title="Derivative of the attention average with respect to one atom of its measure",
            topic=TOPIC,
            statement=r"A(x) = \frac{\sum_j w_je^{\beta\langle x,y_j\rangle}y_j}{\sum_j w_je^{\beta\langle x,y_j\rangle}},\quad"
                      r"\partial_{y_j}A = p_j\big(I + \beta\,(y_j - A)\,x^\top\big),\quad p_j = \frac{w_je^{\beta\langle x,y_j\rangle}}"
                      r"{\sum_k w_ke^{\beta\langle x,y_k\rangle}};\qquad |v[\mu](x)-v[\nu](x)|\le" + latex(field_lipschitz_constant())
                      + r"\sum_j w_j|y_j-y'_j|",
            source=SRC_TR + "; the SA field of arXiv 2312.10794 driven by a weighted empirical measure",
            prover=_prove_sensitivity,
            steps=(
                Step("Differentiate the numerator and the partition function Z in y_j: d(w_j e^{beta<x,y_j>} y_j) = "
                     "w_j e^{beta<x,y_j>}(I + beta y_j x^T), dZ = w_j e^{beta<x,y_j>} beta x^T."),
                Step("Bound along the chord y_j(s) = y_j + s(y'_j - y_j) (inside the unit ball, so <x, y> in [-1, 1]): "
                     "p_j <= w_j e^{2|beta|}, |y_j - A| <= 2, |x| = 1; integrate in s and apply the contraction P_x.",
                     r"|A_\mu(x) - A_\nu(x)|\le\sum_j w_je^{2|\beta|}(1+2|\beta|)\,|y_j-y'_j|"),
                Step("Consequence (the first-order ingredient of the continuity of mu -> Phi_t^mu): the velocity fields "
                     "of mu and nu differ uniformly in x by at most L(beta) times the cost of the pairing; Grönwall then "
                     "bounds sup_x |Phi_t^mu - Phi_t^nu| by a constant times W-distances of the pairing."),
            ),
            notes="Checked numerically by the claim transport.field_lipschitz (sup over probes of the field gap "
                  "against L(beta) times the pairing cost); the measured ratios of the flow maps are in the claims "
                  "transport.continuity and transport.lipschitz_ratio. The derivative identity is proved for the "
                  "listed sizes (n atoms, dimension d), not for general n, d.",
        ),
        Result(
            id="flows.interpolation.sharp",
            title="Piecewise-linear interpolation error M Delta^2 / 8 is attained by quadratics",
            topic=TOPIC,
            statement=r"|f''|\le M \Rightarrow \|f - I_\Delta f\|_\infty\le \frac{M\Delta^2}{8},\ "
                      r"\text{with equality for } f = \tfrac M2 s^2",
            source="classical interpolation error bound (Rolle's theorem), used for the a-priori bound of the "
                   "flows.kr_rate claim",
            prover=_prove_interpolation,
            steps=(Step("The bound itself is the classical f - I f = f''(xi) s (s - Delta) / 2; proved here is its "
                        "sharpness (the quadratic case), so the K^{-2} rate of the construction cannot be improved "
                        "for profiles with f'' != 0."),),
            notes="With K uniform intervals on [-1, 1] (Delta = 2/K), the perceptron flow of 2(K+1) pieces realises "
                  "T_K = (h_K(x_1), x_2 + m_K(x_1)) exactly, so sup |T_K - T| <= (Delta^2 / 8) sqrt(max|h''|^2 + "
                  "max|m''|^2): an error O(N^{-2}) in the number N of pieces. The abstract of arXiv 2602.08606 states "
                  "no rate; its general construction (Lagrange interpolant, permutations, shear flows) and the Maurey "
                  "construction for KR maps are not implemented here.",
        ),
    ]
