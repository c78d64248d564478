"""Print one model's generated kernel module from its declaration (numba backend).

:func:`render_model` fills the template files of ``templates/`` (loop skeletons, see
:mod:`._render`) with statements printed from the declaration's kernel expressions
(:func:`attnflow.symbolic.models.kernel_expressions`) by :class:`.printer.NumbaPrinter` -- and,
for the blocked BLAS path, by :func:`.printer.numpy_inplace_code` and :class:`.printer.NumpyArrayPrinter`
-- after rewriting them into stable forms (:func:`.stable.stable_form`: softplus, log-sum-exp,
log1p, expm1, the logistic) and common-subexpression elimination.  The header records the hash and
operation count of exactly the expressions printed into this file, and the templates used.
"""

from __future__ import annotations

import sympy as sp

from attnflow.symbolic.codegen._plan import (CIRCLE_EMBEDDING, ENSEMBLE_SHAPES, SB, Kernel, KernelPlan, apriori_shift,
                                             circle_shifted, kernel_plan)
from attnflow.symbolic.codegen.backends.numba._render import render
from attnflow.symbolic.codegen.backends.numba.config import NumbaConfig
from attnflow.symbolic.codegen.backends.numba.printer import numba_code, numpy_code, numpy_inplace_code, vexp_code
from attnflow.symbolic.codegen.backends.numba.stable import stable_form
from attnflow.symbolic.models import CircleModel, get, kernel_expressions, kernel_variants
from attnflow.symbolic.models import _symbols as S
from attnflow.symbolic.result import expr_hash

__all__ = ["LANES_DIMS", "LANES_SYMMETRIC_BLOCK", "SMALL_LANES_DIMS", "UNDERFLOW_Z", "lanes_name", "lanes_symmetric_name",
           "render_model", "small_lanes_name", "small_lanes_work", "source_expr", "stepper_names", "symmetric_name"]

_ROW_SYMBOLS = (S.s, S.l, S.m, S.z)
_VECTOR_CODE = {S.A: "acc[k]", S.H: "hv[k]", S.X: "x[i, k]"}
_VECTOR_NUMPY = {S.A: "acc", S.X: "xb"}
_INNER = {S.XA: ("x[i, k]", "acc[k]"), S.XH: ("x[i, k]", "hv[k]"), S.AA: ("acc[k]", "acc[k]"),
          S.HH: ("hv[k]", "hv[k]"), S.AH: ("acc[k]", "hv[k]")}
_INNER_NUMPY = {S.XA: ("xb", "acc"), S.AA: ("acc", "acc")}


def _suffixed(expr: sp.Expr, suffix: str) -> sp.Expr:
    if not suffix:
        return expr
    return expr.subs({sym: sp.Symbol(sym.name + suffix, **sym.assumptions0) for sym in _ROW_SYMBOLS}, simultaneous=True)


def _statements(assignments: list[tuple[str, sp.Expr]], config: NumbaConfig, *, printer=numba_code,
                prefix: str = "_c") -> list[str]:
    """``name = expr`` lines for the stable forms of ``assignments``, shared subexpressions computed once."""
    if not assignments:
        return []
    exprs = [stable_form(e) for _, e in assignments]
    if config.cse:
        reps, reduced = sp.cse(exprs, symbols=sp.numbered_symbols(prefix), optimizations=None, order="canonical")
    else:
        reps, reduced = [], exprs
    lines = [f"{sym} = {printer(e)}" for sym, e in reps]
    lines += [f"{name} = {printer(e)}" for (name, _), e in zip(assignments, reduced)]
    return lines


def _kernel_exprs(decl) -> dict[str, dict[str, sp.Expr]]:
    return {kname: kernel_expressions(decl, mode) for kname, mode in kernel_variants(decl).items()}


def source_expr(model) -> sp.Tuple:
    """Everything printed into ``model``'s file, as one hashable SymPy tuple.

    Per kernel variant: the template names and ``Eq(variable, expression)`` for every kernel
    expression, so that two models whose kernels differ in any printed expression (SA and USA:
    their row factors) or in the loop skeleton get different hashes.
    """
    decl = get(model)
    plan = kernel_plan(decl)
    parts = []
    for kname, exprs in _kernel_exprs(decl).items():
        templates = sorted({k.template for k in plan.kernels if k.name.startswith(kname)})
        parts.append(sp.Tuple(sp.Symbol(kname), *(sp.Symbol(t) for t in templates),
                              *(sp.Eq(sp.Symbol(k, real=True), v, evaluate=False) for k, v in exprs.items())))
    return sp.Tuple(*parts)


def _arg_names(kernel: Kernel, first: int) -> str:
    return "".join(f", {a.name}" for a in kernel.args[first:] if a.kind != "out" and a.name not in ("start", "stop", "rows"))


class _Printed:
    """The statements of one kernel variant, printed once and handed to the templates."""

    def __init__(self, decl, exprs: dict[str, sp.Expr], config: NumbaConfig):
        self.decl, self.e, self.config = decl, exprs, config
        self.shifted = "l" in exprs

    def init(self, suffix: str) -> list[str]:
        if not self.shifted:
            return [f"m{suffix} = 0.0"]
        return [f"m{suffix} = {numba_code(_suffixed(self.e['l'], suffix))}"]

    def logit(self, suffix: str) -> list[str]:
        return [f"l{suffix} = {numba_code(_suffixed(self.e['l'], suffix))}"] if self.shifted else []

    def rescale(self, suffix: str) -> list[str]:
        """``r`` = w(l; shift l) / w(l; shift m): the factor that moves running sums from the old shift
        ``m`` to the new one ``l`` (printed from the weight expression)."""
        w = self.e["w"]
        ratio = sp.simplify(w.subs(S.m, S.l) / w)
        return [f"r = {numba_code(_suffixed(sp.powsimp(ratio), suffix))}"]

    def weight(self, suffix: str) -> list[str]:
        return _statements([(f"w{suffix}", _suffixed(self.e["w"], suffix))], self.config, prefix=f"_w{suffix}_")

    def factor(self) -> list[str]:
        return [f"f = {numba_code(self.e['f'])}"] if "f" in self.e else []

    def coefficients(self):
        coeffs = {k: self.e[k] for k in ("cA", "cH", "cX") if k in self.e}
        inner = sorted({s for c in coeffs.values() for s in c.free_symbols if s in _INNER}, key=str)
        named, inline = [], {}
        for k, c in coeffs.items():
            if c.is_Number or c.is_Symbol or (-c).is_Symbol:
                inline[k] = c
            else:
                named.append((k, c))
        stmts = _statements(named, self.config)
        vec = {"cA": S.A, "cH": S.H, "cX": S.X}
        terms = sp.Add(*[(inline[k] if k in inline else sp.Symbol(k)) * vec[k] for k in coeffs])
        return inner, stmts, terms

    def out_line(self, terms) -> str:
        return numba_code(terms.subs({v: sp.Symbol(code) for v, code in _VECTOR_CODE.items()}, simultaneous=True))

    def logz(self) -> list[str]:
        return [f"logz[i] = {numba_code(S.m + sp.log(S.z) if self.shifted else sp.log(S.z))}"]


