"""The ``--models FILE`` option shared by every sub-command: load a user's model declarations.

``attnflow <command> --models my_models.py`` imports ``my_models.py`` (with
:func:`attnflow.models.load`) before the command runs, so a model declared there is known to the
command exactly as a built-in one: ``simulate --model NAME``, ``check`` (its ``model.NAME.*``
claims), ``export NAME`` and ``derive``.  Loading a models file **runs it**: it is the user's own
Python code, imported the way pytest imports a ``conftest.py``; no text is ever parsed as an
expression.
"""

from __future__ import annotations

import argparse
import shlex
from pathlib import Path

__all__ = ["MODELS_HELP", "add_models_argument", "load_models", "models_flags"]

MODELS_HELP = (
    "Python file of model declarations to load first (repeatable). Loading RUNS the file: it is your "
    "own Python code, imported like a pytest conftest.py (attnflow.models.load); only load files you "
    "would run")


def add_models_argument(parser: argparse.ArgumentParser) -> None:
    """Add ``--models FILE`` (dest ``models``, appended) to ``parser`` unless it already has it.

    A command may register the option itself (same dest and action); this helper then leaves it.
    """
    if any(action.dest == "models" or "--models" in action.option_strings for action in parser._actions):
        return
    parser.add_argument("--models", action="append", default=None, metavar="FILE", help=MODELS_HELP)


def load_models(files) -> list[str]:
    """Load each file of ``files`` (``--models`` values) and return the names of the models it declared.

    Raises ``ValueError`` naming ``--models`` for a missing file, a file that is not Python source,
    or a file that declares no model (before any command runs).
    """
    from attnflow.models import load

    names: list[str] = []
    for f in files or []:
        path = Path(f)
        if not path.is_file():
            raise ValueError(f"--models: {f!r} does not exist or is not a file; pass a Python file of model "
                             "declarations, e.g. --models my_models.py")
        if path.suffix != ".py":
            raise ValueError(f"--models: {f!r} is not a Python file (*.py); rename it or pass the .py file "
                             "that declares the models")
        try:
            models = load(path, replace=True)
        except ValueError as exc:
            msg = str(exc)
            if msg.startswith("path: "):
                msg = msg[len("path: "):]
            raise ValueError(f"--models: {msg}") from None
        names.extend(m.name for m in models)
    return names


def models_flags(files) -> str:
    """The ``--models FILE`` flags that reproduce a run (empty when none were given)."""
    return "".join(f" --models {shlex.quote(str(f))}" for f in files or [])
