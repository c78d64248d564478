r"""Energy helpers of the ``energy.*`` and ``multihead.*`` checks (plain NumPy, independent of the kernels).

Particle normalisation (``derivations/energy.md``, energy.dissipation.*),

.. math:: E = \frac{1}{2\beta}\sum_{i,j=1}^n e^{\beta\langle x_i, A x_j\rangle},\qquad
          A = I\ (\text{SA, USA}),\quad A = V = Q^\top K = V^\top\ (\text{Q, K, V}),

and the mean-field normalisation :math:`E_\beta(\mu)=\frac{1}{2\beta n^2}\sum_{i,j}e^{\beta\langle x_i,x_j\rangle}`
for the variations (energy.variation.*) and the bounds (energy.uniform, energy.dirac).

Derivatives are finite differences of *energy increments* computed without cancellation,

.. math:: E(x+\delta)-E(x) = \frac{1}{2\beta}\sum_{i,j} e^{\beta s_{ij}}\,
          \operatorname{expm1}\bigl(\beta\,\Delta s_{ij}\bigr),\qquad
          \Delta s_{ij} = \langle\delta_i,Ax_j\rangle+\langle x_i,A\delta_j\rangle+\langle\delta_i,A\delta_j\rangle,

with the displacement :math:`\delta` itself formed without cancellation (:func:`sphere_curve_delta`,
:func:`geodesic_delta`), so a finite difference of step :math:`h` has rounding error
:math:`O(\varepsilon)` relative to the derivative.

References
----------
arXiv:2312.10794 §3 (energy, gradient flow), arXiv:2512.01868 (mean-field energy, USA);
``derivations/energy.md`` (dissipation identities, bounds, first and second variation).
"""

from __future__ import annotations

import functools
import math

import mpmath
import numpy as np
import sympy as sp
from scipy.integrate import quad

from attnflow.numerics._reference import project
from attnflow.properties.strategies import random_orthogonal, regular_simplex

__all__ = [
    "random_tangent",
    "particle_energy",
    "energy_increment",
    "sphere_curve_delta",
    "geodesic_delta",
    "central_first",
    "central_second",
    "dissipation_formula",
    "qkv_energy_rate",
    "variation_first",
    "variation_second_printed",
    "variation_second_corrected",
    "fd_rate_along_field",
    "DISS_TOL",
    "diss_round_off",
    "round_off_slack",
    "general_qkv_search",
    "N_LAYER_STEPS",
    "discrete_layer_energies",
    "largest_safe_step",
    "variation_scales",
    "fd_variation",
    "log_uniform_mean_bessel",
    "log_uniform_mean_quad",
    "probe_measure",
]


EPS = float(np.finfo(float).eps)


def _check_xa(x, a) -> tuple[np.ndarray, np.ndarray]:
    x = np.asarray(x, dtype=float)
    if x.ndim != 2 or x.shape[0] < 1 or x.shape[1] < 1:
        raise ValueError(f"x: expected an (n, d) array of points, got shape {x.shape}")
    if not np.all(np.isfinite(x)):
        raise ValueError("x: contains NaN or inf")
    d = x.shape[1]
    a = np.eye(d) if a is None else np.asarray(a, dtype=float)
    if a.shape != (d, d) or not np.all(np.isfinite(a)):
        raise ValueError(f"A: expected a finite ({d}, {d}) matrix matching x, got shape {a.shape}")
    return x, a


def particle_energy(x, beta: float, A=None) -> float:
    r"""Particle-normalised interaction energy with bilinear form :math:`A` (plain NumPy):

    .. math:: E = \frac{1}{2\beta}\sum_{i,j} e^{\beta\langle x_i,Ax_j\rangle}
              = \frac{e^{\beta m}}{2\beta}\sum_{i,j} e^{\beta(\langle x_i,Ax_j\rangle-m)},\quad
              m=\max_{ij}\langle x_i,Ax_j\rangle .

    ``A = None`` means the identity (SA, USA); :math:`A=V=Q^\top K` for the Q, K, V row; for general
    Q, K this is the energy :math:`\frac1{2\beta}\sum e^{\beta\langle Qx_i,Kx_j\rangle}` with :math:`A=Q^\top K`.

    References
    ----------
    arXiv:2312.10794 §3; particle normalisation: ``derivations/energy.md``.
    """
    x, a = _check_xa(x, A)
    if beta == 0:
        raise ValueError("beta: the energy needs beta != 0")
    s = x @ a @ x.T
    m = float(s.max())
    return math.exp(beta * m) / (2.0 * beta) * float(np.exp(beta * (s - m)).sum())


