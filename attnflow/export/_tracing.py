r"""Which catalogued kernels a block of code calls (private; re-exported by :mod:`attnflow.export`)."""

from __future__ import annotations

import contextlib
import threading
from collections import Counter
from collections.abc import Iterable, Iterator

from attnflow.numerics._kernel_hooks import observe_kernel_calls

from ._catalogue import KERNELS, resolve_kernels

__all__ = ["trace_kernel_calls"]


@contextlib.contextmanager
def trace_kernel_calls(names: Iterable[str] | None = None) -> Iterator[Counter]:
    r"""Count calls of catalogued kernels made through the public API (a context manager).

    Observes every generated-kernel call that :mod:`attnflow.numerics` makes through
    :func:`attnflow.numerics._kernel_hooks.call` inside the block (nothing is patched) and maps the
    kernel object to its catalogue entry by ``kernel.__module__`` and ``kernel.__name__``.  Yields a
    ``Counter`` ``{kernel name: calls}`` of the kernels ``names`` (default: every catalogued
    kernel); calls of a serial twin ``<kernel>_serial`` are counted under the kernel's name.
    Counting is thread-safe (the blocked SA path runs on a thread pool).

    .. math:: \mathrm{calls}(k) = \#\{\text{calls of } k \text{ or } k\_\mathrm{serial} \text{ inside the block}\}
    """
    specs = list(KERNELS.values()) if names is None else resolve_kernels(names)
    # (generated module, function name) -> catalogue name; the twin maps to its kernel
    wanted = {(spec.module, function): spec.name for spec in specs for function in spec.functions}
    counts: Counter = Counter()
    lock = threading.Lock()

    def observer(kernel) -> None:
        name = wanted.get((getattr(kernel, "__module__", None), getattr(kernel, "__name__", None)))
        if name is not None:
            with lock:
                counts[name] += 1

    with observe_kernel_calls(observer):
        yield counts
