"""Size-based choice between a kernel and its serial twin, as attnflow makes it.

A numba ``parallel=True`` kernel pays for waking its thread pool on every call: for small problems
the serial twin ``<kernel>_serial`` (the same body compiled without the pool) is much faster (attnflow
measured the parallel SA kernel at n = 64 at 230-750 us per call against 29 us for the twin on a
loaded 2-core machine: ``numerics/fields/_dispatch.py``).
attnflow calls the twin below ``parallel_min_pairs`` (i, j) pairs per call -- ``n**2`` for one
configuration, ``B n**2`` for B systems or prompts, times H for H heads -- and the parallel kernel
from there on; the threshold is recorded in ``manifest.json`` ("dispatch").

Needs only the standard library (the kernels come from the package's ``kernels`` modules).
"""

import functools
import importlib

__all__ = ["parallel_min_pairs", "pairs", "pick", "call"]


@functools.lru_cache(maxsize=1)
def _dispatch():
    """``(threshold, kernels by name)`` from the manifest, read on first use through the self-test's
    checked reader (a malformed or tampered manifest is a ``SelftestError``, never a crash on import)."""
    from ._selftest import SelftestError, load_manifest

    manifest = load_manifest()
    try:
        threshold = int(manifest["dispatch"]["parallel_min_pairs"])
        kernels = {k["name"]: k for k in manifest["kernels"]}
    except (KeyError, TypeError, ValueError):
        raise SelftestError("manifest.json: missing or malformed 'dispatch' or kernel entries") from None
    return threshold, kernels


def parallel_min_pairs():
    """Calls with at least this many (i, j) pairs use the parallel kernel (``manifest.json``, "dispatch")."""
    return _dispatch()[0]


def _entry(name):
    kernels = _dispatch()[1]
    try:
        return kernels[name]
    except KeyError:
        raise ValueError(f"name: unknown kernel {name!r}; exported: {sorted(kernels)}") from None


def pairs(name, *args):
    """Number of (i, j) pairs of a call of kernel ``name`` with ``args``: n**2 times the batch sizes B / P / H.

    The sizes are read off the array arguments by the symbols of their declared shapes
    (``manifest.json``: ``args[k].shape``, e.g. ``[B, n, d]``).
    """
    entry = _entry(name)
    if len(args) != len(entry["args"]):
        raise ValueError(f"args: {name} takes {len(entry['args'])} arguments "
                         f"({', '.join(a['name'] for a in entry['args'])}), got {len(args)}")
    sizes = {}
    for spec, value in zip(entry["args"], args):
        shape = spec["shape"].strip("[]")
        if spec["kind"] not in ("array", "out") or not shape:
            continue
        symbols = [s.strip() for s in shape.split(",")]
        got = getattr(value, "shape", None)
        if got is None or len(got) != len(symbols):
            raise ValueError(f"{spec['name']}: expected an array of shape [{shape}], got {got}")
        for sym, size in zip(symbols, got):
            if sizes.setdefault(sym, int(size)) != int(size):
                raise ValueError(f"{spec['name']}: size {sym} = {size} disagrees with {sym} = {sizes[sym]} "
                                 "of an earlier argument")
    n = sizes.get("n", 1)
    out = n * n
    for sym in ("B", "P", "H"):
        out *= sizes.get(sym, 1)
    return out


def pick(name, *args):
    """The function to call for ``name(*args)``: the serial twin below :func:`parallel_min_pairs` pairs, else the kernel."""
    entry = _entry(name)
    module = importlib.import_module("." + entry["module"], __package__)
    twin = entry.get("twin")
    if twin and pairs(name, *args) < parallel_min_pairs():
        return getattr(module, twin)
    return getattr(module, name)


def call(name, *args):
    """Call kernel ``name`` (or its serial twin, by :func:`pick`) with ``args``; outputs are filled in place."""
    return pick(name, *args)(*args)