def energy_increment(x, delta, beta: float, A=None) -> float:
    r""":math:`E(x+\delta)-E(x)` for the particle energy, computed without cancellation:

    .. math:: E(x+\delta)-E(x) = \frac{1}{2\beta}\sum_{i,j} e^{\beta s_{ij}}\operatorname{expm1}(\beta\Delta s_{ij}),
              \quad s_{ij}=\langle x_i,Ax_j\rangle,\ 
              \Delta s_{ij}=\langle\delta_i,Ax_j\rangle+\langle x_i,A\delta_j\rangle+\langle\delta_i,A\delta_j\rangle .

    Parameters
    ----------
    x, delta : (n, d) arrays
        Base points and displacement (``x + delta`` need not be unit: the formula is exact for any).
    beta : float
        Nonzero inverse temperature.
    A : (d, d) array, optional
        Bilinear form (identity if omitted).

    References
    ----------
    ``derivations/energy.md`` (energy; dissipation and variations, checked by finite differences along curves).
    """
    x, a = _check_xa(x, A)
    delta = np.asarray(delta, dtype=float)
    if delta.shape != x.shape or not np.all(np.isfinite(delta)):
        raise ValueError(f"delta: expected a finite array of shape {x.shape}, got {delta.shape}")
    if beta == 0:
        raise ValueError("beta: the energy needs beta != 0")
    s = x @ a @ x.T
    ax, ad = x @ a.T, delta @ a.T  # rows A x_j, A delta_j
    ds = delta @ ax.T + x @ ad.T + delta @ ad.T
    m = float(s.max())
    return math.exp(beta * m) / (2.0 * beta) * float((np.exp(beta * (s - m)) * np.expm1(beta * ds)).sum())


def sphere_curve_delta(x, v, h: float) -> np.ndarray:
    r"""Displacement of the retracted line :math:`c_i(h)=\operatorname{normalise}(x_i+hv_i)` for tangent :math:`v_i\perp x_i`:

    .. math:: c_i(h)-x_i = \Bigl(\frac1{r_i}-1\Bigr)x_i+\frac{h}{r_i}v_i,\quad r_i=\sqrt{1+h^2|v_i|^2},\quad
              \frac1{r_i}-1=-\frac{h^2|v_i|^2}{r_i(1+r_i)} .

    Since :math:`c'(0)=v`, :math:`\frac{d}{dh}E(c(h))|_{0}=\langle\nabla E,v\rangle`.  ``v`` is first
    replaced by its tangent part :math:`v_i-\langle x_i,v_i\rangle x_i/|x_i|^2`: a field evaluated in
    floating point carries a normal component of order :math:`\varepsilon|\sum_jA_{ij}x_j|`, which would
    otherwise move the curve off the sphere at first order and feed the large diagonal terms
    :math:`e^{\beta}` of the energy into the derivative.

    References
    ----------
    arXiv:2312.10794 (normalised residual layer; interaction energy).
    """
    x = np.asarray(x, dtype=float)
    v = np.asarray(v, dtype=float)
    v = v - (np.sum(x * v, axis=1, keepdims=True) / np.sum(x * x, axis=1, keepdims=True)) * x
    a2 = np.sum(v * v, axis=1, keepdims=True)
    r = np.sqrt(1.0 + h * h * a2)
    return (-(h * h * a2) / (r * (1.0 + r))) * x + (h / r) * v


