"""derive_model / model_document on users' declarations written to files outside the package.

Independent route: the identity dE/dt = n sum_i |xdot_i|^2 (mean normalisation) is checked with
NumPy at the configurations involved, dE/dt by central finite differences of the energy along the
flow (the model's equations retyped here from arXiv 2409.04431 and the declarations below).
"""

from __future__ import annotations

import re
import textwrap

import numpy as np
import pytest

from attnflow.models import DeriveConfig, derive_model, load, model_document, unregister

FAST = DeriveConfig(sizes=((2, 2),), cross_check=((2, 2),), step_budget=30, budget=60)

SIGMOID = """
import sympy as sp
from attnflow.models import SphereModel, s, beta
b = sp.Symbol("b", real=True)
{name} = SphereModel(
    name="{name}",
    weight=1 / (1 + sp.exp(-(beta * s + b))),
    normalization="mean",
    energy={energy},
    params={{b: 0.0}},
    source="arXiv 2409.04431",
)
"""

QKV = """
import numpy as np
import sympy as sp
from attnflow.models import Matrix, SphereModel, s, beta

def _hyp(p):
    Q, K, V = p["Wq"], p["Wk"], p["Wv"]
    if not np.allclose(Q.T @ K, V, atol=1e-10) or not np.allclose(V, V.T, atol=1e-10):
        return "Wv: the energy needs Wq^T Wk = Wv = Wv^T"
    return None

t_qkv = SphereModel(
    name="t_qkv", weight=sp.exp(beta * s), normalization="softmax", query="Wq", key="Wk", value="Wv",
    params=(Matrix("Wq"), Matrix("Wk"), Matrix("Wv")), energy=sp.exp(beta * s) / beta, energy_score="Wv",
    energy_condition=_hyp, source="a user's Q/K/V model",
)
"""

SQUARE = """
import sympy as sp
from attnflow.models import SphereModel, s, beta
{name} = SphereModel(name="{name}", weight=(1 + beta * s) ** 2, normalization="mean",
                       energy={energy}, source="an unbounded weight")
"""


@pytest.fixture
def user_models(tmp_path):
    loaded = []

    def _load(text: str, fname: str):
        path = tmp_path / fname
        path.write_text(textwrap.dedent(text))
        decls = load(path)
        loaded.extend(d.name for d in decls)
        return decls

    yield _load
    for name in loaded:
        unregister(name)


def _statuses(results):
    return {r.id.split(".", 1)[1]: r.status for r in results}


# NumPy reference of the sigmoid model (mean normalisation) and its energy -------------------


def _sigmoid_field(x, beta, b):
    S = x @ x.T
    w = 1 / (1 + np.exp(-(beta * S + b)))
    A = w @ x / len(x)
    return A - np.sum(A * x, axis=1, keepdims=True) * x


def _energy(x, F):
    return 0.5 * np.sum(F(x @ x.T))


def _rate_fd(x, v, F, h=1e-5):
    def move(t):
        y = x + t * v
        return y / np.linalg.norm(y, axis=1, keepdims=True)
    return (_energy(move(h), F) - _energy(move(-h), F)) / (2 * h)


def test_sigmoid_is_proved_for_general_n_d_and_agrees_with_finite_differences(user_models):
    (decl,) = user_models(SIGMOID.format(name="t_sigmoid", energy="sp.log(1 + sp.exp(beta * s + b)) / beta"),
                          "sig.py")
    results = derive_model(decl, config=FAST)
    assert _statuses(results) == {"field": "proved", "energy": "proved", "dissipation": "proved"}
    diss = results[-1].proof
    assert "index-free" in diss.method and "generic weight" in diss.method and diss.timed_out == ()
    assert "reduction modulo |x_i|^2 = 1 -> 0 (proved-for-sizes)" in diss.method  # the exact cross-check closed
    # independent: finite differences at a random configuration (n = 5, d = 4: beyond the sizes checked)
    rng = np.random.default_rng(1)
    x = rng.standard_normal((5, 4))
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    beta, b = 1.7, 0.3
    v = _sigmoid_field(x, beta, b)
    F = lambda s: np.log1p(np.exp(beta * s + b)) / beta  # noqa: E731
    assert _rate_fd(x, v, F) == pytest.approx(5 * np.sum(v * v), rel=1e-7)


def test_wrong_energy_is_refuted_with_a_configuration_that_fails_independently(user_models):
    (decl,) = user_models(SIGMOID.format(name="t_sigmoid_wrong", energy="sp.exp(beta * s) / beta"), "wrong.py")
    results = derive_model(decl, config=FAST)
    st = _statuses(results)
    assert st["energy"] == "refuted" and st["dissipation"] == "refuted"
    detail = results[-1].proof.detail
    vals = dict(re.findall(r"(\w+)=(-?[0-9.]+)", detail.split(";")[0]))
    th = np.array([float(vals["theta_0"]), float(vals["theta_1"])])
    beta, b = float(vals["beta"]), float(vals["b"])
    x = np.stack([np.cos(th), np.sin(th)], axis=1)
    v = _sigmoid_field(x, beta, b)
    rate = _rate_fd(x, v, lambda s: np.exp(beta * s) / beta)
    target = 2 * np.sum(v * v)
    assert abs(rate - target) > 1e-3 * max(abs(rate), abs(target))  # the counterexample is real