def _base_context(decl, printed: _Printed, config: NumbaConfig, logz: bool, ncopy: int = 1) -> dict:
    rows = [str(r) for r in range(config.rows)] if ncopy > 1 else [""]
    ctx = {
        "ROWS": rows, "SHIFTED": printed.shifted, "VECTOR_ACC": True, "SCALAR_ACC": False,
        "INIT": printed.init, "LOGIT": printed.logit, "WEIGHT": printed.weight, "FACTOR": printed.factor(),
        "RESCALE": printed.rescale if printed.shifted else None,
        "LOGZ_ARG": ", logz" if logz else "", "LOGZ": printed.logz() if logz else [],
        "LOGZ_DOC": " and ``logz[i]`` = log sum_j w(s_ij)" if logz else "",
        "READOUT": False, "PERCEPTRON": False, "INNER": False,
    }
    if not isinstance(decl, CircleModel) and "cA" in printed.e:
        inner, stmts, terms = printed.coefficients()
        ctx.update(INNER=bool(inner), INNER_INIT=[f"{s} = 0.0" for s in inner],
                   INNER_ACC=[f"{s} += {_INNER[s][0]} * {_INNER[s][1]}" for s in inner],
                   COEFFS=stmts, OUT=printed.out_line(terms))
        if decl.readout is not None:
            ctx.update(READOUT=True, READOUT_MAT=decl.readout)
        if decl.perceptron is not None:
            pc = decl.perceptron
            ctx.update(PERCEPTRON=True, PERC_W=pc.W, PERC_U=pc.U, PERC_B=pc.b,
                       ACTIVATION=_statements([("h", printed.e["h"])], config))
    return ctx


def _twins(template: str, kernel: Kernel, ctx: dict) -> str:
    par = render(template, {**ctx, "NAME": kernel.name, "PARALLEL": "True", "RANGE": "prange"})
    ser = render(template, {**ctx, "NAME": kernel.twin, "PARALLEL": "False", "RANGE": "range"})
    return par.strip("\n") + "\n\n\n" + ser.strip("\n")


def _ensemble(vel: Kernel, kernel: Kernel, ctx: dict) -> str:
    """The loop over B independent systems around the serial twin of the velocity kernel ``vel``
    (per-system arrays are indexed by the system, parameters passed through)."""
    per_system = set(ENSEMBLE_SHAPES)
    call = ", ".join(f"{a.name}[system]" if a.name in per_system else a.name for a in vel.args)
    signature = ", ".join(a.name for a in kernel.args)
    out = []
    for parallel, rng, name in (("True", "prange", kernel.name), ("False", "range", kernel.twin)):
        out.append(render("ensemble.py.tmpl", {
            "NAME": name, "SIGNATURE": signature, "SERIAL": vel.twin, "CALL": call, "PARALLEL": parallel,
            "RANGE": rng, "LOGZ_DOC": " (and ``logz[b]``)" if ctx["LOGZ_ARG"] else ""}).strip("\n"))
    return "\n\n\n".join(out)


def stepper_names(kname: str) -> dict[str, str]:
    """The functions of the compiled fixed-step loop of the velocity kernel ``<kname>_velocity``
    (template ``stepper.py.tmpl``): ``stage`` (one field evaluation), ``one`` (one system),
    ``ensemble`` (B systems, parallel over systems) and ``ensemble_serial``.  Private names: they serve
    :func:`attnflow.numerics.simulate` and are not kernels of the export catalogue."""
    return {"stage": f"_{kname}_stage", "one": f"_{kname}_integrate_fixed",
            "ensemble": f"_{kname}_integrate_fixed_ensemble",
            "ensemble_serial": f"_{kname}_integrate_fixed_ensemble_serial"}


#: Lane accumulators of the small-system kernel's sums over j (one AVX-512 vector of float64).
_LANES = 8


def small_name(kname: str) -> str:
    """The private small-system kernel of ``<kname>_velocity`` with the a-priori shift (template
    ``sphere_small.py.tmpl``), called by the compiled step loops."""
    return f"_{kname}_velocity_small"


#: Dimensions d with a rows-in-lanes kernel ``_<kernel>_velocity_lanes_d<d>`` (``sphere_lanes.py.tmpl``, the
#: loop over k unrolled); larger d keep the BLAS products.  Measured at n = 4096 on one core (load 13,
#: thread CPU time), rows-in-lanes against the a-priori-shift BLAS path: d = 4 / 5 / 6 / 8:
#: 9.2 / 8.2 / 7.4 / 6.4e8 against 6.2 / 5.9 / 5.6 / 5.5e8 pairs/s; d = 16: 0.5e8 (LLVM no longer
#: vectorises the loop over the rows) against 3.9e8.
LANES_DIMS = (2, 3, 4, 5, 6, 7, 8)
#: The dimensions the small-system kernel sends to the rows-in-lanes kernels (through
#: ``_<kernel>_velocity_lanes``, which compiles every branch: a few, to keep the compile time of the
#: compiled step loops small); other d keep its lane accumulators over j.
SMALL_LANES_DIMS = (2, 3)
#: Rows per block of the small-system kernel's rows-in-lanes call (a runtime loop bound, so that LLVM
#: vectorises the loop over the rows instead of unrolling it).
_LANES_ROWS = 16


