r"""Export verified numba kernels as a self-contained Python package (``attnflow export``).

An export is a folder ``DIR`` whose last component is the import name of the package::

    DIR/
      __init__.py        re-exports the kernels, selftest(), SelftestError, load_manifest()
      __main__.py        python -m NAME selftest | info
      _selftest.py       the self-test (standard library + numpy only)
      kernels/*.py       the generated kernel modules, copied byte for byte from numerics/_generated
                         (a numba kernel is exported together with its serial twin <kernel>_serial)
      data/<kernel>/     stored inputs and reference outputs (.npy, loaded with allow_pickle=False)
      manifest.json      versions, per kernel: signature, LaTeX + hash of the source expression,
                         the claims that exercise it (profile, seed, outcome, date), the test cases
      README.md          for the receiving project

Nothing in it imports attnflow: every written ``.py`` file is parsed and its imports must be numpy,
numba or the standard library (:func:`import_problems`), otherwise the export is refused (the
sources are never rewritten).

Verification before export, per kernel (:func:`verify_kernels`):

1. its generated file must be current: byte-identical to what
   :func:`attnflow.symbolic.codegen.kernels.render_file` produces from the SymPy source now;
2. the claims matching its claim-id globs (:data:`KERNELS` ``[name].claims``) are run through
   :func:`attnflow.properties.registry.run_claim` under the chosen profile and seed, with every
   catalogued kernel traced (:func:`trace_kernel_calls`); the kernel is exportable only if at least
   one claim matches, every matching claim comes out as expected (``run.ok``), and at least one of
   them actually called the kernel (a call of its serial twin ``<kernel>_serial``, which the public
   API uses for small problems, counts as a call of the kernel).  No claims means not verified: the
   kernel is refused;
3. the kernel and its serial twin (if any), run on the stored inputs, must each agree with the independent plain-NumPy implementation
   :mod:`attnflow.numerics._reference` within the stated tolerance (the same check ``selftest()``
   repeats in the receiving environment).

The package is written into a temporary sibling directory and renamed into place at the end, so a
failure leaves nothing half-written; an existing ``DIR`` is replaced only with ``force=True`` and
only if it is empty or an earlier export (it holds a ``manifest.json`` written by this module).

References
----------
Issue 7 (``attnflow export``); issue 4 (claims registry); theory notes ``claims.md``.
"""

from __future__ import annotations

import ast
import contextlib
import dataclasses
import datetime
import difflib
import fnmatch
import functools
import hashlib
import importlib
import inspect
import json
import keyword
import os
import platform
import secrets
import shutil
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import numpy as np

from attnflow._export_catalog import (
    ATOL,
    KERNELS,
    RTOL,
    TOLERANCE_RATIONALE,
    TOLERANCE_RULE,
    Arg,
    Case,
    KernelSpec,
)
from attnflow._export_templates import INIT, KERNELS_INIT, MAIN, README, SELFTEST
from attnflow._version import __version__

__all__ = [
    "Arg",
    "Case",
    "KernelSpec",
    "KERNELS",
    "RTOL",
    "ATOL",
    "GENERATOR",
    "ExportRefused",
    "KernelVerification",
    "ExportReport",
    "package_name",
    "resolve_kernels",
    "matching_claims",
    "kernel_table",
    "import_problems",
    "generated_functions",
    "trace_kernel_calls",
    "kernel_errors",
    "verify_kernels",
    "export_kernels",
]

#: Written into ``manifest.json``; ``--force`` only replaces folders carrying it.
GENERATOR = "attnflow export"
FORMAT_VERSION = 2
_ALLOWED_IMPORTS = frozenset({"numpy", "numba"})
_RESERVED_NAMES = frozenset({"attnflow", "numpy", "numba", "sympy", "scipy", "hypothesis", "llvmlite"})


