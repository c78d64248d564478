"""Run claims through Hypothesis under a profile and classify the outcome.

Outcomes: ``holds`` (no counterexample), ``fails`` (a shrunk counterexample was found),
``explored`` (an ``explore`` claim ran; measurements only) and ``error`` (the check or its
strategy raised something other than :class:`Violation`, or Hypothesis could not generate
examples).  A run is ``ok`` iff the outcome is the one its expectation asks for.

With the environment variable ``ATTNFLOW_CHECK_NO_SHRINK=1`` (set by ``attnflow mutate`` for the
claims it runs on a mutated copy) a counterexample is reported as found, without shrinking: there
only whether a claim fails matters, and shrinking the counterexample of an expensive claim (one
experiment per example) can take longer than the mutant's time budget.
"""

from __future__ import annotations

import dataclasses
import math
import os
import random
import re
import time
import traceback
from collections.abc import Iterable
from typing import Any

import numpy as np
from hypothesis import HealthCheck, Phase, Verbosity, given, settings
from hypothesis import seed as hypothesis_seed

from attnflow._base import validate
from attnflow.properties._claim import Claim, Measurement, Violation
from attnflow.properties.profiles import _SUPPRESS as _PROFILE_SUPPRESS
from attnflow.properties.profiles import PROFILES, register_profiles

__all__ = ["OUTCOMES", "ClaimRun", "run_claim", "run_claims", "describe_example", "example_values", "random_seed"]

#: At most this many per-example values are kept in a report row (``measurement.values``,
#: ``fitted.points``) and this many array entries in a structured counterexample.
MAX_VALUES = 200
MAX_ARRAY_ENTRIES = 4096

OUTCOMES = ("holds", "fails", "explored", "error")
_WANTED = {"holds": "holds", "fails": "fails", "explore": "explored"}
#: The profiles' suppressed health checks, plus ``large_base_example`` (a claim's smallest example
#: may already be a whole particle configuration).
_SUPPRESS = (*_PROFILE_SUPPRESS, HealthCheck.large_base_example)


class _CheckError(Exception):
    """A non-Violation exception raised inside a check (wraps the original)."""


def random_seed() -> int:
    """A fresh seed in ``[0, 2**32)`` (used when ``--seed`` is not given; always reported)."""
    return random.SystemRandom().randrange(2**32)


def describe_example(example: Any, limit: int = 300) -> str:
    """A short one-line ``repr`` of a drawn example (arrays abbreviated, at most ``limit`` chars)."""
    with np.printoptions(precision=4, suppress=True, threshold=12, edgeitems=2, linewidth=10_000):
        text = repr(example)
    text = re.sub(r"\s+", " ", text).strip()
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _json_float(x: float):
    x = float(x)
    if math.isfinite(x):
        return x
    return "NaN" if math.isnan(x) else ("Infinity" if x > 0 else "-Infinity")


def example_values(example: Any, _depth: int = 0) -> Any:
    """The drawn example as JSON-able data (values, not text): the structured counterexample of a report.

    Numbers stay numbers (non-finite floats become the strings ``"NaN"``, ``"Infinity"``,
    ``"-Infinity"``: JSON has no such numbers), arrays become ``{"array": nested lists, "dtype",
    "shape"}`` (larger than ``MAX_ARRAY_ENTRIES`` entries: the first ones flattened, ``"truncated":
    true``), tuples and lists lists, dicts and dataclasses objects; anything else ``{"repr": text}``.
    """
    if _depth > 20:
        return {"repr": describe_example(example)}
    if example is None or isinstance(example, (bool, str, int)) and not isinstance(example, np.integer):
        return example
    if isinstance(example, (np.bool_,)):
        return bool(example)
    if isinstance(example, (np.integer,)):
        return int(example)
    if isinstance(example, (float, np.floating)):
        return _json_float(example)
    if isinstance(example, np.ndarray):
        arr = example
        if arr.dtype.kind not in "biuf":
            return {"repr": describe_example(arr)}
        out: dict[str, Any] = {"dtype": str(arr.dtype), "shape": list(arr.shape)}
        flat = arr.size > MAX_ARRAY_ENTRIES
        data = arr.reshape(-1)[:MAX_ARRAY_ENTRIES] if flat else arr
        conv = (lambda v: _json_float(v)) if arr.dtype.kind == "f" else (lambda v: v)
        lst = data.tolist()

        def walk(v):
            return [walk(w) for w in v] if isinstance(v, list) else conv(v)

        out["array"] = walk(lst)
        if flat:
            out["truncated"] = True
        return out
    if dataclasses.is_dataclass(example) and not isinstance(example, type):
        return {f.name: example_values(getattr(example, f.name), _depth + 1) for f in dataclasses.fields(example)}
    if isinstance(example, dict):
        return {str(k): example_values(v, _depth + 1) for k, v in example.items()}
    if isinstance(example, (list, tuple)):
        return [example_values(v, _depth + 1) for v in example]
    return {"repr": describe_example(example)}


