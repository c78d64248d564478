"""Shared by the example scripts: the output folder argument (never created implicitly)."""

from __future__ import annotations

import argparse
from pathlib import Path


def out_folder(p: argparse.ArgumentParser) -> None:
    p.add_argument("--out", type=Path, default=Path("."),
                   help="folder for the figures (must exist; default: the current folder)")
    p.add_argument("--force", action="store_true", help="overwrite figures that exist")


def figure_path(folder: Path, name: str, force: bool = False) -> Path:
    from attnflow._base.io import check_output_path

    return check_output_path(folder / name, option="--out", force=force, suffixes=(".png",))
