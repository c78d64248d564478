"""The prove-zero routine: each rewrite step, the numerical fallback and refutation."""

import pytest
import sympy as sp

from attnflow.symbolic import Proof, prove_all, prove_equal, prove_zero

b, n, s, x = sp.symbols("beta n s x", positive=True)


def test_expand_step_closes_polynomial_identity():
    p = prove_zero((x + 1) ** 2 - x**2 - 2 * x - 1)
    assert p.status == "proved" and p.method == "expand -> 0"


def test_cancel_step_closes_rational_identity():
    p = prove_zero(1 / (x - 1) - 1 / (x + 1) - 2 / (x**2 - 1))
    assert p.status == "proved" and "cancel" in p.method


def test_ei_hitting_time_needs_exponents_combined():
    # F'(s) * f(s) = 1 for the SA equiangular hitting time (derivations/equiangular.md): plain expand and
    # cancel fail, combining exponentials succeeds.
    F = (1 / (2 * n)) * (
        -(n - 1) * sp.log(1 - s)
        + (n - 1) * sp.log(1 + (n - 1) * s)
        - sp.Ei(b * (1 - s))
        + sp.exp(b * n / (n - 1)) * sp.Ei(-b * (1 + (n - 1) * s) / (n - 1))
    )
    f = 2 * sp.exp(b * s) * (1 - s) * ((n - 1) * s + 1) / (sp.exp(b) + (n - 1) * sp.exp(b * s))
    p = prove_zero(sp.diff(F, s) * f - 1)
    assert p.status == "proved" and p.method == "combine exponentials -> 0"


def test_numeric_fallback_verifies_bessel_identity():
    # Recurrence I_0(x) - I_2(x) = (2/x) I_1(x): with no rewrite steps it must fall back.
    expr = sp.besseli(0, x) - sp.besseli(2, x) - 2 * sp.besseli(1, x) / x
    p = prove_zero(expr, domains={x: (0.1, 5)}, steps=())
    assert p.status == "verified-numerically"
    assert "seed 0" in p.method and "50 digits" in p.method


def test_numeric_fallback_refutes_wrong_identity_with_point():
    p = prove_equal(sp.besseli(0, x), 1 + x**2 / 4 + x**4 / 63, domains={x: (0.5, 3)})
    assert p.status == "refuted" and "x=" in p.detail


def test_missing_domain_is_a_clear_error():
    with pytest.raises(ValueError, match="domains"):
        prove_zero(sp.besseli(0, x) - sp.cos(x), steps=())


def test_prove_all_reports_sizes():
    cases = {f"n={k}": sp.expand((x + k) ** 2) - x**2 - 2 * k * x - k**2 for k in range(2, 5)}
    p = prove_all(cases)
    assert p.status == "proved-for-sizes" and "n=4" in p.detail


def test_combine_weakest_status_wins():
    ps = [Proof("proved", "a"), Proof("verified-numerically", "b", "max 1e-60")]
    assert Proof.combine(ps).status == "verified-numerically"
    with pytest.raises(ValueError, match="status"):
        Proof("probably", "guess")


# --------------------------------------------------------------------------------------------
# time budgets and refusal of text


def _huge_zero():
    # (1 + x1 + ... + x6)^30 (x1 - 1) - (...)^30 x1 + (...)^30 is identically 0, but expanding
    # it creates ~2 million terms: every rewrite step runs out of a small time budget.
    xs = sp.symbols("x1:7", real=True)
    a = sum(xs) + 1
    return a**30 * (xs[0] - 1) - a**30 * xs[0] + a**30, xs


def test_a_step_that_runs_out_of_time_is_named_and_the_numeric_check_decides():
    import time

    expr, xs = _huge_zero()
    t0 = time.monotonic()
    p = prove_zero(expr, domains={v: (-1, 1) for v in xs}, step_budget=0.5, budget=1.5)
    elapsed = time.monotonic() - t0
    assert p.status == "verified-numerically"
    assert p.attempts[0].step == "expand" and p.attempts[0].outcome == "timeout"
    assert "expand" in p.timed_out
    assert "step 'expand' ran out of time" in p.detail
    assert elapsed < 60  # generous: budget 1.5 s + the numerical check; without budgets this runs for minutes