@dataclasses.dataclass(repr=False)
class ClaimRun:
    """The result of running one claim."""

    claim: Claim
    outcome: str
    examples: int
    seconds: float
    detail: str
    seed: int
    profile: str
    measurement: dict | None = None
    fitted: dict | None = None
    counterexample: str | None = None
    replay: str | None = None
    #: the shrunk counterexample as JSON-able data (:func:`example_values`); set with ``counterexample``
    counterexample_values: Any = None

    @property
    def ok(self) -> bool:
        """Whether the outcome is the one the claim's expectation asks for."""
        return self.outcome == _WANTED[self.claim.expect]

    # -- notebook display --
    def __repr__(self) -> str:
        return (f"ClaimRun({self.claim.id!r}, expect {self.claim.expect}, got {self.outcome} "
                f"({'ok' if self.ok else 'NOT ok'}), {self.examples} examples, {self.seconds:.2f} s)")

    def _repr_latex_(self) -> str:
        """The claim's statement as display math."""
        return f"$$ {self.claim.statement.strip()} $$"

    def _repr_html_(self) -> str:
        """A short table: id and title, statement (MathJax), expectation and outcome, detail, replay."""
        import html as _html

        from attnflow._base.display import html_table, math_html

        verdict = f"expected {self.claim.expect}, got {self.outcome}: " + ("ok" if self.ok else "<b>NOT ok</b>")
        return html_table([("claim", f"<code>{_html.escape(self.claim.id)}</code> &mdash; {_html.escape(self.claim.title)}"),
                           ("statement", math_html(self.claim.statement)), ("outcome", verdict),
                           ("detail", self.detail), ("counterexample", self.counterexample),
                           ("replay", self.replay), ("source", self.claim.source),
                           ("run", f"{self.examples} examples, {self.seconds:.2f} s, profile {self.profile}, seed {self.seed}")],
                          raw=("claim", "statement", "outcome"))

    def to_dict(self) -> dict:
        """Report row: the required keys, then the optional ones that are set."""
        row = {
            "id": self.claim.id,
            "expect": self.claim.expect,
            "outcome": self.outcome,
            "ok": self.ok,
            "examples": self.examples,
            "seconds": round(self.seconds, 3),
            "detail": self.detail,
            "title": self.claim.title,
            "statement": self.claim.statement.strip(),
            "source": self.claim.source,
            "tolerance": self.claim.tolerance,
        }
        for key in ("measurement", "fitted", "counterexample", "replay"):
            val = getattr(self, key)
            if val is not None:
                row[key] = val
        if self.counterexample is not None:
            row["counterexample_values"] = self.counterexample_values
        if self.claim.finding:
            row["finding"] = self.claim.finding
        return row


def _replay_command(claim_id: str, seed: int, profile: str, extra: str = "") -> str:
    cmd = f"attnflow check{extra} --claim {claim_id} --seed {seed}"
    return cmd if profile == "quick" else cmd + f" --profile {profile}"


