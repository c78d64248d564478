"""The generic per-model claims ``model.<name>.<family>`` (properties/claims/model.py).

User models come from ``tests/data/*.py`` (loaded with ``attnflow.models.load``, unregistered after
the module).  Independent expectations: the wrong-energy sigmoid (F = e^{beta s}/beta, F' != w) must
make the dissipation claim fail with a shrunk counterexample; the families registered for each
built-in follow the theory (no energy -> no dissipation/monotone; matrices -> no stationary; ...).
"""

from pathlib import Path

import numpy as np
import pytest

import attnflow.models as am
from attnflow.properties import registry
from attnflow.properties.claims import _model

DATA = Path(__file__).resolve().parents[1] / "data"


@pytest.fixture(scope="module")
def user_models():
    names = [m.name for m in am.load(DATA / "user_models.py", replace=True)]
    names += [m.name for m in am.load(DATA / "wrong_energy_models.py", replace=True)]
    yield names
    for n in names:
        am.unregister(n)
    registry.all_claims()  # drop their claims


def _families(name):
    return sorted(c.id.rsplit(".", 1)[1] for c in registry.all_claims() if c.id.startswith(f"model.{name}."))


def test_builtin_families_follow_the_theory():
    fams = {n: _families(n) for n in ("sa", "usa", "qkv", "kuramoto", "causal_alibi", "multihead", "preln",
                                      "periln", "ngpt", "sqrt", "interp")}
    allsix = sorted(_model.FAMILIES)
    assert fams["sa"] == fams["usa"] == allsix
    # every built-in model has its NumPy reference (numerics/_reference.py): the family "reference"
    assert fams["qkv"] == fams["multihead"] == sorted(["kernel", "reference", "dissipation", "monotone", "order",
                                                       "cluster"])
    assert fams["kuramoto"] == sorted(["kernel", "reference", "dissipation", "monotone", "stationary", "order"])
    assert fams["causal_alibi"] == ["kernel", "order", "reference"]
    assert fams["preln"] == fams["periln"] == ["cluster", "kernel", "order", "reference"]
    assert fams["ngpt"] == fams["sqrt"] == ["cluster", "kernel", "order", "reference", "stationary"]
    assert fams["interp"] == ["cluster", "kernel", "reference"]
    # the gradient-flow hypotheses: per-head multihead has no energy, general Q/K/V is no gradient flow
    assert _model.gradient_choices(am.get("multihead")) == ["shared"]
    p = _model.draw_params(am.get("qkv"), 3, np.random.default_rng(1), gradient=True)
    assert np.allclose(p["Q"].T @ p["K"], p["V"]) and np.allclose(p["V"], p["V"].T)
    for c in registry.all_claims():
        if c.id.startswith("model."):
            assert c.expect == ("explore" if c.id.endswith(".cluster") else "holds")


def test_user_models_get_claims_after_loading_and_lose_them_when_unregistered(user_models):
    # a user's model has no NumPy reference unless it registers one (attnflow.models.reference)
    user = sorted(f for f in _model.FAMILIES if f != "reference")
    ids = {c.id for c in registry.select_claims(["model.sigmoid"])}
    assert ids == {f"model.sigmoid.{f}" for f in user}
    assert _families("sigmoid_qkv") == sorted(["kernel", "dissipation", "monotone", "order", "cluster"])
    assert _families("quadratic") == user
    tmp = am.SphereModel(name="tmp_model", weight=am.s ** 2, normalization="mean")
    am.register(tmp)
    try:
        assert _families("tmp_model") == ["cluster", "kernel", "order", "stationary"]
    finally:
        am.unregister("tmp_model")
    assert _families("tmp_model") == []


@pytest.mark.parametrize("claim_id", ["model.sigmoid.kernel", "model.sigmoid.dissipation", "model.sigmoid.stationary",
                                      "model.sigmoid_qkv.dissipation", "model.quadratic.kernel",
                                      "model.quadratic.monotone", "model.quadratic.order"])
def test_user_model_claims_hold(user_models, claim_id):
    r = registry.run_claim(registry.get_claim(claim_id), profile="quick", seed=3)
    assert r.outcome == "holds", r.detail


def test_wrong_energy_is_reported_with_a_counterexample(user_models):
    r = registry.run_claim(registry.get_claim("model.sigmoid_wrong.dissipation"), profile="quick", seed=0)
    assert r.outcome == "fails" and not r.ok
    assert r.counterexample and "model=sigmoid_wrong" in r.counterexample
    assert "not a Lyapunov function" in r.detail
    # the same weight with its true energy (softplus / beta) holds: the failure is the energy's
    assert registry.run_claim(registry.get_claim("model.sigmoid.dissipation"), profile="quick", seed=0).ok


def test_oracle_matches_closed_form_sa_at_two_tokens():
    # independent closed form: n = 2 tokens of SA, dx_1/dt = P_{x_1} x_2 e^{b s}/(e^b + e^{b s})
    x = np.array([[1.0, 0.0, 0.0], [0.6, 0.8, 0.0]])
    b, s = 1.7, 0.6
    a = (np.exp(b) * x[0] + np.exp(b * s) * x[1]) / (np.exp(b) + np.exp(b * s))
    want = a - (a @ x[0]) * x[0]
    got = _model.oracle_velocity(am.get("sa"), x[[0, 1, 1]][:2], b, {})
    assert np.allclose(got[0], want, rtol=0, atol=1e-15)


def _sigmoid_mean_attention(x, beta, t=0.0, b=0.0, **_):
    # arXiv 2409.04431, written from the equation: P_x (1/n) sum_j sigmoid(beta <x_i, x_j> + b) x_j
    w = 1.0 / (1.0 + np.exp(-(beta * (x @ x.T) + b)))
    a = w @ x / x.shape[0]
    return a - np.sum(a * x, axis=1, keepdims=True) * x


def _sigmoid_softmax_attention(x, beta, t=0.0, b=0.0, **_):
    # the wrong normalisation: weights divided by their row sum
    w = 1.0 / (1.0 + np.exp(-(beta * (x @ x.T) + b)))
    a = (w / w.sum(axis=1, keepdims=True)) @ x
    return a - np.sum(a * x, axis=1, keepdims=True) * x


def test_user_reference_adds_the_reference_claim_and_it_can_fail(user_models):
    from attnflow.numerics import _reference

    try:
        am.reference("sigmoid", velocity=_sigmoid_mean_attention)
        assert "reference" in _families("sigmoid")
        r = registry.run_claim(registry.get_claim("model.sigmoid.reference"), profile="quick", seed=0)
        assert r.outcome == "holds", r.detail
        # a reference of another equation (softmax instead of the declared mean) is noticed
        am.reference("sigmoid", velocity=_sigmoid_softmax_attention)
        r = registry.run_claim(registry.get_claim("model.sigmoid.reference"), profile="quick", seed=0)
        assert r.outcome == "fails" and "NumPy reference" in r.detail
    finally:
        _reference.REFERENCES.pop("sigmoid", None)
        registry.forget_model_claims("sigmoid")
    assert "reference" not in _families("sigmoid")


def test_reference_rejects_bad_input():
    with pytest.raises(ValueError, match="name:.*built-in"):
        am.reference("sa", velocity=_sigmoid_mean_attention)
    with pytest.raises(ValueError, match="velocity:"):
        am.reference("my_model", velocity=None)
    with pytest.raises(ValueError, match="name:"):
        am.reference("", velocity=_sigmoid_mean_attention)
