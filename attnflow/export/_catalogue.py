r"""The catalogue of exportable kernels and the lookups on it (private; re-exported by :mod:`attnflow.export`).

One :class:`KernelSpec` per public kernel of ``numerics/_generated/*.py`` (a numba kernel, with its
serial twin ``<kernel>_serial`` as a variant of the same entry, or a generated pure-NumPy function such
as ``sa_attention_blocked``): the generated file it lives in, its kernel family in
:data:`attnflow.symbolic.models.KERNEL_EXPRESSIONS`, the models of
:data:`attnflow.numerics.fields.MODELS` that call it, the claim-id globs whose claims exercise it,
its positional arguments, and a deterministic set of test cases (:mod:`._cases`) whose expected
outputs are computed by the INDEPENDENT plain-NumPy implementation
:mod:`attnflow.numerics._reference`.  The self-test tolerance (:data:`RTOL`, :data:`ATOL`) is
stated here too.

The catalogue is written against the public objects of the code generator and the field wrapper;
``tests/cli/test_export.py`` checks it against them (every public function listed, as a kernel or as
the serial twin of one, argument names equal to the kernel's Python signature, families present in
the file's source expression, and the ``models`` column equal to the kernels the public API actually
calls, found by tracing).

References
----------
theory notes 01-models.md §1.1-1.7, 02-energy.md §2.1, §2.4, 06-interpolation.md §6.1.
"""

from __future__ import annotations

import dataclasses
import difflib
import fnmatch
from collections.abc import Callable, Iterable

from . import _cases
from ._cases import Case

__all__ = ["Arg", "Case", "KernelSpec", "KERNELS", "RTOL", "ATOL", "TOLERANCE_RULE", "TOLERANCE_RATIONALE",
           "resolve_kernels", "matching_claims", "kernel_table"]

#: Self-test tolerance: per output array, ``max|kernel - reference| <= RTOL * max|reference| + ATOL``.
RTOL = 1e-10
ATOL = 1e-13
TOLERANCE_RULE = ("max|kernel - reference| <= rtol * max|reference| + atol, per output array, over the entries "
                  "with a reference value; entries stored as NaN are outputs the kernel must leave untouched "
                  "(the buffer is filled with NaN before the call and they must still be NaN)")
TOLERANCE_RATIONALE = (
    "the kernels (online maximum, loop sums) and the reference (global shift, BLAS products) add the "
    "same O(n d) terms in different orders, and a logit beta*s rounded differently changes exp(beta*s) "
    "by about |beta| ulps: for the stored sizes (n <= 11, d <= 4, |beta| <= 400) the measured "
    "differences are below 1e-13 relative (5.7e-14 at beta = 300), three orders of magnitude inside rtol"
)


@dataclasses.dataclass(frozen=True)
class Arg:
    """One positional argument of a kernel.

    ``kind`` is ``"array"`` (input array), ``"float"`` (a Python float), ``"bool"`` (a Python bool),
    ``"int"`` (a Python int) or ``"out"`` (a float64 output buffer the kernel fills; allocated by the
    caller).
    """

    name: str
    kind: str
    shape: str
    doc: str

    def annotation(self) -> str:
        if self.kind == "float":
            return "float"
        if self.kind == "bool":
            return "bool"
        if self.kind == "int":
            return "int"
        suffix = " (output, filled in place)" if self.kind == "out" else ""
        return f"float64{self.shape}{suffix}"


@dataclasses.dataclass(frozen=True)
class KernelSpec:
    """One exportable kernel.

    Attributes
    ----------
    name : str
        The kernel's function name in its generated module.
    file : str
        Path of the generated module relative to the repository root (a key of the code generator's
        ``FILE_TEMPLATES``).
    family : str
        Its kernel family (a key of ``attnflow.symbolic.models.KERNEL_EXPRESSIONS``).
    models : tuple of str
        The models of ``attnflow.numerics.fields.MODELS`` whose field / energy / dissipation call it.
    claims : tuple of str
        Claim-id globs (``attnflow check --claim`` semantics) whose claims exercise the kernel.
    args : tuple of Arg
        Positional arguments, in order.
    equation : str
        What it computes (plain text).
    cases : callable
        ``cases() -> list[Case]``: deterministic inputs and reference outputs.
    twin : str or None
        The serial twin ``<name>_serial`` (same body, ``parallel=False``) in the same module, which
        the public API calls for small problems; traced, self-tested and exported with the kernel.
        None for kernels without one (the pure-NumPy ``sa_attention_blocked``).
    """

    name: str
    file: str
    family: str
    models: tuple[str, ...]
    claims: tuple[str, ...]
    args: tuple[Arg, ...]
    equation: str
    cases: Callable[[], list[Case]]
    twin: str | None = None

    @property
    def functions(self) -> tuple[str, ...]:
        """The kernel and its serial twin (if any): the functions run on the stored cases."""
        return (self.name,) if self.twin is None else (self.name, self.twin)

    @property
    def module(self) -> str:
        """Import path of the generated module inside attnflow."""
        stem = self.file.rsplit("/", 1)[-1][: -len(".py")]
        return f"attnflow.numerics._generated.{stem}"

    @property
    def stem(self) -> str:
        return self.file.rsplit("/", 1)[-1][: -len(".py")]

    def signature(self) -> str:
        params = ", ".join(f"{a.name}: {a.annotation()}" for a in self.args)
        return f"{self.name}({params}) -> None"


