"""Behaviour shared by every sub-command (one rule each, ``attnflow <command> --help``):

- **progress**: a tqdm bar on stderr for anything that can run longer than a couple of seconds,
  automatic by default (on a terminal, after 2 s; :mod:`attnflow._base.progress`); ``--quiet/-q``
  turns it off (``simulate --progress`` and ``sweep --progress`` force it on);
- **--force**: an existing output (file, folder, store) is refused before anything is computed, and
  replaced only with ``--force`` (:func:`attnflow._base.io.check_output_path` / ``check_output_dir``);
- **parent folders** of outputs are never created: a missing one is an error naming the option and
  ``mkdir -p``;
- **reproduce line**: every command that computes something prints ``reproduce: attnflow ...`` with
  every option that changes the result (:func:`reproduce_line`), including ``--models`` and filters
  such as ``check --claim``.
"""

from __future__ import annotations

import argparse
import shlex
from collections.abc import Iterable

__all__ = ["QUIET_HELP", "add_quiet_argument", "progress_of", "reproduce_line"]

QUIET_HELP = "no progress bar (default: a bar on stderr when it is a terminal and the run takes over 2 s)"


def add_quiet_argument(parser: argparse.ArgumentParser) -> None:
    """``--quiet/-q`` (dest ``quiet``)."""
    parser.add_argument("--quiet", "-q", action="store_true", help=QUIET_HELP)


def progress_of(args: argparse.Namespace) -> bool | None:
    """The API's ``progress=``: False with ``--quiet``, True with an explicit ``--progress``, else None (automatic)."""
    if getattr(args, "quiet", False):
        return False
    explicit = getattr(args, "progress", None)
    return True if explicit is True else (False if explicit is False else None)


def _option(parser: argparse.ArgumentParser | None, dest: str) -> str:
    if parser is not None:
        for action in parser._actions:
            if action.dest == dest and action.option_strings:
                return max(action.option_strings, key=len)
    return "--" + dest.replace("_", "-")


def _value(v) -> str:
    if isinstance(v, float):  # exact: repr round-trips; whole numbers without ".0"
        return str(int(v)) if v.is_integer() and abs(v) < 1e16 else repr(v)
    return shlex.quote(str(v))


def reproduce_line(command: str, args: argparse.Namespace, dests: Iterable[str], *,
                   positional: Iterable = (), parser: argparse.ArgumentParser | None = None) -> str:
    """``attnflow <command> [--models F ...] [positional ...] --opt value ...`` for ``dests``.

    Options whose value is None or False are left out, True flags are written bare, lists repeat
    the option for each value (``--claim A --claim B``); values are shell-quoted.  ``--models``
    comes first (it is loaded before the command runs).
    """
    parser = parser if parser is not None else getattr(args, "_parser", None)
    parts = ["attnflow", command]
    for f in getattr(args, "models", None) or []:
        parts += ["--models", shlex.quote(str(f))]
    parts += [shlex.quote(str(p)) for p in positional]
    for dest in dests:
        v = getattr(args, dest, None)
        if v is None or v is False:
            continue
        opt = _option(parser, dest)
        if v is True:
            parts.append(opt)
        elif isinstance(v, (list, tuple)):
            for item in v:
                parts += [opt, _value(item)]
        else:
            parts += [opt, _value(v)]
    return " ".join(parts)