def geodesic_delta(x, v, s: float) -> np.ndarray:
    r"""Displacement of the geodesic push-forward :math:`T_s x_i = \cos(s|v_i|)x_i+\sin(s|v_i|)v_i/|v_i|`:

    .. math:: T_sx_i-x_i = -2\sin^2\!\bigl(\tfrac{s|v_i|}{2}\bigr)x_i+\frac{\sin(s|v_i|)}{|v_i|}v_i
              \quad(\text{and }0\text{ if }v_i=0).

    References
    ----------
    ``derivations/energy.md`` (energy.variation.*: geodesic push-forward).
    """
    x = np.asarray(x, dtype=float)
    v = np.asarray(v, dtype=float)
    a = np.linalg.norm(v, axis=1, keepdims=True)
    safe = np.where(a > 0, a, 1.0)
    sinc = np.where(a > 0, np.sin(s * a) / safe, s)
    return -2.0 * np.sin(0.5 * s * a) ** 2 * x + sinc * v


def central_first(f, h: float) -> float:
    r"""Fourth-order central difference for :math:`f'(0)`:

    .. math:: f'(0)\approx\frac{8(f(h)-f(-h))-(f(2h)-f(-2h))}{12h},\quad\text{error } \tfrac{h^4}{30}f^{(5)} .

    References
    ----------
    Fornberg, Math. Comp. 51 (1988), Table 1.
    """
    return (8.0 * (f(h) - f(-h)) - (f(2 * h) - f(-2 * h))) / (12.0 * h)


def central_second(f, h: float) -> float:
    r"""Fourth-order central difference for :math:`f''(0)` of a function with :math:`f(0)=0`:

    .. math:: f''(0)\approx\frac{16(f(h)+f(-h))-(f(2h)+f(-2h))-30f(0)}{12h^2},\quad
              \text{error } \tfrac{h^4}{90}f^{(6)} .

    References
    ----------
    Fornberg, Math. Comp. 51 (1988), Table 1.
    """
    return (16.0 * (f(h) + f(-h)) - (f(2 * h) + f(-2 * h))) / (12.0 * h * h)


def dissipation_formula(x, xdot, beta: float, A=None, mean: bool = False) -> float:
    r"""Right side of the dissipation identity (``derivations/energy.md``), plain NumPy:

    .. math:: \mathcal D = \sum_i Z_i\|\dot x_i\|^2,\ Z_i=\sum_k e^{\beta\langle x_i,Ax_k\rangle}\ (\text{SA, Q,K,V}),\qquad
              \mathcal D = n\sum_i\|\dot x_i\|^2\ (\text{USA: } \texttt{mean=True}).

    References
    ----------
    derivations/energy.md (the dissipation identities).
    """
    x, a = _check_xa(x, A)
    sq = np.sum(np.asarray(xdot, dtype=float) ** 2, axis=1)
    if mean:  # the mean (1/n) normalisation of USA
        return float(x.shape[0] * sq.sum())
    z = np.exp(beta * (x @ a @ x.T)).sum(axis=1)
    return float(np.sum(z * sq))


def qkv_energy_rate(x, Q, K, V, beta: float) -> np.ndarray:
    r"""Instantaneous :math:`\frac{d}{dt}E` of :math:`E=\frac1{2\beta}\sum_{i,j}e^{\beta\langle Qx_i,Kx_j\rangle}`
    along the general Q, K, V field, for a batch of configurations (plain NumPy):

    .. math:: \frac{dE}{dt}=\sum_i\Bigl\langle \dot x_i,\ \tfrac12\sum_j\bigl(w_{ij}Q^\top Kx_j+w_{ji}K^\top Qx_j\bigr)\Bigr\rangle,\quad
              w_{ij}=e^{\beta\langle Qx_i,Kx_j\rangle},\quad
              \dot x_i=P_{x_i}\frac{\sum_j w_{ij}Vx_j}{\sum_k w_{ik}} .

    Parameters
    ----------
    x : (B, n, d) or (n, d) array
    Q, K, V : (d, d) arrays

    Returns
    -------
    ndarray of shape (B,) (or a 0-d array for one configuration)

    References
    ----------
    arXiv:2312.10794 (Q, K, V field; a gradient flow only for Q^T K = V = V^T).
    """
    x = np.asarray(x, dtype=float)
    single = x.ndim == 2
    xb = x[None] if single else x
    s = beta * np.einsum("bid,bjd->bij", xb @ Q.T, xb @ K.T)
    m = s.max(axis=(1, 2), keepdims=True)
    w = np.exp(s - m)  # common shift per configuration: rescales dE/dt by a positive factor
    att = w / w.sum(axis=2, keepdims=True)
    f = att @ (xb @ V.T)
    xd = f - np.sum(f * xb, axis=2, keepdims=True) * xb
    g = 0.5 * (w @ (xb @ (Q.T @ K).T) + np.swapaxes(w, 1, 2) @ (xb @ (K.T @ Q).T))
    rate = np.sum(g * xd, axis=(1, 2)) * np.exp(m[:, 0, 0])
    return rate[0] if single else rate


