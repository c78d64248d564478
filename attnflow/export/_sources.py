"""Standalone-source checks of the exported files (private; re-exported by :mod:`attnflow.export`).

Nothing in an export may import attnflow: every written ``.py`` file is parsed and its imports must
be numpy, numba or the standard library (:func:`import_problems`), otherwise the export is refused.
The kernel modules are copied verbatim, so they must also be current: byte-identical to what
:func:`attnflow.symbolic.codegen.kernels.render_file` produces from the SymPy source now.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import sys

from ._catalogue import KernelSpec

__all__ = ["import_problems", "generated_functions"]

_ALLOWED_IMPORTS = frozenset({"numpy", "numba"})


def import_problems(text: str) -> list[str]:
    """Why ``text`` (Python source) would not import with only numpy, numba and the standard library.

    Flags every ``import``/``from ... import`` of attnflow or of a module that is neither numpy,
    numba nor standard library, every relative import (the exported kernel modules must stand
    alone) and ``__import__`` / ``importlib.import_module`` calls with such a constant name.
    An empty list means standalone.
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
    """
    return [n for n, obj in vars(module).items() if not n.startswith("_") and (
        hasattr(obj, "py_func") or (inspect.isfunction(obj) and obj.__module__ == module.__name__))]


def template_import_problems(text: str) -> list[str]:
    """:func:`import_problems` for the package's own files, which may import their siblings relatively."""
    return [p for p in import_problems(text) if "relative import" not in p]


def kernel_source(spec: KernelSpec) -> str:
    """The source text of the kernel's generated module as attnflow imports it (checked in, or the
    kernel cache's file for a user's model)."""
    module = importlib.import_module(spec.module)
    with open(module.__file__, encoding="utf-8") as fh:
        return fh.read()


def rendered_source(spec: KernelSpec) -> str:
    """What the code generator renders for the kernel's module from the SymPy source now."""
    if spec.cached_module is not None:
        from attnflow.symbolic.codegen.backends.numba import render_model
        from attnflow.symbolic.models import get

        return render_model(get(spec.models[0]))
    from attnflow.symbolic.codegen.kernels import render_file

    return render_file(spec.file)


def source_expression(spec: KernelSpec):
    """The SymPy source expression of the kernel's module (what its header hash covers)."""
    if spec.cached_module is not None:
        from attnflow.symbolic.codegen.backends.numba._generate import source_expr as model_source_expr
        from attnflow.symbolic.models import get

        return model_source_expr(get(spec.models[0]))
    from attnflow.symbolic.codegen.kernels import source_expr

    return source_expr(spec.file)


def source_problem(spec: KernelSpec, text: str) -> str | None:
    """Why the generated module ``text`` of ``spec`` may not be exported (not standalone, not current),
    or None."""
    bad = import_problems(text)
    if bad:
        return (f"{spec.file} is not standalone ({'; '.join(bad)}); the export copies sources verbatim and "
                "will not rewrite them - fix the code generator's template")
    if text != rendered_source(spec):
        return (f"{spec.file} differs from what attnflow.symbolic.codegen renders from the SymPy source now "
                "(stale or edited by hand); run `attnflow derive` first")
    return None
