"""The registry of checkable claims.

A *claim* is one checkable statement: an id, a statement, a source, the
hypotheses as a Hypothesis strategy, and a *check* -- a function of one drawn example that returns
a measurement, or raises :class:`Violation` when the property fails on that example.  The
expectation says what a correct toolkit finds:

``holds``
    no counterexample may be found;
``fails``
    a negative control: the search must find (and shrink) a counterexample;
``explore``
    hypotheses incomplete: measurements are reported, nothing passes or fails on them.

Adding a claim is one decorated function in a module of :mod:`attnflow.properties.claims`::

    import numpy as np
    from attnflow.properties import strategies as afs
    from attnflow.properties.registry import claim, require

    @claim(
        id="toy.unit_norm",
        title="sphere points have unit norm",
        source="arXiv:2312.10794 (tokens on the unit sphere)",
        latex=r"|x_i| = 1",
        hypotheses=afs.sphere_points(),
        expect="holds",
        tolerance="1e-12: one rounding per coordinate in the normalisation",
        measure="max ||x_i| - 1|",
    )
    def unit_norm(x):
        err = float(abs(np.linalg.norm(x, axis=1) - 1).max())
        require(err <= 1e-12, f"|x_i| - 1 = {err:.2e}")
        return err

The check returns a float (or a :class:`Measurement` with ``fitted``/``theory`` for rate claims,
see :func:`rate_measurement`, :func:`fit_exponential_rate`, :func:`fit_power_law`) and raises
:class:`Violation` through :func:`require` when the property fails; any other exception is reported
as ``error``.  A new module is listed once in ``attnflow.properties.claims.MODULES``.
:func:`run_claim` runs a claim under a profile; ``attnflow check`` runs
many and writes reports.

References
----------
Hypothesis documentation (strategies, ``@given``, settings profiles).
"""

from __future__ import annotations

import fnmatch
import functools
from collections.abc import Callable, Iterable
from typing import Any

from attnflow.properties._claim import (
    EXPECTATIONS,
    Claim,
    Measurement,
    Violation,
    rate_measurement,
    require,
)
from attnflow.properties._rates import fit_exponential_rate, fit_power_law
from attnflow.properties._runner import ClaimRun, run_claim, run_claims

__all__ = [
    "EXPECTATIONS",
    "Violation",
    "require",
    "Measurement",
    "rate_measurement",
    "Claim",
    "claim",
    "register",
    "all_claims",
    "get_claim",
    "select_claims",
    "fit_exponential_rate",
    "fit_power_law",
    "ClaimRun",
    "run_claim",
    "run_claims",
]

_REGISTRY: dict[str, Claim] = {}


def register(c: Claim) -> Claim:
    """Add a claim to the registry (``ValueError`` on a duplicate id from a different check)."""
    if not isinstance(c, Claim):
        raise ValueError(f"c: expected a Claim, got {type(c).__name__}")
    old = _REGISTRY.get(c.id)
    if old is not None and (
        getattr(old.check, "__module__", None), getattr(old.check, "__qualname__", None)
    ) != (getattr(c.check, "__module__", None), getattr(c.check, "__qualname__", None)):
        raise ValueError(f"id: claim {c.id!r} is already registered by {old.check.__module__}")
    _REGISTRY[c.id] = c
    return c


def claim(**fields) -> Callable[[Callable[[Any], Any]], Claim]:
    """Decorator: turn ``check(example)`` into a registered :class:`Claim` (keyword fields as in Claim)."""

    def deco(fn: Callable[[Any], Any]) -> Claim:
        c = Claim(check=fn, **fields)
        functools.update_wrapper(c, fn, assigned=("__doc__",), updated=())
        return register(c)

    return deco


def all_claims() -> list[Claim]:
    """Every registered claim, in module order (``attnflow.properties.claims.MODULES``)."""
    from attnflow.properties import claims as _claims

    _claims.load()
    # registration order within a module; modules in MODULES order whatever imported them first
    rank = {m: i for i, m in enumerate(_claims.MODULES)}
    return sorted(_REGISTRY.values(), key=lambda c: rank.get(getattr(c.check, "__module__", None), len(rank)))


def get_claim(claim_id: str) -> Claim:
    """One claim by id (``ValueError`` naming close matches)."""
    for c in all_claims():
        if c.id == claim_id:
            return c
    import difflib

    close = difflib.get_close_matches(claim_id, [c.id for c in all_claims()], n=3)
    hint = f"; did you mean {', '.join(close)}?" if close else ""
    raise ValueError(f"claim_id: unknown claim {claim_id!r}{hint}")


def select_claims(patterns: Iterable[str] | None = None) -> list[Claim]:
    """Claims whose id matches any of the shell-style ``patterns`` (all claims if none given).

    A pattern without wildcards also selects the ids below it (``cluster`` selects ``cluster.*``).
    Raises ``ValueError`` naming every pattern that matches nothing.
    """
    claims = all_claims()
    patterns = list(patterns or [])
    if not patterns:
        return claims
    chosen: dict[str, Claim] = {}
    unmatched = []
    for p in patterns:
        hits = [c for c in claims if fnmatch.fnmatchcase(c.id, p) or c.id.startswith(p + ".")]
        if not hits:
            unmatched.append(p)
        for c in hits:
            chosen[c.id] = c
    if unmatched:
        raise ValueError(
            f"pattern(s) {', '.join(map(repr, unmatched))} match no claim; "
            "list the ids with `attnflow check --list`"
        )
    return [c for c in claims if c.id in chosen]
