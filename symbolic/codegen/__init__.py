"""Code generation from the SymPy model definitions (``attnflow.symbolic.codegen``).

In the spirit of SymForce's ``codegen/backends/<target>/``: ``backends/numba`` holds the printer
(:class:`~attnflow.symbolic.codegen.backends.numba.printer.NumbaPrinter`) and the kernel templates;
:func:`generated_files` returns the generated modules ``numerics/_generated/*.py``.

Regenerate with ``attnflow derive`` (the generator is registered in
``attnflow.symbolic.documents.GENERATORS``); ``attnflow derive --check`` and the golden test
``tests/symbolic/test_codegen.py`` fail when the checked-in files are stale.
"""

from attnflow.symbolic.codegen.kernels import generated_files, render_file, source_expr

__all__ = ["generated_files", "render_file", "source_expr"]