class ExportRefused(Exception):
    """Export refused: a kernel is not verified (no claims, a claim not as expected, not exercised,
    disagreement with the reference) or its source is not standalone / not current.

    ``reasons`` maps each refused kernel name to the reason.
    """

    def __init__(self, reasons: dict[str, str]):
        self.reasons = dict(reasons)
        lines = [f"{name}: {why}" for name, why in self.reasons.items()]
        super().__init__("refused to export:\n  " + "\n  ".join(lines))


@dataclasses.dataclass
class KernelVerification:
    """The verification record of one kernel (``reason`` is None iff it may be exported)."""

    name: str
    claims: list[dict]
    reason: str | None = None
    source: str = ""
    cases: list[Case] = dataclasses.field(default_factory=list)
    errors: list[dict[str, float]] = dataclasses.field(default_factory=list)
    twin_errors: list[dict[str, float]] = dataclasses.field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.reason is None


@dataclasses.dataclass
class ExportReport:
    """What :func:`export_kernels` wrote."""

    path: Path
    package: str
    kernels: list[str]
    refused: dict[str, str]
    profile: str
    seed: int
    seconds: float
    manifest: dict


# ----------------------------------------------------------------------------------------------
# names


def package_name(out) -> str:
    """The import name of the package written to ``out`` (its last path component), validated.

    Raises ``ValueError`` (naming ``out``) unless it is a Python identifier that is not a keyword
    and does not shadow attnflow, its dependencies or a standard-library module.

    References
    ----------
    Issue 7 (the package's import name is DIR's last component).
    """
    if out is None or str(out) == "":
        raise ValueError("out: give the package directory to write, e.g. --out build/attnflow_kernels")
    name = Path(os.fspath(out)).name
    if name in ("", ".", ".."):
        raise ValueError(f"out: {str(out)!r} has no last component to use as the package name; "
                         "give a folder such as build/attnflow_kernels")
    if not name.isidentifier() or keyword.iskeyword(name):
        fixed = "".join(ch if ch.isalnum() or ch == "_" else "_" for ch in name)
        if not fixed or fixed[0].isdigit():
            fixed = "k_" + fixed
        raise ValueError(f"out: the last component {name!r} is the import name of the package and must be a "
                         f"valid Python identifier (letters, digits, underscores, not a keyword), e.g. {fixed!r}")
    if name in _RESERVED_NAMES or name in sys.stdlib_module_names:
        raise ValueError(f"out: the package name {name!r} would shadow an existing module; "
                         f"choose another, e.g. '{name}_kernels'")
    return name


def resolve_kernels(names: Iterable[str]) -> list[KernelSpec]:
    """Catalogue entries for kernel ``names`` (order kept, duplicates dropped).

    Raises ``ValueError`` naming each unknown name with close matches (a model name is answered with
    the kernels that model uses).

    References
    ----------
    Issue 7 (clear errors for unknown kernel names).
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

    References
    ----------
    Issue 4 (claim ids and selection); issue 7 (claims that exercise a kernel).
    """
    if claims is None:
        from attnflow.properties import registry

        claims = registry.all_claims()
    return [c for c in claims if any(_glob_matches(c.id, p) for p in spec.claims)]