# ----------------------------------------------------------------------------------------------
# the catalogue

_X = Arg("x", "array", "[n, d]", "points on the sphere (unit rows), C-contiguous")
_BETA = Arg("beta", "float", "", "inverse temperature")
_PROJECT = Arg("project", "bool", "", "apply the tangent projection P_{x_i}")
_LOGZ = Arg("logz", "out", "[n]", "log sum_j exp(logit_ij)")
_THETA1 = Arg("theta", "array", "[n]", "angles")
_THETA2 = Arg("theta", "array", "[P, n]", "P independent prompts of angles")
_MX = Arg("mx", "array", "[H, n, d]", "mx[h, j] = M_h x_j")
_LAM = Arg("lam", "float", "", "ALiBi slope lambda >= 0")

_SPHERE_ATT = "numerics/_generated/sphere_attention.py"
_SPHERE_MEAN = "numerics/_generated/sphere_mean.py"
_SPHERE_ENERGY = "numerics/_generated/sphere_energy.py"
_CIRCLE = "numerics/_generated/circle.py"
_ALIBI = "numerics/_generated/causal_alibi.py"
_INTERP = "numerics/_generated/interp.py"

_SPECS = [
    KernelSpec(
        "sa_attention", _SPHERE_ATT, "sphere_softmax", ("sa", "preln", "periln", "ngpt", "sqrt"),
        ("energy.dissipation.sa", "energy.monotone.sa", "energy.monotone.discrete_step", "cluster.hemisphere",
         "cluster.d3.single", "cluster.stationary", "equiangular.invariance", "equiangular.rate.sa",
         "normalization.preln_rate"),
        (_X, _BETA, _PROJECT, Arg("out", "out", "[n, d]", "attention output"), _LOGZ),
        "out_i = [P_{x_i}] sum_j softmax_j(beta <x_i, x_j>) x_j, logz_i = log sum_j e^{beta <x_i, x_j>}",
        _cases.sa_cases, "sa_attention_serial"),
    KernelSpec(
        "sa_attention_blocked", _SPHERE_ATT, "sphere_softmax", ("sa", "preln", "periln", "ngpt", "sqrt"),
        ("energy.dissipation.sa", "energy.monotone.sa", "energy.monotone.discrete_step", "cluster.hemisphere",
         "cluster.d3.single", "cluster.stationary", "equiangular.invariance", "equiangular.rate.sa",
         "normalization.preln_rate"),
        (_X, _BETA, _PROJECT, Arg("out", "out", "[n, d]", "attention output (rows start..stop-1 written)"),
         Arg("logz", "out", "[n]", "log sum_j exp(logit_ij) (rows start..stop-1 written)"),
         Arg("start", "int", "", "first row"), Arg("stop", "int", "", "one past the last row"),
         Arg("rows", "int", "", "rows per BLAS block (>= 1)")),
        "pure NumPy (BLAS), no numba: for start <= i < stop, out_i = [P_{x_i}] sum_j softmax_j(beta <x_i, x_j>) x_j "
        "and logz_i = log sum_j e^{beta <x_i, x_j>}, by blocks of rows rows (memory O(rows n)); other rows untouched",
        _cases.sa_blocked_cases),
    KernelSpec(
        "qkv_attention", _SPHERE_ATT, "sphere_softmax", ("qkv",),
        ("energy.dissipation.qkv_symmetric", "energy.monotone.general_qkv", "cluster.hemisphere.monotone"),
        (_X, Arg("qx", "array", "[n, d]", "rows Q x_j"), Arg("kx", "array", "[n, d]", "rows K x_j"),
         Arg("vx", "array", "[n, d]", "rows V x_j"), _BETA, _PROJECT,
         Arg("out", "out", "[n, d]", "attention output"), _LOGZ),
        "out_i = [P_{x_i}] sum_j softmax_j(beta <Q x_i, K x_j>) V x_j, logz_i = log sum_j e^{beta <Q x_i, K x_j>}",
        _cases.qkv_cases, "qkv_attention_serial"),
    KernelSpec(
        "multihead_per_head", _SPHERE_ATT, "sphere_softmax", ("multihead",),
        ("multihead.per_head", "multihead.total.per_head_softmax"),
        (_X, _MX, _BETA, Arg("out", "out", "[n, d]", "velocity")),
        "out_i = P_{x_i} sum_h sum_j softmax_j(beta <x_i, M_h x_j>) M_h x_j",
        _cases.per_head_cases, "multihead_per_head_serial"),
    KernelSpec(
        "sphere_row_lse", _SPHERE_ENERGY, "sphere_energy", ("sa", "usa", "qkv", "multihead"),
        ("energy.dissipation", "energy.monotone", "energy.variation", "multihead.total.shared"),
        (_X, Arg("vx", "array", "[n, d]", "rows V x_j"), _BETA,
         Arg("m_out", "out", "[n]", "row maximum logit"), Arg("z_out", "out", "[n]", "shifted row sum")),
        "sum_j exp(beta <x_i, V x_j>) = exp(m_out_i) z_out_i with m_out_i = max_j beta <x_i, V x_j>",
        _cases.sphere_lse_cases, "sphere_row_lse_serial"),
    KernelSpec(
        "usa_velocity", _SPHERE_MEAN, "sphere_mean", ("usa",),
        ("energy.dissipation.usa", "energy.monotone.usa", "cluster.hemisphere", "cluster.stationary",
         "equiangular.invariance", "equiangular.rate.usa"),
        (_X, _BETA, Arg("out", "out", "[n, d]", "velocity")),
        "out_i = P_{x_i}((1/n) sum_j e^{beta <x_i, x_j>} x_j)",
        _cases.usa_cases, "usa_velocity_serial"),
    KernelSpec(
        "multihead_shared", _SPHERE_MEAN, "sphere_mean", ("multihead",),
        ("multihead.total.shared",),
        (_X, _MX, _BETA, Arg("out", "out", "[n, d]", "velocity")),
        "out_i = P_{x_i}((1/n) sum_h sum_j e^{beta <x_i, M_h x_j>} M_h x_j)",
        _cases.shared_cases, "multihead_shared_serial"),
    KernelSpec(
        "kuramoto_velocity", _CIRCLE, "circle_mean", ("kuramoto",),
        ("kuramoto", "circle", "localization.circle_mass"),
        (_THETA1, _BETA, Arg("out", "out", "[n]", "dtheta/dt")),
        "out_i = -(1/n) sum_j e^{beta cos(theta_i - theta_j)} sin(theta_i - theta_j)",
        _cases.kuramoto_cases, "kuramoto_velocity_serial"),
    KernelSpec(
        "kuramoto_velocity_batched", _CIRCLE, "circle_mean", ("kuramoto",),
        ("kuramoto", "circle", "localization.circle_mass", "cluster.stationary"),
        (_THETA2, _BETA, Arg("out", "out", "[P, n]", "dtheta/dt per prompt")),
        "out_{b,i} = -(1/n) sum_j e^{beta cos(theta_bi - theta_bj)} sin(theta_bi - theta_bj)",
        _cases.kuramoto_batched_cases, "kuramoto_velocity_batched_serial"),
    KernelSpec(
        "circle_row_lse", _CIRCLE, "circle_energy", ("kuramoto",),
        ("kuramoto", "circle", "localization.circle_mass"),
        (_THETA1, _BETA, Arg("m_out", "out", "[n]", "row maximum logit"),
         Arg("z_out", "out", "[n]", "shifted row sum")),
        "sum_j exp(beta cos(theta_i - theta_j)) = exp(m_out_i) z_out_i with m_out_i the row maximum",
        _cases.circle_lse_cases, "circle_row_lse_serial"),
    KernelSpec(
        "causal_alibi_velocity", _ALIBI, "causal_alibi", ("causal_alibi",),
        ("retrieval.particles", "causal_alibi"),
        (_THETA1, _BETA, _LAM, Arg("out", "out", "[n]", "dtheta/dt")),
        "out_j = Z_j^{-1} sum_{k<j} e^{-lam (j-k)/n} w_beta'(theta_j - theta_k), out_0 = 0",
        _cases.alibi_cases, "causal_alibi_velocity_serial"),
    KernelSpec(
        "causal_alibi_velocity_batched", _ALIBI, "causal_alibi", ("causal_alibi",),
        ("retrieval.particles", "causal_alibi"),
        (_THETA2, _BETA, _LAM, Arg("out", "out", "[P, n]", "dtheta/dt per prompt")),
        "out_{b,j} = Z_j^{-1} sum_{k<j} e^{-lam (j-k)/n} w_beta'(theta_bj - theta_bk), out_{b,0} = 0",
        _cases.alibi_batched_cases, "causal_alibi_velocity_batched_serial"),
    KernelSpec(
        "interp_velocity", _INTERP, "interp", ("interp",),
        ("interpolation.*",),
        (Arg("x", "array", "[n, d]", "atoms of one empirical measure (unit rows; any rows accepted, e.g. RK stages)"),
         Arg("V", "array", "[d, d]", "value matrix (V = 0: attention sum skipped)"),
         Arg("B", "array", "[d, d]", "attention matrix (logits beta <B x_i, x_j>)"),
         Arg("W", "array", "[d, m]", "perceptron output weights, m >= 0 hidden units"),
         Arg("U", "array", "[m, d]", "perceptron input weights"), Arg("bias", "array", "[m]", "perceptron bias b"),
         _BETA, _PROJECT, Arg("out", "out", "[n, d]", "velocity")),
        "out_i = [P_{x_i}](V sum_j softmax_j(beta <B x_i, x_j>) x_j + W (U x_i + bias)_+); the paper's field "
        "(arXiv 2411.04551) is beta = 1, project = True",
        _cases.interp_cases, "interp_velocity_serial"),
]

