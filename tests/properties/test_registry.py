"""The registry and runner on toy claims (test-only; never registered), plus the report schemas."""

import json
import math

import numpy as np
import pytest
from hypothesis import strategies as st

from attnflow.properties import report, registry
from attnflow.properties import strategies as afs
from attnflow.properties.registry import Claim, Measurement, Violation, require


def toy(check, hypotheses=None, expect="holds", **kw):
    fields = dict(
        id="toy.claim",
        title="toy",
        source="test",
        hypotheses=hypotheses if hypotheses is not None else st.integers(0, 100),
        check=check,
        expect=expect,
        tolerance="exact",
    )
    fields.update(kw)
    return Claim(**fields)


def unit_norm(x):
    err = float(np.max(np.abs(np.linalg.norm(x, axis=1) - 1.0)))
    require(err <= 1e-12, f"norm error {err}")
    return err


def small_n(x):
    # false for n >= 5: a negative control whose minimal counterexample has exactly 5 points
    require(x.shape[0] < 5, f"n = {x.shape[0]} >= 5")
    return float(x.shape[0])


# ---------------------------------------------------------------------------------------- runner
def test_holds_claim_passes_and_summarises():
    c = toy(unit_norm, afs.sphere_points(), measure="max norm error")
    r = registry.run_claim(c, profile="ci", seed=7)
    assert r.outcome == "holds" and r.ok
    assert r.examples == c.max_examples("ci") == 20
    assert r.measurement["label"] == "max norm error" and r.measurement["max"] <= 1e-12
    assert "max norm error" in r.detail
    assert r.replay is None and r.counterexample is None


def test_fails_claim_reports_a_shrunk_counterexample_and_replays():
    c = toy(small_n, afs.sphere_points(n=afs.sizes(2, 30), d=3), expect="fails",
            describe=lambda x: f"n={x.shape[0]}")
    r = registry.run_claim(c, profile="ci", seed=11)
    assert r.outcome == "fails" and r.ok
    assert r.counterexample == "n=5"  # shrunk to the boundary
    assert "n = 5 >= 5" in r.detail
    assert r.replay == "attnflow check --claim toy.claim --seed 11 --profile ci"
    again = registry.run_claim(c, profile="ci", seed=11)
    assert (again.counterexample, again.examples) == (r.counterexample, r.examples)


def test_default_description_is_short():
    c = toy(small_n, afs.sphere_points(n=afs.sizes(2, 30), d=40), expect="fails")
    r = registry.run_claim(c, profile="quick", seed=2)
    assert r.outcome == "fails"
    assert r.counterexample.startswith("array(") and len(r.counterexample) <= 300


def test_no_shrink_reports_an_unshrunk_counterexample(monkeypatch):
    # ATTNFLOW_CHECK_NO_SHRINK=1 (attnflow mutate's subprocesses): the outcome is the same, the
    # counterexample is the first failing draw, not the minimal n = 5
    calls = {"n": 0}

    def counting(x):
        calls["n"] += 1
        return small_n(x)

    c = toy(counting, afs.sphere_points(n=afs.sizes(2, 30), d=3), expect="fails", describe=lambda x: f"n={x.shape[0]}")
    shrunk = registry.run_claim(c, profile="quick", seed=11)
    calls_shrunk, calls["n"] = calls["n"], 0
    monkeypatch.setenv("ATTNFLOW_CHECK_NO_SHRINK", "1")
    r = registry.run_claim(c, profile="quick", seed=11)
    assert shrunk.outcome == r.outcome == "fails" and r.ok
    assert shrunk.counterexample == "n=5"
    assert calls["n"] < calls_shrunk


def test_holds_claim_that_fails_is_not_ok():
    r = registry.run_claim(toy(small_n, afs.sphere_points(n=afs.sizes(2, 30))), profile="ci", seed=0)
    assert r.outcome == "fails" and not r.ok


def test_negative_control_without_counterexample_is_not_ok():
    r = registry.run_claim(toy(lambda k: 0.0, expect="fails"), profile="quick", seed=0)
    assert r.outcome == "holds" and not r.ok
    assert "negative control missed" in r.detail


def test_erroring_check_is_an_error_not_a_pass():
    def broken(k):
        if k > 3:
            return 1 / 0
        return 0.0

    for expect in ("holds", "fails", "explore"):
        r = registry.run_claim(toy(broken, expect=expect), profile="ci", seed=1)
        assert r.outcome == "error" and not r.ok
        assert "ZeroDivisionError" in r.detail and "replay" in r.detail


