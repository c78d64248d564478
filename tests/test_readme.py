"""The README documents only what works: its Python example runs and prints what it says."""

import math
import re
import subprocess
import sys
from pathlib import Path

README = Path(__file__).resolve().parent.parent / "README.md"


def _python_blocks(text: str) -> list[str]:
    return re.findall(r"```python\n(.*?)```", text, flags=re.S)


def test_readme_python_example_runs_and_its_comments_hold():
    blocks = _python_blocks(README.read_text(encoding="utf-8"))
    assert blocks, "README has no Python example"
    out = subprocess.run([sys.executable, "-c", blocks[0]], capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert lines[0] == "1"  # one cluster
    e0, e1 = map(float, lines[1].split())
    # the final energy is the Dirac value of the particle normalisation: n^2 e^beta / (2 beta), beta = 1
    assert e0 < e1 and math.isclose(e1, 32**2 * math.e / 2, rel_tol=1e-9)
    assert float(lines[2]) > -1e-13  # relative energy steps: never below round-off
    assert lines[3] == "(32, 3)"
    assert abs(float(lines[4]) - 2.457) < 1e-3  # t_crit quoted in derivations/retrieval.md (retrieval.recency_threshold)
    assert lines[5] == "certified"
    assert lines[6].startswith("proved - ") and "combine exponentials" in lines[6]
    assert lines[7] == "(3, 8, 32, 3) [1 1 1 1 1 1 1 1]"  # a batch of 8 systems, each in one cluster at t = 20
    assert lines[8].startswith("[") and all(t in ("5.", "10.", "20.", "nan") for t in lines[8].strip("[]").split())
    assert lines[9] == "('time', 'system', 'token', 'coordinate') rk4"  # Trajectory.to_xarray


def test_readme_own_model_example_runs(tmp_path):
    blocks = _python_blocks(README.read_text(encoding="utf-8"))
    own = [b for b in blocks if "attnflow.models" in b]
    assert own, "README has no example of a model of one's own"
    env = {**__import__("os").environ, "ATTNFLOW_KERNEL_CACHE": str(tmp_path)}
    out = subprocess.run([sys.executable, "-c", own[0]], capture_output=True, text=True, timeout=600, env=env)
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines() == ["(8, 3)"]
    assert len(list(tmp_path.glob("attnflow_kernels_sa_half_*.py"))) == 1  # generated on first use


def test_readme_models_file_end_to_end(tmp_path, monkeypatch, capsys):
    """The README's my_models.py runs through `attnflow simulate` and `attnflow check` as printed."""
    import shlex

    import attnflow.models as am
    from attnflow.cli import main
    from attnflow.properties import registry

    text = README.read_text(encoding="utf-8")
    block = next(b for b in _python_blocks(text) if 'name="sigmoid"' in b)
    (tmp_path / "my_models.py").write_text(block, encoding="utf-8")
    commands = [shlex.split(line.split("#")[0]) for line in re.findall(r"^attnflow .*--models my_models\.py.*$",
                                                                      text, flags=re.M)]
    run = [c for c in commands if c[1] in ("simulate", "check")]
    assert {c[1] for c in run} == {"simulate", "check"}
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("ATTNFLOW_KERNEL_CACHE", str(tmp_path / "cache"))
    try:
        for argv in run:
            assert main(argv[1:] + (["-q"] if argv[1] == "check" and "--list" not in argv else [])) == 0, argv
        out = capsys.readouterr().out
        assert "model sigmoid (sphere)" in out and "model.sigmoid.dissipation" in out
        assert "claims match their expectation (OK)" in out
    finally:
        if "sigmoid" in am.names():
            am.unregister("sigmoid")
        registry.all_claims()


def test_readme_claim_counts_are_the_registry_s():
    from attnflow.properties import registry
    from attnflow.symbolic.models import BUILTIN, MODELS

    text = README.read_text(encoding="utf-8")
    total = int(re.search(r"shows the (\d+) registered claims", text).group(1))
    generic = int(re.search(r"and (\d+) generic claims `model\.<name>\.<family>`", text).group(1))
    ids = [c.id for c in registry.all_claims() if not c.id.startswith("model.")
           or c.id.split(".")[1] in BUILTIN]
    assert set(MODELS) >= set(BUILTIN)
    assert total == len(ids) and generic == sum(i.startswith("model.") for i in ids)