#: ``{kernel name: KernelSpec}`` in a fixed order (the order of ``attnflow export --list``).
KERNELS: dict[str, KernelSpec] = {s.name: s for s in _SPECS}


# ----------------------------------------------------------------------------------------------
# lookups


def resolve_kernels(names: Iterable[str]) -> list[KernelSpec]:
    """Catalogue entries for kernel ``names`` (order kept, duplicates dropped).

    Raises ``ValueError`` naming each unknown name with close matches (a model name is answered with
    the kernels that model uses).
    """
    names = list(names)
    if not names:
        raise ValueError("names: give at least one kernel name (see `attnflow export --list`)")
    out: dict[str, KernelSpec] = {}
    problems = []
    for n in names:
        if n in KERNELS:
            out[n] = KERNELS[n]
            continue
        used_by = [k for k, s in KERNELS.items() if n in s.models]
        if used_by:
            problems.append(f"{n!r} is a model, not a kernel; model {n!r} uses the kernel(s) {', '.join(used_by)}")
            continue
        close = difflib.get_close_matches(n, list(KERNELS), n=3, cutoff=0.5)
        hint = f" (did you mean {', '.join(close)}?)" if close else ""
        problems.append(f"unknown kernel {n!r}{hint}")
    if problems:
        raise ValueError("names: " + "; ".join(problems) + f". Known kernels: {', '.join(KERNELS)}")
    return list(out.values())