def lanes_name(kname: str) -> str:
    """The private rows-in-lanes kernel of ``<kname>_velocity`` with the a-priori shift (template
    ``sphere_lanes.py.tmpl``): signature ``(x, beta, <params>, out[, logz], nrm, xmax, zrow, start, stop,
    rows)``, returns False for a d not in :data:`SMALL_LANES_DIMS`; the kernel of one d is
    ``<name>_d<d>``, d in :data:`LANES_DIMS`."""
    return f"_{kname}_velocity_lanes"


def _lanes(printed: _Printed, name: str, vel: Kernel, ctx: dict) -> str:
    """The rows-in-lanes kernels (one per d of :data:`LANES_DIMS`, the loops over k unrolled by the
    template's row repetition) and the function that picks one by d."""
    e = printed.e
    shift = apriori_shift(e["l"])
    base = dict(ctx)
    base.update(FUSED=vel.name, ZMIN=_ZMIN, SHIFT_DOC=numba_code(shift),
                SHIFT=[f"m = {numba_code(shift)}  # m_i >= l_ij for every j"],
                LOGIT=[f"l = {numba_code(e['l'])}"],
                WEIGHT_V=_statements([("w", e["w"])], printed.config, printer=vexp_code, prefix="_w"),
                DIMS=", ".join(map(str, SMALL_LANES_DIMS)))
    call = f"(x, beta{ctx['ARGS']}, out{ctx['LOGZ_ARG']}, nrm, xmax, zrow, start, stop, rows)"
    out = [render("sphere_lanes.py.tmpl", {**base, "KERNEL": True, "DISPATCH": False, "NAME": f"{name}_d{d}",
                                          "D": str(d), "ROWS": [str(k) for k in range(d)]}).strip("\n")
           for d in LANES_DIMS]
    branches = []
    for d in SMALL_LANES_DIMS:
        branches += [f"if d == {d}:", f"    {name}_d{d}{call}", "    return True"]
    out.append(render("sphere_lanes.py.tmpl", {**base, "KERNEL": False, "DISPATCH": True, "NAME": name,
                                               "ROWS": [""], "BRANCHES": branches}).strip("\n"))
    return "\n\n\n".join(out)


#: Tile of the symmetric rows-in-lanes kernels, rows x columns (literals in the generated code: pass 2 reads
#: the tile buffer at the constant stride of the rows).  Measured at d = 3 on one core (CPU time, load 4-5,
#: against the per-row rows-in-lanes kernel in the same run): 64 x 64 1.47-1.49x, 32 x 64 1.45-1.48x,
#: 64 x 32 1.46x, 64 x 128 1.46-1.47x, 128 x 32 1.46x, 16 x 128 1.34x (n = 4096 and 16384); pass 2 one row
#: per sweep with a transposed buffer 1.12x, four rows per sweep from the transposed buffer 1.35-1.41x,
#: eight rows per sweep 1.18-1.25x.
LANES_SYMMETRIC_BLOCK = (64, 64)


def lanes_symmetric_name(kname: str) -> str:
    """The private symmetric rows-in-lanes path of ``<kname>_velocity`` (template
    ``sphere_lanes_symmetric.py.tmpl``): a Python function ``(x, beta, <params>, out[, logz], ngroups,
    run_jobs)`` returning False where it does not apply, around the numba kernels ``<name>_d<d>``, d in
    :data:`LANES_DIMS`; called by the dispatch of :mod:`attnflow.numerics.fields`, not a kernel of the
    export catalogue."""
    return f"_{kname}_velocity_lanes_symmetric"


def _lanes_symmetric(printed: _Printed, kname: str, vel: Kernel, blocked: str, ctx: dict) -> str:
    """The symmetric rows-in-lanes kernels (one per d of :data:`LANES_DIMS`) and their driver: one shift for
    all rows (:func:`apriori_shift` at sb = max_j |x_j|^2), each weight computed once per unordered pair."""
    e = printed.e
    shift = apriori_shift(e["l"])
    name = lanes_symmetric_name(kname)
    rows, cols = LANES_SYMMETRIC_BLOCK
    base = dict(ctx)
    base.update(FUSED=vel.name, ZMIN=_ZMIN, ROWS_BLOCK=str(rows), COLS_BLOCK=str(cols),
                WEIGHT_DOC=f"{numba_code(e['w'])} with l = {numba_code(e['l'])}",
                LOGIT=[f"l = {numba_code(e['l'])}"],
                WEIGHT_V=_statements([("w", e["w"])], printed.config, printer=vexp_code, prefix="_w"))
    out = [render("sphere_lanes_symmetric.py.tmpl", {**base, "KERNEL": True, "DRIVER": False, "NAME": f"{name}_d{d}",
                                                     "D": str(d), "ROWS": [str(k) for k in range(d)]}).strip("\n")
           for d in LANES_DIMS]
    logz = ["logz[:] = (" + numpy_code(S.m + sp.log(S.z)) + ")[:, 0]"] if ctx["LOGZ_ARG"] else []
    out.append(render("sphere_lanes_symmetric.py.tmpl", {
        **base, "KERNEL": False, "DRIVER": True, "NAME": name, "ROWS": [""], "BLOCKED": blocked,
        "DIMS": ", ".join(map(str, LANES_DIMS)),
        "KERNELS": "{" + ", ".join(f"{d}: {name}_d{d}" for d in LANES_DIMS) + "}",
        "LOG_ZMIN": numba_code(sp.log(sp.Float(_ZMIN, 30)).evalf(17)),
        "SHIFT_DOC": numba_code(shift), "NP_SHIFT": [f"m = {numpy_code(shift)}  # m >= l_ij for every i, j"],
        "NP_SELF_LOGIT": [f"l = {numpy_code(e['l'])}  # the self logits l_ii"],
        **_numpy_output(printed), "NP_LOGZ_ALL": logz}).strip("\n"))
    return "\n\n\n".join(out)


