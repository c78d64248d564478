"""Driver of the kernel code generation: model declarations -> checked-in numba modules.

:func:`generated_files` renders, for every built-in model declaration (and the auxiliary
declarations of :data:`attnflow.symbolic.models.builtin.AUXILIARY`), the module
``numerics/_generated/<model>.py`` with the numba backend
(:func:`attnflow.symbolic.codegen.backends.numba.render_model`).  It is registered in
:data:`attnflow.symbolic.documents.GENERATORS`, so ``attnflow derive`` (re)writes the modules and
``attnflow derive --check`` fails when they are stale.  Output is byte-identical between runs:
SymPy's canonical printing order, insertion-ordered dictionaries, no timestamps or absolute paths.
"""

from __future__ import annotations

from attnflow.symbolic.codegen._plan import kernel_plan
from attnflow.symbolic.codegen.backends.numba._generate import render_model
from attnflow.symbolic.codegen.backends.numba._generate import source_expr as _model_source_expr
from attnflow.symbolic.models import BUILTIN, get
from attnflow.symbolic.models.builtin import AUXILIARY

__all__ = ["generated_files", "source_expr", "render_file", "generated_models"]


def generated_models() -> list:
    """The declarations whose kernels are checked in: the built-in models and the auxiliary ones."""
    return [get(name) for name in BUILTIN] + list(AUXILIARY)


def _by_path() -> dict:
    return {kernel_plan(decl).path: decl for decl in generated_models()}


def source_expr(path: str):
    """The SymPy source expression of one generated file (what its header hash covers)."""
    return _model_source_expr(_by_path()[path])


def render_file(path: str) -> str:
    """The full source text of one generated kernel module."""
    return render_model(_by_path()[path])


def generated_files() -> dict[str, str]:
    """Every generated kernel module as ``{path relative to the repository root: text}``."""
    return {kernel_plan(decl).path: render_model(decl) for decl in generated_models()}
