"""Which kernels a declaration gets, and their signatures (shared by the generator, the dispatch
of :mod:`attnflow.numerics` and the export catalogue).

:func:`kernel_plan` maps a model declaration to the generated module
``attnflow.numerics._generated.<model>`` and the kernels in it -- their names, roles, templates and
positional arguments -- without printing anything, so that the code that *calls* the kernels is
derived from the same declaration as the code that *is* the kernels.

Roles: ``velocity`` (one configuration), ``velocity_batched`` (circle: ``(P, n)`` angles, P
independent configurations), ``velocity_ensemble`` (sphere and Euclidean models: ``(B, n, d)``, B
independent systems, a loop over systems around the serial twin of ``velocity``),
``velocity_blocked`` (the BLAS path of self-attention with an exponential weight, a NumPy function),
``velocity_shifted`` (the same with an a-priori row shift, for a logit affine in the score:
:func:`apriori_shift`; a NumPy function around a vectorised numba weights pass),
``velocity_blas`` (the BLAS path of the Q/K/V and multi-head models without read-out or
perceptron: BLAS score tiles of 256 columns, a vectorised numba weights pass with the a-priori row
shift of :func:`apriori_shift` per head (rows whose weight sum underflows, and logits not affine in the
score: the exact row maximum), BLAS weighted values, all heads of a block in one driver call; a NumPy
function), ``velocity_shifted_circle`` and ``velocity_batched_shifted_circle`` (circle models whose pair term
is an exponential of a logit affine in the score: the a-priori shift in the plane embedding,
:func:`circle_shifted`, vectorised, for ``beta >= 0``), ``energy_rows`` (row sums of the pair energy) and ``energy_scale`` (its prefactor, a Python
function).  Every numba kernel except the per-token helpers has a serial twin ``<name>_serial``.
"""

from __future__ import annotations

import dataclasses

import sympy as sp

from attnflow.symbolic.models import CircleModel, Model, SphereModel, get, kernel_expressions, kernel_variants
from attnflow.symbolic.models import _symbols as S

__all__ = ["Arg", "Kernel", "KernelPlan", "kernel_plan", "RESERVED_NAMES", "ENSEMBLE_SHAPES", "SB", "apriori_shift",
           "circle_shifted", "CIRCLE_EMBEDDING"]

#: The Cauchy-Schwarz bound of the score of row i: sb_i = |x_i| max_j |x_j| >= <x_i, x_j>.
SB = sp.Symbol("sb", nonnegative=True)


def apriori_shift(logit: sp.Expr) -> sp.Expr | None:
    r"""An upper bound of the logit over a whole row, known before the row is seen, or None.

    For a logit affine in the score, :math:`l = a s + b` (``a``, ``b`` free of ``s``, ``a \ne 0``),
    Cauchy-Schwarz :math:`|s_{ij}| \le |x_i|\max_j|x_j| = sb_i` gives
    :math:`l_{ij} \le b + |a|\, sb_i` for every sign of ``a``.  For unit tokens and :math:`a \ge 0`
    (SA: :math:`l = \beta s`, :math:`\beta \ge 0`) the bound is the self logit, the row maximum.
    """
    a = sp.diff(logit, S.s)
    if a == 0 or a.has(S.s):
        return None
    b = sp.expand(logit - a * S.s)
    if b.has(S.s):  # pragma: no cover - excluded by the test on a
        return None
    return b + sp.Abs(a) * SB


#: The circle embedded in the plane, u = (cos theta, sin theta), in the differences of the two tokens'
#: coordinates (ci, si) = u_i and (dc, ds) = u_j - u_i: the score s = cos(theta_i - theta_j) = 1 - |u_j - u_i|^2 / 2
#: and the value v = -sin(theta_i - theta_j) = <u_j - u_i, u_i^perp> = ds ci - dc si.  Written in the
#: differences, both keep their accuracy for close tokens (no cancellation of 1 - cos: an error of
#: O(eps |theta_i - theta_j|) instead of O(eps)), which the weight e^{beta (s - 1)} at large beta needs.
CIRCLE_EMBEDDING = {
    "ci": sp.Symbol("ci", real=True), "si": sp.Symbol("si", real=True),
    "dc": sp.Symbol("dc", real=True), "ds": sp.Symbol("ds", real=True),
}