def _small(printed: _Printed, name: str, vel: Kernel, ctx: dict, lanes: str) -> str:
    """The small-system kernel: a-priori shift, rows in the lanes (``lanes``) for d in :data:`SMALL_LANES_DIMS`,
    else branch-free loops over j (vectorised ``_vexp``)."""
    e = printed.e
    shift = apriori_shift(e["l"])
    one_row = dict(ctx)
    one_row.update(ROWS=[""], NAME=name, LANES=str(_LANES), FUSED=vel.name, SERIAL=vel.twin, ZMIN=_ZMIN, SHIFT_DOC=numba_code(shift),
                   SHIFT=[f"m = {numba_code(shift)}  # m_i >= l_ij for every j"],
                   ROW_NORM=[f"nrm[i] = {numba_code(sp.sqrt(sp.Symbol('q', positive=True)))}"],
                   LOGIT=[f"l = {numba_code(e['l'])}"],
                   WEIGHT_V=_statements([("w", e["w"])], printed.config, printer=vexp_code, prefix="_w"),
                   LANES_KERNEL=lanes, LANES_ROWS=str(_LANES_ROWS), LANES_DIMS=", ".join(map(str, SMALL_LANES_DIMS)))
    return render("sphere_small.py.tmpl", one_row)


#: Lanes per block of the allocation-free small-system kernels (``sphere_small_lanes.py.tmpl``): a compile-time
#: trip count.  Measured at n = 32 on one core (CPU time, load ~1.5, interleaved, best of 8; SA, beta = 2; per field
#: evaluation, d = 2 / 3): 1.09 / 1.20 us (16 or 32 lanes alike) against 1.22 / 1.38 us for the same kernel with
#: a run-time block of min(n, 32) rows in views of the work buffer (run-time alias checks, a remainder loop), and
#: (load ~7, another run) 1.26 / 1.42 us for that against 1.45 / 1.56 us for ``_<kernel>_velocity_small``
#: (blocks of 16, four allocations, logz; logz alone, 32 logarithms, is ~0.15 us).  A symmetric variant (one
#: common shift, blocks of 16 rows, each block's weights against later columns reused transposed by the later
#: blocks: 768 instead of 1024 exponentials) measured 1.54 / 1.64 us in that run: with numba's loop vectoriser
#: only (SLP is off), the transposed copy and its strided loads cost more than the exponentials saved.
_SMALL_ROWS = 16


def small_lanes_name(kname: str) -> str:
    """The private allocation-free small-system kernel of ``<kname>_velocity`` (template
    ``sphere_small_lanes.py.tmpl``), the first choice of the compiled step loops: signature ``(x, beta,
    <params>, out[, logz], wk, with_logz)``, returns False for a d not in :data:`SMALL_LANES_DIMS` or a weight
    sum below the underflow threshold; the kernel of one d is ``<name>_d<d>``."""
    return f"_{kname}_velocity_small_lanes"


def small_lanes_work(n: int, d: int) -> int:
    """Floats of the work buffer ``wk`` of :func:`small_lanes_name`'s kernels for n tokens in d dimensions."""
    return n + 7 + (2 + 2 * d) * _SMALL_ROWS + d


def _small_lanes(printed: _Printed, name: str, vel: Kernel, ctx: dict, small: str, lanes: str) -> str:
    """The allocation-free small-system kernels (one per d of :data:`SMALL_LANES_DIMS`, the loops over k
    unrolled) and the function that picks one by d: the arithmetic of the rows-in-lanes kernel ``lanes``,
    with the work buffer passed in and ``logz`` optional."""
    e = printed.e
    shift = apriori_shift(e["l"])
    base = dict(ctx)
    base.update(FUSED=vel.name, SMALL=small, LANES_KERNEL=f"{lanes}_d<d>", ZMIN=_ZMIN, SHIFT_DOC=numba_code(shift),
                ROWS_MAX=str(_SMALL_ROWS),
                SHIFT=[f"m = {numba_code(shift)}  # m_i >= l_ij for every j"],
                ROW_NORM=[f"nrm = {numba_code(sp.sqrt(sp.Symbol('q', positive=True)))}"],
                LOGIT=[f"l = {numba_code(e['l'])}"],
                WEIGHT_V=_statements([("w", e["w"])], printed.config, printer=vexp_code, prefix="_w"),
                LOGZ=(["if with_logz:"] + [f"    {ln}" for ln in ctx["LOGZ"]]) if ctx["LOGZ"] else [],
                DIMS=", ".join(map(str, SMALL_LANES_DIMS)))
    call = f"(x, beta{ctx['ARGS']}, out{ctx['LOGZ_ARG']}, wk, with_logz)"
    out = [render("sphere_small_lanes.py.tmpl", {**base, "KERNEL": True, "DISPATCH": False, "NAME": f"{name}_d{d}",
                                                "D": str(d), "ROWS": [str(k) for k in range(d)]}).strip("\n")
           for d in SMALL_LANES_DIMS]
    branches = []
    for d in SMALL_LANES_DIMS:
        branches += [f"if d == {d}:", f"    return {name}_d{d}{call}"]
    out.append(render("sphere_small_lanes.py.tmpl", {**base, "KERNEL": False, "DISPATCH": True, "NAME": name,
                                                     "ROWS": [""], "BRANCHES": branches}).strip("\n"))
    return "\n\n\n".join(out)