@functools.lru_cache(maxsize=None)
def _stated_variation_integrands():
    r"""The package's stated integrands :math:`I_1(x, y)`, :math:`I_2(x, y)` of the first and second
    variation (:func:`attnflow.symbolic.energy.variation_kernels`, the statements its proofs check),
    lambdified in :math:`\beta` and the pair inner products
    :math:`\langle x,y\rangle, \langle a,y\rangle, \langle b,x\rangle, \langle a,b\rangle, |a|^2, |b|^2`
    (``a = v(x)``, ``b = v(y)``)."""
    from attnflow.symbolic.energy import variation_kernels

    _k1, _k2, (i1, _), (i2, _), _sphere, space = variation_kernels()
    named = {s.name: s for s in space.symbols()}
    names = ("<x,y>", "<a,y>", "<b,x>", "<a,b>", "<a,a>", "<b,b>")
    args = [named.get(k, sp.Dummy()) for k in names]
    b = next((s for s in (i1.free_symbols | i2.free_symbols) if s.name == "beta"), sp.Dummy())
    return (sp.lambdify([b, *args], i1, "numpy"), sp.lambdify([b, *args], i2, "numpy"))


def _stated_variation(x, v, beta: float, order: int) -> float:
    x, v = np.asarray(x, float), np.asarray(v, float)
    n = x.shape[0]
    g = x @ x.T
    a = v @ x.T  # a_ij = <v_i, x_j> = <a, y> for the pair (x, y) = (x_i, x_j)
    vv = np.sum(v * v, axis=1)
    f = _stated_variation_integrands()[order - 1]
    val = f(float(beta), g, a, a.T, v @ v.T, vv[:, None] + 0.0 * g, vv[None, :] + 0.0 * g)
    return float(np.sum(np.broadcast_to(val, g.shape))) / n**2


def variation_first(x, v, beta: float) -> float:
    r"""First variation of the mean-field energy along the geodesic push-forward (energy.variation.first):

    .. math:: \frac{d}{ds}E_\beta(T_s\#\mu)\Big|_{s=0}=\iint e^{\beta\langle x,y\rangle}\langle v(x),y\rangle\,d\mu\,d\mu
              =\frac1{n^2}\sum_{i,j}e^{\beta\langle x_i,x_j\rangle}\langle v_i,x_j\rangle ,

    evaluated from the package's stated integrand (:func:`attnflow.symbolic.energy.variation_kernels`,
    lambdified), not a retyped copy.

    References
    ----------
    arXiv:2312.10794 §3 (first variation :math:`\beta^{-1}Z_\mu`); ``derivations/energy.md``.
    """
    return _stated_variation(x, v, beta, 1)


def variation_second_printed(x, v, beta: float) -> float:
    r"""Second variation as stated in ``derivations/energy.md`` (derived, Q = K = V = I):

    .. math:: \frac{d^2}{ds^2}E_\beta(T_s\#\mu)\Big|_{0}=\iint e^{\beta\langle x,y\rangle}\bigl[\beta\langle v(x),y\rangle^2
              -\langle x,y\rangle|v(x)|^2+\beta\langle v(x),y\rangle\langle v(y),x\rangle+\langle v(x),v(y)\rangle\bigr]d\mu\,d\mu ,

    evaluated from the package's stated integrand (:func:`attnflow.symbolic.energy.variation_kernels`,
    lambdified), not a retyped copy.

    References
    ----------
    ``derivations/energy.md`` (energy.variation.second).
    """
    return _stated_variation(x, v, beta, 2)


