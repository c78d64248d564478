"""Driver of the kernel code generation: SymPy pair expressions -> checked-in numba modules.

:func:`generated_files` prints the pair expressions of :data:`attnflow.symbolic.models.KERNEL_EXPRESSIONS`
with the numba printer into the templates of :mod:`attnflow.symbolic.codegen.backends.numba.templates`
and returns ``{relative path: source}``.  It is registered in
:data:`attnflow.symbolic.documents.GENERATORS`, so ``attnflow derive`` (re)writes
``numerics/_generated/*.py`` and ``attnflow derive --check`` fails when they are stale.
Output is byte-identical between runs: SymPy's canonical printing order, insertion-ordered
dictionaries, no timestamps or absolute paths.
"""

from __future__ import annotations

import sympy as sp

from attnflow.symbolic import models
from attnflow.symbolic.codegen.backends.numba.printer import numba_code, numpy_inplace_code
from attnflow.symbolic.codegen.backends.numba.templates import FILE_TEMPLATES, HEADER, with_serial_variants
from attnflow.symbolic.result import expr_hash

__all__ = ["generated_files", "source_expr", "render_file"]


def _families(placeholders: dict[str, tuple]) -> list[str]:
    return list(dict.fromkeys(spec[1] if spec[0] == "inplace" else spec[0] for spec in placeholders.values()))


def _placeholder_code(spec: tuple) -> str:
    if spec[0] == "inplace":
        _, fam, var, streamed, buffer, indent = spec
        expr = models.KERNEL_EXPRESSIONS[fam][var]
        lines = numpy_inplace_code(expr, models.SYMBOLS[streamed], buffer)
        return ("\n" + " " * indent).join(f"{st}  # {var} = {numba_code(expr)}" if k == len(lines) - 1 else st
                                           for k, st in enumerate(lines))
    fam, var = spec[0], spec[1]
    expr = models.KERNEL_EXPRESSIONS[fam][var]
    if len(spec) == 3:
        suffix = spec[2]
        expr = expr.subs({sym: sp.Symbol(sym.name + suffix, real=True) for sym in expr.free_symbols
                          if sym.name in _RENAMED}, simultaneous=True)
    return numba_code(expr)


_RENAMED = ("s", "l", "m", "dl")


def source_expr(path: str) -> sp.Tuple:
    """The SymPy source expression of one generated file (tuple over its kernel families)."""
    _template, placeholders = FILE_TEMPLATES[path]
    return sp.Tuple(*(models.kernel_source_expr(f) for f in _families(placeholders)))


def render_file(path: str) -> str:
    """The full source text of one generated kernel module."""
    template, placeholders = FILE_TEMPLATES[path]
    src = source_expr(path)
    header = HEADER.substitute(
        hash=expr_hash(src),
        ops=sp.count_ops(src),
        families=", ".join(_families(placeholders)),
    )
    code = {name: _placeholder_code(spec) for name, spec in placeholders.items()}
    return header + with_serial_variants(template.substitute(code))


def generated_files() -> dict[str, str]:
    """Every generated kernel module as ``{path relative to the repository root: text}``."""
    return {path: render_file(path) for path in FILE_TEMPLATES}