def _stepper(decl, kname: str, vel: Kernel, small: str | None = None) -> str:
    """The compiled fixed-step loop (Euler / RK4 with retraction, one system and B systems) around the
    serial twin of the velocity kernel ``vel`` (self-attention template only), or around the
    small-system kernel ``small`` (a-priori shift) with the serial twin as its fallback."""
    names = stepper_names(kname)
    params = [a.name for a in vel.args if a.kind == "float" and a.name not in ("beta", "t")]
    euclidean = decl.manifold == "euclidean"
    call = []
    for a in vel.args:
        if a.name == "x":
            call.append("u" if euclidean else "y")
        elif a.name == "t":
            call.append("ts")
        else:
            call.append(a.name)
    params = "".join(f", {p}" for p in params)
    one = render("stepper.py.tmpl", {
        "NAME": names["one"], "STAGE": names["stage"], "SERIAL": vel.twin,
        "PARAMS": params,
        "FIELD_CALL": (f"{vel.twin}({', '.join(call)})" if small is None else
                       f"if not {small_lanes_name(kname)}({', '.join(call)}, wk, False):\n"
                       f"        if not {small}({', '.join(call)}):\n            {vel.twin}({', '.join(call)})"),
        "WK_SIZE": "0" if small is None else f"n + 7 + (2 + 2 * d) * {_SMALL_ROWS} + d",
        "EUCLIDEAN": euclidean, "SPHERE": not euclidean,
        "ROW_NORM": f"q = {numba_code(sp.sqrt(sp.Symbol('q', positive=True)))}",
        "STAGE_DOC": " (of the directions y_i/|y_i|, held in ``u``)" if euclidean else "",
        "SMALL_DOC": "" if small is None else (f", computed by ``{small_lanes_name(kname)}`` (allocation-free, "
                                               "``wk`` its work buffer; ``logz`` not written), else by "
                                               f"``{small}`` (both a-priori shift, vectorised; equal up to "
                                               "rounding) unless a weight sum underflows there"),
        "RETRACT_DOC": "the identity (flat space)" if euclidean else "the row normalisation onto the sphere",
    }).strip("\n")
    twins = [render("stepper_ensemble.py.tmpl", {"NAME": name, "ONE": names["one"], "PARAMS": params,
                                                  "PARALLEL": parallel, "RANGE": rng}).strip("\n")
             for parallel, rng, name in (("True", "prange", names["ensemble"]),
                                         ("False", "range", names["ensemble_serial"]))]
    return "\n\n\n".join([one, *twins])


def _numpy_output(printed: _Printed) -> dict:
    """The NumPy statements of a BLAS path's row output, printed from the declaration: the row factor
    ``f``, the inner products the output map uses, its coefficients and the output itself
    (``NP_FACTOR``, ``NP_INNER``, ``NP_COEFFS``, ``NP_OUT`` of the templates)."""
    e = printed.e
    inner, _, terms = printed.coefficients()
    coeffs = [(k, e[k]) for k in ("cA", "cX") if k in e and not (e[k].is_Number or e[k].is_Symbol or (-e[k]).is_Symbol)]
    out_expr = numpy_code(terms.subs({v: sp.Symbol(c) for v, c in _VECTOR_NUMPY.items()}, simultaneous=True))
    return {
        "NP_FACTOR": [f"f = {numpy_code(e['f'])}"],
        "NP_INNER": [f"{s} = np.sum({_INNER_NUMPY[s][0]} * {_INNER_NUMPY[s][1]}, axis=1, keepdims=True)" for s in inner],
        "NP_COEFFS": _statements(coeffs, printed.config, printer=numpy_code),
        "NP_OUT": [f"acc[...] = {out_expr}"],
    }


def _blocked(decl, printed: _Printed, kernel: Kernel, fused: str, ctx: dict) -> str:
    e = printed.e
    if set(printed.coefficients()[0]) - set(_INNER_NUMPY):  # pragma: no cover - sphere_self models have no perceptron
        raise ValueError("blocked path: the output map uses the perceptron")
    w_inplace = numpy_inplace_code(e["w"], S.l, "g")
    l_inplace = numpy_inplace_code(e["l"], S.s, "g")
    logz = ["logz[i0:i1] = (" + numpy_code(S.m + sp.log(S.z)) + ")[:, 0]"] if ctx["LOGZ_ARG"] else []
    return render("sphere_blocked.py.tmpl", {
        **ctx, "NAME": kernel.name, "FUSED": fused,
        "L_INPLACE": [f"{st}  # l = {numba_code(e['l'])}" if k == len(l_inplace) - 1 else st
                      for k, st in enumerate(l_inplace)],
        "W_INPLACE": [f"{st}  # w = {numba_code(e['w'])}" if k == len(w_inplace) - 1 else st
                      for k, st in enumerate(w_inplace)],
        **_numpy_output(printed),
        "NP_LOGZ": logz,
    })


#: Lane accumulators of the row sums in the fast path's weights pass (one vector-friendly tile of j).
_TILE = 256
#: Degree of the Taylor polynomial of ``_vexp`` on |r| <= ln(2)/2 (truncation (ln 2/2)^14/14! < 5e-18).
_VEXP_DEGREE = 13
#: A row of the fast path whose weight sum falls below this is recomputed with the row maximum as shift:
#: above it every weight that matters (>= 1e-16 z) is a normal float.
_ZMIN = "1e-280"
#: The same threshold as a float, for the callers of the rows-in-lanes kernel (rows below it are not written).
UNDERFLOW_Z = float(_ZMIN)


def _vexp_context() -> dict:
    """The constants of ``blocks/vexp.tmpl``, computed in SymPy: the Taylor coefficients 1/q! and the
    Cody-Waite split of ln 2 (a high part with 21 trailing zero bits, so k * hi is exact for
    |k| < 2^21, and the rounded remainder)."""
    import struct

    ln2 = sp.log(2).evalf(50)
    hi_bits = struct.unpack("<q", struct.pack("<d", float(ln2)))[0] & ~((1 << 21) - 1)
    hi = struct.unpack("<d", struct.pack("<q", hi_bits))[0]
    lo = float(ln2 - sp.Float(hi, 50))
    coeffs = [sp.Rational(1, sp.factorial(q)) for q in range(_VEXP_DEGREE, -1, -1)]
    poly = [f"p = {numba_code(coeffs[0])}"] + [f"p = _fma(p, r, {numba_code(c)})" for c in coeffs[1:]]
    return {"LOG2E": repr(float(1 / sp.log(2).evalf(50))), "LN2_HI": repr(hi), "LN2_LO": repr(lo),
            "DEGREE": str(_VEXP_DEGREE), "POLY": poly}


