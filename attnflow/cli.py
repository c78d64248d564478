"""The ``attnflow`` command line.

Each sub-command lives in ``attnflow/commands/<name>.py`` and defines ``register(subparsers)``
(adds its parser and sets ``func``) so commands stay independent of each other.  Every sub-command
also takes ``--models FILE`` (:mod:`attnflow.commands._models`): the user's model declarations,
loaded before the command runs (loading runs the file, like pytest's ``conftest.py``).
"""

from __future__ import annotations

import argparse
import importlib
import sys

from attnflow._version import __version__
from attnflow.commands._models import add_models_argument, load_models

#: Sub-command modules, in the order ``attnflow --help`` lists them.
COMMANDS = ["derive", "simulate", "check", "interpolate", "profile", "export", "sweep", "mutate"]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="attnflow",
        description="Symbolic-numeric verification of Transformers as interacting particle systems.",
    )
    parser.add_argument("--version", action="version", version=f"attnflow {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        importlib.import_module(f"attnflow.commands.{name}").register(sub)
    for command in sub.choices.values():
        add_models_argument(command)
        command.set_defaults(_parser=command)  # for the reproduce line (attnflow.commands._common)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    from attnflow._base.io import Terminated, install_signal_handlers

    previous = install_signal_handlers()  # SIGTERM unwinds like Ctrl-C: temporary files are removed
    try:
        load_models(getattr(args, "models", None))
        return int(args.func(args) or 0)
    except ValueError as exc:
        print(f"attnflow {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:  # the file system refused a write (disk full, permissions changed meanwhile)
        print(f"attnflow {args.command}: error: {exc}", file=sys.stderr)
        return 1
    except MemoryError:
        print(f"attnflow {args.command}: error: out of memory; reduce the problem size (see --help)", file=sys.stderr)
        return 1
    except Terminated:
        print("terminated", file=sys.stderr)
        return 143
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    finally:
        if previous is not None:  # in-process callers (tests, notebooks) get their handler back
            import signal

            signal.signal(signal.SIGTERM, previous)


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