def test_budget_exhausted_skips_the_remaining_steps():
    expr, xs = _huge_zero()
    p = prove_zero(expr, domains={v: (-1, 1) for v in xs}, step_budget=0.4, budget=0.6)
    outcomes = {a.step: a.outcome for a in p.attempts}
    assert outcomes["expand"] == "timeout"
    assert outcomes["simplify"] in ("skipped: budget exhausted", "skipped: too large")
    assert "overall budget" in p.detail


def test_a_wrong_huge_identity_is_still_refuted_after_timeouts():
    expr, xs = _huge_zero()
    p = prove_zero(expr + xs[0] * 1e-3, domains={v: (-1, 1) for v in xs}, step_budget=0.3, budget=0.6)
    assert p.status == "refuted" and "x1=" in p.detail and p.timed_out


def test_fast_identities_are_unaffected_by_budgets():
    p = prove_zero((x + 1) ** 2 - x**2 - 2 * x - 1, step_budget=5, budget=5)
    assert p.status == "proved" and p.method == "expand -> 0" and p.timed_out == ()


def test_outside_the_main_thread_budgets_are_checked_between_steps():
    import threading

    out = {}
    expr = 1 / (x - 1) - 1 / (x + 1) - 2 / (x**2 - 1)
    th = threading.Thread(target=lambda: out.setdefault("p", prove_zero(expr, step_budget=5, budget=5)))
    th.start()
    th.join()
    assert out["p"].status == "proved" and "cancel" in out["p"].method


def test_alarm_handler_is_restored_after_a_step():
    import signal

    before = signal.getsignal(signal.SIGALRM)
    prove_zero((x + 1) ** 2 - x**2 - 2 * x - 1)
    assert signal.getsignal(signal.SIGALRM) is before
    assert signal.getitimer(signal.ITIMER_REAL)[0] == 0


@pytest.mark.parametrize("text", ["__import__('os').system('true')", "x - x"])
def test_strings_are_refused_not_parsed(text):
    with pytest.raises(ValueError, match="expr: .*string"):
        prove_zero(text)
    with pytest.raises(ValueError, match="lhs: .*string"):
        prove_equal(text, x)


@pytest.mark.parametrize("kw", [{"step_budget": 0}, {"budget": -1}, {"step_budget": "5"}])
def test_bad_budgets_name_the_argument(kw):
    with pytest.raises(ValueError, match=next(iter(kw))):
        prove_zero(x - x + 1, **kw)


def test_a_nested_proof_does_not_swallow_the_outer_steps_timeout():
    # the outer step calls prove_zero itself; when the outer budget runs out inside it, the
    # outer call must see its own timeout (not the inner call treating it as one of its steps)
    expr, xs = _huge_zero()

    def outer_step(e):
        prove_zero(expr, domains={v: (-1, 1) for v in xs}, step_budget=30, budget=60)
        return e

    p = prove_zero(x + 1, domains={x: (0, 1)}, steps=(("nested", outer_step, 10**9),), step_budget=0.5, budget=0.5)
    assert p.attempts[0].outcome == "timeout" and p.status == "refuted"


def test_a_swallowed_alarm_fires_again():
    """A step whose first interruption is swallowed (as by a finaliser, whose exceptions Python
    ignores) is still interrupted: the alarm repeats until the step is left."""
    import time

    from attnflow.symbolic.proof import _run_step

    def stubborn(expr):
        try:
            while True:  # the first alarm lands here and is swallowed
                pass
        except BaseException:  # noqa: BLE001 - the swallowing is the point
            pass
        t0 = time.monotonic()
        while time.monotonic() - t0 < 5.0:  # without a second alarm: runs to the end, 'nonzero'
            pass
        return expr

    t0 = time.monotonic()
    outcome, _ = _run_step(stubborn, sp.Symbol("x"), 0.2)
    assert outcome == "timeout" and time.monotonic() - t0 < 3.0