def _shifted(decl, printed: _Printed, kernel: Kernel, fused: str, blocked: str, ctx: dict) -> str:
    """The fast path: a-priori shift (:func:`apriori_shift`), vectorised weights pass, BLAS products."""
    e = printed.e
    shift = apriori_shift(e["l"])
    logz = ["logz[i0:i1] = (" + numpy_code(S.m + sp.log(S.z)) + ")[:, 0]"] if ctx["LOGZ_ARG"] else []
    return render("sphere_shifted.py.tmpl", {
        **ctx, "NAME": kernel.name, "FUSED": fused, "BLOCKED": blocked, "TILE": str(_TILE), "ZMIN": _ZMIN,
        "SHIFT_DOC": numba_code(shift), "NP_SHIFT": [f"m = {numpy_code(shift)}  # m_i >= l_ij for every j"],
        "LOGIT": [f"l = {numba_code(e['l'])}"],
        "WEIGHT_V": _statements([("w", e["w"])], printed.config, printer=vexp_code, prefix="_w"),
        **_numpy_output(printed),
        "NP_LOGZ": logz,
    })


def symmetric_name(kname: str) -> str:
    """The private symmetric a-priori-shift path of ``<kname>_velocity`` (template
    ``sphere_symmetric.py.tmpl``; with ``<name>_group`` and ``<name>_weights``), called by the dispatch
    of :mod:`attnflow.numerics.fields` with its thread runner; not a kernel of the export catalogue."""
    return f"_{kname}_velocity_symmetric"


def _symmetric(printed: _Printed, kname: str, fused: str, shifted: str, blocked: str, ctx: dict) -> str:
    """The symmetric fast path: one shift for all rows (:func:`apriori_shift` at sb = max_j |x_j|^2),
    so the weights are symmetric and each is computed once for i <= j."""
    e = printed.e
    shift = apriori_shift(e["l"])
    logz = ["logz[:] = (" + numpy_code(S.m + sp.log(S.z)) + ")[:, 0]"] if ctx["LOGZ_ARG"] else []
    return render("sphere_symmetric.py.tmpl", {
        **ctx, "NAME": symmetric_name(kname), "FUSED": fused, "SHIFTED": shifted, "BLOCKED": blocked,
        "TILE": str(_TILE), "ZMIN": _ZMIN, "LOG_ZMIN": numba_code(sp.log(sp.Float(_ZMIN, 30)).evalf(17)),
        "SHIFT_DOC": numba_code(shift), "NP_SHIFT": [f"m = {numpy_code(shift)}  # m >= l_ij for every i, j"],
        "NP_SELF_LOGIT": [f"l = {numpy_code(e['l'])}  # the self logits l_ii"],
        "LOGIT": [f"l = {numba_code(e['l'])}"],
        "WEIGHT_V": _statements([("w", e["w"])], printed.config, printer=vexp_code, prefix="_w"),
        **_numpy_output(printed),
        "NP_LOGZ_ALL": logz,
    })


#: Columns per tile of the Q/K/V / multi-head BLAS path (rows x columns scores of one head stay in the
#: L2 cache between the score product, the weights pass and the weighted values).
_KEYED_COLS = 256
#: Lane accumulators per row of that path's row sums (a multiple of the vector width).
_KEYED_LANES = 16
#: Where the row factor carries e^m (a mean normalisation of an exponential weight), a row whose a-priori
#: shift exceeds this is recomputed with its row maximum: e^709 < 8.3e307 is finite.
_MMAX = "709.0"


def _keyed_blas(decl, printed: _Printed, kernel: Kernel, fused: str, ctx: dict, heads: bool) -> str:
    """The BLAS path of the Q/K/V and multi-head models: BLAS score tiles of :data:`_KEYED_COLS` columns,
    a vectorised weights pass with the a-priori shift of :func:`apriori_shift` per head (sb = |q_i|
    max_j |k_j|; rows whose sum underflows recomputed with the exact row maximum; the exact row maximum
    for every row where the logit is not affine in the score), BLAS weighted values, all heads of a
    block in one numba call; the row factor and output map printed for NumPy."""
    e = printed.e
    logz = []
    if ctx["LOGZ_ARG"]:
        logz = ["logz[i0:i1] = (" + numpy_code(S.m + sp.log(S.z) if printed.shifted else sp.log(S.z)) + ")[:, 0]"]
    shared = heads and e["f"] != 1 / S.z
    shift = apriori_shift(e["l"]) if printed.shifted else None
    return render("sphere_keyed_blas.py.tmpl", {
        **ctx, "NAME": kernel.name, "FUSED": fused, "TILE": str(_TILE), "KEYED": not heads, "HEADS": heads,
        "COLS": str(_KEYED_COLS), "LANES": str(_KEYED_LANES), "ZMIN": _ZMIN, "MMAX": _MMAX,
        "EXP_FACTOR": shift is not None and e["f"].has(S.m),
        "SHIFTED": printed.shifted, "UNSHIFTED": not printed.shifted,
        "APRIORI": shift is not None, "EXACT": printed.shifted and shift is None, "NOAPRIORI": shift is None,
        "SHIFT_DOC": "" if shift is None else numba_code(shift),
        "NP_SHIFT": [] if shift is None else [f"m = {numpy_code(shift)}  # m_i >= l_ij for every j"],
        "WEIGHT_DOC": numba_code(e["w"]) + (f" (l = {numba_code(e['l'])})" if printed.shifted else ""),
        "HEADS_DOC": ("e^m / n: the heads share the 1/n normalisation" if shared else
                      "e^m / z: a softmax per head"),
        "LOGIT": [f"l = {numba_code(e['l'])}"] if printed.shifted else [],
        "WEIGHT_V": _statements([("w", e["w"])], printed.config, printer=vexp_code, prefix="_w"),
        **_numpy_output(printed),
        "NP_LOGZ": logz,
    })


def _query_shifted(decl, printed: _Printed, kernel: Kernel, vel: Kernel, ctx: dict) -> str:
    """The a-priori-shift BLAS path of a keyed model with queries only (template
    ``sphere_query_shifted.py.tmpl``): the shift of :func:`apriori_shift`, the weights by ``_vexp``, the
    read-out / perceptron / output map by the fused kernel's own statements (``blocks/finish.tmpl``)."""
    e = printed.e
    shift = apriori_shift(e["l"])
    reals = "".join(f", {a.name}" for a in vel.args if a.kind == "float" and a.name != "beta")
    return render("sphere_query_shifted.py.tmpl", {
        **ctx, "NAME": kernel.name, "FUSED": vel.name, "TILE": str(_TILE), "ZMIN": _ZMIN, "REALS": reals,
        "SHIFT_DOC": numba_code(shift), "NP_SHIFT": [f"m = {numpy_code(shift)}  # m_i >= l_ij for every j"],
        "NP_ROWMAX": [f"m[low] = np.max({numpy_code(e['l'])}, axis=1)  # the row maximum of l"],
        "LOGIT": [f"l = {numba_code(e['l'])}"],
        "WEIGHT_V": _statements([("w", e["w"])], printed.config, printer=vexp_code, prefix="_w"),
        "NP_FACTOR": [f"f = {numpy_code(e['f'])}"],
    })


