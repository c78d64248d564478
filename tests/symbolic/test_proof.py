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