def kernel_table() -> list[dict]:
    """Rows for ``attnflow export --list``: kernel, file, models, claim globs, matching claim ids.

    Claims are not run here; ``status`` says whether the kernel has any claim to be verified by.

    References
    ----------
    Issue 7 (``attnflow export --list``).
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


# ----------------------------------------------------------------------------------------------
# sources


def import_problems(text: str) -> list[str]:
    """Why ``text`` (Python source) would not import with only numpy, numba and the standard library.

    Flags every ``import``/``from ... import`` of attnflow or of a module that is neither numpy,
    numba nor standard library, every relative import (the exported kernel modules must stand
    alone) and ``__import__`` / ``importlib.import_module`` calls with such a constant name.
    An empty list means standalone.

    References
    ----------
    Issue 7 (no attnflow import anywhere in the export; numpy and numba only).
    """
    try:
        tree = ast.parse(text)
    except SyntaxError as exc:
        return [f"not valid Python ({exc})"]
    problems = []

    def check(root: str, line: int) -> None:
        if root == "attnflow":
            problems.append(f"line {line}: imports attnflow")
        elif root not in _ALLOWED_IMPORTS and root not in sys.stdlib_module_names:
            problems.append(f"line {line}: imports {root!r}, which is not numpy, numba or the standard library")

    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                check(alias.name.split(".")[0], node.lineno)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                problems.append(f"line {node.lineno}: relative import 'from {'.' * node.level}{node.module or ''} "
                                "import ...' (kernel modules must stand alone)")
            elif node.module:
                check(node.module.split(".")[0], node.lineno)
        elif isinstance(node, ast.Call):
            fn = node.func
            fname = fn.id if isinstance(fn, ast.Name) else fn.attr if isinstance(fn, ast.Attribute) else ""
            if fname in ("__import__", "import_module") and node.args:
                arg = node.args[0]
                if isinstance(arg, ast.Constant) and isinstance(arg.value, str) and not arg.value.startswith("."):
                    check(arg.value.split(".")[0], node.lineno)
    return problems


def generated_functions(module) -> list[str]:
    """Public functions defined in a generated module: numba kernels (with ``py_func``) and plain
    Python functions whose ``__module__`` is the module (e.g. ``sa_attention_blocked``).

    References
    ----------
    Issue 7 (what a copied kernel module contains).
    """
    return [n for n, obj in vars(module).items() if not n.startswith("_") and (
        hasattr(obj, "py_func") or (inspect.isfunction(obj) and obj.__module__ == module.__name__))]


def _template_import_problems(text: str) -> list[str]:
    # the package's own files may import their siblings relatively; everything else as for kernels
    return [p for p in import_problems(text) if "relative import" not in p]


def _kernel_source(spec: KernelSpec) -> str:
    """The checked-in source text of the kernel's generated module (as attnflow imports it)."""
    module = importlib.import_module(spec.module)
    with open(module.__file__, encoding="utf-8") as fh:
        return fh.read()


def _source_problem(spec: KernelSpec, text: str) -> str | None:
    from attnflow.symbolic.codegen.kernels import render_file

    bad = import_problems(text)
    if bad:
        return (f"{spec.file} is not standalone ({'; '.join(bad)}); the export copies sources verbatim and "
                "will not rewrite them - fix the code generator's template")
    if text != render_file(spec.file):
        return (f"{spec.file} differs from what attnflow.symbolic.codegen renders from the SymPy source now "
                "(stale or edited by hand); run `attnflow derive` first")
    return None


# ----------------------------------------------------------------------------------------------
# verification


@contextlib.contextmanager
def trace_kernel_calls(names: Iterable[str] | None = None) -> Iterator[Counter]:
    r"""Count calls of catalogued kernels made through their generated modules (a context manager).

    Inside the block each kernel attribute of its ``attnflow.numerics._generated`` module, and the
    attribute of its serial twin ``<kernel>_serial``, is replaced by a counting wrapper (the public
    API looks the kernels up there at call time, the twin by name); the originals are restored on
    exit.  The wrappers carry the wrapped function's ``__name__``/``__module__`` (and
    ``__wrapped__``).  Yields a ``Counter`` ``{kernel name: calls}``, twin calls counted under the
    kernel's name; counting is thread-safe (the blocked SA path runs on a thread pool).

    .. math:: \mathrm{calls}(k) = \#\{\text{calls of } k \text{ or } k\_\mathrm{serial} \text{ inside the block}\}

    References
    ----------
    Issue 7 (claims that exercise a kernel).
    """
    specs = list(KERNELS.values()) if names is None else resolve_kernels(names)
    counts: Counter = Counter()
    lock = threading.Lock()
    patched = []
    try:
        for spec in specs:
            module = importlib.import_module(spec.module)
            for attr in spec.functions:
                original = getattr(module, attr)

                def wrapper(*args, _original=original, _name=spec.name, **kwargs):
                    with lock:
                        counts[_name] += 1
                    return _original(*args, **kwargs)

                functools.update_wrapper(wrapper, original)  # __name__, __module__, __wrapped__, __doc__
                setattr(module, attr, wrapper)
                patched.append((module, attr, original))
        yield counts
    finally:
        for module, name, original in reversed(patched):
            setattr(module, name, original)