def variation_second_corrected(x, v, beta: float) -> float:
    r"""Second variation differentiated twice by hand, in the unsymmetrised form (an independent check of energy.variation.second):

    with :math:`g_{ij}(s)=\langle T_sx_i,T_sx_j\rangle`, :math:`g'=\langle v_i,x_j\rangle+\langle x_i,v_j\rangle`,
    :math:`g''=2\langle v_i,v_j\rangle-(|v_i|^2+|v_j|^2)g_{ij}` (because :math:`(T_sx_i)''(0)=-|v_i|^2x_i`),

    .. math:: \frac{d^2}{ds^2}E_\beta(T_s\#\mu)\Big|_0=\frac{1}{2\beta n^2}\sum_{i,j}e^{\beta g_{ij}}
              \bigl(\beta^2 g_{ij}'^2+\beta g_{ij}''\bigr).

    Symmetrising in :math:`i\leftrightarrow j` gives the printed integrand; this unsymmetrised form is
    an independent evaluation of the same derivative.

    References
    ----------
    ``derivations/energy.md`` (energy.variation.second).
    """
    x, v = np.asarray(x, float), np.asarray(v, float)
    n = x.shape[0]
    g = x @ x.T
    a = v @ x.T
    vv = np.sum(v * v, axis=1)
    g1 = a + a.T
    g2 = 2.0 * (v @ v.T) - (vv[:, None] + vv[None, :]) * g
    return float(np.sum(np.exp(beta * g) * (beta**2 * g1**2 + beta * g2))) / (2.0 * beta * n**2)


def fd_rate_along_field(x, xdot, beta, A=None):
    """4th-order central difference of h -> E(normalise(x + h xdot)) at 0 (accurate increments)."""
    speed = float(np.max(np.linalg.norm(xdot, axis=1)))
    scale = max(1.0, beta * speed * (1.0 if A is None else float(np.linalg.norm(A, 2))), speed)
    h = 1e-3 / scale
    return central_first(lambda t: energy_increment(x, sphere_curve_delta(x, xdot, t), beta, A), h), h


DISS_TOL = 1e-9


def diss_round_off(xdot, beta: float, energy: float, norm_a: float = 1.0) -> float:
    r"""Round-off floor of the finite-difference rate :math:`\frac{d}{dh}E(c(h))`:

    .. math:: \rho = 64\,\varepsilon\,(1+\beta\|A\|)\,\max_i|\dot x_i|\,|E| .

    Each inner-product change :math:`\Delta s_{ij}` carries an absolute error
    :math:`\sim\varepsilon\|A\||\delta|\le\varepsilon\|A\|h\max|\dot x|`, weighted by
    :math:`e^{\beta s_{ij}}`, whose sum is :math:`2\beta E`; the difference quotient divides by
    :math:`h` with weights summing to 18/12.  It matters only near stationary configurations,
    where :math:`\mathcal D/E` is below about :math:`10^{-7}`.

    References
    ----------
    Higham, *Accuracy and Stability of Numerical Algorithms*, §3 (inner products).
    """
    speed = float(np.max(np.linalg.norm(np.asarray(xdot, dtype=float), axis=-1)))
    return 64.0 * EPS * (1.0 + beta * norm_a) * speed * abs(energy)


MONO_FLOOR = 64.0


def round_off_slack(e) -> np.ndarray:
    r"""Round-off allowance for comparing consecutive energies :math:`E_k` (kernel log-sum-exp then exp):

    .. math:: s_k = 64\,(1+|\log|E_k||)\,\varepsilon\,|E_k| ,

    since :math:`E=e^{L}` with :math:`L` a log-sum-exp carrying an absolute error of a few
    :math:`(|L|+1)\varepsilon`, and the sum itself a few ulps more.

    References
    ----------
    Higham, *Accuracy and Stability of Numerical Algorithms*, §4 (summation), §1.12 (exp).
    """
    e = np.abs(np.asarray(e, dtype=float))
    return MONO_FLOOR * (1.0 + np.abs(np.log(e))) * EPS * e


