"""Hypothesis strategies and the registry of checkable claims (``attnflow.properties``)."""

from attnflow.properties.registry import (
    Claim,
    Measurement,
    Violation,
    all_claims,
    claim,
    get_claim,
    require,
    run_claim,
    run_claims,
    select_claims,
)

__all__: list[str] = [
    "Claim",
    "Measurement",
    "Violation",
    "all_claims",
    "claim",
    "get_claim",
    "require",
    "run_claim",
    "run_claims",
    "select_claims",
]
