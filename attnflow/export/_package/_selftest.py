"""Self-test: re-run each exported kernel on stored inputs and compare with stored reference outputs.

The expected outputs were computed at export time by an implementation independent of the kernels
(plain NumPy, full logit matrices); the tolerance rule and values are in ``manifest.json``.
Needs only the standard library and numpy (numba through the kernel modules).

The package may have been altered after export, so nothing in ``manifest.json`` is trusted
before it is checked: every path must stay inside the package (relative, no ``..``), kernel modules
must be ``kernels.<name>`` files listed (with their SHA-256) in the manifest, and every stored
array is checked for dtype and shape against the kernel's signature (dimension names such as ``n``,
``d`` agree across arguments) before any kernel runs -- the numba kernels do no bounds checks.
"""

import hashlib
import importlib
import json
import os
import re

import numpy as np

__all__ = ["SelftestError", "load_manifest", "selftest"]

_HERE = os.path.dirname(os.path.abspath(__file__))
_MODULE = re.compile(r"kernels\.[A-Za-z_][A-Za-z0-9_]*\Z")
_REL = re.compile(r"[A-Za-z0-9_.\-]+(/[A-Za-z0-9_.\-]+)*\Z")


class SelftestError(AssertionError):
    """A kernel disagreed with its stored reference output, or a packaged file was altered."""


def load_manifest():
    """The parsed ``manifest.json`` of this package (a dict); :class:`SelftestError` if unreadable."""
    try:
        with open(os.path.join(_HERE, "manifest.json"), encoding="utf-8") as fh:
            manifest = json.load(fh)
    except (OSError, ValueError) as exc:
        raise SelftestError(f"manifest.json: cannot be read as JSON ({exc})") from None
    if not isinstance(manifest, dict):
        raise SelftestError("manifest.json: expected a JSON object")
    for key, kind in (("tolerance", dict), ("files", list), ("kernels", list)):
        if not isinstance(manifest.get(key), kind):
            raise SelftestError(f"manifest.json: missing or malformed {key!r}")
    return manifest


def _path(rel):
    """``rel`` (from the manifest) as a path inside the package, or :class:`SelftestError`."""
    if not isinstance(rel, str) or not _REL.match(rel) or any(p in ("", ".", "..") for p in rel.split("/")):
        raise SelftestError(f"manifest.json: path {rel!r} is not a plain relative path inside the package")
    full = os.path.realpath(os.path.join(_HERE, *rel.split("/")))
    if os.path.commonpath([full, os.path.realpath(_HERE)]) != os.path.realpath(_HERE):
        raise SelftestError(f"manifest.json: path {rel!r} leaves the package")
    return full


def _load(rel):
    try:
        return np.load(_path(rel), allow_pickle=False)
    except SelftestError:
        raise
    except (OSError, ValueError, EOFError) as exc:
        raise SelftestError(f"{rel}: cannot be loaded as a plain .npy array ({exc})") from None


def _sha256(rel):
    try:
        with open(_path(rel), "rb") as fh:
            return hashlib.sha256(fh.read()).hexdigest()
    except OSError as exc:
        raise SelftestError(f"{rel}: cannot be read ({exc.strerror})") from None


def _dims(shape):
    """'[n, d]' -> ['n', 'd']."""
    inner = str(shape).strip().strip("[]()")
    return [s.strip() for s in inner.split(",") if s.strip()]


def _checked_array(rel, name, shape, bound):
    """The stored array ``rel`` for argument ``name``: real, of the declared rank, dimensions
    consistent with the other arguments (``bound``: dimension name -> size, updated)."""
    a = _load(rel)
    if a.dtype.kind not in "fiu":
        raise SelftestError(f"{rel}: argument {name!r} has dtype {a.dtype}, expected real float64 values")
    dims = _dims(shape)
    if a.ndim != len(dims):
        raise SelftestError(f"{rel}: argument {name!r} has shape {a.shape}, expected {shape}")
    for k, size in zip(dims, a.shape):
        if k.isdigit():
            ok = size == int(k)
        else:
            ok = bound.setdefault(k, size) == size
        if not ok:
            raise SelftestError(f"{rel}: argument {name!r} has shape {a.shape}, inconsistent with {shape} "
                                f"(dimensions so far: {bound})")
    return a


def _checked_scalar(rel, name, kind):
    a = _load(rel)
    if a.ndim != 0 or a.dtype.kind not in ("b" if kind == "bool" else "fiub"):
        raise SelftestError(f"{rel}: argument {name!r} must be a stored {kind} scalar, got shape {a.shape} "
                            f"dtype {a.dtype}")
    v = a[()]
    if kind == "float":
        v = float(v)
        if not np.isfinite(v):
            raise SelftestError(f"{rel}: argument {name!r} is not finite")
        return v
    if kind == "int":
        if a.dtype.kind not in "iu" or int(v) < 0:
            raise SelftestError(f"{rel}: argument {name!r} must be a non-negative integer, got {v!r}")
        return int(v)
    return bool(v)


