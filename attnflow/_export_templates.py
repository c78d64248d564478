"""Source templates of the files ``attnflow export`` writes next to the copied kernels (private).

Everything rendered here is imported by the exported package, so it must use only the standard
library, numpy and numba (checked for every written ``.py`` file by :func:`attnflow.export.import_problems`).
Templates use ``string.Template`` (``$name``) so braces in the Python code need no escaping.
"""

from __future__ import annotations

from string import Template

__all__ = ["INIT", "SELFTEST", "MAIN", "KERNELS_INIT", "README"]

INIT = Template('''"""$package: numba kernels exported from attnflow $attnflow_version, with their verification record.

Kernels (verified by the claims listed in ``manifest.json``)::

$kernel_lines

Requirements: numpy and numba only.  ``selftest()`` (or ``python -m $package selftest``) re-runs every
kernel on the stored inputs in ``data/`` and compares with outputs computed at export time by an
independent plain-NumPy implementation; see README.md.
"""

$imports
from ._selftest import SelftestError, load_manifest, selftest

__all__ = [$all_names, "selftest", "SelftestError", "load_manifest"]
''')

KERNELS_INIT = '"""Kernel modules copied verbatim from attnflow (numerics/_generated); see ../manifest.json."""\n'

SELFTEST = '''"""Self-test: re-run each exported kernel on stored inputs and compare with stored reference outputs.

The expected outputs were computed at export time by an implementation independent of the kernels
(plain NumPy, full logit matrices); the tolerance rule and values are in ``manifest.json``.
Needs only the standard library and numpy (numba through the kernel modules).
"""

import hashlib
import importlib
import json
import os

import numpy as np

__all__ = ["SelftestError", "load_manifest", "selftest"]

_HERE = os.path.dirname(os.path.abspath(__file__))


class SelftestError(AssertionError):
    """A kernel disagreed with its stored reference output, or a packaged file was altered."""


def load_manifest():
    """The parsed ``manifest.json`` of this package (a dict)."""
    with open(os.path.join(_HERE, "manifest.json"), encoding="utf-8") as fh:
        return json.load(fh)


def _path(rel):
    return os.path.join(_HERE, *rel.split("/"))


def _load(rel):
    return np.load(_path(rel), allow_pickle=False)


def _sha256(rel):
    with open(_path(rel), "rb") as fh:
        return hashlib.sha256(fh.read()).hexdigest()


def selftest(verbose=False, kernels=None):
    """Re-run every kernel on its stored inputs; raise :class:`SelftestError` on any mismatch.

    Every function of a kernel entry (the kernel and, if it has one, its serial twin
    ``<kernel>_serial``) is run on every stored case.  For every output array the check is
    ``max|kernel - reference| <= rtol * max|reference| + atol`` with ``rtol`` and ``atol`` from
    ``manifest.json`` ("tolerance"), over the entries with a reference value; entries stored as NaN
    must be left untouched (the buffer is NaN-filled before the call).  The kernel sources are also
    checked against the SHA-256 digests recorded at export.

    Parameters
    ----------
    verbose : bool
        Print one line per case.
    kernels : iterable of str, optional
        Only these kernels (default: all exported kernels).

    Returns
    -------
    list of dict
        One row per (kernel, function, case, output): ``kernel, function, case, output, max_error, bound``.
    """
    manifest = load_manifest()
    tol = manifest["tolerance"]
    rtol, atol = float(tol["rtol"]), float(tol["atol"])
    problems = []
    for entry in manifest["files"]:
        if _sha256(entry["path"]) != entry["sha256"]:
            problems.append(f"{entry['path']}: source differs from the exported file (SHA-256 mismatch)")
    wanted = None if kernels is None else set(kernels)
    known = {k["name"] for k in manifest["kernels"]}
    if wanted is not None and wanted - known:
        raise ValueError(f"kernels: unknown kernel(s) {sorted(wanted - known)}; exported: {sorted(known)}")
    rows = []
    for k in manifest["kernels"]:
        if wanted is not None and k["name"] not in wanted:
            continue
        module = importlib.import_module("." + k["module"], __package__)
        for fname, ci, case in [(f, ci, c) for f in k.get("functions", [k["name"]])
                                for ci, c in enumerate(k["cases"])]:
            fn = getattr(module, fname)
            args, outs = [], {}
            for a in k["args"]:
                name, kind = a["name"], a["kind"]
                if kind == "out":
                    expected = _load(case["expected"][name])
                    buf = np.full(expected.shape, np.nan, dtype=np.float64)
                    outs[name] = (buf, expected)
                    args.append(buf)
                elif kind == "float":
                    args.append(float(_load(case["inputs"][name])[()]))
                elif kind == "bool":
                    args.append(bool(_load(case["inputs"][name])[()]))
                elif kind == "int":
                    args.append(int(_load(case["inputs"][name])[()]))
                else:
                    args.append(np.ascontiguousarray(_load(case["inputs"][name]), dtype=np.float64))
            fn(*args)
            for name, (got, expected) in outs.items():
                keep = ~np.isnan(expected)  # NaN: an entry the kernel must leave untouched
                scale = float(np.max(np.abs(expected[keep]))) if keep.any() else 0.0
                bound = rtol * scale + atol
                if (got.shape != expected.shape or not np.all(np.isfinite(got[keep]))
                        or not np.all(np.isnan(got[~keep]))):
                    err = float("inf")
                else:
                    err = float(np.max(np.abs(got[keep] - expected[keep]))) if keep.any() else 0.0
                ok = err <= bound
                rows.append({"kernel": k["name"], "function": fname, "case": ci, "output": name, "max_error": err,
                             "bound": bound})
                if verbose:
                    print(f"{'ok  ' if ok else 'FAIL'} {fname} case {ci} {name}: "
                          f"max error {err:.3e} (bound {bound:.3e})")
                if not ok:
                    problems.append(f"{fname} case {ci} output {name!r}: max|kernel - reference| = {err:.3e} "
                                    f"> {bound:.3e} = rtol * max|reference| + atol (or an untouched entry written)")
    if problems:
        raise SelftestError("selftest failed:\\n  " + "\\n  ".join(problems))
    return rows
'''

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

## Requirements

numpy and numba only (exported with numpy $numpy_version, numba $numba_version, Python $python_version).
Copy this folder into your project (or onto `sys.path`) and import it as `$package`.

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
with rtol = $rtol, atol = $atol.  Run it after installing or upgrading numpy/numba.

Do not edit the kernels here: regenerate them in attnflow (`attnflow derive`) and export again.
''')
