"""Scalar argument validation shared by every layer: clear errors that name the argument.

Each function returns the converted value or raises ``ValueError`` whose message starts with the
argument's name and says what is expected, e.g. ``"beta: must be finite, got inf"``.  Booleans are
never accepted as numbers, complex values never lose their imaginary part silently.
"""

from __future__ import annotations

import math
import numbers

__all__ = ["real", "integer", "seed", "memory", "max_bytes", "real_array"]


def real(name: str, value, *, lo: float | None = None, lo_strict: bool = False, hi: float | None = None,
         hi_strict: bool = False, allow_inf: bool = False) -> float:
    """``value`` as a float, checked finite (unless ``allow_inf``) and within ``[lo, hi]``.

    ``lo_strict`` / ``hi_strict`` make the bounds strict.  Accepts Python and NumPy reals (and
    0-d real arrays); rejects bools, complex numbers, strings and NaN.
    """
    if isinstance(value, bool) or getattr(value, "dtype", None) is not None and value.dtype.kind == "b":
        raise ValueError(f"{name}: expected a real number, got {type(value).__name__}")
    if isinstance(value, numbers.Complex) and not isinstance(value, numbers.Real):
        raise ValueError(f"{name}: expected a real number, got the complex value {value!r}")
    if getattr(value, "ndim", 0) != 0 or getattr(value, "dtype", None) is not None and value.dtype.kind not in "iuf":
        raise ValueError(f"{name}: expected a real number, got {value!r}")
    if not isinstance(value, numbers.Real) and getattr(value, "dtype", None) is None:
        raise ValueError(f"{name}: expected a real number, got {type(value).__name__}")
    v = float(value)
    if math.isnan(v) or (math.isinf(v) and not allow_inf):
        raise ValueError(f"{name}: must be finite, got {v}")
    if lo is not None and (v < lo or (lo_strict and v == lo)):
        raise ValueError(f"{name}: must be {'>' if lo_strict else '>='} {lo}, got {v}")
    if hi is not None and (v > hi or (hi_strict and v == hi)):
        raise ValueError(f"{name}: must be {'<' if hi_strict else '<='} {hi}, got {v}")
    return v


def integer(name: str, value, *, minimum: int | None = None, maximum: int | None = None) -> int:
    """``value`` as an int (Python or NumPy integer, never a bool or a float), within bounds."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise ValueError(f"{name}: must be an integer, got {value!r}")
    v = int(value)
    if minimum is not None and v < minimum:
        raise ValueError(f"{name}: must be an integer >= {minimum}, got {v}")
    if maximum is not None and v > maximum:
        raise ValueError(f"{name}: must be an integer <= {maximum}, got {v}")
    return v


def seed(value, name: str = "seed") -> int | None:
    """A random seed: None or an integer >= 0."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 0:
        raise ValueError(f"{name}: must be a non-negative integer or None, got {value!r}")
    return int(value)


#: Upper bound on one array allocation that :func:`memory` accepts, in bytes: the environment
#: variable ``ATTNFLOW_MAX_BYTES`` if set, else half the physical memory (8 GiB if unknown).
def max_bytes() -> int:
    """The allocation limit used by :func:`memory` (``ATTNFLOW_MAX_BYTES`` or half the RAM)."""
    import os

    env = os.environ.get("ATTNFLOW_MAX_BYTES")
    if env:
        try:
            return int(float(env))
        except ValueError:
            raise ValueError(f"ATTNFLOW_MAX_BYTES: expected a number of bytes, got {env!r}") from None
    try:
        return int(os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")) // 2
    except (ValueError, OSError, AttributeError):  # pragma: no cover - non-POSIX
        return 8 * 2**30


def _gib(nbytes: float) -> str:
    return f"{nbytes / 2**30:.3g} GiB"


def memory(name: str, nbytes: float, fix: str) -> None:
    """Refuse an allocation of ``nbytes`` before it happens: ``ValueError`` naming ``name`` with ``fix``.

    ``nbytes`` is an estimate computed from the arguments (e.g. saved steps x state size x 8); the
    limit is :func:`max_bytes`.
    """
    limit = max_bytes()
    if not math.isfinite(nbytes) or nbytes > limit:
        raise ValueError(f"{name}: would allocate about {_gib(nbytes)} (limit {_gib(limit)}, "
                         f"set ATTNFLOW_MAX_BYTES to change it); {fix}")


def real_array(name: str, value):
    """``value`` as a float64 ndarray; ``ValueError`` naming ``name`` for complex, non-numeric or
    object input (never drops an imaginary part with only a warning)."""
    import numpy as np

    if np.iscomplexobj(value) or (isinstance(value, (list, tuple)) and _has_complex(value)):
        raise ValueError(f"{name}: expected real values, got complex numbers (pass the real part explicitly)")
    try:
        a = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name}: expected a numeric array ({exc})") from None
    return a


def _has_complex(seq) -> bool:
    for v in seq:
        if isinstance(v, (list, tuple)):
            if _has_complex(v):
                return True
        elif isinstance(v, numbers.Complex) and not isinstance(v, numbers.Real):
            return True
        elif getattr(v, "dtype", None) is not None and v.dtype.kind == "c":
            return True
    return False
