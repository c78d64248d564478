"""Versions of Python, attnflow and its dependencies, recorded in every file attnflow writes.

One helper for all writers (trajectory ``.npz`` / netCDF / zarr, the sweep store, the check
report, the export manifest), so every file names the versions under the same keys: ``python``,
``attnflow``, then one key per distribution (``"absent"`` when it is not installed).
"""

from __future__ import annotations

import sys
from importlib import metadata

__all__ = ["CORE_DEPENDENCIES", "versions"]

#: The dependencies that shape attnflow's numbers (the core of every ``versions`` record).
CORE_DEPENDENCIES = ("numpy", "numba", "scipy", "sympy", "threadpoolctl")


def versions(extra: tuple[str, ...] = ()) -> dict[str, str]:
    """``{"python": ..., "attnflow": ..., "numpy": ..., ...}`` for the core dependencies and ``extra``.

    Parameters
    ----------
    extra : tuple of str
        Further distributions to record (e.g. ``("xarray", "zarr")`` for a zarr store).

    Returns
    -------
    dict of str to str
        Installed versions; ``"absent"`` for a distribution that is not installed.
    """
    from attnflow._version import __version__

    out = {"python": sys.version.split()[0], "attnflow": __version__}
    for name in (*CORE_DEPENDENCIES, *extra):
        if name in out:
            continue
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "absent"
    return out
