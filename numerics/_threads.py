"""Thread-count control for the numba kernels."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

__all__ = ["single_thread"]


@contextlib.contextmanager
def single_thread() -> Iterator[None]:
    """Run the numba kernels with one thread inside the ``with`` block (the old count is restored).

    Property checks evaluate tiny systems many times; there the start-up of the parallel kernels'
    thread pool dominates (measured on the loaded 2-core machine: 770 µs vs 12 µs per SA field
    call with 2 threads vs 1).  The field wrappers already use serial twins below
    ``attnflow.numerics.fields.PARALLEL_MIN_PAIRS``; this context manager covers larger systems too.

    References
    ----------
    numba documentation, "Setting the number of threads" (``numba.set_num_threads``).
    """
    import numba

    old = numba.get_num_threads()
    numba.set_num_threads(1)
    try:
        yield
    finally:
        numba.set_num_threads(old)