def general_qkv_search(ex):
    r"""Draw Gaussian :math:`Q, K, V\sim N(0, 1/d)` and ``batch`` uniform starts; return the start
    minimising :math:`\dot E/E` (:func:`qkv_energy_rate`), as ``(Q, K, V, x, rate, E)``.

    References
    ----------
    arXiv:2312.10794 (gradient flow only for Q^T K = V = V^T); general Q, K, V is a negative control.
    """
    rng = np.random.default_rng(ex["seed"])
    n, d, beta = ex["n"], ex["d"], ex["beta"]
    Q, K, V = rng.standard_normal((3, d, d)) / math.sqrt(d)
    x = rng.standard_normal((ex["batch"], n, d))
    x /= np.linalg.norm(x, axis=2, keepdims=True)
    rates = qkv_energy_rate(x, Q, K, V, beta)
    scales = np.array([particle_energy(xb, beta, Q.T @ K) for xb in x])
    b = int(np.argmin(rates / scales))
    return Q, K, V, x[b], float(rates[b]), float(scales[b])


H_GRID = np.geomspace(1e-3, 100.0, 49)
N_LAYER_STEPS = 5


def _np_field(model):
    from attnflow.numerics._reference import velocity_ref

    return lambda x, beta: velocity_ref(x, model, beta)


def discrete_layer_energies(x, beta: float, h: float, steps: int = N_LAYER_STEPS, model: str = "sa") -> np.ndarray:
    r"""Energies :math:`E(x^{(0)}),\dots,E(x^{(k)})` of the discrete layer (arXiv:2312.10794)

    .. math:: x^{(k+1)}_i=\frac{x^{(k)}_i+hF_i(x^{(k)})}{|x^{(k)}_i+hF_i(x^{(k)})|},

    :math:`F` the SA (or USA) field (plain NumPy reference fields), :math:`E` the particle energy.

    References
    ----------
    arXiv:2312.10794 (discrete layer; time-discrete monotonicity is a property to search).
    """
    f = _np_field(model)
    y = np.asarray(x, dtype=float)
    out = [particle_energy(y, beta)]
    for _ in range(steps):
        y = y + h * f(y, beta)
        y = y / np.linalg.norm(y, axis=1, keepdims=True)
        out.append(particle_energy(y, beta))
    return np.array(out)


def _layer_safe(x, beta, h, model, steps=N_LAYER_STEPS) -> bool:
    e = discrete_layer_energies(x, beta, h, steps, model)
    return bool(np.all(np.diff(e) >= -round_off_slack(e[:-1])))


def largest_safe_step(x, beta: float, model: str = "sa", steps: int = N_LAYER_STEPS, grid=H_GRID,
                      bisections: int = 12) -> float:
    r"""Largest step :math:`h^*` such that every grid step :math:`h\le h^*` keeps :math:`E` non-decreasing
    over ``steps`` layers from ``x``, refined by bisection between the last safe and first unsafe grid point:

    .. math:: h^* = \sup\{h:\ E(x^{(k+1)})\ge E(x^{(k)})-64\varepsilon|E(x^{(k)})|,\ k<\texttt{steps},
              \ \text{for all grid } h'\le h\} .

    Returns ``inf`` if every grid step (up to 100) is safe.

    References
    ----------
    No source gives a safe step size: a property to search (arXiv:2312.10794, discrete layer).
    """
    lo = None
    for h in grid:
        if _layer_safe(x, beta, h, model, steps):
            lo = h
            continue
        if lo is None:
            return 0.0
        hi = h
        for _ in range(bisections):
            mid = math.sqrt(lo * hi)
            if _layer_safe(x, beta, mid, model, steps):
                lo = mid
            else:
                hi = mid
        return float(lo)
    return math.inf


def variation_scales(x, v, beta):
    """Absolute size of the integrands (denominators of the relative errors; no cancellation)."""
    n = x.shape[0]
    w = np.exp(beta * (x @ x.T))
    a = np.linalg.norm(v, axis=1)
    s1 = float(np.sum(w * a[:, None])) / n**2
    s2 = float(np.sum(w * ((1 + beta) * a[:, None] ** 2 + (1 + beta) * np.outer(a, a)))) / n**2
    return s1, s2