def test_assertion_error_is_an_error_only_violation_fails():
    def asserting(k):
        assert k < 0, "plain assert"

    r = registry.run_claim(toy(asserting, expect="fails"), profile="quick", seed=1)
    assert r.outcome == "error"


@pytest.mark.parametrize("ret", ["text", float("nan"), [1.0]])
def test_bad_return_values_are_errors(ret):
    r = registry.run_claim(toy(lambda k: ret), profile="quick", seed=0)
    assert r.outcome == "error"


def test_unsatisfiable_strategy_is_an_error():
    r = registry.run_claim(toy(lambda k: 0.0, hypotheses=st.integers().filter(lambda k: False)),
                           profile="quick", seed=0)
    assert r.outcome == "error" and not r.ok


def test_explore_claim_reports_measurements_and_violations():
    def conj(k):
        require(k < 50, f"k = {k}")
        return float(k)

    r = registry.run_claim(toy(conj, hypotheses=st.integers(0, 100), expect="explore"), profile="ci", seed=3)
    assert r.outcome == "explored" and r.ok
    assert r.measurement["n"] >= 1


def test_rate_measurement_and_fitted_summary():
    def rate(seed):
        t = np.linspace(0, 3, 30)
        lam = 1.5 + (seed % 7) / 100
        fitted = registry.fit_exponential_rate(t, 4.0 * np.exp(-lam * t))
        return registry.rate_measurement(fitted, 1.5, side=">=", rtol=1e-12)  # seed % 7 == 0: exactly 1.5

    r = registry.run_claim(toy(rate), profile="ci", seed=5)
    assert r.outcome == "holds"
    assert 1.5 - 1e-12 <= r.fitted["min"] <= r.fitted["max"] <= 1.56 + 1e-12
    assert r.fitted["theory_min"] == r.fitted["theory_max"] == 1.5
    assert "vs theory 1.5" in r.detail


def test_rate_measurement_sides():
    assert registry.rate_measurement(2.01, 2.0, rtol=0.01).fitted == 2.01
    with pytest.raises(Violation):
        registry.rate_measurement(1.9, 2.0, side="=", rtol=0.01)
    with pytest.raises(Violation):
        registry.rate_measurement(1.9, 2.0, side=">=", rtol=0.01)
    assert registry.rate_measurement(5.0, 2.0, side=">=").value == pytest.approx(1.5)
    with pytest.raises(Violation):
        registry.rate_measurement(2.5, 2.0, side="<=", rtol=0.1)
    with pytest.raises(ValueError, match="side"):
        registry.rate_measurement(1.0, 1.0, side=">")


def test_fits_recover_exact_rates():
    t = np.linspace(0.0, 5.0, 17)
    assert registry.fit_exponential_rate(t, 3.0 * np.exp(-0.7 * t)) == pytest.approx(0.7, abs=1e-12)
    n = np.array([10, 20, 40, 80, 160.0])
    assert registry.fit_power_law(n, 2.0 * n**-0.5) == pytest.approx(-0.5, abs=1e-12)
    with pytest.raises(ValueError, match="y"):
        registry.fit_exponential_rate(t, -np.ones_like(t))
    with pytest.raises(ValueError, match="x"):
        registry.fit_power_law([3.0, 3.0], [1.0, 2.0])


def test_profiles_scale_examples():
    c = toy(lambda k: 0.0, examples=0.5)
    assert [c.max_examples(p) for p in ("quick", "ci", "thorough")] == [2, 10, 100]
    with pytest.raises(ValueError, match="profile"):
        c.max_examples("fast")
    with pytest.raises(ValueError, match="profile"):
        registry.run_claim(c, profile="fast")


# ---------------------------------------------------------------------------------------- claims
@pytest.mark.parametrize(
    "kw, name",
    [
        ({"id": "Bad Id"}, "id"),
        ({"expect": "passes"}, "expect"),
        ({"tolerance": ""}, "tolerance"),
        ({"aggregate": "mean"}, "aggregate"),
        ({"hypotheses": [1, 2]}, "hypotheses"),
        ({"examples": 0}, "examples"),
    ],
)
def test_claim_validation(kw, name):
    with pytest.raises(ValueError, match=name):
        toy(lambda k: 0.0, **kw)