def _glob_matches(claim_id: str, pattern: str) -> bool:
    # the semantics of `attnflow check --claim`: a bare prefix selects its family
    return fnmatch.fnmatchcase(claim_id, pattern) or claim_id.startswith(pattern + ".")


def matching_claims(spec: KernelSpec, claims=None) -> list:
    """Registered claims whose id matches one of ``spec.claims`` (registry order).

    A glob matches like ``attnflow check --claim``: shell-style, and a bare prefix selects its family.
    """
    if claims is None:
        from attnflow.properties import registry

        claims = registry.all_claims()
    return [c for c in claims if any(_glob_matches(c.id, p) for p in spec.claims)]


def kernel_table() -> list[dict]:
    """Rows for ``attnflow export --list``: kernel, file, models, claim globs, matching claim ids.

    Claims are not run here; ``status`` says whether the kernel has any claim to be verified by.
    """
    from attnflow.properties import registry

    claims = registry.all_claims()
    rows = []
    for spec in KERNELS.values():
        ids = [c.id for c in matching_claims(spec, claims)]
        rows.append({
            "name": spec.name,
            "file": spec.file,
            "models": list(spec.models),
            "claim_globs": list(spec.claims),
            "claims": ids,
            "status": "exportable if its claims pass" if ids else "not exportable: no registered claims",
            "signature": spec.signature(),
        })
    return rows
