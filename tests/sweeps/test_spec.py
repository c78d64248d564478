"""Sweep specs: the grid's dimensions and one-line errors naming the key, before anything runs."""

import copy

import pytest

from attnflow.sweeps import load_spec, sweep

BASE = {
    "model": "sa",
    "n": 32,
    "d": [8, 128],
    "beta": {"start": 0.5, "stop": 8.0, "num": 16},
    "seeds": 64,
    "t": {"stop": 20.0, "num": 41},
    "dt": 0.05,
    "observables": ["pair_fraction"],
    "delta": 1e-3,
}

PHASE_TOML = """\
[sweep]
model = "sa"
n = 32
d = [8, 128]
beta = { start = 0.5, stop = 8.0, num = 16 }
seeds = 64                      # seeds 0..63, initial tokens i.i.d. uniform on the sphere
t = { stop = 20.0, num = 41 }   # saved times
dt = 0.05
observables = ["pair_fraction"] # fraction of pairs i < j with <x_i, x_j> >= 1 - delta
delta = 1e-3
"""


def test_the_phase_diagram_spec_has_dims_d_beta_seed_t(tmp_path):
    path = tmp_path / "spec.toml"
    path.write_text(PHASE_TOML)
    spec = load_spec(path)
    assert spec.dim_names == ("d", "beta", "seed")  # t is always last, added by the store
    assert dict(spec.dims)["d"] == (8, 128)
    betas = dict(spec.dims)["beta"]
    assert len(betas) == 16 and betas[0] == 0.5 and betas[-1] == 8.0
    assert spec.seeds == tuple(range(64))
    assert len(spec.times) == 41 and spec.times[-1] == 20.0 and spec.times[1] == 0.5
    assert spec.fixed == {"model": "sa", "n": 32}
    assert spec.n_chunks == 2 * 16 * 4  # default block of 16 seeds
    assert load_spec(BASE) == spec  # the dict form and the {"sweep": ...} form agree
    assert load_spec({"sweep": BASE}) == spec


def test_dimensions_follow_spec_order_and_lists_of_one_are_dimensions():
    spec = load_spec({"seeds": [3, 1], "model": "causal_alibi", "params": {"lam": [0.0, 1.0]}, "n": [4],
                      "beta": 1.0, "t": [0.5, 1.0], "dt": 0.25, "observables": ["order_parameter"]})
    assert spec.dim_names == ("seed", "lam", "n")
    assert spec.fixed == {"model": "causal_alibi", "beta": 1.0}
    assert spec.seeds == (3, 1)


BAD = [
    ({"model": "sx"}, "sweep.model", "unknown model 'sx'"),
    ({"model": "qkv"}, "sweep.model", "matrix parameters"),
    ({"params": {"lam": 1.0}}, "sweep.params.lam", "unknown parameter of model 'sa'"),
    ({"observables": ["pair_fractions"]}, "sweep.observables", "unknown observable"),
    ({"observables": []}, "sweep.observables", "empty list"),
    ({"beta": []}, "sweep.beta", "empty list"),
    ({"beta": {"start": 0.5, "stop": 8.0, "num": 0}}, "sweep.beta.num", ">= 1"),
    ({"beta": {"start": 0.5, "stop": 8.0, "step": 0.5}}, "sweep.beta.step", "unknown key"),
    ({"n": -4}, "sweep.n", ">= 2"),
    ({"d": [8, -128]}, "sweep.d", ">= 2"),
    ({"seeds": 0}, "sweep.seeds", ">= 1"),
    ({"seeds": -3}, "sweep.seeds", ">= 1"),
    ({"seed_block": 0}, "sweep.seed_block", ">= 1"),
    ({"t": {"stop": 0.01, "num": 2}}, "sweep.t.stop", "shorter than one step"),
    ({"t": {"stop": 20.0, "num": 0}}, "sweep.t.num", ">= 1"),
    ({"t": [0.0, 0.33]}, "sweep.t", "not a multiple of dt"),
    ({"t": [1.0, 0.5]}, "sweep.t", "strictly increasing"),
    ({"dt": -0.05}, "sweep.dt", "> 0"),
    ({"dt": "0.05"}, "sweep.dt", "must be a number"),
    ({"method": "adaptive"}, "sweep.method", "fixed steps"),
    ({"delta": 3.0}, "sweep.delta", "(0, 2)"),
    ({"betas": [1.0]}, "sweep.betas", "unknown key"),
    ({"observables": ["order_parameter"]}, "sweep.observables", "circle models"),
    ({"model": "ngpt", "observables": ["energy"]}, "sweep.observables", "no interaction energy"),
    ({"beta": [0.0, 1.0], "observables": ["energy"]}, "sweep.observables", "beta = 0"),
    ({"model": "kuramoto"}, "sweep.d", "angles"),
    ({"model": "causal_alibi", "d": None, "params": {"lam": -1.0}}, "sweep.params.lam", "rejects"),
    ({"model": ["sa", "kuramoto"]}, "sweep.model", "mixes circle models"),
    ({"start": "equiangular"}, "sweep.start", "unknown start"),
    ({"dt": None}, "sweep.dt", "missing"),
]


@pytest.mark.parametrize("change, key, words", BAD, ids=[f"{b[1]}-{i}" for i, b in enumerate(BAD)])
def test_bad_specs_fail_in_one_line_naming_the_key(tmp_path, change, key, words):
    raw = copy.deepcopy(BASE)
    for k, v in change.items():
        if v is None:
            raw.pop(k)
        else:
            raw[k] = v
    out = tmp_path / "runs.zarr"
    with pytest.raises(ValueError) as info:
        sweep(raw, out, progress=False)
    msg = str(info.value)
    assert msg.startswith(key + ":"), msg
    assert words in msg and "\n" not in msg
    assert not out.exists()  # refused before anything was created or run


def test_bad_spec_files(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text("[sweep]\nmodel = 'sa\n")
    with pytest.raises(ValueError, match=r"^spec: .* is not valid TOML"):
        load_spec(bad)
    other = tmp_path / "other.toml"
    other.write_text(PHASE_TOML + "\n[extra]\nx = 1\n")
    with pytest.raises(ValueError, match=r"^extra: unknown table"):
        load_spec(other)
    with pytest.raises(ValueError, match=r"^spec: file .* not found"):
        load_spec(tmp_path / "missing.toml")
    # TOML text is data: an expression is a string, never evaluated
    evil = tmp_path / "evil.toml"
    evil.write_text(PHASE_TOML.replace("n = 32", "n = \"__import__('os').getcwd()\""))
    with pytest.raises(ValueError, match=r"^sweep.n: must be an integer"):
        load_spec(evil)


def test_readme_and_example_specs_are_the_phase_diagram_spec():
    import re
    import tomllib
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    blocks = re.findall(r"```toml\n(.*?)```", (root / "README.md").read_text(encoding="utf-8"), flags=re.S)
    assert len(blocks) == 1
    full = load_spec({"sweep": {**BASE, "d": [8, 128, 1024]}})  # the paper's d = 8, 128, 1024
    assert load_spec(tomllib.loads(blocks[0])) == full
    assert load_spec(root / "examples/sweeps/phase_diagram_2512.01868.toml") == full
    small = load_spec(root / "examples/sweeps/phase_diagram_small.toml")
    assert small.dim_names == ("d", "beta", "seed") and small.n_chunks == 2 * 8 * 2
