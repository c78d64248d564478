"""The ``attnflow`` command line.

Each sub-command lives in ``attnflow/commands/<name>.py`` and defines ``register(subparsers)``
(adds its parser and sets ``func``) so commands stay independent of each other.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from attnflow._version import __version__

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
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except ValueError as exc:
        print(f"attnflow {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
