"""Progress bars: one rule for every long-running function and command.

Every function that can run longer than a couple of seconds takes ``progress=None | True | False``:

- ``None`` (the default) is automatic: a tqdm bar on stderr when stderr is a terminal, shown only
  once the work has taken :data:`AUTO_DELAY` seconds (short runs print nothing), and never inside
  another attnflow bar (the simulations inside ``attnflow check``'s claims stay quiet);
- ``True`` always shows a bar (from the start), ``False`` never.

``ATTNFLOW_PROGRESS=0`` in the environment turns the automatic bars off.  The commands map
``--quiet/-q`` to ``False`` and their default to ``None``.
"""

from __future__ import annotations

import os
import sys

__all__ = ["AUTO_DELAY", "enabled", "progress_bar"]

#: Seconds an automatic bar waits before it appears.
AUTO_DELAY = 2.0

_active = 0  # attnflow bars currently shown (an automatic bar inside one stays off)


def enabled(progress: bool | None) -> bool:
    """Whether a bar is shown for ``progress`` (``None``: stderr is a terminal and no bar is active)."""
    if progress is None:
        if _active or os.environ.get("ATTNFLOW_PROGRESS", "1").strip() == "0":
            return False
        stream = sys.stderr
        try:
            return bool(stream is not None and stream.isatty())
        except (AttributeError, ValueError):  # a closed or unusual stream
            return False
    if not isinstance(progress, (bool, int)):
        raise ValueError(f"progress: True, False or None (automatic), got {progress!r}")
    return bool(progress)


def progress_bar(progress: bool | None, iterable=None, *, total=None, desc: str | None = None, unit: str = "it",
                 initial: float = 0, leave: bool = False):
    """A tqdm bar on stderr (disabled unless :func:`enabled`); close it, or exhaust ``iterable``.

    While it is open, automatic bars (``progress=None``) of nested calls stay off.
    """
    global _active
    from tqdm.auto import tqdm

    on = enabled(progress)
    bar = tqdm(iterable, total=total, desc=desc, unit=unit, initial=initial, leave=leave, file=sys.stderr,
               disable=not on, delay=0.0 if progress is True else AUTO_DELAY)
    if on:
        _active += 1
        close = bar.close
        state = {"open": True}

        def _close():
            global _active
            if state["open"]:
                state["open"] = False
                _active -= 1
            close()

        bar.close = _close
    return bar