def _call(spec: KernelSpec, case: Case, function: str | None = None) -> dict[str, np.ndarray]:
    fn = getattr(importlib.import_module(spec.module), function or spec.name)
    args, outs = [], {}
    for a in spec.args:
        if a.kind == "out":
            buf = np.full(case.expected[a.name].shape, np.nan)
            outs[a.name] = buf
            args.append(buf)
        elif a.kind == "float":
            args.append(float(case.inputs[a.name][()]))
        elif a.kind == "bool":
            args.append(bool(case.inputs[a.name][()]))
        elif a.kind == "int":
            args.append(int(case.inputs[a.name][()]))
        else:
            args.append(np.ascontiguousarray(case.inputs[a.name], dtype=np.float64))
    fn(*args)
    return outs


def _max_error(got: np.ndarray, expected: np.ndarray) -> float:
    """max|got - expected| over the entries with a reference value; inf if any of them is not
    finite, if an entry marked untouched (NaN) was written, or on a shape mismatch."""
    if got.shape != expected.shape:
        return float("inf")
    keep = ~np.isnan(expected)
    if not np.all(np.isfinite(got[keep])) or not np.all(np.isnan(got[~keep])):
        return float("inf")
    return float(np.max(np.abs(got[keep] - expected[keep]))) if keep.any() else 0.0


def kernel_errors(spec: KernelSpec, cases: list[Case], function: str | None = None) -> list[dict[str, float]]:
    r"""Per case and output, :math:`\max|k-r|` between the kernel (run now) and the stored reference.

    ``function`` selects a variant (``spec.twin``); default the kernel itself.  The maximum runs
    over the entries with a reference value; non-finite kernel outputs there, or a write into an
    entry marked untouched (NaN in the reference), count as an infinite error.  The export
    requires, per output array,

    .. math:: \max|k - r| \le \mathrm{rtol}\,\max|r| + \mathrm{atol}.

    References
    ----------
    Issue 7 (stored outputs from an independent implementation); :mod:`attnflow.numerics._reference`.
    """
    rows = []
    for case in cases:
        got = _call(spec, case, function)
        rows.append({name: _max_error(g, case.expected[name]) for name, g in got.items()})
    return rows


def _bound(expected: np.ndarray) -> float:
    keep = ~np.isnan(expected)
    return RTOL * (float(np.max(np.abs(expected[keep]))) if keep.any() else 0.0) + ATOL


def _now() -> str:
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")


