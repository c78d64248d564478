"""An explicit observation hook on the generated-kernel calls of the public API.

Every call that :mod:`attnflow.numerics` makes into a generated kernel goes through
:func:`call`, which notifies the observers registered with :func:`observe_kernel_calls` before
running the kernel.  Observers receive the kernel object itself (a numba dispatcher or a generated
NumPy function; ``kernel.__module__`` and ``kernel.__name__`` identify it, a serial twin being
``<name>_serial``).  Nothing is patched: with no observer, :func:`call` costs one list test.

``attnflow export`` uses the hook to show which claims exercise which kernel.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator
from typing import Any

__all__ = ["call", "notify", "observe_kernel_calls"]

_OBSERVERS: list[Callable[[Any], None]] = []
_LOCK = threading.Lock()


def call(kernel, *args):
    """Run ``kernel(*args)`` after notifying every observer (thread-safe)."""
    if _OBSERVERS:
        with _LOCK:
            observers = list(_OBSERVERS)
        for observer in observers:
            observer(kernel)
    return kernel(*args)


def notify(kernel) -> None:
    """Tell the observers that ``kernel`` runs inside a compiled caller (the generated fixed-step loops
    call the velocity kernel's serial twin from numba, where :func:`call` cannot see it)."""
    if _OBSERVERS:
        with _LOCK:
            observers = list(_OBSERVERS)
        for observer in observers:
            observer(kernel)


@contextlib.contextmanager
def observe_kernel_calls(observer: Callable[[Any], None]) -> Iterator[None]:
    """Call ``observer(kernel)`` for every generated-kernel call made inside the ``with`` block.

    The observer may be called from several threads at once (the blocked SA path runs on a
    thread pool); it must be thread-safe.
    """
    with _LOCK:
        _OBSERVERS.append(observer)
    try:
        yield
    finally:
        with _LOCK:
            _OBSERVERS.remove(observer)