def fd_variation(x, v, beta, order):
    n = x.shape[0]
    speed = float(np.max(np.linalg.norm(v, axis=1)))
    h = 1e-3 / max(1.0, speed * (1.0 + beta))

    def f(s):
        return energy_increment(x, geodesic_delta(x, v, s), beta) / n**2

    return (central_first(f, h) if order == 1 else central_second(f, h)), h


@functools.lru_cache(maxsize=None)
def _uniform_energy():
    """The package's closed form :func:`attnflow.symbolic.energy.uniform_energy_closed_form` at symbolic
    ``(d, beta)``, lambdified for mpmath (arbitrary exponent range: no overflow at large beta)."""
    from attnflow.symbolic import energy as SE

    return sp.lambdify((SE.d, SE.beta), SE.uniform_energy_closed_form(SE.d, SE.beta), "mpmath")


def log_uniform_mean_bessel(beta: float, d: int) -> float:
    r""":math:`\log \mathbb E_{x,y\sim\sigma}e^{\beta\langle x,y\rangle} = \log\bigl(2\beta\,E_\beta(\sigma)\bigr)` with
    :math:`E_\beta(\sigma)=\frac1{2\beta}\Gamma(\tfrac d2)(\tfrac2\beta)^{d/2-1}I_{d/2-1}(\beta)` the package's stated
    closed form (:func:`attnflow.symbolic.energy.uniform_energy_closed_form`, evaluated in mpmath at 30 digits).

    References
    ----------
    Standard fact: the law of :math:`\langle x,y\rangle`; ``derivations/energy.md`` (energy.uniform).
    """
    with mpmath.workdps(30):
        e = _uniform_energy()(mpmath.mpf(int(d)), mpmath.mpf(beta))
        return float(mpmath.log(2 * mpmath.mpf(beta) * e))


def log_uniform_mean_quad(beta: float, d: int) -> float:
    r"""The same quantity by quadrature over :math:`u=\langle x,y\rangle` with density
    :math:`\propto(1-u^2)^{(d-3)/2}` (QUADPACK algebraic-weight rule, endpoint singularities exact):

    .. math:: \log\frac{\int_{-1}^1 e^{\beta u}(1-u^2)^{(d-3)/2}du}{\int_{-1}^1 (1-u^2)^{(d-3)/2}du}.

    References
    ----------
    ``derivations/energy.md`` (energy.uniform: law of :math:`\langle x,y\rangle` for iid uniform points).
    """
    a = (d - 3) / 2.0
    kw = dict(weight="alg", wvar=(a, a), epsabs=0.0, epsrel=1e-13, limit=200)
    num, _ = quad(lambda u: math.exp(beta * (u - 1.0)), -1.0, 1.0, **kw)
    den, _ = quad(lambda u: 1.0, -1.0, 1.0, **kw)
    return math.log(num / den) + beta


def probe_measure(kind: str, n: int, d: int, rng: np.random.Generator) -> np.ndarray:
    if kind == "iid":
        x = rng.standard_normal((n, d))
    elif kind == "cap":  # clustered around one point
        x = rng.standard_normal(d) + 0.3 * rng.standard_normal((n, d))
    elif kind == "polygon":  # regular n-gon on a great circle
        ang = 2 * np.pi * np.arange(n) / n
        x = np.zeros((n, d))
        x[:, 0], x[:, 1] = np.cos(ang), np.sin(ang)
        x = x @ random_orthogonal(rng, d).T
    elif kind == "simplex":
        x = regular_simplex(min(max(n, 2), d + 1), d, rng=rng)
    elif kind == "cross":  # +-e_k, k < min(d, n): vanishing first moment and isotropic if k = d
        k = max(1, min(d, n // 2))
        e = np.eye(d)[:k]
        x = np.vstack([e, -e]) @ random_orthogonal(rng, d).T
    else:
        raise ValueError(f"kind: unknown measure kind {kind!r}")
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def random_tangent(rng, x, scale):
    r"""Gaussian tangent vectors :math:`s\,P_{x_i}g_i`, :math:`g_i\sim N(0, I_d)`, at every row of ``x``."""
    return scale * project(x, rng.standard_normal(x.shape))
