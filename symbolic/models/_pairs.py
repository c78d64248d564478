r"""The per-pair and per-row scalar expressions of a declaration, as the kernels evaluate them.

:func:`kernel_expressions` turns a declaration into ``{variable: SymPy expression}`` in evaluation
order; the code generator prints exactly these (with CSE) into the kernel templates, and their
hash is written into the generated file's header.  Variables:

``s`` (circle only)
    the score :math:`\cos(\theta_i-\theta_j)`, derived from the embedding (``dl`` = :math:`\theta_i-\theta_j`);
``v`` (circle only)
    the projected value :math:`-\sin(\theta_i-\theta_j)`, derived from the embedding;
``p`` (causal only)
    the position weight :math:`p(g)`;
``l``, ``w``
    for an exponential weight :math:`w = Ce^{L(s)}`: the logit :math:`l = L(s)` and the shifted
    weight :math:`Ce^{l-m}` (``m`` the row shift: the running maximum of ``l``); otherwise only
    ``w`` = :math:`w(s)`, evaluated unshifted in its stable form (a bounded weight such as the
    logistic needs no shift; under ``"softmax"`` a row is 0/0 only if all its weights underflow,
    e.g. the logistic with :math:`\beta s + b < -745` for every pair);
``f``
    the row factor of the normalisation: :math:`1/z` (softmax, ``z`` the row sum of weights; the
    causal row sum of position weights), :math:`e^{m}/n` or :math:`1/n` (mean);
``h``
    the perceptron activation :math:`\sigma(u)`;
``cA``, ``cH``, ``cX``
    the coefficients of the output map :math:`\Phi = c_A A + c_H H + c_X X` (functions of the inner
    products ``XA``, ``AA``, ... and ``t``);
``le``, ``we``, ``ce`` (energies of exponential form :math:`F = c_e e^{L_e(s)}`) or ``F``
    the pair energy, in shifted log-sum-exp form when possible.

References: derivations/energy.md (energies); the module docstring of
:mod:`attnflow.symbolic.models._declaration` (the equations).
"""

from __future__ import annotations

import sympy as sp

from attnflow.symbolic.models import _symbols as S
from attnflow.symbolic.models._declaration import CircleModel, Model, SphereModel

__all__ = ["kernel_expressions", "kernel_variants", "output_coefficients", "circle_inner_product",
           "circle_tangent_component"]


def circle_inner_product() -> sp.Expr:
    r""":math:`\langle x_i, x_j\rangle` for :math:`x=(\cos\theta,\sin\theta)`, simplified to a function of ``dl``."""
    e = sp.cos(S.ti) * sp.cos(S.tj) + sp.sin(S.ti) * sp.sin(S.tj)
    return sp.simplify(sp.trigsimp(e)).subs(S.ti, S.dl + S.tj)


def circle_tangent_component() -> sp.Expr:
    r""":math:`\langle e_i, x_j\rangle`, :math:`e_i=(-\sin\theta_i,\cos\theta_i)`: the angular component of :math:`P_{x_i}x_j`."""
    e = -sp.sin(S.ti) * sp.cos(S.tj) + sp.cos(S.ti) * sp.sin(S.tj)
    return sp.simplify(sp.trigsimp(e)).subs(S.ti, S.dl + S.tj)


def kernel_variants(model: Model) -> dict[str, str]:
    """``{kernel name: normalisation mode}``: one kernel per normalisation the model can select."""
    modes = model.normalization_modes()
    if None in modes:
        return {model.name: modes[None]}
    return {f"{model.name}_{choice}": mode for choice, mode in modes.items()}


def output_coefficients(model: SphereModel) -> dict[str, sp.Expr]:
    """``{"cA": ..., "cH": ..., "cX": ...}``: the output map as a combination of its vectors."""
    out = sp.expand(model.output)
    coeffs = {}
    for name, vec in (("cA", S.A), ("cH", S.H), ("cX", S.X)):
        c = sp.simplify(out.coeff(vec))
        if c != 0:
            coeffs[name] = c
    return coeffs


def _scaled_exp_form(weight: sp.Expr) -> tuple[sp.Expr, sp.Expr] | None:
    r"""``(C, L)`` with :math:`w = C(s)\,e^{L(s)}` and no exponential of ``s`` in ``C``, or None.

    A weight such as :math:`(1+s)e^{\beta s}` is not of the pure form :math:`Ce^{L}` that
    :meth:`~attnflow.symbolic.models.Model.pair_weight` recognises (and the blocked BLAS path
    needs), but it is still evaluated shifted, :math:`C(s)e^{l-m}`, so that it does not overflow
    at large :math:`\beta`.
    """
    factors = sp.Mul.make_args(sp.powsimp(weight))
    exps = [f for f in factors if isinstance(f, sp.exp) and f.has(S.s)]
    rest = sp.Mul(*[f for f in factors if not (isinstance(f, sp.exp) and f.has(S.s))])
    if len(exps) != 1 or any(isinstance(a, sp.exp) and a.has(S.s) for a in sp.preorder_traversal(rest)):
        return None
    return rest, exps[0].args[0]


def kernel_expressions(model: Model, mode: str | None = None) -> dict[str, sp.Expr]:
    """The scalar expressions of ``model``'s kernel for normalisation ``mode`` (default: the model's)."""
    mode = mode or next(iter(model.normalization_modes().values()))
    out: dict[str, sp.Expr] = {}
    weight = model.weight
    if isinstance(model, CircleModel):
        out["s"] = circle_inner_product()
        out["v"] = circle_tangent_component()
        if mode == "causal":
            out["p"] = model.position_weight
    form = model.pair_weight() or _scaled_exp_form(weight)
    shifted = form is not None and mode != "causal"
    if shifted:
        c, logit = form
        out["l"] = logit
        out["w"] = c * sp.exp(S.l - S.m)
    else:
        out["w"] = weight
    if mode in ("softmax", "causal"):
        out["f"] = 1 / S.z
    else:
        out["f"] = sp.exp(S.m) / S.n if shifted else 1 / S.n
    if isinstance(model, SphereModel):
        if model.perceptron is not None:
            out["h"] = sp.sympify(model.perceptron.activation)
        out.update(output_coefficients(model))
    energy = model.pair_energy()
    if energy is not None:
        out["le"] = energy[1]
        out["we"] = sp.exp(S.l - S.m)
        out["ce"] = energy[0]
    elif model.energy is not None:
        out["F"] = model.energy
    return out