def verify_kernels(specs: list[KernelSpec], *, profile: str = "quick", seed: int | None = None,
                   progress: bool = False) -> dict[str, KernelVerification]:
    """Run the verification steps 1-3 of the module docstring for ``specs``.

    Each matching claim runs once (shared between kernels) with the same ``seed``.

    References
    ----------
    Issue 7 (export runs the relevant claims first); issue 4 (runner outcomes).

    Returns
    -------
    dict
        ``{kernel name: KernelVerification}``; ``reason`` says why a kernel is refused.
    """
    from attnflow.properties import registry
    from attnflow.properties.profiles import PROFILES

    if profile not in PROFILES:
        raise ValueError(f"profile: unknown profile {profile!r}; choose one of {', '.join(PROFILES)}")
    if seed is None:
        from attnflow.properties._runner import random_seed

        seed = random_seed()
    result: dict[str, KernelVerification] = {}
    pending = []
    sources: dict[str, str] = {}
    for spec in specs:
        text = _kernel_source(spec)
        problem = _source_problem(spec, text)
        if problem:
            result[spec.name] = KernelVerification(spec.name, [], problem, text)
        else:
            sources[spec.name] = text
            pending.append(spec)

    claims = registry.all_claims()
    matched = {s.name: matching_claims(s, claims) for s in pending}
    to_run = list({c.id: c for s in pending for c in matched[s.name]}.values())
    runs: dict[str, tuple[Any, str, Counter]] = {}
    bar = None
    iterator: Iterable = to_run
    if progress and to_run:
        from tqdm import tqdm

        bar = tqdm(to_run, desc="claims", unit="claim", file=sys.stderr, leave=False)
        iterator = bar
    with trace_kernel_calls() as counts:
        for c in iterator:
            if bar is not None:
                bar.set_postfix_str(c.id)
            before = Counter(counts)
            date = _now()
            run = registry.run_claim(c, profile=profile, seed=seed)
            runs[c.id] = (run, date, counts - before)
    if bar is not None:
        bar.close()

    for spec in pending:
        rows = []
        for c in matched[spec.name]:
            run, date, calls = runs[c.id]
            rows.append({
                "id": c.id,
                "title": c.title,
                "source": c.source,
                "expect": c.expect,
                "outcome": run.outcome,
                "ok": bool(run.ok),
                "examples": run.examples,
                "profile": run.profile,
                "seed": run.seed,
                "date": date,
                "seconds": round(run.seconds, 3),
                "kernel_calls": int(calls.get(spec.name, 0)),
                "detail": run.detail,
            })
        v = KernelVerification(spec.name, rows, None, sources[spec.name])
        if not rows:
            v.reason = (f"no registered claim matches its claim globs ({', '.join(spec.claims)}); "
                        "a kernel without claims is not verified - add a claim that exercises it")
        elif not all(r["ok"] for r in rows):
            bad = [f"{r['id']} came out {r['outcome']!r} (expected {r['expect']!r}): {r['detail']}"
                   for r in rows if not r["ok"]]
            v.reason = "claim(s) did not come out as expected: " + "; ".join(bad)
        elif not any(r["kernel_calls"] for r in rows):
            v.reason = (f"none of its claims ({', '.join(r['id'] for r in rows)}) called the kernel, so none "
                        "exercises it; add a claim that goes through attnflow.numerics")
        else:
            v.cases = spec.cases()
            v.errors = kernel_errors(spec, v.cases)
            v.twin_errors = kernel_errors(spec, v.cases, spec.twin) if spec.twin else []
            over = [f"{fn} case {i} output {name!r}: {err:.3e} > {_bound(case.expected[name]):.3e}"
                    for fn, errors in ((spec.name, v.errors), (spec.twin, v.twin_errors))
                    for i, (case, errs) in enumerate(zip(v.cases, errors))
                    for name, err in errs.items() if not err <= _bound(case.expected[name])]
            if over:
                v.reason = ("kernel disagrees with the independent reference attnflow.numerics._reference "
                            f"({TOLERANCE_RULE}, rtol={RTOL}, atol={ATOL}): " + "; ".join(over))
        result[spec.name] = v
    return {s.name: result[s.name] for s in specs}


# ----------------------------------------------------------------------------------------------
# writing


def _check_out(out, force: bool) -> tuple[Path, str]:
    name = package_name(out)
    path = Path(os.path.abspath(os.fspath(out)))
    if not path.parent.is_dir():
        raise ValueError(f"out: the parent directory {path.parent} does not exist; create it first")
    if path.exists() or path.is_symlink():
        if not force:
            raise ValueError(f"out: {path} already exists; pass --force to replace it")
        if path.is_symlink() or not path.is_dir():
            raise ValueError(f"out: {path} exists and is not a directory; refusing to replace it even with --force")
        if any(path.iterdir()) and not _is_previous_export(path):
            raise ValueError(f"out: {path} is not empty and is not an earlier attnflow export (no manifest.json "
                             "written by attnflow export); refusing to delete it even with --force")
    return path, name