def test_qkv_model_states_its_hypothesis_and_is_proved(user_models):
    (decl,) = user_models(QKV, "qkv.py")
    results = derive_model(decl, config=FAST)
    assert _statuses(results) == {"field": "proved", "energy": "proved", "dissipation": "proved"}
    diss = results[-1]
    assert r"Wq^{\top}Wk = Wv" in diss.statement and r"Wv = Wv^{\top}" in diss.statement
    assert "agrees with the hypothesis" in diss.notes


def test_unbounded_polynomial_weight_is_proved_and_a_wrong_antiderivative_refuted(user_models):
    (ok,) = user_models(SQUARE.format(name="t_square", energy="(1 + beta * s) ** 3 / (3 * beta)"), "square.py")
    assert _statuses(derive_model(ok, config=FAST))["dissipation"] == "proved"
    (bad,) = user_models(SQUARE.format(name="t_square_bad", energy="(1 + beta * s) ** 3 / (3 * beta) + s**2"),
                         "square_bad.py")
    assert _statuses(derive_model(bad, config=FAST))["dissipation"] == "refuted"


def test_a_non_tangent_output_map_is_refuted_and_not_proved_in_general(user_models):
    text = """
    import sympy as sp
    from attnflow.models import SphereModel, s, beta, A, X, XA
    t_radial = SphereModel(name="t_radial", weight=sp.exp(beta * s), normalization="mean", output=A - XA * X / 2,
                           energy=sp.exp(beta * s) / beta)
    """
    (decl,) = user_models(text, "radial.py")
    st = _statuses(derive_model(decl, config=FAST))
    assert st["field"] == "refuted" and st["dissipation"] == "refuted"


def test_exhausted_budgets_fall_back_to_the_numerical_check(user_models):
    (decl,) = user_models(SIGMOID.format(name="t_sigmoid_slow", energy="sp.log(1 + sp.exp(beta * s + b)) / beta"),
                          "slow.py")
    tiny = DeriveConfig(sizes=((2, 2),), cross_check=((2, 2),), step_budget=1e-4, budget=1e-4)
    diss = derive_model(decl, config=tiny)[-1].proof
    assert diss.status == "verified-numerically"
    assert diss.timed_out  # the steps that ran out of time are named


def test_builtin_models_are_derived_too():
    st = {name: _statuses(derive_model(name, config=FAST)) for name in ("sa", "usa", "kuramoto")}
    assert st["sa"]["dissipation"] == "proved" and st["usa"]["dissipation"] == "proved"
    assert st["kuramoto"]["dissipation"] == "proved-for-sizes"


def test_document_is_byte_identical_and_lists_the_statuses(user_models):
    (decl,) = user_models(SIGMOID.format(name="t_sigmoid_doc", energy="sp.log(1 + sp.exp(beta * s + b)) / beta"),
                          "doc.py")
    a = model_document(decl, config=FAST)
    b = model_document(decl, config=FAST)
    assert a == b
    assert "| [`t_sigmoid_doc.dissipation`](#t_sigmoid_docdissipation) | Energy dissipation identity | proved |" in a


def test_loading_a_file_twice_returns_the_registered_models(user_models, tmp_path):
    (decl,) = user_models(SIGMOID.format(name="t_sigmoid_twice", energy="sp.exp(beta * s) / beta"), "twice.py")
    assert load(tmp_path / "twice.py") == [decl]


def test_bad_config_names_the_field():
    with pytest.raises(ValueError, match="sizes"):
        DeriveConfig(sizes=((2, 5),))
    with pytest.raises(ValueError, match="step_budget"):
        DeriveConfig(step_budget=0)
    with pytest.raises(ValueError, match="config"):
        derive_model("sa", config={"sizes": ()})


def test_reduction_on_the_spheres_is_the_normal_form():
    import sympy as sp

    from attnflow.symbolic.models._derive import reduce_on_spheres

    X = [sp.Matrix(sp.symbols(f"x_{i}_0 x_{i}_1", real=True)) for i in range(2)]
    T = sp.Symbol("T", positive=True)  # an atom: coefficients may be rational functions of it
    (a0, a1), (b0, b1) = X
    # a multiple of |x_0|^2 - 1 (with an atom coefficient) vanishes on the spheres ...
    assert reduce_on_spheres(sp.expand((a0**2 + a1**2 - 1) * (b0 * a1**3 + T / (1 + T) * b1)), X) == 0
    # ... and a1^4 reduces to (1 - a0^2)^2, checked against the expansion done by hand
    got = reduce_on_spheres(a1**4 * T / (T + 1) + b1**3, X)
    want = (1 - 2 * a0**2 + a0**4) * T / (T + 1) + b1 * (1 - b0**2)
    assert sp.simplify(got - want) == 0


def test_qk_model_whose_value_is_not_the_energy_matrix_is_not_proved(user_models):
    text = """
    import sympy as sp
    from attnflow.models import Matrix, SphereModel, s, beta
    t_qk_novalue = SphereModel(
        name="t_qk_novalue", weight=sp.exp(beta * s), normalization="mean", query="Wq", key="Wk",
        params=(Matrix("Wq"), Matrix("Wk"), Matrix("Wv")), energy=sp.exp(beta * s) / beta, energy_score="Wv",
    )
    """
    (decl,) = user_models(text, "qk.py")
    diss = derive_model(decl, config=FAST)[-1].proof
    assert diss.status == "refuted" and "open: pair identity" in diss.detail and "theta_0=" in diss.detail
