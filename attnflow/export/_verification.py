r"""The verification gate run before anything is exported (private; re-exported by :mod:`attnflow.export`).

Per kernel (:func:`verify_kernels`):

1. its generated file must be standalone and current (:mod:`._sources`);
2. the claims matching its claim-id globs (:data:`KERNELS` ``[name].claims``) are run through
   :func:`attnflow.properties.registry.run_claim` under the chosen profile and seed, with every
   catalogued kernel traced (:func:`trace_kernel_calls`); the kernel is exportable only if at least
   one claim matches, every matching claim comes out as expected (``run.ok``), and at least one of
   them actually called the kernel (a call of its serial twin ``<kernel>_serial``, which the public
   API uses for small problems, counts as a call of the kernel).  No claims means not verified: the
   kernel is refused;
3. the kernel and its serial twin (if any), run on the stored inputs, must each agree with the
   independent plain-NumPy implementation :mod:`attnflow.numerics._reference` within the stated
   tolerance (:func:`kernel_errors`; the same check ``selftest()`` repeats in the receiving
   environment).
"""

from __future__ import annotations

import dataclasses
import datetime
import importlib
from collections import Counter
from typing import Any

import numpy as np

from . import _sources
from ._catalogue import ATOL, RTOL, TOLERANCE_RULE, Case, KernelSpec, matching_claims
from ._tracing import trace_kernel_calls

__all__ = ["ExportRefused", "KernelVerification", "kernel_errors", "verify_kernels", "utc_now"]


class ExportRefused(Exception):
    """Export refused: a kernel is not verified (no claims, a claim not as expected, not exercised,
    disagreement with the reference) or its source is not standalone / not current.

    ``reasons`` maps each refused kernel name to the reason.
    """

    def __init__(self, reasons: dict[str, str]):
        self.reasons = dict(reasons)
        lines = [f"{name}: {why}" for name, why in self.reasons.items()]
        super().__init__("refused to export:\n  " + "\n  ".join(lines))


@dataclasses.dataclass
class KernelVerification:
    """The verification record of one kernel (``reason`` is None iff it may be exported)."""

    name: str
    claims: list[dict]
    reason: str | None = None
    source: str = ""
    cases: list[Case] = dataclasses.field(default_factory=list)
    errors: list[dict[str, float]] = dataclasses.field(default_factory=list)
    twin_errors: list[dict[str, float]] = dataclasses.field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.reason is None


def _call(spec: KernelSpec, case: Case, function: str | None = None) -> dict[str, np.ndarray]:
    fn = getattr(importlib.import_module(spec.module), function or spec.name)
    args, outs = [], {}
    for a in spec.args:
        if a.kind == "out":
            buf = np.full(case.expected[a.name].shape, np.nan)
            outs[a.name] = buf
            args.append(buf)
        elif a.kind == "float":
            args.append(float(case.inputs[a.name][()]))
        elif a.kind == "bool":
            args.append(bool(case.inputs[a.name][()]))
        elif a.kind == "int":
            args.append(int(case.inputs[a.name][()]))
        else:
            args.append(np.ascontiguousarray(case.inputs[a.name], dtype=np.float64))
    fn(*args)
    return outs


def _max_error(got: np.ndarray, expected: np.ndarray) -> float:
    """max|got - expected| over the entries with a reference value; inf if any of them is not
    finite, if an entry marked untouched (NaN) was written, or on a shape mismatch."""
    if got.shape != expected.shape:
        return float("inf")
    keep = ~np.isnan(expected)
    if not np.all(np.isfinite(got[keep])) or not np.all(np.isnan(got[~keep])):
        return float("inf")
    return float(np.max(np.abs(got[keep] - expected[keep]))) if keep.any() else 0.0


def kernel_errors(spec: KernelSpec, cases: list[Case], function: str | None = None) -> list[dict[str, float]]:
    r"""Per case and output, :math:`\max|k-r|` between the kernel (run now) and the stored reference.

    ``function`` selects a variant (``spec.twin``); default the kernel itself.  The maximum runs
    over the entries with a reference value; non-finite kernel outputs there, or a write into an
    entry marked untouched (NaN in the reference), count as an infinite error.  The export
    requires, per output array,

    .. math:: \max|k - r| \le \mathrm{rtol}\,\max|r| + \mathrm{atol}.

    The stored reference outputs come from :mod:`attnflow.numerics._reference`.
    """
    rows = []
    for case in cases:
        got = _call(spec, case, function)
        rows.append({name: _max_error(g, case.expected[name]) for name, g in got.items()})
    return rows