def _is_previous_export(path: Path) -> bool:
    try:
        with open(path / "manifest.json", encoding="utf-8") as fh:
            return json.load(fh).get("generator") == GENERATOR
    except (OSError, ValueError, AttributeError):
        return False


def _versions() -> dict[str, str]:
    import numba
    import sympy

    return {"python": platform.python_version(), "numpy": np.__version__, "numba": numba.__version__,
            "sympy": sympy.__version__}


def _sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _write_text(root: Path, rel: str, text: str) -> None:
    target = root / rel
    target.parent.mkdir(parents=True, exist_ok=True)
    with open(target, "w", encoding="utf-8", newline="") as fh:
        fh.write(text)


def _save(root: Path, rel: str, array: np.ndarray) -> None:
    target = root / rel
    target.parent.mkdir(parents=True, exist_ok=True)
    np.save(target, np.asarray(array), allow_pickle=False)


def _build_manifest_and_files(package: str, specs: list[KernelSpec], ver: dict[str, KernelVerification],
                              refused: dict[str, str], profile: str, seed: int, command: str
                              ) -> tuple[dict, dict[str, str], dict[str, np.ndarray]]:
    from attnflow.symbolic import models
    from attnflow.symbolic.codegen.kernels import source_expr
    from attnflow.symbolic.result import expr_hash, latex

    texts: dict[str, str] = {}
    arrays: dict[str, np.ndarray] = {}
    files = []
    by_file: dict[str, list[KernelSpec]] = {}
    for s in specs:
        by_file.setdefault(s.file, []).append(s)
    for path, members in by_file.items():
        text = ver[members[0].name].source
        if any(ver[m.name].source != text for m in members):  # pragma: no cover - edited while exporting
            raise ExportRefused({m.name: f"{path} changed while exporting; export again" for m in members})
        rel = f"kernels/{members[0].stem}.py"
        texts[rel] = text
        src = source_expr(path)
        module = importlib.import_module(members[0].module)
        public = sorted(generated_functions(module))
        exported = [f for m in members for f in m.functions]
        files.append({
            "path": rel,
            "source": path,
            "sha256": _sha256_bytes(text.encode("utf-8")),
            "expr_hash": expr_hash(src),
            "latex": latex(src),
            "kernels_exported": exported,
            "functions_not_exported": [n for n in public if n not in exported],
        })
    kernels = []
    for s in specs:
        v = ver[s.name]
        fam = models.kernel_source_expr(s.family)
        cases = []
        for i, (case, errs) in enumerate(zip(v.cases, v.errors)):
            twin_errs = v.twin_errors[i] if v.twin_errors else None
            inputs, expected = {}, {}
            for a in s.args:
                if a.kind == "out":
                    rel = f"data/{s.name}/case{i}.expected.{a.name}.npy"
                    arrays[rel] = case.expected[a.name]
                    expected[a.name] = rel
                else:
                    rel = f"data/{s.name}/case{i}.{a.name}.npy"
                    arrays[rel] = case.inputs[a.name]
                    inputs[a.name] = rel
            row = {"inputs": inputs, "expected": expected,
                   "max_error_at_export": {k: float(f"{e:.3e}") for k, e in errs.items()}}
            if twin_errs is not None:
                row["max_error_at_export_twin"] = {k: float(f"{e:.3e}") for k, e in twin_errs.items()}
            cases.append(row)
        fn = getattr(importlib.import_module(s.module), s.name)
        kernels.append({
            "name": s.name,
            "module": f"kernels.{s.stem}",
            "source_file": s.file,
            "signature": s.signature(),
            "twin": s.twin,
            "functions": list(s.functions),
            "implementation": ("numba (parallel kernel; serial twin with parallel=False)" if s.twin else "numba")
            if hasattr(fn, "py_func") else "pure NumPy (no numba)",
            "equation": s.equation,
            "args": [dataclasses.asdict(a) for a in s.args],
            "models": list(s.models),
            "source_expression": {"family": s.family, "latex": latex(fam), "expr_hash": expr_hash(fam)},
            "file_expr_hash": expr_hash(source_expr(s.file)),
            "claim_globs": list(s.claims),
            "claims": v.claims,
            "reference": "attnflow.numerics._reference (plain NumPy: full n x n logit matrix, global shift)",
            "cases": cases,
        })
    manifest = {
        "generator": GENERATOR,
        "format_version": FORMAT_VERSION,
        "package": package,
        "created": _now(),
        "attnflow_version": __version__,
        "versions": _versions(),
        "profile": profile,
        "seed": seed,
        "command": command,
        "tolerance": {"rule": TOLERANCE_RULE, "rtol": RTOL, "atol": ATOL, "rationale": TOLERANCE_RATIONALE},
        "files": files,
        "kernels": kernels,
        "refused": [{"name": n, "reason": r} for n, r in refused.items()],
    }
    vers = manifest["versions"]

    groups: dict[str, list[str]] = {}
    for s in specs:
        groups.setdefault(s.stem, []).extend(s.functions)
    imports = "\n".join(f"from .kernels.{stem} import {', '.join(names)}" for stem, names in groups.items())
    all_names = ", ".join(f'"{f}"' for s in specs for f in s.functions)
    kernel_lines = "\n".join(f"    {s.signature()}" + (f"  (serial twin: {s.twin})" if s.twin else "")
                             for s in specs)
    texts["__init__.py"] = INIT.substitute(package=package, attnflow_version=__version__,
                                           kernel_lines=kernel_lines, imports=imports, all_names=all_names)
    texts["kernels/__init__.py"] = KERNELS_INIT
    texts["_selftest.py"] = SELFTEST
    texts["__main__.py"] = MAIN.substitute(package=package)
    table = ["| kernel | computes | used by attnflow models |", "|---|---|---|"]
    table += [f"| `{s.signature()}`" + (f"<br>serial twin `{s.twin}` (same arguments)" if s.twin else "")
              + f" | {s.equation} | {', '.join(s.models)} |" for s in specs]
    claims_rows = ["| kernel | claim | expected | outcome | examples | kernel calls | run (UTC) |",
                   "|---|---|---|---|---|---|---|"]
    for s in specs:
        for r in ver[s.name].claims:
            claims_rows.append(f"| {s.name} | `{r['id']}` | {r['expect']} | {r['outcome']} | {r['examples']} | "
                               f"{r['kernel_calls']} | {r['date']} |")
    texts["README.md"] = README.substitute(
        package=package, attnflow_version=__version__, created=manifest["created"], command=command,
        numpy_version=vers["numpy"], numba_version=vers["numba"], python_version=vers["python"],
        kernel_table="\n".join(table), claims_table="\n".join(claims_rows), profile=profile, seed=seed,
        tolerance_rule=TOLERANCE_RULE, rtol=RTOL, atol=ATOL)
    texts["manifest.json"] = json.dumps(manifest, indent=2, ensure_ascii=False) + "\n"
    for rel, text in texts.items():
        if rel.endswith(".py"):
            bad = import_problems(text) if rel.startswith("kernels/") else _template_import_problems(text)
            if bad:  # pragma: no cover - guarded by the source checks and the tests
                raise ExportRefused({rel: "not standalone: " + "; ".join(bad)})
    return manifest, texts, arrays


