"""Code generation from the SymPy model definitions (``attnflow.symbolic.codegen``).

In the spirit of SymForce's ``codegen/backends/<target>/``: ``backends/numba`` holds the printer
(:class:`~attnflow.symbolic.codegen.backends.numba.printer.NumbaPrinter`), the config object, the
template files (loop skeletons only, one shared copy of each block) and the renderer;
:func:`kernel_plan` says which kernels a declaration gets (shared with the numerics dispatch and
the export catalogue); :func:`generated_files` returns the generated modules
``numerics/_generated/<model>.py``.

Regenerate with ``attnflow derive`` (the generator is registered in
``attnflow.symbolic.documents.GENERATORS``); ``attnflow derive --check`` and the golden test
``tests/symbolic/test_codegen.py`` fail when the checked-in files are stale.
"""

from attnflow.symbolic.codegen._plan import (ENSEMBLE_SHAPES, Arg, Kernel, KernelPlan, apriori_shift, circle_shifted,
                                             kernel_plan)
from attnflow.symbolic.codegen.kernels import generated_files, generated_models, render_file, source_expr

__all__ = ["generated_files", "generated_models", "render_file", "source_expr", "kernel_plan", "KernelPlan",
           "Kernel", "Arg", "ENSEMBLE_SHAPES", "apriori_shift", "circle_shifted"]
