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

Claims about *every model* (``model.<name>.<family>``, :mod:`attnflow.properties.claims.model`)
are generated per declaration: a claim module registers a factory with :func:`model_claims`, and
:func:`all_claims` calls each factory for every model of the model registry that has no claims yet
-- built in, or a user's own registered (``attnflow.models.load``) after the claims were first
loaded; the claims of a model that was unregistered or replaced are dropped (and regenerated for the
replacement).

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
    "forget_model_claims",
    "Measurement",
    "rate_measurement",
    "Claim",
    "claim",
    "register",
    "all_claims",
    "model_claims",
    "get_claim",
    "select_claims",
    "fit_exponential_rate",
    "fit_power_law",
    "ClaimRun",
    "run_claim",
    "run_claims",
]

_REGISTRY: dict[str, Claim] = {}
#: Factories ``factory(model) -> iterable of Claim`` called for every registered model.
_MODEL_FACTORIES: list[Callable[[Any], Iterable[Claim]]] = []
#: ``{model name: (declaration, ids of its generated claims)}``.
_MODEL_CLAIMS: dict[str, tuple[Any, list[str]]] = {}


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


def model_claims(factory: Callable[[Any], Iterable[Claim]]) -> Callable[[Any], Iterable[Claim]]:
    """Decorator: register ``factory(model) -> iterable of Claim`` for every model declaration.

    The claims it returns are *not* registered by the factory itself: :func:`all_claims` calls the
    factory once per registered model (``attnflow.symbolic.models.MODELS``), including models
    registered later, and registers the result.
    """
    if not callable(factory):
        raise ValueError("factory: expected a callable factory(model) -> iterable of Claim")
    if factory not in _MODEL_FACTORIES:
        _MODEL_FACTORIES.append(factory)
        _MODEL_CLAIMS.clear()  # a new family: every model gets it at the next sync
    return factory


def forget_model_claims(name: str) -> None:
    """Drop the generated claims of model ``name``; the next :func:`all_claims` regenerates them (e.g.
    after :func:`attnflow.models.reference` gave the model a new family)."""
    entry = _MODEL_CLAIMS.pop(name, None)
    for cid in entry[1] if entry else ():
        _REGISTRY.pop(cid, None)


def _sync_model_claims() -> None:
    """Bring the generated per-model claims in line with the model registry."""
    from attnflow.symbolic.models import MODELS

    current = dict(MODELS)
    for name, (decl, ids) in list(_MODEL_CLAIMS.items()):
        if current.get(name) is not decl:
            for cid in ids:
                _REGISTRY.pop(cid, None)
            del _MODEL_CLAIMS[name]
    for name, decl in current.items():
        if name in _MODEL_CLAIMS:
            continue
        ids = []
        for factory in _MODEL_FACTORIES:
            for c in factory(decl):
                if not isinstance(c, Claim):
                    raise ValueError(f"factory: {factory.__qualname__} returned {type(c).__name__}, not a Claim")
                _REGISTRY.pop(c.id, None)  # a stale claim of the same id (a replaced model)
                _REGISTRY[c.id] = c
                ids.append(c.id)
        _MODEL_CLAIMS[name] = (decl, ids)


def all_claims() -> list[Claim]:
    """Every registered claim, in module order (``attnflow.properties.claims.MODULES``), then the
    generated per-model claims (:func:`model_claims`) of every currently registered model."""
    from attnflow.properties import claims as _claims

    _claims.load()
    _sync_model_claims()
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
