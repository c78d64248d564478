"""``manifest.json`` and the text files of an export, built in memory (private).

:func:`build_package` returns the manifest and ``{relative path: text}`` / ``{relative path:
array}`` for the files of the package (see :mod:`attnflow.export` for the layout); nothing is written
here (:mod:`._install` writes and installs them).  Every ``.py`` text is checked to be standalone.
"""

from __future__ import annotations

import dataclasses
import hashlib
import importlib
import json

import numpy as np

from attnflow._base.versions import versions
from attnflow._version import __version__
from attnflow.numerics.fields._dispatch import PARALLEL_MIN_PAIRS

from ._catalogue import ATOL, RTOL, TOLERANCE_RATIONALE, TOLERANCE_RULE, KernelSpec
from ._sources import generated_functions, import_problems, template_import_problems
from ._templates import INIT, KERNELS_INIT, MAIN, PYPROJECT, README, package_sources
from ._verification import ExportRefused, KernelVerification, utc_now

__all__ = ["GENERATOR", "SCHEMA", "FORMAT_VERSION", "build_package"]

#: Written into ``manifest.json``; ``--force`` only replaces folders carrying it.
GENERATOR = "attnflow export"
#: Name and version of the manifest format (``schema`` / ``schema_version``; ``format_version`` repeats
#: the version for readers of format 2).  3: ``schema``, ``schema_version``; ``versions`` from
#: :func:`attnflow._base.versions.versions` (adds attnflow, scipy, threadpoolctl).  4: ``mutation`` (the
#: ``attnflow mutate`` report read) and per kernel ``mutants_killed``.
SCHEMA = "attnflow-export-manifest"
FORMAT_VERSION = 4


def _versions() -> dict[str, str]:
    return versions()


def _sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def build_package(package: str, specs: list[KernelSpec], ver: dict[str, KernelVerification],
                  refused: dict[str, str], profile: str, seed: int, command: str, mutation=None
                  ) -> tuple[dict, dict[str, str], dict[str, np.ndarray]]:
    """The manifest, the text files and the stored arrays of the package ``package`` for the verified
    kernels ``specs`` (``ver``: their verification records; ``refused``: kernel -> reason;
    ``mutation``: ``(report, path)`` of an ``attnflow mutate`` report, or ``None``)."""
    from attnflow.mutation import kernel_mutants, report_summary
    from attnflow.symbolic import models
    from attnflow.symbolic.result import expr_hash, latex

    from ._sources import source_expression

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
        src = source_expression(members[0])
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
            "file_expr_hash": expr_hash(source_expression(s)),
            "claim_globs": list(s.claims),
            "claims": v.claims,
            # the mutants of the mutation report that this kernel's claims killed (null: no report)
            "mutants_killed": (kernel_mutants(mutation[0], [c["id"] for c in v.claims])
                               if mutation is not None else None),
            "reference": ("attnflow.numerics._reference (plain NumPy: full n x n logit matrix, global shift)"
                          if s.cached_module is None else
                          "attnflow.symbolic.models.velocity_matrix and the declared weight and energy "
                          "(explicit SymPy sums evaluated at 50 digits)"),
            "cases": cases,
        })
    manifest = {
        "generator": GENERATOR,
        "schema": SCHEMA,
        "schema_version": FORMAT_VERSION,
        "format_version": FORMAT_VERSION,
        "package": package,
        "created": utc_now(),
        "attnflow_version": __version__,
        "versions": _versions(),
        "profile": profile,
        "seed": seed,
        "command": command,
        "tolerance": {"rule": TOLERANCE_RULE, "rtol": RTOL, "atol": ATOL, "rationale": TOLERANCE_RATIONALE},
        "dispatch": {"parallel_min_pairs": PARALLEL_MIN_PAIRS,
                     "rule": "the serial twin below parallel_min_pairs (i, j) pairs per call (n**2 times the "
                             "batch sizes B, P, H), the parallel kernel from there on (as attnflow)"},
        "mutation": (report_summary(*mutation) if mutation is not None else
                     {"report": None, "note": "no mutation report: run `attnflow mutate` (it keeps its last "
                                              "report) or pass --mutation-report PATH"}),
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
    texts.update(package_sources())
    texts["pyproject.toml"] = PYPROJECT.substitute(
        package=package, dist_name=package.replace("_", "-"), version=__version__,
        attnflow_version=__version__)
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
        tolerance_rule=TOLERANCE_RULE, rtol=RTOL, atol=ATOL, folder=package,
        parallel_min_pairs=PARALLEL_MIN_PAIRS)
    texts["manifest.json"] = json.dumps(manifest, indent=2, ensure_ascii=False) + "\n"
    for rel, text in texts.items():
        if rel.endswith(".py"):
            bad = import_problems(text) if rel.startswith("kernels/") else template_import_problems(text)
            if bad:  # pragma: no cover - guarded by the source checks and the tests
                raise ExportRefused({rel: "not standalone: " + "; ".join(bad)})
    return manifest, texts, arrays