def circle_shifted(exprs: dict[str, sp.Expr]) -> dict[str, sp.Expr] | None:
    r"""The expressions of the a-priori-shift kernel of a circle model, or None where it has none.

    The pair term of the velocity is :math:`f\,p\,w\,v` (row factor ``f``, position weight ``p`` of
    the causal models, content weight ``w``, value ``v``; for a shifted weight ``w = e^{l - m}`` the
    product ``f w`` does not depend on the shift ``m``).  Where it is :math:`K e^{E}` with ``E`` affine
    in the score and non-increasing in the position gap ``g`` (ALiBi: :math:`-\lambda g/N`,
    :math:`\lambda \ge 0`), the shift :math:`M = E|_{g=0,\,s=1}` bounds ``E`` over the row
    (:func:`apriori_shift` with sb = 1, unit tokens, and ``beta >= 0``: the self logit), and

    .. math:: \dot	heta_i = F_i \sum_j e^{E_{ij} - M} v_{ij},\qquad F_i = K_i e^{M},

    with ``s`` and ``v`` written in the embedding :data:`CIRCLE_EMBEDDING`.  Returned: ``w`` (the
    shifted weight, to be evaluated by ``_vexp``), ``v``, ``f`` (= ``F``; ``z`` in it is the sum of the
    position weights), ``shift`` (``M``), for ``beta >= 0`` (the dispatch's condition).
    """
    if exprs.get("s") != sp.cos(S.dl) or exprs.get("v") != -sp.sin(S.dl) or "w" not in exprs or "f" not in exprs:
        return None
    total = sp.powsimp(sp.expand_power_exp((exprs["f"] * exprs.get("p", 1) * exprs["w"]).subs(S.l, exprs.get("l", S.l)).subs(S.m, 0)))
    exps = [a for a in sp.Mul.make_args(total) if isinstance(a, sp.exp)]
    if len(exps) != 1:
        return None
    E = sp.expand(exps[0].args[0])
    K = sp.simplify(total / exps[0])
    if K.has(S.s) or K.has(S.g):
        return None
    if E.has(S.g) and not sp.diff(E, S.g).is_nonpositive:
        return None
    shift = apriori_shift(E.subs(S.g, 0))
    if shift is None:
        return None
    bp = sp.Symbol("beta", positive=True)  # the dispatch runs this kernel for beta >= 0 only
    shift = sp.simplify(shift.subs(SB, 1).subs(S.beta, bp).subs(bp, S.beta))
    e = CIRCLE_EMBEDDING
    q = e["dc"] ** 2 + e["ds"] ** 2
    w = sp.exp(sp.collect(sp.expand(sp.expand(E - shift).subs(S.s, 1 - q / 2)), S.beta))
    v = e["ds"] * e["ci"] - e["dc"] * e["si"]
    return {"w": w, "v": v, "f": K * sp.exp(shift), "shift": shift}


#: Variable names the templates use: a declared parameter may not take one of them.
RESERVED_NAMES = frozenset({
    "x", "qx", "kx", "vx", "mx", "theta", "out", "logz", "m_out", "z_out", "start", "stop", "rows", "n", "d",
    "N", "i", "j", "k", "q", "a", "r", "s", "l", "m", "w", "z", "f", "g", "h", "u", "v", "p", "dl", "ti", "tj",
    "acc", "tot", "hv", "y", "xj", "blk", "ib", "nblocks", "heads", "hd", "row", "batch", "attend", "buf",
    "mbuf", "xb", "i0", "i1", "cA", "cH", "cX", "XA", "XH", "AA", "HH", "AH", "math", "np", "njit", "prange",
    "beta", "t", "acc_a", "joint", "ml", "mall", "system", "systems", "zl", "j0", "jn", "gt", "zbuf", "nrm", "xmax", "sb", "nrows", "low",
    # the compiled fixed-step loops (templates stepper*.py.tmpl)
    "t0", "dt", "t_final", "n_steps", "save_every", "grid", "save", "method", "states", "failed", "kk", "stages",
    "stage", "frac", "use_grid", "step", "tk", "tk1", "finite", "ts",
    # the allocation-free small-system kernels (template sphere_small_lanes.py.tmpl)
    "wk", "with_logz", "mv", "zv",
    # the symmetric fast path (template sphere_symmetric.py.tmpl)
    "ncols", "zrow", "zcol", "zt", "zc", "zsum", "pacc", "pz", "gp0", "gp1", "tmpr", "tmpc", "wx", "wtx", "a0", "a1",
    "j1", "nrm2", "ngroups", "run_jobs", "gcuts", "gcut", "gparts", "grp", "jobs",
    # the symmetric rows-in-lanes kernels (template sphere_lanes_symmetric.py.tmpl; k = 0..7 for d <= 8)
    "p0", "p1", "zv", "wbuf", "wj", "nj", "jj", "wa", "wb", "wc", "wd", "panels", "pcuts", "pcut", "parts", "total",
    "kernel", *(f"{v}{k}" for v in ("xv", "av", "ac", "xa", "xb", "xc", "xd", "y") for k in range(8)),
    # the circle models' a-priori-shift kernels (template circle_shifted.py.tmpl)
    "ci", "si", "dc", "ds", "cs", "sn", "zc", "al", "lo", "hi", "jend", "jt", "ct", "st", "nb", "bb", "jb",
})


