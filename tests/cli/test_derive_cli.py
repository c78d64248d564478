"""``attnflow derive --models FILE --out DIR``: one document and one kernel module per model."""

from __future__ import annotations

import ast
import textwrap

import pytest

from attnflow.cli import main
from attnflow.models import unregister

MODELS = """
import numpy as np
import sympy as sp
from attnflow.models import Matrix, SphereModel, s, beta

b = sp.Symbol("b", real=True)
c_sigmoid = SphereModel(
    name="c_sigmoid",
    weight=1 / (1 + sp.exp(-(beta * s + b))),
    normalization="mean",
    energy=sp.log(1 + sp.exp(beta * s + b)) / beta,
    params={b: 0.0},
    source="arXiv 2409.04431",
)

c_sigmoid_wrong = SphereModel(
    name="c_sigmoid_wrong", weight=1 / (1 + sp.exp(-(beta * s + b))), normalization="mean",
    energy=sp.exp(beta * s) / beta, params={b: 0.0}, source="wrong on purpose",
)
"""


@pytest.fixture
def models_file(tmp_path):
    path = tmp_path / "my_models.py"
    path.write_text(textwrap.dedent(MODELS))
    yield path
    for name in ("c_sigmoid", "c_sigmoid_wrong"):
        try:
            unregister(name)
        except ValueError:
            pass


def test_writes_a_document_and_a_kernel_module_per_model(models_file, tmp_path, capsys):
    from attnflow.symbolic.codegen.backends.numba import render_model

    out = tmp_path / "out"
    args = ["derive", "--models", str(models_file), "--out", str(out), "--step-budget", "30", "--budget", "60"]
    assert main(args) == 0
    assert sorted(p.name for p in out.iterdir()) == ["c_sigmoid.md", "c_sigmoid.py", "c_sigmoid_wrong.md",
                                                     "c_sigmoid_wrong.py"]
    doc = (out / "c_sigmoid.md").read_text()
    assert "| Energy dissipation identity | proved |" in doc
    assert "| Energy dissipation identity | **REFUTED** |" in (out / "c_sigmoid_wrong.md").read_text()
    kernel = (out / "c_sigmoid.py").read_text()
    assert kernel == render_model("c_sigmoid")
    ast.parse(kernel)
    first = {p.name: p.read_bytes() for p in out.iterdir()}
    # refuses to overwrite without --force, names the option and writes nothing
    assert main(args) == 2
    assert "--force" in capsys.readouterr().err
    # with --force the same bytes again (loading the file a second time is harmless)
    assert main(args + ["--force"]) == 0
    assert {p.name: p.read_bytes() for p in out.iterdir()} == first


def test_models_needs_out_and_out_needs_models(models_file, tmp_path, capsys):
    assert main(["derive", "--models", str(models_file)]) == 2
    assert "--out: required with --models" in capsys.readouterr().err
    assert main(["derive", "--out", str(tmp_path / "x")]) == 2
    assert "--out: only with --models" in capsys.readouterr().err
    assert main(["derive", "--models", str(tmp_path / "missing.py"), "--out", str(tmp_path / "x")]) == 2
    assert "--models" in capsys.readouterr().err
    assert not (tmp_path / "x").exists()
