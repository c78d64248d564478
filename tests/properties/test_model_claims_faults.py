"""Each generic model-claim family notices a one-line bug in a generated kernel (opt-in: ``--runslow``;
each case compiles a modified kernel module, ~10-30 s).

The bug is inserted into the rendered kernel text of a user model (the code generator's output is
patched, so the kernel cache holds the buggy module under its own hash, in a temporary cache).
"""

import os
import re
from pathlib import Path

import pytest

import attnflow.models as am
from attnflow.properties import registry

DATA = Path(__file__).resolve().parents[1] / "data"


def _beta_half(text):  # w = (1 + beta s)^2 evaluated at beta / 2
    return re.sub(r"w(\d) = \(beta\*s", r"w\1 = (0.5*beta*s", text)


def _skip_last(text):  # the pair loop misses token n - 1
    return text.replace("        for j in range(n):\n            s0 = 0.0", "        for j in range(n - 1):\n            s0 = 0.0")


def _energy_sign(text):  # the pair energy with the wrong sign
    return text.replace("w = (0.3333333333333333)*", "w = -(0.3333333333333333)*")


@pytest.mark.slow
@pytest.mark.parametrize("bug, fails", [
    (_beta_half, {"kernel", "dissipation", "order"}),
    (_skip_last, {"kernel", "dissipation", "stationary", "order"}),
    (_energy_sign, {"dissipation", "monotone"}),
])
def test_one_line_bugs_are_noticed(bug, fails, tmp_path, monkeypatch):
    import attnflow.symbolic.codegen.backends.numba as nb

    monkeypatch.setenv("ATTNFLOW_KERNEL_CACHE", str(tmp_path))
    orig = nb.render_model

    def render(decl):
        text = orig(decl)
        if decl.name != "quadratic":
            return text
        new = bug(text)
        assert new != text
        return new

    monkeypatch.setattr(nb, "render_model", render)
    names = [m.name for m in am.load(DATA / "user_models.py", replace=True)]
    try:
        runs = registry.run_claims(registry.select_claims(["model.quadratic"]), profile="quick", seed=0)
        failed = {r.claim.id.rsplit(".", 1)[1] for r in runs if r.outcome == "fails"}
        assert failed == fails, {r.claim.id: r.detail[:200] for r in runs}
    finally:
        for n in names:
            am.unregister(n)
        registry.all_claims()