@dataclasses.dataclass(frozen=True)
class Arg:
    """One positional argument: ``kind`` is ``array``, ``float``, ``bool``, ``int`` or ``out``."""

    name: str
    kind: str
    shape: str = ""
    doc: str = ""


@dataclasses.dataclass(frozen=True)
class Kernel:
    """One generated function."""

    name: str
    role: str
    template: str
    args: tuple[Arg, ...]
    variant: str | None = None
    njit: bool = True
    twin: str | None = None


@dataclasses.dataclass(frozen=True)
class KernelPlan:
    """The generated module of one model and the kernels in it."""

    model: str
    module: str
    path: str
    kernels: tuple[Kernel, ...]
    logz: bool

    def get(self, role: str, variant: str | None = None) -> Kernel | None:
        for k in self.kernels:
            if k.role == role and (variant is None or k.variant == variant):
                return k
        return None


def _scalar_args(model: Model) -> list[Arg]:
    args = [Arg(p.name, "float", "", p.doc) for p in model.real_params]
    if model.time_dependent:
        args.append(Arg("t", "float", "", "time"))
    return args


#: Per-system arrays of the velocity kernels, and their shapes with the leading system axis B.
ENSEMBLE_SHAPES = {"x": "(B, n, d)", "qx": "(B, n, d)", "kx": "(B, n, d)", "vx": "(B, n, d)",
                   "mx": "(B, H, n, d)", "out": "(B, n, d)", "logz": "(B, n)"}


def _ensemble_arg(a: Arg) -> Arg:
    """The argument of the ensemble kernel for the velocity kernel's argument ``a``: per-system arrays
    gain the leading system axis, parameters are shared by all systems."""
    if a.name not in ENSEMBLE_SHAPES:
        return a
    return Arg(a.name, a.kind, ENSEMBLE_SHAPES[a.name], f"{a.doc}, one block per system")


def _check_names(model: Model) -> None:
    for p in model.params:
        if p.name in RESERVED_NAMES:
            raise ValueError(f"params: {p.name!r} is a variable name of the generated kernels; rename the parameter "
                             f"of model {model.name!r}")


def _query_shifted(decl: SphereModel, mode: str, logz: bool) -> bool:
    """True where a keyed model gets the a-priori-shift BLAS path ``sphere_query_shifted``: queries only
    (key and value the tokens themselves: ``interp``, ``interp_attention``), a logit affine in the
    score (:func:`apriori_shift`), no log partition output."""
    if decl.key is not None or decl.value is not None or logz:
        return False
    e = kernel_expressions(decl, mode)
    return "l" in e and apriori_shift(e["l"]) is not None


