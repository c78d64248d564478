"""The ``--seed`` option shared by the commands that run claims (``check``, ``export``)."""

from __future__ import annotations

import argparse

#: Seed of a plain run: claim runs are deterministic unless ``--seed random`` asks otherwise.
DEFAULT_SEED = 0


def parse_seed(text: str) -> int:
    """``argparse`` type: an integer in ``[0, 2**32)``, or ``random`` for a fresh random seed."""
    if text == "random":
        from attnflow.properties._runner import random_seed

        return random_seed()
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a non-negative integer or 'random', got {text!r}") from None
    if not 0 <= value < 2**32:
        raise argparse.ArgumentTypeError(f"expected an integer in [0, 2**32), got {value}")
    return value


def add_seed_argument(parser: argparse.ArgumentParser, what: str) -> None:
    """Add ``--seed`` (default :data:`DEFAULT_SEED`) to ``parser``; ``what`` names what it seeds."""
    parser.add_argument(
        "--seed", type=parse_seed, default=DEFAULT_SEED,
        help=f"Hypothesis seed for {what}; the same seed and profile reproduce a run exactly "
             f"(default {DEFAULT_SEED}, so plain runs are deterministic; 'random' draws a fresh seed, printed)")
