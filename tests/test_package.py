"""Package metadata: the version, the PEP 561 marker, the licence, the citation file and the changelog agree."""

from __future__ import annotations

import importlib.metadata
import re
import tomllib
from pathlib import Path

import attnflow

ROOT = Path(__file__).resolve().parent.parent


def test_version_is_the_installed_distribution_version():
    assert re.fullmatch(r"\d+\.\d+\.\d+([.-]?\w+)?", attnflow.__version__)
    assert importlib.metadata.version("attnflow") == attnflow.__version__


def test_py_typed_marker_ships_as_package_data():
    assert (Path(attnflow.__file__).parent / "py.typed").is_file()
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert "py.typed" in pyproject["tool"]["setuptools"]["package-data"]["attnflow"]


def test_license_is_mit_as_declared():
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert pyproject["project"]["license"] == {"text": "MIT"}
    text = (ROOT / "LICENSE").read_text(encoding="utf-8")
    assert text.startswith("MIT License") and "Permission is hereby granted, free of charge" in text


def test_citation_file_names_this_version_and_licence():
    cff = (ROOT / "CITATION.cff").read_text(encoding="utf-8")
    top = dict(re.findall(r"^([a-z-]+): *(.*)$", cff, re.M))  # top-level keys (CFF 1.2.0 requires these)
    assert {"cff-version", "message", "title", "authors"} <= set(top)
    assert top["cff-version"] == "1.2.0"
    assert top["version"].strip('"') == attnflow.__version__
    assert top["license"] == "MIT"


def test_changelog_has_the_current_version():
    text = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    assert "## [Unreleased]" in text and f"## [{attnflow.__version__}]" in text
