r"""Export verified numba kernels as a self-contained Python package (``attnflow export``).

An export is a folder ``DIR`` whose last component is the import name of the package::

    DIR/
      __init__.py        re-exports the kernels, selftest(), SelftestError, load_manifest()
      __main__.py        python -m NAME selftest | info
      _selftest.py       the self-test (standard library + numpy only), a copy of _package/_selftest.py
      _dispatch.py       call(name, *args) / pick: the serial twin below the size threshold of attnflow
                         (manifest "dispatch"), the parallel kernel above; a copy of _package/_dispatch.py
      integrate.py       rk4_sphere (RK4 + row normalisation), velocity_field; a copy of _package/integrate.py
      pyproject.toml     `pip install ./DIR` installs the package under its import name
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
3. the kernel and its serial twin (if any), run on the stored inputs, must each agree with the
   independent plain-NumPy implementation :mod:`attnflow.numerics._reference` within the stated
   tolerance (the same check ``selftest()`` repeats in the receiving environment).

The package is written into a temporary sibling directory and renamed into place at the end, so a
failure leaves nothing half-written; an existing ``DIR`` is replaced only with ``force=True`` and
only if it is empty or an earlier export (it holds a ``manifest.json`` written by this package).

Public API
----------
Catalogue
    :class:`KernelSpec`, :class:`Arg`, :class:`Case`, :data:`KERNELS`, :data:`RTOL`, :data:`ATOL`,
    :func:`resolve_kernels`, :func:`matching_claims`, :func:`kernel_table`, :func:`sync_user_kernels`
    (the kernels of a user's model, generated into the kernel cache, verified by its generic claims
    ``model.<name>.*`` and self-tested against the 50-digit SymPy route)
Sources
    :func:`import_problems`, :func:`generated_functions`
Tracing
    :func:`trace_kernel_calls`
Verification
    :func:`verify_kernels`, :func:`kernel_errors`, :class:`KernelVerification`, :class:`ExportRefused`
Writing
    :func:`export_kernels`, :class:`ExportReport`, :func:`package_name`, :data:`GENERATOR`

Implementation modules: ``_catalogue`` (with the stored cases in ``_cases``), ``_sources``,
``_tracing``, ``_verification``, ``_manifest`` (``manifest.json`` and the package files, from
``_templates`` and ``_package/_selftest.py``), ``_install`` (atomic install, ``--force``) and
``_export``.

References
----------
The claims that verify the kernels: ``attnflow check --list`` (each kernel's declaration names its
claims in ``claims=``).
"""

from __future__ import annotations

from ._catalogue import (
    ATOL,
    KERNELS,
    RTOL,
    TOLERANCE_RATIONALE,
    TOLERANCE_RULE,
    Arg,
    Case,
    KernelSpec,
    kernel_table,
    matching_claims,
    resolve_kernels,
    sync_user_kernels,
)
from ._export import ExportReport, export_kernels
from ._install import package_name
from ._manifest import FORMAT_VERSION, GENERATOR
from ._sources import generated_functions, import_problems
from ._tracing import trace_kernel_calls
from ._verification import ExportRefused, KernelVerification, kernel_errors, verify_kernels

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
    "sync_user_kernels",
    "matching_claims",
    "kernel_table",
    "import_problems",
    "generated_functions",
    "trace_kernel_calls",
    "kernel_errors",
    "verify_kernels",
    "export_kernels",
]