def test_statement_prefers_the_symbolic_result(monkeypatch):
    import attnflow.symbolic.documents as documents

    c = toy(lambda k: 0.0, latex=r"\text{fallback}")
    monkeypatch.setattr(documents, "get_result", lambda i: (_ for _ in ()).throw(ValueError(i)))
    assert c.statement == r"\text{fallback}"

    class R:
        statement = r"\text{symbolic}"

    c2 = toy(lambda k: 0.0, latex=r"\text{fallback}")
    monkeypatch.setattr(documents, "get_result", lambda i: R())
    assert c2.statement == r"\text{symbolic}"


def test_registry_contents_and_selection():
    ids = [c.id for c in registry.all_claims()]
    assert len(ids) == len(set(ids))
    for must in ("cluster.wendel", "cluster.stationary", "equiangular.closed_form.beta0",
                 "equiangular.hitting_time", "equiangular.bound", "long_context.finite_n", "energy.bounds"):
        assert must in ids
    assert not any(i.startswith("toy") for i in ids)
    assert [c.id for c in registry.select_claims(["equiangular"])] == [i for i in ids if i.startswith("equiangular.")]
    assert [c.id for c in registry.select_claims(["*.wendel", "long_*"])] == ["cluster.wendel"] + [
        i for i in ids if i.startswith("long_")]
    with pytest.raises(ValueError, match="'nope.*'"):
        registry.select_claims(["cluster.*", "nope.*"])
    assert registry.get_claim("energy.bounds").expect == "holds"
    with pytest.raises(ValueError, match="did you mean"):
        registry.get_claim("energy.bound")


def test_duplicate_registration_is_refused():
    c = registry.get_claim("cluster.wendel")
    other = toy(lambda k: 0.0, id="cluster.wendel")
    with pytest.raises(ValueError, match="already registered"):
        registry.register(other)
    assert registry.register(c) is c  # re-registering the same check is idempotent


# ---------------------------------------------------------------------------------------- reports
def _runs():
    ok = registry.run_claim(toy(unit_norm, afs.sphere_points(), id="toy.holds"), profile="quick", seed=1)
    neg = registry.run_claim(toy(small_n, afs.sphere_points(n=afs.sizes(2, 30)), id="toy.neg", expect="fails"),
                             profile="quick", seed=1)
    err = registry.run_claim(toy(lambda k: 1 / 0, id="toy.err"), profile="quick", seed=1)
    return [ok, neg, err]


def test_json_report_schema(tmp_path):
    runs = _runs()
    path = report.write_report(tmp_path / "r.json", runs, "quick", 1)
    data = json.loads(path.read_text())
    assert tuple(data) == report.TOP_KEYS
    assert data["ok"] is False and data["profile"] == "quick" and data["seed"] == 1
    for row, run in zip(data["claims"], runs):
        assert list(row)[: len(report.REQUIRED_KEYS)] == list(report.REQUIRED_KEYS)
        assert set(row) - set(report.REQUIRED_KEYS) <= set(report.OPTIONAL_KEYS)
        assert row["id"] == run.claim.id and row["ok"] == run.ok and row["outcome"] == run.outcome
        assert isinstance(row["examples"], int) and row["seconds"] >= 0
    assert [r["outcome"] for r in data["claims"]] == ["holds", "fails", "error"]
    assert [r["ok"] for r in data["claims"]] == [True, True, False]
    assert "replay" in data["claims"][1] and "counterexample" in data["claims"][1]
    assert not list(tmp_path.glob(".*.tmp"))  # atomic write leaves no temporaries


def test_markdown_report(tmp_path):
    runs = _runs()
    text = report.write_report(tmp_path / "r.md", runs, "quick", 1).read_text()
    assert text.startswith("# attnflow check")
    assert "**NOT OK**: 2/3" in text
    assert "| `toy.neg` | fails | fails | yes |" in text
    assert "## toy.err" in text and "ZeroDivisionError" in text


def test_report_path_must_be_json_or_md(tmp_path):
    with pytest.raises(ValueError, match="path"):
        report.write_report(tmp_path / "r.txt", [], "quick", 0)
    with pytest.raises(ValueError, match="path"):
        report.write_report(tmp_path / "missing" / "r.json", [], "quick", 0)


def test_table_lists_every_run():
    runs = _runs()
    table = report.format_table(runs).splitlines()
    assert table[0].split() == ["id", "expect", "outcome", "examples", "seconds", "detail"]
    assert len(table) == 2 + len(runs)
    assert "error !" in table[-1]  # a mismatch is marked
    assert math.isfinite(sum(r.seconds for r in runs))


def test_measurement_is_frozen():
    m = Measurement(1.0)
    with pytest.raises(Exception):
        m.value = 2.0
