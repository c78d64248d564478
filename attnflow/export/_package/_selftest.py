"""Self-test: re-run each exported kernel on stored inputs and compare with stored reference outputs.

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
                    rel = err / scale if scale > 0 else float("nan")
                    print(f"{'ok  ' if ok else 'FAIL'} {fname} case {ci} {name}: absolute error "
                          f"max|kernel - reference| = {err:.3e} (relative to max|reference|: {rel:.3e}); "
                          f"bound rtol * max|reference| + atol = {bound:.3e}")
                if not ok:
                    problems.append(f"{fname} case {ci} output {name!r}: absolute error max|kernel - reference| = "
                                    f"{err:.3e} > {bound:.3e} = rtol * max|reference| + atol "
                                    f"(or an untouched entry written)")
    if problems:
        raise SelftestError("selftest failed:\n  " + "\n  ".join(problems))
    return rows
