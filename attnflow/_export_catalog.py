r"""The catalogue of exportable kernels (private; re-exported by :mod:`attnflow.export`).

One :class:`KernelSpec` per public kernel of ``numerics/_generated/*.py`` (a numba kernel, with its
serial twin ``<kernel>_serial`` as a variant of the same entry, or a generated pure-NumPy function such
as ``sa_attention_blocked``): the generated file
it lives in, its kernel family in :data:`attnflow.symbolic.models.KERNEL_EXPRESSIONS`, the models of
:data:`attnflow.numerics.fields.MODELS` that call it, the claim-id globs whose claims exercise it,
its positional arguments, and a deterministic set of test cases whose expected outputs are computed
by the INDEPENDENT plain-NumPy implementation :mod:`attnflow.numerics._reference` (full ``n x n``
logit matrices, global shift, BLAS products; never the code generator or the fused kernels).

The catalogue is written against the public objects of the code generator and the field wrapper;
``tests/cli/test_export.py`` checks it against them (every public function listed, as a kernel or as
the serial twin of one, argument names equal
to the kernel's Python signature, families present in the file's source expression, and the
``models`` column equal to the kernels the public API actually calls, found by tracing).

References
----------
theory notes 01-models.md §1.1-1.7, 02-energy.md §2.1, §2.4, 06-interpolation.md §6.1; issue 7
(``attnflow export``), issue 8 (the ``interp`` kernel).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import numpy as np

from attnflow.numerics import _reference as ref

__all__ = ["Arg", "Case", "KernelSpec", "KERNELS", "RTOL", "ATOL", "TOLERANCE_RULE", "TOLERANCE_RATIONALE"]

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
class Case:
    """Stored inputs (scalars as 0-d arrays) and the reference outputs of one self-test case.

    A NaN in an expected output marks an entry the kernel must not write (it stays NaN).
    """

    inputs: dict[str, np.ndarray]
    expected: dict[str, np.ndarray]


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
# deterministic inputs


def _sphere(rng: np.random.Generator, n: int, d: int) -> np.ndarray:
    x = rng.standard_normal((n, d))
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def _f(v: float) -> np.ndarray:
    return np.array(float(v), dtype=np.float64)


def _b(v: bool) -> np.ndarray:
    return np.array(bool(v))


def _i(v: int) -> np.ndarray:
    return np.array(int(v), dtype=np.int64)


def _symmetric_heads(rng: np.random.Generator, h: int, d: int) -> np.ndarray:
    a = rng.standard_normal((h, d, d))
    return 0.5 * (a + np.transpose(a, (0, 2, 1)))


def _row_lse_expected(x: np.ndarray, vx: np.ndarray, beta: float, V: np.ndarray) -> dict[str, np.ndarray]:
    """m_i = max_j beta <x_i, V x_j> and z_i = exp(logZ_i - m_i), logZ from the reference softmax."""
    _, logz = ref.softmax_attention(x, beta, None, V, V)
    m = (beta * (x @ vx.T)).max(axis=1)
    return {"m_out": m, "z_out": np.exp(logz - m)}


# SA attention ---------------------------------------------------------------------------------


def _sa_cases() -> list[Case]:
    out = []
    for seed, n, d, beta, project in ((11, 7, 3, 2.0, True), (12, 5, 4, -3.0, False), (13, 9, 3, 400.0, True),
                                      (14, 1, 2, 1.5, True)):
        x = _sphere(np.random.default_rng(seed), n, d)
        A, logz = ref.softmax_attention(x, beta)
        expected = ref.project(x, A) if project else A
        out.append(Case({"x": x, "beta": _f(beta), "project": _b(project)},
                        {"out": expected, "logz": logz}))
    return out


def _sa_blocked_cases() -> list[Case]:
    """Row ranges [start, stop) by blocks of ``rows``: stop - start never a multiple of ``rows``; rows
    outside the range must stay untouched (NaN in the expected outputs)."""
    out = []
    for seed, n, d, beta, project, start, stop, rows in ((121, 9, 3, 2.0, True, 0, 9, 4),
                                                         (122, 11, 4, -3.0, False, 2, 9, 3),
                                                         (123, 7, 3, 400.0, True, 1, 7, 16),
                                                         (124, 6, 2, 1.5, True, 5, 6, 2)):
        x = _sphere(np.random.default_rng(seed), n, d)
        A, logz = ref.softmax_attention(x, beta)
        full = ref.project(x, A) if project else A
        exp_out, exp_logz = np.full_like(full, np.nan), np.full_like(logz, np.nan)
        exp_out[start:stop], exp_logz[start:stop] = full[start:stop], logz[start:stop]
        out.append(Case({"x": x, "beta": _f(beta), "project": _b(project), "start": _i(start), "stop": _i(stop),
                         "rows": _i(rows)}, {"out": exp_out, "logz": exp_logz}))
    return out


def _qkv_cases() -> list[Case]:
    out = []
    for seed, n, d, beta, project in ((21, 6, 3, 1.5, True), (22, 5, 4, -2.0, False)):
        rng = np.random.default_rng(seed)
        x = _sphere(rng, n, d)
        Q, K, V = (rng.standard_normal((d, d)) for _ in range(3))
        A, logz = ref.softmax_attention(x, beta, Q, K, V)
        expected = ref.project(x, A) if project else A
        out.append(Case({"x": x, "qx": x @ Q.T, "kx": x @ K.T, "vx": x @ V.T, "beta": _f(beta),
                         "project": _b(project)}, {"out": expected, "logz": logz}))
    return out


def _per_head_cases() -> list[Case]:
    out = []
    for seed, n, d, h, beta in ((31, 6, 3, 2, 1.2), (32, 5, 4, 3, -0.7)):
        rng = np.random.default_rng(seed)
        x = _sphere(rng, n, d)
        M = rng.standard_normal((h, d, d))
        mx = np.ascontiguousarray(np.einsum("hab,jb->hja", M, x))
        v = ref.velocity_ref(x, "multihead", beta, M=M, normalization="per_head")
        out.append(Case({"x": x, "mx": mx, "beta": _f(beta)}, {"out": v}))
    return out


def _sphere_lse_cases() -> list[Case]:
    out = []
    for seed, n, d, beta, sym in ((41, 7, 3, 2.5, False), (42, 6, 4, -4.0, True), (43, 5, 3, 300.0, False)):
        rng = np.random.default_rng(seed)
        x = _sphere(rng, n, d)
        V = _symmetric_heads(rng, 1, d)[0] if sym else np.eye(d)
        vx = x @ V.T
        out.append(Case({"x": x, "vx": vx, "beta": _f(beta)}, _row_lse_expected(x, vx, beta, V)))
    return out


# unnormalised attention ------------------------------------------------------------------------


def _usa_cases() -> list[Case]:
    out = []
    for seed, n, d, beta in ((51, 7, 3, 2.0), (52, 5, 4, -3.0), (53, 6, 3, 40.0)):
        x = _sphere(np.random.default_rng(seed), n, d)
        out.append(Case({"x": x, "beta": _f(beta)}, {"out": ref.velocity_ref(x, "usa", beta)}))
    return out


def _shared_cases() -> list[Case]:
    out = []
    for seed, n, d, h, beta in ((61, 6, 3, 2, 1.3), (62, 5, 4, 3, -0.8)):
        rng = np.random.default_rng(seed)
        x = _sphere(rng, n, d)
        M = _symmetric_heads(rng, h, d)
        mx = np.ascontiguousarray(np.einsum("hab,jb->hja", M, x))
        v = ref.velocity_ref(x, "multihead", beta, M=M, normalization="shared")
        out.append(Case({"x": x, "mx": mx, "beta": _f(beta)}, {"out": v}))
    return out


# circle -----------------------------------------------------------------------------------------


def _angles(rng: np.random.Generator, shape) -> np.ndarray:
    return rng.uniform(-np.pi, np.pi, size=shape)


def _kuramoto_cases() -> list[Case]:
    out = []
    for seed, n, beta in ((71, 7, 1.5), (72, 5, -2.0), (73, 9, 30.0)):
        th = _angles(np.random.default_rng(seed), n)
        out.append(Case({"theta": th, "beta": _f(beta)}, {"out": ref.velocity_ref(th, "kuramoto", beta)}))
    return out


def _kuramoto_batched_cases() -> list[Case]:
    out = []
    for seed, p, n, beta in ((81, 3, 6, 1.5), (82, 2, 5, -2.5)):
        th = _angles(np.random.default_rng(seed), (p, n))
        out.append(Case({"theta": th, "beta": _f(beta)}, {"out": ref.velocity_ref(th, "kuramoto", beta)}))
    return out


def _circle_lse_cases() -> list[Case]:
    out = []
    for seed, n, beta in ((91, 7, 2.0), (92, 6, -3.0), (93, 5, 200.0)):
        th = _angles(np.random.default_rng(seed), n)
        e = np.stack([np.cos(th), np.sin(th)], axis=-1)  # the circle embedded in R^2: a different route
        out.append(Case({"theta": th, "beta": _f(beta)}, _row_lse_expected(e, e, beta, np.eye(2))))
    return out


# causal ALiBi -------------------------------------------------------------------------------------


def _alibi_cases() -> list[Case]:
    out = []
    for seed, n, beta, lam in ((101, 8, 1.5, 1.0), (102, 5, -2.0, 3.0), (103, 2, 1.0, 0.5)):
        th = _angles(np.random.default_rng(seed), n)
        v = ref.velocity_ref(th, "causal_alibi", beta, lam=lam)
        out.append(Case({"theta": th, "beta": _f(beta), "lam": _f(lam)}, {"out": v}))
    return out


def _alibi_batched_cases() -> list[Case]:
    out = []
    for seed, p, n, beta, lam in ((111, 3, 6, 1.5, 1.0), (112, 2, 7, 2.5, 0.0)):
        th = _angles(np.random.default_rng(seed), (p, n))
        v = ref.velocity_ref(th, "causal_alibi", beta, lam=lam)
        out.append(Case({"theta": th, "beta": _f(beta), "lam": _f(lam)}, {"out": v}))
    return out


# attention + perceptron (measure-to-measure interpolation) ----------------------------------------


def _interp_cases() -> list[Case]:
    """Random layers; one with no hidden units (m = 0), one with V = 0 (the kernel skips the attention
    sum: pointwise field), one unprojected with large logits, one with off-sphere rows (an RK stage)."""
    out = []
    for seed, n, d, m, beta, project, kind in ((131, 7, 3, 2, 1.0, True, "random"),
                                              (132, 5, 4, 0, -1.5, True, "random"),
                                              (133, 6, 3, 3, 1.0, True, "no_attention"),
                                              (134, 9, 3, 2, 60.0, False, "random"),
                                              (135, 6, 4, 3, 1.0, True, "off_sphere")):
        rng = np.random.default_rng(seed)
        x = _sphere(rng, n, d)
        if kind == "off_sphere":
            x = x * rng.uniform(0.9, 1.1, (n, 1))
        V, B = rng.standard_normal((2, d, d))
        if kind == "no_attention":
            V = np.zeros((d, d))
        W, U, bias = rng.standard_normal((d, m)), rng.standard_normal((m, d)), rng.standard_normal(m)
        v = ref.velocity_ref(x, "interp", beta, V=V, B=B, W=W, U=U, b=bias, project=project)
        out.append(Case({"x": x, "V": V, "B": B, "W": W, "U": U, "bias": bias, "beta": _f(beta),
                         "project": _b(project)}, {"out": v}))
    return out


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
        _sa_cases, "sa_attention_serial"),
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
        _sa_blocked_cases),
    KernelSpec(
        "qkv_attention", _SPHERE_ATT, "sphere_softmax", ("qkv",),
        ("energy.dissipation.qkv_symmetric", "energy.monotone.general_qkv", "cluster.hemisphere.monotone"),
        (_X, Arg("qx", "array", "[n, d]", "rows Q x_j"), Arg("kx", "array", "[n, d]", "rows K x_j"),
         Arg("vx", "array", "[n, d]", "rows V x_j"), _BETA, _PROJECT,
         Arg("out", "out", "[n, d]", "attention output"), _LOGZ),
        "out_i = [P_{x_i}] sum_j softmax_j(beta <Q x_i, K x_j>) V x_j, logz_i = log sum_j e^{beta <Q x_i, K x_j>}",
        _qkv_cases, "qkv_attention_serial"),
    KernelSpec(
        "multihead_per_head", _SPHERE_ATT, "sphere_softmax", ("multihead",),
        ("multihead.per_head", "multihead.total.per_head_softmax"),
        (_X, _MX, _BETA, Arg("out", "out", "[n, d]", "velocity")),
        "out_i = P_{x_i} sum_h sum_j softmax_j(beta <x_i, M_h x_j>) M_h x_j",
        _per_head_cases, "multihead_per_head_serial"),
    KernelSpec(
        "sphere_row_lse", _SPHERE_ENERGY, "sphere_energy", ("sa", "usa", "qkv", "multihead"),
        ("energy.dissipation", "energy.monotone", "energy.variation", "multihead.total.shared"),
        (_X, Arg("vx", "array", "[n, d]", "rows V x_j"), _BETA,
         Arg("m_out", "out", "[n]", "row maximum logit"), Arg("z_out", "out", "[n]", "shifted row sum")),
        "sum_j exp(beta <x_i, V x_j>) = exp(m_out_i) z_out_i with m_out_i = max_j beta <x_i, V x_j>",
        _sphere_lse_cases, "sphere_row_lse_serial"),
    KernelSpec(
        "usa_velocity", _SPHERE_MEAN, "sphere_mean", ("usa",),
        ("energy.dissipation.usa", "energy.monotone.usa", "cluster.hemisphere", "cluster.stationary",
         "equiangular.invariance", "equiangular.rate.usa"),
        (_X, _BETA, Arg("out", "out", "[n, d]", "velocity")),
        "out_i = P_{x_i}((1/n) sum_j e^{beta <x_i, x_j>} x_j)",
        _usa_cases, "usa_velocity_serial"),
    KernelSpec(
        "multihead_shared", _SPHERE_MEAN, "sphere_mean", ("multihead",),
        ("multihead.total.shared",),
        (_X, _MX, _BETA, Arg("out", "out", "[n, d]", "velocity")),
        "out_i = P_{x_i}((1/n) sum_h sum_j e^{beta <x_i, M_h x_j>} M_h x_j)",
        _shared_cases, "multihead_shared_serial"),
    KernelSpec(
        "kuramoto_velocity", _CIRCLE, "circle_mean", ("kuramoto",),
        ("kuramoto", "circle", "localization.circle_mass"),
        (_THETA1, _BETA, Arg("out", "out", "[n]", "dtheta/dt")),
        "out_i = -(1/n) sum_j e^{beta cos(theta_i - theta_j)} sin(theta_i - theta_j)",
        _kuramoto_cases, "kuramoto_velocity_serial"),
    KernelSpec(
        "kuramoto_velocity_batched", _CIRCLE, "circle_mean", ("kuramoto",),
        ("kuramoto", "circle", "localization.circle_mass", "cluster.stationary"),
        (_THETA2, _BETA, Arg("out", "out", "[P, n]", "dtheta/dt per prompt")),
        "out_{b,i} = -(1/n) sum_j e^{beta cos(theta_bi - theta_bj)} sin(theta_bi - theta_bj)",
        _kuramoto_batched_cases, "kuramoto_velocity_batched_serial"),
    KernelSpec(
        "circle_row_lse", _CIRCLE, "circle_energy", ("kuramoto",),
        ("kuramoto", "circle", "localization.circle_mass"),
        (_THETA1, _BETA, Arg("m_out", "out", "[n]", "row maximum logit"),
         Arg("z_out", "out", "[n]", "shifted row sum")),
        "sum_j exp(beta cos(theta_i - theta_j)) = exp(m_out_i) z_out_i with m_out_i the row maximum",
        _circle_lse_cases, "circle_row_lse_serial"),
    KernelSpec(
        "causal_alibi_velocity", _ALIBI, "causal_alibi", ("causal_alibi",),
        ("retrieval.particles", "causal_alibi"),
        (_THETA1, _BETA, _LAM, Arg("out", "out", "[n]", "dtheta/dt")),
        "out_j = Z_j^{-1} sum_{k<j} e^{-lam (j-k)/n} w_beta'(theta_j - theta_k), out_0 = 0",
        _alibi_cases, "causal_alibi_velocity_serial"),
    KernelSpec(
        "causal_alibi_velocity_batched", _ALIBI, "causal_alibi", ("causal_alibi",),
        ("retrieval.particles", "causal_alibi"),
        (_THETA2, _BETA, _LAM, Arg("out", "out", "[P, n]", "dtheta/dt per prompt")),
        "out_{b,j} = Z_j^{-1} sum_{k<j} e^{-lam (j-k)/n} w_beta'(theta_bj - theta_bk), out_{b,0} = 0",
        _alibi_batched_cases, "causal_alibi_velocity_batched_serial"),
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
        _interp_cases, "interp_velocity_serial"),
]

#: ``{kernel name: KernelSpec}`` in a fixed order (the order of ``attnflow export --list``).
KERNELS: dict[str, KernelSpec] = {s.name: s for s in _SPECS}
