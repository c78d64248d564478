"""Thread control for the kernels: numba's thread count, BLAS threads and the blocked-path pool."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

__all__ = ["single_thread", "blas_single_thread", "thread_pool"]


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


class _BlasThreads:
    """Single-threaded BLAS while a blocked kernel call runs (threadpoolctl; re-entrant, thread-safe).

    The blocked path runs its own worker threads over disjoint row ranges; nested BLAS threads
    would oversubscribe the cores.
    """

    def __init__(self):
        self._lock = threading.Lock()
        self._depth = 0
        self._limiter = None
        self._controller = None

    @contextlib.contextmanager
    def single(self) -> Iterator[None]:
        with self._lock:
            if self._depth == 0:
                if self._controller is None:
                    from threadpoolctl import ThreadpoolController

                    self._controller = ThreadpoolController()
                self._limiter = self._controller.limit(limits=1, user_api="blas")
            self._depth += 1
        try:
            yield
        finally:
            with self._lock:
                self._depth -= 1
                if self._depth == 0:
                    self._limiter.restore_original_limits()
                    self._limiter = None


_BLAS = _BlasThreads()
_POOL: ThreadPoolExecutor | None = None
_POOL_LOCK = threading.Lock()


def blas_single_thread():
    """Context manager: BLAS limited to one thread inside the block (re-entrant)."""
    return _BLAS.single()


def thread_pool() -> ThreadPoolExecutor:
    """The process-wide pool of the blocked path (``numba.config.NUMBA_NUM_THREADS`` workers)."""
    global _POOL
    with _POOL_LOCK:
        if _POOL is None:
            import numba

            _POOL = ThreadPoolExecutor(max_workers=numba.config.NUMBA_NUM_THREADS, thread_name_prefix="attnflow-blas")
        return _POOL
