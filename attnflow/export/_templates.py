"""The files ``attnflow export`` writes next to the copied kernels (private).

Everything here is imported by the exported package, so it must use only the standard library,
numpy and numba (checked for every written ``.py`` file by :func:`attnflow.export.import_problems`).
The self-test module is a real source file, :mod:`attnflow.export._package._selftest` (copied
verbatim: :func:`selftest_source`); the files that name the package or its kernels are
``string.Template`` texts (``$name``, so braces in the Python code need no escaping), rendered by
:mod:`attnflow.export._manifest`.
"""

from __future__ import annotations

from importlib import resources
from string import Template

from . import _package

__all__ = ["INIT", "MAIN", "KERNELS_INIT", "README", "PYPROJECT", "selftest_source", "package_sources"]

#: Files of ``_package/`` copied verbatim into every export (same name in the export).
PACKAGE_FILES = ("_selftest.py", "_dispatch.py", "integrate.py")


def selftest_source() -> str:
    """The text of ``_package/_selftest.py``, written unchanged as ``_selftest.py`` of every export."""
    return (resources.files(_package) / "_selftest.py").read_text(encoding="utf-8")


def package_sources() -> dict[str, str]:
    """``{name: text}`` of the files of ``_package/`` written unchanged into every export
    (the self-test, the serial/parallel dispatcher ``_dispatch.py``, the RK4 integrator ``integrate.py``)."""
    return {name: (resources.files(_package) / name).read_text(encoding="utf-8") for name in PACKAGE_FILES}


#: ``pyproject.toml`` of an export: the folder itself is the package (``package-dir``), so
#: ``pip install ./DIR`` installs it under its import name with its kernels, data and manifest.
PYPROJECT = Template('''[build-system]
requires = ["setuptools>=61"]
build-backend = "setuptools.build_meta"

[project]
name = "$dist_name"
version = "$version"
description = "numba kernels exported from attnflow $attnflow_version, with their verification record"
requires-python = ">=3.9"
dependencies = ["numpy", "numba"]

[tool.setuptools]
packages = ["$package", "$package.kernels"]
package-dir = { "$package" = "." }
include-package-data = false

[tool.setuptools.package-data]
"$package" = ["manifest.json", "README.md", "data/*/*.npy"]
''')


INIT = Template('''"""$package: numba kernels exported from attnflow $attnflow_version, with their verification record.

Kernels (verified by the claims listed in ``manifest.json``)::

$kernel_lines

Requirements: numpy and numba only.  ``call(name, *args)`` runs a kernel or its serial twin by
problem size (``pick``), ``rk4_sphere`` integrates ``velocity_field(name, beta)``.  ``selftest()`` (or ``python -m $package selftest``) re-runs every
kernel on the stored inputs in ``data/`` and compares with outputs computed at export time by an
independent plain-NumPy implementation; see README.md.
"""

$imports
from ._dispatch import call, pick
from ._selftest import SelftestError, load_manifest, selftest
from .integrate import rk4_sphere, velocity_field

__all__ = [$all_names, "selftest", "SelftestError", "load_manifest", "call", "pick", "rk4_sphere",
           "velocity_field"]
''')

KERNELS_INIT = '"""Kernel modules copied verbatim from attnflow (numerics/_generated); see ../manifest.json."""\n'

MAIN = Template('''"""``python -m $package selftest`` (exit 1 on a mismatch) and ``python -m $package info``."""

import argparse
import sys

from . import SelftestError, load_manifest, selftest


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m $package",
                                     description="kernels exported from attnflow, with their verification record")
    sub = parser.add_subparsers(dest="command")
    st = sub.add_parser("selftest", help="re-run every kernel on the stored inputs and compare")
    st.add_argument("--quiet", "-q", action="store_true", help="print only the summary")
    sub.add_parser("info", help="list the kernels and the claims that verified them")
    args = parser.parse_args(argv)
    if args.command == "selftest":
        try:
            rows = selftest(verbose=not args.quiet)
        except SelftestError as exc:
            print(exc, file=sys.stderr)
            return 1
        kernels = len({r["kernel"] for r in rows})
        print(f"selftest passed: {kernels} kernels, {len(rows)} outputs within tolerance")
        return 0
    if args.command == "info":
        m = load_manifest()
        print(f"exported from attnflow {m['attnflow_version']} on {m['created']} "
              f"(profile {m['profile']}, seed {m['seed']})")
        for k in m["kernels"]:
            print(f"  {k['signature']}" + (f"  (serial twin: {k['twin']})" if k.get("twin") else ""))
            for c in k["claims"]:
                print(f"      {c['id']}: {c['outcome']} (expected {c['expect']}), "
                      f"{c['examples']} examples, kernel calls {c['kernel_calls']}")
        return 0
    parser.print_help()
    return 2


if __name__ == "__main__":
    sys.exit(main())
''')

README = Template('''# $package

Numba kernels exported from attnflow $attnflow_version on $created by

    $command

They were generated from SymPy expressions by attnflow's code generator and verified there by the
property claims listed below.  The kernel sources in `kernels/` are copied verbatim (not pickles).

## Requirements and installation

numpy and numba only (exported with numpy $numpy_version, numba $numba_version, Python $python_version).
Install it with `pip install ./$folder` (the folder's `pyproject.toml`; then `import $package`
anywhere), or copy this folder into your project (or onto `sys.path`).

## Calling the kernels

`$package.call(name, *args)` calls a kernel, or below $parallel_min_pairs (i, j) pairs per call
(n² times the batch sizes B, P, H) its serial twin `<kernel>_serial`, as attnflow does: the
parallel kernel's thread pool costs more than it saves on small problems (attnflow measured it
8-26x slower than the twin at n = 64 on a loaded 2-core machine).
`$package.pick(name, *args)` returns the function that would be called.

`$package.rk4_sphere(f, x0, t_final, dt)` integrates `dx/dt = f(t, x)` by classical RK4 with the
rows renormalised after every step (the scheme attnflow uses; `sphere=False` for angles and the
Euclidean state), e.g. with `f = $package.velocity_field("sa_velocity", beta=1.0)` for a kernel of
`x` alone.

## Kernels

Every kernel writes into caller-allocated float64 output arrays (C-contiguous inputs, float64):

$kernel_table

Only the kernels above are verified and exported by `$package`; a copied module may contain
further functions that were not exported.

## Verification

$claims_table

Profile `$profile`, seed `$seed`; the full record (LaTeX of each source expression, expression
hash, per-claim detail) is in `manifest.json`.

## Self-test

    python -m $package selftest

or `import $package; $package.selftest()` re-runs every kernel (and its serial twin `<kernel>_serial`,
the same body compiled without the thread pool, for small problems) on the inputs stored in `data/`
and compares with outputs computed at export time by attnflow's independent plain-NumPy
implementation; it raises `$package.SelftestError` on a mismatch.  Tolerance: $tolerance_rule
with rtol = $rtol (relative to max|reference|), atol = $atol (absolute); the output prints the
absolute error max|kernel - reference|, the relative error (divided by max|reference|) and the bound.  Run it after installing or upgrading numpy/numba.

Do not edit the kernels here: regenerate them in attnflow (`attnflow derive`) and export again.
''')
