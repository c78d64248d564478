"""The leaf layer of attnflow: atomic file output and scalar validation.

Every other part of attnflow (``symbolic``, ``numerics``, ``properties``, the CLI and export) may
import this package; it imports nothing from attnflow itself (enforced by the import-linter
contract in ``pyproject.toml``, see ``ARCHITECTURE.md``).
"""