def _checked_case(k, ci, case):
    """The arguments of one stored case, checked before the kernel sees them: ``(args, outs)``."""
    if not isinstance(case, dict) or not isinstance(case.get("inputs"), dict) or not isinstance(case.get("expected"), dict):
        raise SelftestError(f"manifest.json: kernel {k['name']!r} case {ci} is malformed")
    bound = {}
    loaded = {}
    # outputs first: their shapes (computed by the reference at export) fix the dimensions
    for a in k["args"]:
        if a["kind"] == "out":
            loaded[a["name"]] = _checked_array(case["expected"].get(a["name"]), a["name"], a.get("shape", ""), bound)
    args, outs = [], {}
    for a in k["args"]:
        name, kind = a["name"], a["kind"]
        if kind == "out":
            expected = loaded[name]
            buf = np.full(expected.shape, np.nan, dtype=np.float64)
            outs[name] = (buf, expected)
            args.append(buf)
        elif kind in ("float", "bool", "int"):
            args.append(_checked_scalar(case["inputs"].get(name), name, kind))
        elif kind == "array":
            arr = _checked_array(case["inputs"].get(name), name, a.get("shape", ""), bound)
            args.append(np.ascontiguousarray(arr, dtype=np.float64))
        else:
            raise SelftestError(f"manifest.json: kernel {k['name']!r} argument {name!r} has unknown kind {kind!r}")
    named = {a["name"]: v for a, v in zip(k["args"], args)}
    if "start" in named and "stop" in named:  # row ranges of the blocked kernels
        n = bound.get("n")
        if not (0 <= named["start"] <= named["stop"] and (n is None or named["stop"] <= n)):
            raise SelftestError(f"kernel {k['name']!r} case {ci}: row range start={named['start']}, "
                                f"stop={named['stop']} outside [0, n={n}]")
    return args, outs


def _checked_kernel(k, listed):
    if not isinstance(k, dict) or not isinstance(k.get("name"), str) or not isinstance(k.get("args"), list) \
            or not isinstance(k.get("cases"), list):
        raise SelftestError("manifest.json: malformed kernel entry")
    module = k.get("module")
    if not isinstance(module, str) or not _MODULE.match(module):
        raise SelftestError(f"manifest.json: kernel {k['name']!r} module {module!r} is not kernels.<name>")
    rel = module.replace(".", "/") + ".py"
    if rel not in listed:
        raise SelftestError(f"manifest.json: kernel {k['name']!r} module {module!r} is not a file listed "
                            "(with its SHA-256) in the manifest")
    for a in k["args"]:
        if not isinstance(a, dict) or not isinstance(a.get("name"), str) or a.get("kind") not in (
                "array", "float", "bool", "int", "out"):
            raise SelftestError(f"manifest.json: kernel {k['name']!r} has a malformed argument {a!r}")
    functions = k.get("functions", [k["name"]])
    if not isinstance(functions, list) or not all(isinstance(f, str) and f.isidentifier() for f in functions):
        raise SelftestError(f"manifest.json: kernel {k['name']!r} has malformed functions {functions!r}")
    return functions


def selftest(verbose=False, kernels=None):
    """Re-run every kernel on its stored inputs; raise :class:`SelftestError` on any mismatch.

    Every function of a kernel entry (the kernel and, if it has one, its serial twin
    ``<kernel>_serial``) is run on every stored case.  For every output array the check is
    ``max|kernel - reference| <= rtol * max|reference| + atol`` with ``rtol`` and ``atol`` from
    ``manifest.json`` ("tolerance"), over the entries with a reference value; entries stored as NaN
    must be left untouched (the buffer is NaN-filled before the call).  The kernel sources are also
    checked against the SHA-256 digests recorded at export, and every path, module name, dtype and
    shape in the manifest is checked before any kernel runs.

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
    try:
        rtol, atol = float(tol["rtol"]), float(tol["atol"])
    except (KeyError, TypeError, ValueError):
        raise SelftestError("manifest.json: malformed 'tolerance' (needs numbers rtol and atol)") from None
    problems = []
    listed = set()
    for entry in manifest["files"]:
        if not isinstance(entry, dict) or not isinstance(entry.get("sha256"), str):
            raise SelftestError(f"manifest.json: malformed file entry {entry!r}")
        rel = entry.get("path")
        _path(rel)
        if _sha256(rel) != entry["sha256"]:
            problems.append(f"{rel}: source differs from the exported file (SHA-256 mismatch)")
        else:
            listed.add(rel)
    wanted = None if kernels is None else set(kernels)
    known = {k.get("name") for k in manifest["kernels"] if isinstance(k, dict)}
    if wanted is not None and wanted - known:
        raise ValueError(f"kernels: unknown kernel(s) {sorted(wanted - known)}; exported: {sorted(known)}")
    if problems:  # never import or run an altered kernel source
        raise SelftestError("selftest failed:\n  " + "\n  ".join(problems))
    plan = []
    for k in manifest["kernels"]:
        functions = _checked_kernel(k, listed)
        if wanted is not None and k["name"] not in wanted:
            continue
        cases = [_checked_case(k, ci, c) for ci, c in enumerate(k["cases"])]  # every case, before any run
        plan.append((k, functions, cases))
    rows = []
    for k, functions, cases in plan:
        module = importlib.import_module("." + k["module"], __package__)
        for fname in functions:
            fn = getattr(module, fname, None)
            if fn is None:
                raise SelftestError(f"{k['module']}: has no function {fname!r}")
            for ci, (args, outs) in enumerate(cases):
                for buf, _ in outs.values():
                    buf.fill(np.nan)
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
                    rows.append({"kernel": k["name"], "function": fname, "case": ci, "output": name,
                                 "max_error": err, "bound": bound})
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