def _row_constants(exponent: sp.Expr) -> tuple[list[tuple[str, sp.Expr]], sp.Expr]:
    """``exponent`` (a polynomial in the pair quantities dc, ds, g) as ``sum_k K_k P_k(dc, ds, g)`` with
    the row constants ``K_k`` (free of the pair quantities) named ``_k0, _k1, ...`` to be computed once
    per row: ``beta*(-dc**2/2 - ds**2/2) - g*lam/N`` -> ``_k0*(dc**2 + ds**2) + _k1*g``, ``_k0 = -beta/2``,
    ``_k1 = -lam/N`` (no division and fewer products in the vectorised loop).  Unchanged (no
    constants) where the exponent is not such a polynomial."""
    pair = [CIRCLE_EMBEDDING["dc"], CIRCLE_EMBEDDING["ds"], S.g]
    try:
        poly = sp.Poly(sp.expand(exponent), *pair)
    except sp.PolynomialError:
        return [], exponent
    groups: dict[sp.Expr, sp.Expr] = {}
    for powers, coeff in poly.terms():
        mono = sp.Mul(*(v**k for v, k in zip(pair, powers)))
        if coeff.has(*pair):  # pragma: no cover - excluded by Poly
            return [], exponent
        groups[coeff] = groups.get(coeff, sp.Integer(0)) + mono
    hoisted, out = [], sp.Integer(0)
    for k, (coeff, mono) in enumerate(sorted(groups.items(), key=lambda kv: sp.default_sort_key(kv[1]))):
        if coeff.is_Number:
            out += coeff * mono
            continue
        name = sp.Symbol(f"_k{k}", real=True)
        hoisted.append((str(name), coeff))
        out += name * mono
    return hoisted, out


#: Rows per block of the circle models' a-priori-shift kernel (the unit of work of one thread).
_CIRCLE_ROWS = 16


def _circle_shifted(decl, kname: str, exprs: dict, fast: Kernel, plan: KernelPlan, ctx: dict,
                    config: NumbaConfig) -> str:
    """The circle models' a-priori-shift kernels (template ``circle_shifted.py.tmpl``): the expressions
    of :func:`circle_shifted` (the declaration's pair term in the plane embedding, its shift and row
    factor), the shifted weight by ``_vexp``."""
    e = circle_shifted(exprs)
    causal = "p" in exprs
    batched = next(k for k in plan.kernels if k.name == f"{kname}_velocity_batched_shifted")
    hoisted, exponent = _row_constants(e["w"].args[0])
    pair = _statements([("w", sp.exp(exponent)), ("v", e["v"])], config, printer=vexp_code, prefix="_w")
    fctx = {**ctx, "HELPER": f"_{kname}_shifted", "PUBLIC": fast.name, "EXACT": f"{kname}_velocity",
            "ROW_CONSTANTS": [f"{k} = {numba_code(c)}" for k, c in hoisted],
            "CAUSAL": causal, "MEAN": not causal, "TILE": str(_TILE), "ZMIN": _ZMIN, "BLOCK_ROWS": str(_CIRCLE_ROWS),
            "JEND": "i" if causal else "n", "PAIR": pair, "PAIR_DOC": "; ".join(pair),
            "SHIFT_DOC": f"M = {numba_code(e['shift'])}", "FACTOR": [f"f = {numba_code(e['f'])}"],
            "BALANCE_DOC": ": a causal row i has i pairs" if causal else ""}
    out = []
    for helpers, parallel, rng, suffix in ((True, "True", "prange", ""), (False, "False", "range", "_serial")):
        out.append(render("circle_shifted.py.tmpl", {**fctx, "HELPERS": helpers, "NAME": fast.name + suffix,
                                                      "BATCHED": batched.name + suffix, "PARALLEL": parallel,
                                                      "RANGE": rng}).strip("\n"))
    return "\n\n\n".join(out)


def _expression_doc(decl, variants: dict[str, dict[str, sp.Expr]]) -> str:
    lines = []
    for kname, exprs in variants.items():
        if len(variants) > 1:
            lines.append(f"    # {kname}")
        lines += [f"    {k} = {numba_code(v)}" for k, v in exprs.items()]
    return "\n".join(lines)