def _bound(expected: np.ndarray) -> float:
    keep = ~np.isnan(expected)
    return RTOL * (float(np.max(np.abs(expected[keep]))) if keep.any() else 0.0) + ATOL


def utc_now() -> str:
    """The current UTC time, ISO 8601 to the second (claim run dates, ``manifest.json`` ``created``)."""
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")


def verify_kernels(specs: list[KernelSpec], *, profile: str = "quick", seed: int | None = None,
                   progress: bool | None = None) -> dict[str, KernelVerification]:
    """Run the verification steps 1-3 (see :mod:`attnflow.export`) for ``specs``.

    Each matching claim runs once (shared between kernels) with the same ``seed``.

    Returns
    -------
    dict
        ``{kernel name: KernelVerification}``; ``reason`` says why a kernel is refused.
    """
    from attnflow.properties import registry
    from attnflow.properties.profiles import PROFILES

    if profile not in PROFILES:
        raise ValueError(f"profile: unknown profile {profile!r}; choose one of {', '.join(PROFILES)}")
    if seed is None:
        from attnflow.properties._runner import random_seed

        seed = random_seed()
    result: dict[str, KernelVerification] = {}
    pending = []
    sources: dict[str, str] = {}
    for spec in specs:
        text = _sources.kernel_source(spec)
        problem = _sources.source_problem(spec, text)
        if problem:
            result[spec.name] = KernelVerification(spec.name, [], problem, text)
        else:
            sources[spec.name] = text
            pending.append(spec)

    claims = registry.all_claims()
    matched = {s.name: matching_claims(s, claims) for s in pending}
    to_run = list({c.id: c for s in pending for c in matched[s.name]}.values())
    runs: dict[str, tuple[Any, str, Counter]] = {}
    from attnflow._base.progress import progress_bar

    bar = progress_bar(progress if to_run else False, total=len(to_run), desc="claims", unit="claim")
    try:
        with trace_kernel_calls() as counts:
            for c in to_run:
                bar.set_postfix_str(c.id, refresh=False)
                before = Counter(counts)
                date = utc_now()
                run = registry.run_claim(c, profile=profile, seed=seed)
                runs[c.id] = (run, date, counts - before)
                bar.update(1)
    finally:
        bar.close()

    for spec in pending:
        rows = []
        for c in matched[spec.name]:
            run, date, calls = runs[c.id]
            rows.append({
                "id": c.id,
                "title": c.title,
                "source": c.source,
                "expect": c.expect,
                "outcome": run.outcome,
                "ok": bool(run.ok),
                "examples": run.examples,
                "profile": run.profile,
                "seed": run.seed,
                "date": date,
                "seconds": round(run.seconds, 3),
                "kernel_calls": int(calls.get(spec.name, 0)),
                "detail": run.detail,
            })
        v = KernelVerification(spec.name, rows, None, sources[spec.name])
        if not rows:
            v.reason = (f"no registered claim matches its claim globs ({', '.join(spec.claims)}); "
                        "a kernel without claims is not verified - add a claim that exercises it")
        elif not all(r["ok"] for r in rows):
            bad = [f"{r['id']} came out {r['outcome']!r} (expected {r['expect']!r}): {r['detail']}"
                   for r in rows if not r["ok"]]
            v.reason = "claim(s) did not come out as expected: " + "; ".join(bad)
        elif not any(r["kernel_calls"] for r in rows):
            v.reason = (f"none of its claims ({', '.join(r['id'] for r in rows)}) called the kernel, so none "
                        "exercises it; add a claim that goes through attnflow.numerics")
        else:
            v.cases = spec.cases()
            v.errors = kernel_errors(spec, v.cases)
            v.twin_errors = kernel_errors(spec, v.cases, spec.twin) if spec.twin else []
            over = [f"{fn} case {i} output {name!r}: {err:.3e} > {_bound(case.expected[name]):.3e}"
                    for fn, errors in ((spec.name, v.errors), (spec.twin, v.twin_errors))
                    for i, (case, errs) in enumerate(zip(v.cases, errors))
                    for name, err in errs.items() if not err <= _bound(case.expected[name])]
            if over:
                v.reason = ("kernel disagrees with the independent reference attnflow.numerics._reference "
                            f"({TOLERANCE_RULE}, rtol={RTOL}, atol={ATOL}): " + "; ".join(over))
        result[spec.name] = v
    return {s.name: result[s.name] for s in specs}

