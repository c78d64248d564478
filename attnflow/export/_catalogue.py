r"""The catalogue of exportable kernels and the lookups on it (private; re-exported by :mod:`attnflow.export`).

One :class:`KernelSpec` per public kernel of ``numerics/_generated/<model>.py`` (a numba kernel,
with its serial twin ``<kernel>_serial`` as a variant of the same entry, or a generated pure-NumPy
function such as ``sa_velocity_blocked``), *derived* from the model declarations and their kernel
plans (:func:`attnflow.symbolic.codegen.kernel_plan`): the generated file, its kernel family (a key
of :data:`attnflow.symbolic.models.KERNEL_EXPRESSIONS`), the model that calls it, the claim-id
globs of the declaration (``Model.claims``), its positional arguments, and a deterministic set of
test cases (:mod:`._cases`) whose expected outputs are computed by the INDEPENDENT plain-NumPy
implementation :mod:`attnflow.numerics._reference`.  The self-test tolerance (:data:`RTOL`,
:data:`ATOL`) is stated here too.

``tests/cli/test_export.py`` checks the catalogue against the generated modules (every public
function listed, argument names equal to the kernel's Python signature) and against the public API
(the ``models`` column equal to the kernels that the public API actually calls, found by tracing).
"""

from __future__ import annotations

import dataclasses
import difflib
import fnmatch
import functools
from collections.abc import Callable, Iterable

from . import _cases
from ._cases import Case