def _as_measurement(value: Any) -> Measurement | None:
    if value is None:
        return None
    if isinstance(value, Measurement):
        m = value
    elif isinstance(value, (int, float, np.floating, np.integer)) and not isinstance(value, bool):
        m = Measurement(value=float(value))
    else:
        raise TypeError(f"check returned {type(value).__name__}; return a Measurement, a float or None")
    nums = [m.value, m.fitted, m.theory, *m.extra.values()]
    if any(v is not None and isinstance(v, float) and math.isnan(v) for v in nums):
        raise ValueError(f"check returned a NaN measurement: {m}")
    return m


def _fmt(x: float) -> str:
    return f"{x:.4g}"


def _summarise(claim: Claim, ms: list[Measurement]) -> tuple[str, dict | None, dict | None]:
    if not ms:
        return "", None, None
    vals = [m.value for m in ms]
    agg = max(vals) if claim.aggregate == "max" else min(vals)
    measurement = {"label": claim.measure, claim.aggregate: agg, "n": len(ms),
                   "values": [_json_float(v) for v in vals[:MAX_VALUES]]}
    parts = [f"{claim.measure} = {_fmt(agg)}"]
    fitted = None
    fits = [m for m in ms if m.fitted is not None]
    if fits:
        fv = [m.fitted for m in fits]
        th = [m.theory for m in fits if m.theory is not None]
        fitted = {"min": min(fv), "max": max(fv), "n": len(fv),
                  "points": [[_json_float(m.fitted), None if m.theory is None else _json_float(m.theory)]
                             for m in fits[:MAX_VALUES]]}
        rng_txt = _fmt(min(fv)) if min(fv) == max(fv) else f"{_fmt(min(fv))}..{_fmt(max(fv))}"
        if th:
            fitted["theory_min"], fitted["theory_max"] = min(th), max(th)
            th_txt = _fmt(min(th)) if min(th) == max(th) else f"{_fmt(min(th))}..{_fmt(max(th))}"
            parts.append(f"fitted {rng_txt} vs theory {th_txt}")
        else:
            parts.append(f"fitted {rng_txt}")
    keys = sorted({k for m in ms for k in m.extra})
    for k in keys:
        xs = [m.extra[k] for m in ms if k in m.extra]
        measurement[k] = {"min": min(xs), "max": max(xs)}
        parts.append(f"{k} in [{_fmt(min(xs))}, {_fmt(max(xs))}]")
    return "; ".join(parts), measurement, fitted


#: Environment variable: ``1`` disables shrinking (see the module docstring).
NO_SHRINK_ENV = "ATTNFLOW_CHECK_NO_SHRINK"


def _phases() -> tuple:
    if os.environ.get(NO_SHRINK_ENV) == "1":
        return tuple(p for p in Phase if p is not Phase.shrink)
    return tuple(Phase)


