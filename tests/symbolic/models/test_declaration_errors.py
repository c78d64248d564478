"""Bad declarations: one case per kind, each a ``ValueError`` whose message starts with the field at fault.

Mirrors :mod:`attnflow.symbolic.models._declaration`, :mod:`._consistency` (the checks made at
construction) and :mod:`._registry` (the checks that need the registry: register, load).
"""

from __future__ import annotations

import pytest
import sympy as sp

from attnflow import models as public
from attnflow.models import A, H, X, XA, CircleModel, EuclideanModel, Matrix, Perceptron, Real, SphereModel, beta, s

b = sp.Symbol("b", real=True)
W = sp.exp(beta * s)
SA_OK = dict(name="ok", weight=W)
PERCEPTRON = [Matrix("W", shape=("d", "m")), Matrix("U", shape=("m", "d")), Matrix("b", shape=("m",))]
SIGMOID = dict(name="sigmoid_ok", weight=1 / (1 + sp.exp(-(beta * s + b))), normalization="mean",
               energy=sp.log(1 + sp.exp(beta * s + b)) / beta, params={b: 0.0}, source="arXiv 2409.04431")

SPHERE_CASES = {
    # case: (the fields that differ from a valid SA declaration, "field: what the message says")
    "name not an identifier": (dict(name="Bad Name"), "name: .*identifier"),
    # field: weight
    "weight is a string": (dict(weight="exp(beta*s)"), "weight: .*never parsed"),
    "weight has an unknown symbol": (dict(weight=sp.exp(sp.Symbol("q") * s)), "weight: unknown symbol"),
    "weight contains I": (dict(weight=sp.exp(sp.I * beta * s)), "weight: must be real.*imaginary unit"),
    "weight uses a complex symbol": (dict(weight=sp.exp(sp.Symbol("c", complex=True) * s)),
                                     "weight: .*declared complex"),
    "weight uses a function without kernel": (dict(weight=sp.besseli(0, beta * s)), "weight: the function besseli"),
    "output uses a function without kernel": (dict(output=sp.erf(XA) * (A - XA * X)), "output: the function erf"),
    "weight independent of s": (dict(weight=sp.exp(beta)), "weight: must depend on the score s"),
    "softmax weight never positive": (dict(weight=-W), "weight: .*never positive"),
    "softmax weight changes sign": (dict(weight=s * W), "weight: .*must be positive; w = -"),
    # field: energy
    "energy complex": (dict(energy=sp.exp(sp.I * beta * s) / beta), "energy: must be real"),
    "energy with an output map without attention": (dict(output=-XA * X, energy=W / beta),
                                                     "energy: .*positive coefficient"),
    "energy with a negative attention coefficient": (dict(output=-(A - XA * X), energy=W / beta),
                                                     "energy: .*positive coefficient"),
    "energy with the perceptron in the output": (dict(perceptron=Perceptron(), energy=W / beta, params=PERCEPTRON),
                                                 "energy: .*perceptron"),
    "energy with a read-out matrix": (dict(readout="R", params=[Matrix("R")], energy=W / beta), "energy: .*read-out"),
    "energy with query/key but no energy_score": (dict(query="Q", key="K", params=[Matrix("Q"), Matrix("K")],
                                                       energy=W / beta), "energy: .*energy_score"),
    # field: params
    "param default infinite": (dict(params={b: float("inf")}), "params: .*finite"),
    "param default nan": (dict(params={b: float("nan")}), "params: .*finite"),
    "param default complex": (dict(params={b: 1 + 2j}), "params: .*real number"),
    "param default below its bound": (dict(params=[Real("alpha", default=-1.0, lo=0.0)]), "params: .*bound"),
    "param symbol declared complex": (dict(params={sp.Symbol("c", complex=True): 1.0}), "params: .*declared real"),
    "param named s": (dict(params={s: 1.0}), "params: 's' is reserved"),
    "param named beta": (dict(params={beta: 1.0}), "params: 'beta' is reserved"),
    "param named t": (dict(params=[Real("t", default=0.0)]), "params: 't' is reserved"),
    "param named like a kernel symbol": (dict(params={sp.Symbol("m", real=True): 1.0}), "params: 'm' is reserved"),
    # other fields
    "normalization unknown": (dict(normalization="max"), "normalization: "),
    "output not linear": (dict(output=A * A), "output: "),
    "query not a matrix parameter": (dict(query="Q"), "query: "),
}


