"""The :class:`Claim` object and what a check returns or raises (re-exported by ``registry``)."""

from __future__ import annotations

import dataclasses
import functools
import math
import re
from collections.abc import Callable
from typing import Any

from hypothesis.strategies import SearchStrategy

from attnflow._base import validate
from attnflow.properties.profiles import PROFILES

__all__ = ["EXPECTATIONS", "Violation", "require", "Measurement", "rate_measurement", "Claim"]

EXPECTATIONS = ("holds", "fails", "explore")
_ID = re.compile(r"^[a-z0-9_]+(\.[a-z0-9_]+)*$")


class Violation(AssertionError):
    """Raised by a check when the claimed property fails on the drawn example.

    Any *other* exception raised by a check is a bug in the check (outcome ``error``), never a
    counterexample.
    """


def require(condition: bool, message: str) -> None:
    """Raise :class:`Violation` with ``message`` unless ``condition`` holds."""
    if not bool(condition):
        raise Violation(message)


@dataclasses.dataclass(frozen=True)
class Measurement:
    """What a check measured on one example.

    Parameters
    ----------
    value : float
        The headline number (an error, a margin, a ratio); summarised over examples with the
        claim's ``aggregate`` (``max`` or ``min``) under the label ``measure``.
    fitted, theory : float, optional
        For rate claims: the fitted rate and its theoretical value (reported side by side).
    extra : dict
        Further named numbers (summarised by min/max in the report).
    """

    value: float
    fitted: float | None = None
    theory: float | None = None
    extra: dict[str, float] = dataclasses.field(default_factory=dict)


def rate_measurement(fitted: float, theory: float, *, side: str = "=", rtol: float = 0.05,
                     value: float | None = None) -> Measurement:
    r"""Compare a fitted rate with its theoretical value and return the measurement.

    ``side="="`` requires :math:`|\hat\lambda-\lambda| \le r|\lambda|`; ``side=">="`` (the theorem is a
    lower bound on the rate) requires :math:`\hat\lambda \ge \lambda(1-r)`; ``side="<="`` requires
    :math:`\hat\lambda \le \lambda(1+r)` (for negative :math:`\lambda` the slack is :math:`r|\lambda|`).
    Raises :class:`Violation` otherwise.  The headline value is the relative deviation
    :math:`(\hat\lambda-\lambda)/|\lambda|` unless ``value`` is given.
    """
    if side not in ("=", ">=", "<="):
        raise ValueError(f"side: expected '=', '>=' or '<=', got {side!r}")
    if not (math.isfinite(fitted) and math.isfinite(theory)):
        raise Violation(f"fitted rate {fitted} or theory {theory} is not finite")
    slack = rtol * abs(theory)
    if side == "=":
        ok = abs(fitted - theory) <= slack
    elif side == ">=":
        ok = fitted >= theory - slack
    else:
        ok = fitted <= theory + slack
    rel = (fitted - theory) / abs(theory) if theory != 0 else fitted - theory
    require(ok, f"fitted rate {fitted:.6g} vs theory {theory:.6g} (need fitted {side} theory, rtol {rtol})")
    return Measurement(value=rel if value is None else value, fitted=fitted, theory=theory)


@dataclasses.dataclass(eq=False)
class Claim:
    """One checkable claim.

    Parameters
    ----------
    id : str
        Dotted id (``equiangular.hitting_time``); a symbolic result with the same id supplies the
        statement.
    title : str
        One-line human description.
    source : str
        arXiv id and label (theorem, section, equation), or the result named in words;
        ``derivations/<topic>.md`` where the result is derived there.
    hypotheses : hypothesis strategy
        Draws one example (the input of ``check``).
    check : callable
        ``check(example) -> Measurement | float | None``; raise :class:`Violation` (or use
        :func:`require`) when the property fails on the example.
    expect : {"holds", "fails", "explore"}
    tolerance : str
        The numerical tolerance and its rationale (shown in reports).
    latex : str
        Fallback statement in LaTeX, used when ``attnflow.symbolic`` has no result with this id.
    measure : str
        Label of the headline measurement (``"max |rho_ode - rho_formula|"``).
    aggregate : {"max", "min"}
        How the headline value is summarised over examples (the worst case).
    examples : float
        Scale factor on the profile's number of examples (expensive checks use < 1).
    describe : callable, optional
        ``describe(example) -> str`` for counterexamples (default: a truncated ``repr``).
    finding : str
        Non-empty when attnflow has *refuted* the statement as written in its source: the
        claim is then kept with the printed statement and ``expect="fails"`` (the check is not
        loosened; it must keep finding the counterexample), and this text says what is wrong and
        where the corrected statement is registered.  Reports list findings separately.
    """

    id: str
    title: str
    source: str
    hypotheses: SearchStrategy
    check: Callable[[Any], Any]
    expect: str
    tolerance: str
    latex: str = ""
    measure: str = "value"
    aggregate: str = "max"
    examples: float = 1.0
    describe: Callable[[Any], str] | None = None
    finding: str = ""

    def __post_init__(self) -> None:
        if not isinstance(self.id, str) or not _ID.match(self.id):
            raise ValueError(f"id: expected a dotted lower-case id like 'energy.bounds', got {self.id!r}")
        if self.expect not in EXPECTATIONS:
            raise ValueError(f"expect: expected one of {', '.join(EXPECTATIONS)}, got {self.expect!r}")
        if self.aggregate not in ("max", "min"):
            raise ValueError(f"aggregate: expected 'max' or 'min', got {self.aggregate!r}")
        if not isinstance(self.hypotheses, SearchStrategy):
            raise ValueError(f"hypotheses: expected a Hypothesis strategy, got {type(self.hypotheses).__name__}")
        if not callable(self.check):
            raise ValueError("check: expected a callable check(example)")
        validate.real("examples", self.examples, lo=0.0, lo_strict=True)
        if not self.tolerance:
            raise ValueError("tolerance: state the tolerance and its rationale (shown in reports)")
        if self.finding and self.expect != "fails":
            raise ValueError("finding: a refuted statement is registered with expect='fails'")

    def max_examples(self, profile: str) -> int:
        """Number of examples under ``profile`` (the profile's count times ``examples``, at least 1)."""
        if profile not in PROFILES:
            raise ValueError(f"profile: unknown profile {profile!r}; choose one of {', '.join(PROFILES)}")
        return max(1, int(round(PROFILES[profile] * self.examples)))

    @functools.cached_property
    def statement(self) -> str:
        """LaTeX statement: the symbolic result with this id if one exists, else :attr:`latex`."""
        try:
            from attnflow.symbolic.documents import get_result

            return get_result(self.id).statement
        except Exception:  # no such result, or a topic module that fails to import
            return self.latex

    def __repr__(self) -> str:
        return f"Claim({self.id!r}, expect={self.expect!r})"