def run_claim(claim: Claim, profile: str = "quick", seed: int | None = None, *, replay_args: str = "") -> ClaimRun:
    """Run one claim through Hypothesis and classify the outcome.

    Parameters
    ----------
    claim : Claim
    profile : {"quick", "ci", "thorough"}
        Sets the number of examples (times ``claim.examples``).
    seed : int, optional
        Hypothesis seed (``hypothesis.seed``); a random one is drawn and recorded if omitted, so
        every run can be replayed with ``attnflow check --claim ID --seed N``.
    replay_args : str
        Further options of the replay command (``" --models my_models.py"`` for a claim of a
        user's model), inserted after ``attnflow check``.

    Returns
    -------
    ClaimRun

    References
    ----------
    Hypothesis documentation, ``@seed`` and settings profiles.
    """
    if not isinstance(claim, Claim):
        raise ValueError(f"claim: expected a Claim, got {type(claim).__name__}")
    if profile not in PROFILES:
        raise ValueError(f"profile: unknown profile {profile!r}; choose one of {', '.join(PROFILES)}")
    if seed is None:
        seed = random_seed()
    seed = validate.seed(seed)
    register_profiles()
    explore = claim.expect == "explore"
    state: dict[str, Any] = {"calls": 0, "last": None, "ms": [], "violations": 0, "first_violation": None}

    def body(example: Any) -> None:
        state["calls"] += 1
        state["last"] = example
        try:
            m = _as_measurement(claim.check(example))
        except Violation as exc:
            if explore:
                state["violations"] += 1
                state["first_violation"] = state["first_violation"] or str(exc)
                return
            raise
        except Exception as exc:  # a bug in the check: never a counterexample
            raise _CheckError(f"{type(exc).__name__}: {exc}") from exc
        if m is not None:
            state["ms"].append(m)

    test = given(claim.hypotheses)(body)
    test = settings(
        settings.get_profile(f"attnflow-{profile}"),
        max_examples=claim.max_examples(profile),
        deadline=None,
        database=None,
        derandomize=False,
        report_multiple_bugs=False,
        suppress_health_check=_SUPPRESS,
        verbosity=Verbosity.quiet,
        print_blob=False,
        phases=_phases(),
    )(test)
    test = hypothesis_seed(seed)(test)

    replay = _replay_command(claim.id, seed, profile, replay_args)
    t0 = time.perf_counter()
    outcome, detail, counterexample, cx_values = None, "", None, None
    try:
        test()
    except Violation as exc:
        counterexample = (claim.describe or describe_example)(state["last"])
        cx_values = example_values(state["last"])
        outcome = "fails"
        detail = f"counterexample: {counterexample} -- {exc}; replay: {replay}"
    except _CheckError as exc:
        outcome = "error"
        tb = traceback.extract_tb(exc.__cause__.__traceback__) if exc.__cause__ else []
        where = f" at {tb[-1].filename.rsplit('/', 1)[-1]}:{tb[-1].lineno}" if tb else ""
        detail = f"check raised {exc}{where} on {describe_example(state['last'], 160)}; replay: {replay}"
    except Exception as exc:  # strategy errors, Unsatisfiable, Flaky, health checks
        outcome = "error"
        msg = re.sub(r"\s+", " ", str(exc)).strip()[:300]
        detail = f"{type(exc).__name__}: {msg}; replay: {replay}"
    seconds = time.perf_counter() - t0

    summary, measurement, fitted = _summarise(claim, state["ms"])
    if outcome is None:
        n = state["calls"]
        if explore:
            outcome = "explored"
            detail = summary or f"{n} examples"
            if state["violations"]:
                detail += f"; {state['violations']} example(s) violated the conjectured bound, first: {state['first_violation']}"
        else:
            outcome = "holds"
            detail = summary or f"no counterexample in {n} examples"
            if claim.expect == "fails":
                detail = f"no counterexample found in {n} examples (negative control missed); " + detail
    elif outcome == "fails" and summary:
        detail += f" (passing examples: {summary})"
    return ClaimRun(
        claim=claim,
        outcome=outcome,
        examples=state["calls"],
        seconds=seconds,
        detail=detail,
        seed=seed,
        profile=profile,
        measurement=measurement,
        fitted=fitted,
        counterexample=counterexample,
        counterexample_values=cx_values,
        replay=replay if outcome in ("fails", "error") else None,
    )


def run_claims(
    claims: Iterable[Claim], profile: str = "quick", seed: int | None = None, progress: bool | None = None,
    *, replay_args: str = "",
) -> list[ClaimRun]:
    """Run several claims with one seed (drawn once if omitted); a tqdm bar on stderr (``progress``:
    None automatic, :mod:`attnflow._base.progress`; True; False).

    ``replay_args`` is passed to :func:`run_claim` (options of the printed replay commands).
    """
    claims = list(claims)
    if seed is None:
        seed = random_seed()
    from attnflow._base.progress import progress_bar

    bar = progress_bar(progress, total=len(claims), desc="checking", unit="claim")
    runs = []
    try:
        for c in claims:
            bar.set_postfix_str(c.id, refresh=False)
            runs.append(run_claim(c, profile=profile, seed=seed, replay_args=replay_args))
            bar.update(1)
    finally:
        bar.close()
    return runs
