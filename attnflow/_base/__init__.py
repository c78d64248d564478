"""The leaf layer of attnflow: atomic file output (``io``) and scalar argument validation (``validate``).

Every other part of attnflow (``symbolic``, ``numerics``, ``properties``, the CLI and export) may
import this package; it imports nothing from attnflow itself (the layering contract checked by
import-linter in CI).
"""