__all__ = ["Arg", "Case", "KernelSpec", "KERNELS", "RTOL", "ATOL", "TOLERANCE_RULE", "TOLERANCE_RATIONALE",
           "resolve_kernels", "matching_claims", "kernel_table", "sync_user_kernels"]

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
    cached_module : str or None
        For a model without a checked-in module (a user's declaration): the import name of its
        module generated into the kernel cache (``attnflow.numerics.fields``); ``file`` is then the
        nominal path the module would have in the repository (the exported file's name).
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
    cached_module: str | None = None

    @property
    def functions(self) -> tuple[str, ...]:
        """The kernel and its serial twin (if any): the functions run on the stored cases."""
        return (self.name,) if self.twin is None else (self.name, self.twin)

    @property
    def module(self) -> str:
        """Import path of the generated module (inside attnflow, or in the kernel cache)."""
        if self.cached_module is not None:
            return self.cached_module
        stem = self.file.rsplit("/", 1)[-1][: -len(".py")]
        return f"attnflow.numerics._generated.{stem}"

    @property
    def stem(self) -> str:
        return self.file.rsplit("/", 1)[-1][: -len(".py")]

    def signature(self) -> str:
        params = ", ".join(f"{a.name}: {a.annotation()}" for a in self.args)
        return f"{self.name}({params}) -> None"


#: The claim that verifies every ensemble kernel (a batch of systems equals the loop over them).
ENSEMBLE_CLAIM = "ensemble.batch_equals_loop"

#: Roles of the large-n fast paths: the dispatch runs them from n^2 >= PARALLEL_MIN_PAIRS on, which the
#: generic ``model.<name>.reference`` claim reaches with its n = 256 configuration.
FAST_ROLES = ("velocity_shifted", "velocity_blas", "velocity_shifted_circle", "velocity_batched_shifted_circle")


# ----------------------------------------------------------------------------------------------
# the catalogue, derived from the model declarations and their kernel plans


def _spec(decl, kernel, cached_module: str | None = None) -> KernelSpec:
    from attnflow.symbolic.codegen import kernel_plan
    from attnflow.symbolic.models import kernel_variants

    plan = kernel_plan(decl)
    variants = list(kernel_variants(decl))
    family = next((v for v in variants if kernel.name.startswith(v + "_")), variants[0])
    args = tuple(Arg(a.name, a.kind, a.shape.replace("(", "[").replace(")", "]").replace(",]", "]"), a.doc)
                 for a in kernel.args)
    role = {"velocity": "velocity", "velocity_batched": "velocity of P independent configurations",
            "velocity_ensemble": "velocity of B independent systems (x[b] of shape (n, d))",
            "velocity_blocked": "velocity, rows start..stop-1 by BLAS blocks of rows rows (pure NumPy; other rows "
                                "untouched)",
            "velocity_shifted": "velocity, rows start..stop-1 by BLAS blocks with an a-priori row shift (NumPy and a "
                                "vectorised numba weights pass; other rows untouched)",
            "velocity_blas": "velocity, rows start..stop-1 by BLAS column tiles with an a-priori row shift per head, "
                             "rows whose weight sum underflows recomputed with the exact row maximum (NumPy and "
                             "vectorised numba passes; other rows untouched)",
            "velocity_shifted_circle": "velocity with an a-priori row shift (beta >= 0; vectorised, the exact row where "
                                       "the weights underflow)",
            "velocity_batched_shifted_circle": "velocity of P independent configurations with an a-priori row shift "
                                               "(beta >= 0)",
            "energy_rows": "row sums of the pair energy, sum_j F(s_ij) = ce exp(m_out_i) z_out_i"}[kernel.role]
    equation = f"{decl.name}: {role}; {decl.description}"
    registered = cached_module is not None or decl.name in _registered_names()
    # a user's model is verified by its generic claims model.<name>.* (and any it names itself)
    claims = tuple(decl.claims) if cached_module is None else (f"model.{decl.name}", *decl.claims)
    if kernel.role == "velocity_ensemble" and ENSEMBLE_CLAIM not in claims:
        claims += (ENSEMBLE_CLAIM,)  # the claim that runs every model's batch against its loop of systems
    if kernel.role in FAST_ROLES and f"model.{decl.name}" not in claims:
        claims += (f"model.{decl.name}.reference",)  # its n = 256 configuration takes the fast paths
    return KernelSpec(kernel.name, plan.path, family, (decl.name,) if registered else (), claims, args,
                      equation, functools.partial(_cases.cases, decl, kernel), kernel.twin, cached_module)


def _registered_names() -> set[str]:
    from attnflow.symbolic.models import BUILTIN

    return set(BUILTIN)


def _catalogue() -> dict[str, KernelSpec]:
    from attnflow.symbolic.codegen import generated_models, kernel_plan

    specs = {}
    for decl in generated_models():
        for kernel in kernel_plan(decl).kernels:
            if kernel.role != "energy_scale":
                specs[kernel.name] = _spec(decl, kernel)
    return specs


#: ``{kernel name: KernelSpec}`` in a fixed order (the order of ``attnflow export --list``): every
#: public function of the generated modules, derived from the model declarations; the kernels of
#: user-registered models are added (and dropped again) by :func:`sync_user_kernels`.
KERNELS: dict[str, KernelSpec] = _catalogue()

#: ``{model name: (declaration, its kernel names)}`` of the user models in :data:`KERNELS`.
_USER_KERNELS: dict[str, tuple[object, list[str]]] = {}


def sync_user_kernels() -> None:
    """Bring :data:`KERNELS` in line with the model registry: add the kernels of every registered
    model without a checked-in module (a user's declaration; its module is generated into the kernel
    cache now if needed), drop those of models unregistered or replaced since."""
    from attnflow.numerics.fields._compile import load_kernel_module
    from attnflow.symbolic.codegen import generated_models, kernel_plan
    from attnflow.symbolic.models import MODELS

    checked_in = {d.name for d in generated_models()}
    current = {n: d for n, d in MODELS.items() if n not in checked_in}
    for name, (decl, names) in list(_USER_KERNELS.items()):
        if current.get(name) is not decl:
            for k in names:
                KERNELS.pop(k, None)
            del _USER_KERNELS[name]
    for name, decl in current.items():
        if name in _USER_KERNELS:
            continue
        module = load_kernel_module(decl).__name__
        names = []
        for kernel in kernel_plan(decl).kernels:
            if kernel.role != "energy_scale" and kernel.name not in KERNELS:
                KERNELS[kernel.name] = _spec(decl, kernel, module)
                names.append(kernel.name)
        _USER_KERNELS[name] = (decl, names)


# ----------------------------------------------------------------------------------------------
# lookups


def resolve_kernels(names: Iterable[str]) -> list[KernelSpec]:
    """Catalogue entries for kernel ``names`` (order kept, duplicates dropped).

    A model name stands for every kernel of that model (``sigmoid`` -> ``sigmoid_velocity``,
    ``sigmoid_energy_rows``).  Raises ``ValueError`` naming each unknown name with close matches.
    """
    names = list(names)
    if not names:
        raise ValueError("names: give at least one kernel name (see `attnflow export --list`)")
    sync_user_kernels()
    out: dict[str, KernelSpec] = {}
    problems = []
    for n in names:
        if n in KERNELS:
            out[n] = KERNELS[n]
            continue
        used_by = [k for k, s in KERNELS.items() if n in s.models]
        if used_by:
            for k in used_by:
                out[k] = KERNELS[k]
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

    sync_user_kernels()
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