def render_model(model, config: NumbaConfig | None = None) -> str:
    """The full source text of ``model``'s generated module ``numerics/_generated/<model>.py``."""
    config = config or NumbaConfig()
    decl = get(model)
    plan: KernelPlan = kernel_plan(decl)
    variants = _kernel_exprs(decl)
    src = source_expr(decl)
    body: list[str] = []
    for kname, exprs in variants.items():
        printed = _Printed(decl, exprs, config)
        vel = next(k for k in plan.kernels if k.name == f"{kname}_velocity")
        if isinstance(decl, CircleModel):
            ctx = _base_context(decl, printed, config, False)
            ctx.update(MODEL=kname, ARGS=_arg_names(vel, 2), CALL_ARGS=_arg_names(vel, 2), SCALAR_ACC=True,
                       VECTOR_ACC=False, SCORE=[f"s = {numba_code(exprs['s'])}"], VALUE=[f"v = {numba_code(exprs['v'])}"],
                       POSITION=_statements([("p", exprs["p"])], config) if "p" in exprs else [])
            template = vel.template + ".py.tmpl"
            body.append(render(template, ctx))
            batched = next(k for k in plan.kernels if k.name == f"{kname}_velocity_batched")
            for parallel, rng, suffix in (("True", "prange", ""), ("False", "range", "_serial")):
                body.append(render("circle_velocity.py.tmpl", {
                    **ctx, "NAME": vel.name + suffix, "BATCHED": batched.name + suffix,
                    "PARALLEL": parallel, "RANGE": rng}))
            fast = next((k for k in plan.kernels if k.name == f"{kname}_velocity_shifted"), None)
            if fast is not None:
                body.append(_circle_shifted(decl, kname, exprs, fast, plan, ctx, config))
            continue
        first = {"sphere_self": 2, "sphere_keyed": 5, "sphere_heads": 3}[vel.template]
        ctx = _base_context(decl, printed, config, plan.logz, ncopy=config.rows if vel.template == "sphere_self" else 1)
        ctx.update(ARGS="".join(f", {a.name}" for a in vel.args[first:] if a.kind != "out"))
        if vel.template == "sphere_self":
            rows = ctx["ROWS"]
            ctx.update(NROWS=str(config.rows), LAST=str(config.rows - 1),
                       ROW_TUPLES=", ".join(f"(i{r}, acc{r}, z{r}, m{r})" for r in rows))
        elif vel.template == "sphere_keyed":
            ctx.update(ATTEND="True" if decl.readout is None else
                       f"np.any({decl.readout} != 0.0)",
                       ATTEND_DOC="" if decl.readout is None else
                       f"  The attention sum is skipped when the read-out ``{decl.readout}`` is zero "
                       "(it then contributes exactly nothing).")
        else:
            per_head = exprs["f"] == 1 / S.z
            ctx.update(PER_HEAD=per_head, SHARED=not per_head,
                       HEADS_DOC=("A softmax per head; the heads' averages are summed." if per_head else
                                  "One shift over all (h, j); the heads share the normalisation."))
        body.append(_twins(vel.template + ".py.tmpl", vel, ctx))
        ensemble = next((k for k in plan.kernels if k.name == f"{kname}_velocity_ensemble"), None)
        if ensemble is not None:
            body.append(_ensemble(vel, ensemble, ctx))
        if vel.template == "sphere_self":
            has_small = any(k.name == f"{kname}_velocity_shifted" for k in plan.kernels)
            body.append(_stepper(decl, kname, vel, small_name(kname) if has_small else None))
        blocked = next((k for k in plan.kernels if k.name == f"{kname}_velocity_blocked"), None)
        if blocked is not None:
            body.append(_blocked(decl, printed, blocked, vel.name, ctx))
        blas = next((k for k in plan.kernels if k.name == f"{kname}_velocity_blas"), None)
        if blas is not None:
            body.append(_keyed_blas(decl, printed, blas, vel.name, ctx, vel.template == "sphere_heads"))
        shifted = next((k for k in plan.kernels if k.name == f"{kname}_velocity_shifted"), None)
        if shifted is not None and shifted.template == "sphere_query_shifted":
            body.append(_query_shifted(decl, printed, shifted, vel, ctx))
        elif shifted is not None:
            body.append(_shifted(decl, printed, shifted, vel.name, blocked.name, ctx))
            body.append(_lanes(printed, lanes_name(kname), vel, ctx))
            body.append(_small(printed, small_name(kname), vel, ctx, lanes_name(kname)))
            body.append(_small_lanes(printed, small_lanes_name(kname), vel, ctx, small_name(kname), lanes_name(kname)))
            body.append(_symmetric(printed, kname, vel.name, shifted.name, blocked.name, ctx))
            body.append(_lanes_symmetric(printed, kname, vel, blocked.name, ctx))
    if decl.energy is not None:
        rows_k = plan.get("energy_rows")
        e = variants[next(iter(variants))]
        eprinted = _Printed(decl, {"l": e["le"], "w": e["we"]} if "le" in e else {"w": e["F"]}, config)
        ectx = _base_context(decl, eprinted, config, False)
        ectx.update(VECTOR_ACC=False, SCALAR_ACC=False, ARGS="".join(f", {a.name}" for a in rows_k.args
                                                                    if a.kind == "float" and a.name != "beta"))
        if isinstance(decl, CircleModel):
            ectx["SCORE"] = [f"s = {numba_code(e['s'])}"]
        body.append(_twins(rows_k.template + ".py.tmpl", rows_k, ectx))
        scale = plan.get("energy_scale")
        if scale is not None:
            body.append(render("energy_scale.py.tmpl", {"NAME": scale.name, "ARGS": ectx["ARGS"],
                                                         "CE": numba_code(e["ce"]), "CE_DOC": f"ce = {e['ce']}"}))
    fast = any(k.role in ("velocity_shifted", "velocity_blas", "velocity_shifted_circle") for k in plan.kernels)
    if fast:
        body.insert(0, render("blocks/vexp.tmpl", _vexp_context()))
    templates = sorted({k.template + ".py.tmpl" for k in plan.kernels} | ({"blocks/vexp.tmpl"} if fast else set()) |
                       ({"circle_velocity.py.tmpl"} if isinstance(decl, CircleModel) else set()) |
                       ({"stepper.py.tmpl", "stepper_ensemble.py.tmpl"} if any(k.template == "sphere_self" for k in plan.kernels) else set()) |
                       ({"sphere_small.py.tmpl", "sphere_small_lanes.py.tmpl", "sphere_symmetric.py.tmpl",
                         "sphere_lanes.py.tmpl", "sphere_lanes_symmetric.py.tmpl"}
                        if any(k.template == "sphere_shifted" for k in plan.kernels) else set()))
    header = render("header.tmpl", {
        "MODEL": decl.name, "TEMPLATES": ", ".join(templates), "HASH": expr_hash(src), "OPS": sp.count_ops(src),
        "DESCRIPTION": decl.description.rstrip("."), "DECLARED_IN": _declared_in(decl),
        "SOURCE": decl.source or "not given", "EXPRESSIONS": _expression_doc(decl, variants),
        "VEXP_IMPORTS": ["from numba import types", "from numba.extending import intrinsic"] if fast else [],
    })
    return header + "\n\n\n" + "\n\n\n".join(b.strip("\n") for b in body) + "\n"


def _declared_in(decl) -> str:
    import sys

    for name, mod in list(sys.modules.items()):
        if name.startswith("attnflow.symbolic.models.builtin.") and decl in vars(mod).values():
            return name
    return "a user's models file"