def _write_package(tmp: Path, texts: dict[str, str], arrays: dict[str, np.ndarray]) -> None:
    for rel, arr in arrays.items():
        _save(tmp, rel, arr)
    for rel, text in texts.items():
        if rel != "manifest.json":
            _write_text(tmp, rel, text)
    _write_text(tmp, "manifest.json", texts["manifest.json"])  # last: its presence marks a complete export


def _install(tmp: Path, path: Path, force: bool) -> None:
    """Rename ``tmp`` to ``path``; with ``force`` move an existing ``path`` aside first, delete it after."""
    if path.exists():
        if not force:
            raise ValueError(f"out: {path} was created while exporting; pass --force to replace it")
        old = path.parent / f".{path.name}.old-{os.getpid()}-{secrets.token_hex(4)}"
        os.rename(path, old)
        try:
            os.rename(tmp, path)
        except BaseException:
            os.rename(old, path)
            raise
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.rename(tmp, path)


def export_kernels(names: Iterable[str] | None = None, out=None, *, all_kernels: bool = False,
                   force: bool = False, profile: str = "quick", seed: int | None = None,
                   progress: bool = False) -> ExportReport:
    """Verify kernels and write them as the self-contained package ``out`` (see the module docstring).

    Parameters
    ----------
    names : iterable of str, optional
        Kernel names (keys of :data:`KERNELS`); every one must verify or nothing is written.
    out : path
        The package folder; its last component is the import name.
    all_kernels : bool
        Export every catalogued kernel that verifies; refused ones are listed in the manifest
        (``refused``) and the report.  At least one must verify.
    force : bool
        Replace an existing ``out`` (only an empty folder or an earlier export).
    profile : {"quick", "ci", "thorough"}
        Hypothesis profile for the claims.
    seed : int, optional
        Hypothesis seed (a fresh one is drawn and recorded if omitted).
    progress : bool
        tqdm progress bar over the claims on stderr.

    Returns
    -------
    ExportReport

    Raises
    ------
    ValueError
        Bad arguments (names ``names``, ``out``, ``profile`` or ``seed`` in the message).
    ExportRefused
        A requested kernel (or, with ``all_kernels``, every kernel) is not verified.

    References
    ----------
    Issue 7 (``attnflow export``).
    """
    t0 = time.perf_counter()
    names = list(names or [])
    if all_kernels and names:
        raise ValueError("names: give kernel names or all_kernels (--all), not both")
    if not all_kernels and not names:
        raise ValueError("names: name the kernels to export or pass --all (see `attnflow export --list`)")
    specs = list(KERNELS.values()) if all_kernels else resolve_kernels(names)
    path, package = _check_out(out, force)
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or not 0 <= seed < 2**32):
        raise ValueError(f"seed: expected an integer in [0, 2**32), got {seed!r}")
    if seed is None:
        from attnflow.properties._runner import random_seed

        seed = random_seed()
    seed = int(seed)
    ver = verify_kernels(specs, profile=profile, seed=seed, progress=progress)
    refused = {n: v.reason for n, v in ver.items() if not v.ok}
    if all_kernels:
        specs = [s for s in specs if ver[s.name].ok]
        if not specs:
            raise ExportRefused(refused)
    elif refused:
        raise ExportRefused(refused)

    what = "--all" if all_kernels else " ".join(s.name for s in specs)
    command = f"attnflow export {what} --out {package} --profile {profile} --seed {seed}"
    manifest, texts, arrays = _build_manifest_and_files(package, specs, ver, refused, profile, seed, command)

    tmp = path.parent / f".{package}.tmp-{os.getpid()}-{secrets.token_hex(4)}"
    tmp.mkdir()
    try:
        _write_package(tmp, texts, arrays)
        _check_out(out, force)  # re-check: the target may have changed while the claims ran
        _install(tmp, path, force)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return ExportReport(path=path, package=package, kernels=[s.name for s in specs], refused=refused,
                        profile=profile, seed=seed, seconds=time.perf_counter() - t0, manifest=manifest)