@pytest.mark.parametrize("kw, match", SPHERE_CASES.values(), ids=list(SPHERE_CASES))
def test_a_bad_sphere_declaration_names_its_field(kw, match):
    """The message starts with the field (``match`` is anchored) and says what is wrong."""
    with pytest.raises(ValueError, match=f"^{match}"):
        SphereModel(**{**SA_OK, **kw})


def test_other_manifolds():
    with pytest.raises(ValueError, match="^energy: .*causal"):
        CircleModel(name="c", weight=beta * W, normalization="causal", position_weight=1 / public.g, energy=W)
    with pytest.raises(ValueError, match="^energy: a EuclideanModel"):
        EuclideanModel(name="e", weight=W, energy=W / beta)
    with pytest.raises(ValueError, match="^weight: "):
        CircleModel(name="c", weight=s * W)  # softmax of a signed weight on the circle
    with pytest.raises(ValueError, match="^position_weight: "):
        CircleModel(name="c", weight=W, normalization="causal", position_weight=sp.I * public.g)


def test_good_declarations_pass():
    """Positive controls: the README's sigmoid, signed weights under the mean, energies of rescaled
    tangent fields (nGPT-like, time-changed), causal models without energy (a constant content weight:
    purely positional attention)."""
    SphereModel(**SIGMOID)
    SphereModel(name="signed", weight=s * W, normalization="mean")
    SphereModel(name="ngpt_like", weight=W, energy=W / beta, params=[Real("alpha", default=1.0, lo=0.0)],
                output=sp.Symbol("alpha", nonnegative=True) * (A - XA * X))
    SphereModel(name="slowed", weight=W, energy=W / beta, output=(A - XA * X) / sp.sqrt(1 + public.t))
    CircleModel(name="causal_ok", weight=beta * W, normalization="causal", position_weight=1 / public.g)
    CircleModel(name="positional", weight=sp.Integer(1), normalization="causal", position_weight=1 / public.g)
    SphereModel(name="with_h", weight=W, perceptron=Perceptron(), output=A - XA * X + H, params=PERCEPTRON)
    # an energy that is no antiderivative of the weight is accepted: it is a finding that the claims
    # (model.<name>.dissipation) and derive_model report, not a malformed declaration
    SphereModel(name="wrong_energy", weight=1 / (1 + sp.exp(-beta * s)), normalization="mean", energy=W / beta)


def test_register_refuses_a_builtin_name():
    with pytest.raises(ValueError, match="^name: 'sa' is a built-in model"):
        public.register(SphereModel(name="sa", weight=W))


MODELS_FILE = '''
import sympy as sp
from attnflow.models import SphereModel, s, beta
{body}
'''


@pytest.mark.parametrize("body, match", [
    ("sa = SphereModel(name='sa', weight=sp.exp(2 * beta * s))", "^name: the model 'sa' declared in .* is a built-in"),
    ("x = 1", "^path: .* defines no model declaration"),
    ("a = SphereModel(name='twin', weight=sp.exp(beta * s))\nb = SphereModel(name='twin', weight=sp.exp(2 * beta * s))",
     "^name: .* declares two different models named 'twin'"),
    ("bad = SphereModel(name='bad', weight=sp.exp(beta))", "^weight: must depend on the score s"),
], ids=["builtin name", "declares nothing", "one name twice", "bad declaration"])
def test_load_names_the_field(tmp_path, body, match):
    path = tmp_path / "my_models.py"
    path.write_text(MODELS_FILE.format(body=body))
    with pytest.raises(ValueError, match=match):
        public.load(path)
    assert "twin" not in public.MODELS and "bad" not in public.MODELS


def test_load_refuses_a_missing_or_non_python_file(tmp_path):
    with pytest.raises(ValueError, match="^path: expected an existing Python file"):
        public.load(tmp_path / "missing.py")
    (tmp_path / "models.txt").write_text("")
    with pytest.raises(ValueError, match="^path: expected an existing Python file"):
        public.load(tmp_path / "models.txt")
