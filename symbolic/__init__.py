"""Symbolic derivations with proof status (``attnflow.symbolic``).

Public API
----------
prove_zero, prove_equal, prove_all, Proof, STATUSES
    the reusable "prove this is zero" routine and the proof record.
Result, Step
    a derived result (statement, derivation steps, source, lazily computed proof).
all_results, get_result, topic_results, TOPICS
    the results behind ``derivations/``.
"""

from attnflow.symbolic.documents import TOPICS, all_results, get_result, topic_results
from attnflow.symbolic.proof import STATUSES, Proof, combine_exponentials, prove_all, prove_equal, prove_zero
from attnflow.symbolic.result import Result, Step, expr_hash, latex

__all__ = [
    "STATUSES",
    "Proof",
    "prove_zero",
    "prove_equal",
    "prove_all",
    "combine_exponentials",
    "Result",
    "Step",
    "latex",
    "expr_hash",
    "TOPICS",
    "all_results",
    "get_result",
    "topic_results",
]