def kernel_plan(model) -> KernelPlan:
    """The kernels generated for ``model`` (a declaration or a registered name)."""
    decl = get(model)
    _check_names(decl)
    variants = kernel_variants(decl)
    kernels: list[Kernel] = []
    beta = Arg("beta", "float", "", "inverse temperature")
    reals = _scalar_args(decl)
    softmax_energy = decl.energy is not None and "softmax" in variants.values()
    if isinstance(decl, CircleModel):
        logz = False
        theta = Arg("theta", "array", "(n,)", "angles of one configuration")
        for kname, mode in variants.items():
            template = "circle_causal" if mode == "causal" else "circle"
            variant = None if len(variants) == 1 else kname
            kernels.append(Kernel(f"{kname}_velocity", "velocity", template,
                                  (theta, beta, *reals, Arg("out", "out", "(n,)", "velocities")),
                                  variant, twin=f"{kname}_velocity_serial"))
            kernels.append(Kernel(f"{kname}_velocity_batched", "velocity_batched", template,
                                  (Arg("theta", "array", "(P, n)", "P independent configurations"), beta, *reals,
                                   Arg("out", "out", "(P, n)", "velocities")),
                                  variant, twin=f"{kname}_velocity_batched_serial"))
            if circle_shifted(kernel_expressions(decl, mode)) is not None:
                kernels.append(Kernel(f"{kname}_velocity_shifted", "velocity_shifted_circle", "circle_shifted",
                                      (theta, beta, *reals, Arg("out", "out", "(n,)", "velocities")),
                                      variant, twin=f"{kname}_velocity_shifted_serial"))
                kernels.append(Kernel(f"{kname}_velocity_batched_shifted", "velocity_batched_shifted_circle",
                                      "circle_shifted",
                                      (Arg("theta", "array", "(P, n)", "P independent configurations"), beta, *reals,
                                       Arg("out", "out", "(P, n)", "velocities")),
                                      variant, twin=f"{kname}_velocity_batched_shifted_serial"))
        if decl.energy is not None:
            kernels.append(Kernel(f"{decl.name}_energy_rows", "energy_rows", "circle_energy",
                                  (theta, beta, *reals, Arg("m_out", "out", "(n,)", "row shifts"),
                                   Arg("z_out", "out", "(n,)", "shifted row sums")),
                                  twin=f"{decl.name}_energy_rows_serial"))
    else:
        assert isinstance(decl, SphereModel)
        logz = softmax_energy and decl.heads is None
        x = Arg("x", "array", "(n, d)", "tokens (unit rows; directions for Euclidean models)")
        outs = [Arg("out", "out", "(n, d)", "velocities")]
        if logz:
            outs.append(Arg("logz", "out", "(n,)", "log sum_j w(s_ij), the log partition function of row i"))
        for kname, mode in variants.items():
            variant = None if len(variants) == 1 else kname.split(f"{decl.name}_", 1)[1]
            if decl.heads is not None:
                template = "sphere_heads"
                args = (x, Arg("mx", "array", "(H, n, d)", "rows M_h x_j of every head"), beta, *reals, *outs)
            elif decl.keyed:
                template = "sphere_keyed"
                mats = []
                if decl.readout is not None:
                    mats.append(Arg(decl.readout, "array", "(d, d)", "read-out matrix"))
                if decl.perceptron is not None:
                    pc = decl.perceptron
                    mats += [Arg(pc.W, "array", "(d, m)", "perceptron output weights"),
                             Arg(pc.U, "array", "(m, d)", "perceptron input weights"),
                             Arg(pc.b, "array", "(m,)", "perceptron biases")]
                args = (x, Arg("qx", "array", "(n, d)", "query rows"), Arg("kx", "array", "(n, d)", "key rows"),
                        Arg("vx", "array", "(n, d)", "value rows"), beta, *mats, *reals, *outs)
            else:
                template = "sphere_self"
                args = (x, beta, *reals, *outs)
            kernels.append(Kernel(f"{kname}_velocity", "velocity", template, args, variant,
                                  twin=f"{kname}_velocity_serial"))
            kernels.append(Kernel(f"{kname}_velocity_ensemble", "velocity_ensemble", "ensemble",
                                  tuple(_ensemble_arg(a) for a in args), variant,
                                  twin=f"{kname}_velocity_ensemble_serial"))
            if (template in ("sphere_keyed", "sphere_heads") and decl.perceptron is None and decl.readout is None
                    and not (template == "sphere_keyed" and _query_shifted(decl, mode, logz))):
                kernels.append(Kernel(f"{kname}_velocity_blas", "velocity_blas", "sphere_keyed_blas",
                                      (*args, Arg("start", "int", "", "first row"), Arg("stop", "int", "", "row bound"),
                                       Arg("rows", "int", "", "rows per block")), variant, njit=False))
            if template == "sphere_self" and decl.pair_weight() is not None:
                kernels.append(Kernel(f"{kname}_velocity_blocked", "velocity_blocked", "sphere_blocked",
                                      (*args, Arg("start", "int", "", "first row"), Arg("stop", "int", "", "row bound"),
                                       Arg("rows", "int", "", "rows per block")), variant, njit=False))
                if "l" in kernel_expressions(decl, mode) and apriori_shift(kernel_expressions(decl, mode)["l"]) is not None:
                    kernels.append(Kernel(f"{kname}_velocity_shifted", "velocity_shifted", "sphere_shifted",
                                          (*args, Arg("start", "int", "", "first row"),
                                           Arg("stop", "int", "", "row bound"),
                                           Arg("rows", "int", "", "rows per block")), variant, njit=False))
            if template == "sphere_keyed" and _query_shifted(decl, mode, logz):
                kernels.append(Kernel(f"{kname}_velocity_shifted", "velocity_shifted", "sphere_query_shifted",
                                      (*args, Arg("start", "int", "", "first row"),
                                       Arg("stop", "int", "", "row bound"),
                                       Arg("rows", "int", "", "rows per block")), variant, njit=False))
        if decl.energy is not None:
            kernels.append(Kernel(f"{decl.name}_energy_rows", "energy_rows", "sphere_energy",
                                  (x, Arg("kx", "array", "(n, d)", "rows V x_j of the energy's score matrix"), beta,
                                   *[a for a in reals if a.name != "t"], Arg("m_out", "out", "(n,)", "row shifts"),
                                   Arg("z_out", "out", "(n,)", "shifted row sums")),
                                  twin=f"{decl.name}_energy_rows_serial"))
    if decl.energy is not None and decl.pair_energy() is not None:
        kernels.append(Kernel(f"_{decl.name}_energy_scale", "energy_scale", "energy_scale",
                              (beta, *[a for a in reals if a.name != "t"]), njit=False))
    return KernelPlan(decl.name, f"attnflow.numerics._generated.{decl.name}",
                      f"numerics/_generated/{decl.name}.py", tuple(kernels), logz)

