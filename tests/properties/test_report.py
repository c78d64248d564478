"""The versioned JSON report (schema_version 2), its reader of version 1, and the HTML report."""

from __future__ import annotations

import base64
import dataclasses
import json
import re
import shutil
import subprocess
import sys

import numba
import numpy as np
import pytest
import scipy
import sympy
from hypothesis import strategies as st

from attnflow._version import __version__
from attnflow.properties import registry, report
from attnflow.properties._runner import example_values
from attnflow.properties.registry import Claim, Measurement, require


def _claim(check, hypotheses, cid, expect="holds", **kw):
    return Claim(id=cid, title=f"title of {cid}", source="arXiv:0000.00000, Thm 1", hypotheses=hypotheses,
                 check=check, expect=expect, tolerance="rtol 1e-9 (float64)", latex=r"\lambda = \frac{1}{2}",
                 **kw)


def _runs():
    seen = {"rate": [], "bound": []}

    def rate(k):  # a "rate" claim: fitted vs theory, recorded independently of the report
        fitted, theory = 1.0 + 0.01 * k, 1.0 + 0.005 * k
        seen["rate"].append([fitted, theory])
        return Measurement(value=fitted - theory, fitted=fitted, theory=theory)

    def bound(k):
        seen["bound"].append(k / 100.0)
        return k / 100.0

    def big(x):
        require(np.max(np.abs(x)) < 0.5, "too big")

    runs = [
        registry.run_claim(_claim(rate, st.integers(0, 20), "toy.rate"), profile="quick", seed=2),
        registry.run_claim(_claim(bound, st.integers(0, 100), "toy.bound", measure="observed / bound"),
                           profile="quick", seed=2),
        registry.run_claim(_claim(big, st.lists(st.floats(-1, 1), min_size=2, max_size=4).map(np.array),
                                  "toy.array", expect="fails"), profile="quick", seed=2),
    ]
    return runs, seen


@pytest.fixture(scope="module")
def runs():
    return _runs()


def test_json_schema_keys_types_and_versions(tmp_path, runs):
    runs, seen = runs
    path = report.write_report(tmp_path / "r.json", runs, "quick", 2)
    data = json.loads(path.read_text())
    assert tuple(data) == report.TOP_KEYS
    assert (data["schema"], data["schema_version"]) == ("attnflow-check-report", 2)
    v = data["versions"]
    assert (v["attnflow"], v["numpy"], v["numba"], v["scipy"], v["sympy"]) == (
        __version__, np.__version__, numba.__version__, scipy.__version__, sympy.__version__)
    types = {"id": str, "expect": str, "outcome": str, "ok": bool, "examples": int, "seconds": float, "detail": str,
             "title": str, "statement": str, "source": str, "tolerance": str}
    for row, run in zip(data["claims"], runs):
        assert tuple(row)[: len(report.REQUIRED_KEYS)] == report.REQUIRED_KEYS
        assert set(row) - set(report.REQUIRED_KEYS) <= set(report.OPTIONAL_KEYS)
        for key, typ in types.items():
            assert isinstance(row[key], typ), key
        c = run.claim
        assert (row["title"], row["source"], row["tolerance"]) == (c.title, c.source, c.tolerance)
        assert row["statement"] == r"\lambda = \frac{1}{2}"
    rate, bound, arr = data["claims"]
    # per-example values are the ones the checks saw (recorded by the checks themselves)
    assert rate["fitted"]["points"] == seen["rate"]
    assert bound["measurement"]["values"] == seen["bound"]
    assert bound["measurement"]["max"] == max(seen["bound"])
    assert "counterexample_values" not in rate


def test_counterexample_is_structured_data(runs):
    (_, _, arr), _ = runs
    assert arr.outcome == "fails" and arr.ok
    row = json.loads(report.to_json(report.report_dict([arr], "quick", 2)))["claims"][0]
    cx = row["counterexample_values"]
    assert cx["dtype"] == "float64" and cx["shape"] == [len(cx["array"])]
    values = np.array(cx["array"])
    assert np.max(np.abs(values)) >= 0.5  # the example really violates the claim ...
    assert isinstance(row["counterexample"], str)  # ... and the text form stays for version-1 readers


def test_example_values_encodes_values_not_text():
    @dataclasses.dataclass
    class Ex:
        n: int
        x: np.ndarray

    got = example_values({"a": (1, np.int64(2), np.float64(np.nan)), "b": Ex(3, np.array([[1.0, np.inf]])),
                          "c": None, "d": True, "e": object()})
    assert got["a"] == [1, 2, "NaN"]
    assert got["b"] == {"n": 3, "x": {"dtype": "float64", "shape": [1, 2], "array": [[1.0, "Infinity"]]}}
    assert got["c"] is None and got["d"] is True and set(got["e"]) == {"repr"}
    json.dumps(got, allow_nan=False)
    big = example_values(np.zeros(10_000))
    assert big["truncated"] is True and len(big["array"]) == 4096 and big["shape"] == [10_000]


def test_markdown_names_the_versions(runs):
    text = report.to_markdown(report.report_dict(runs[0], "quick", 2), runs[0])
    assert f"numpy {np.__version__}" in text and f"attnflow {__version__}" in text


def test_read_report_reads_version_1_and_current(tmp_path, runs):
    old = {"ok": True, "profile": "quick", "seed": 4,
           "claims": [{"id": "a.b", "expect": "holds", "outcome": "holds", "ok": True, "examples": 3,
                       "seconds": 0.1, "detail": "fine", "counterexample": "x"}]}
    (tmp_path / "old.json").write_text(json.dumps(old))
    got = report.read_report(tmp_path / "old.json")
    assert got["schema_version"] == 1 and got["versions"] is None
    row = got["claims"][0]
    assert row["title"] is None and row["detail"] == "fine" and row["counterexample"] == "x"
    new = report.write_report(tmp_path / "new.json", runs[0], "quick", 2)
    assert report.read_report(new) == json.loads(new.read_text())
    (tmp_path / "future.json").write_text(json.dumps({**old, "schema_version": 99}))
    with pytest.raises(ValueError, match="schema_version 99"):
        report.read_report(tmp_path / "future.json")
    (tmp_path / "other.json").write_text("[1, 2]")
    with pytest.raises(ValueError, match="not an attnflow check report"):
        report.read_report(tmp_path / "other.json")


# -------------------------------------------------------------------------------------------- HTML
_IMG = re.compile(r'<img src="([^"]*)"')


def _decoded_images(text):
    out = []
    for src in _IMG.findall(text):
        m = re.fullmatch(r"data:(image/png|image/svg\+xml);base64,([A-Za-z0-9+/=]+)", src)
        assert m, f"not an inline data URI: {src[:60]}"
        data = base64.b64decode(m.group(2), validate=True)
        if m.group(1) == "image/png":
            assert data.startswith(b"\x89PNG\r\n\x1a\n")
        else:
            assert b"<svg" in data[:400]
        out.append((m.group(1), data))
    return out


def test_html_is_self_contained_with_math_and_figures(tmp_path, runs):
    runs, seen = runs
    from attnflow.plotting import report_renderers

    path = report.write_report(tmp_path / "r.html", runs, "quick", 2, **report_renderers())
    text = path.read_text()
    assert '<table class="claims"' in text and text.count("<tr") == 1 + len(runs)
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", text), "the page must need no network"
    images = _decoded_images(text)
    kinds = [k for k, _ in images]
    # one rendered statement per claim (SVG, alt = the LaTeX source) and one figure per measured claim
    assert kinds.count("image/svg+xml") == 3 and text.count(r'alt="\lambda = \frac{1}{2}"') == 3
    assert kinds.count("image/png") == 2
    fv = [p[0] for p in seen["rate"]]
    assert f"fitted rate {min(fv):.4g}..{max(fv):.4g} over {len(fv)} examples" in text
    assert (f"observed / bound: max {max(seen['bound']):.4g} over {len(seen['bound'])} examples (observed "
            "against the bound: the bound is the line at ratio 1)") in text


def test_cli_html_report(tmp_path, monkeypatch, capsys):
    from attnflow.cli import main

    toy = _claim(lambda k: float(k), st.integers(0, 9), "toy.cli")
    monkeypatch.setattr(registry, "select_claims", lambda patterns: [toy])
    out = tmp_path / "c.html"
    assert main(["check", "--seed", "1", "--report", str(out), "-q"]) == 0
    assert "<code>toy.cli</code>" in out.read_text()
    assert main(["check", "--report", str(tmp_path / "c.txt"), "-q"]) == 2
    assert ".json, .md or .html" in capsys.readouterr().err


def test_statements_render_as_mathematics_or_show_their_source():
    from attnflow.plotting._report import math_svg
    from attnflow.properties._html import _brace_args, _statement_html

    assert _brace_args(r"\frac12+\tfrac\beta n+\sqrt3+\sqrt[3]y+\binom{n}k") == (
        r"\frac{1}{2}+\tfrac\beta n+\sqrt{3}+\sqrt[3]{y}+\binom{n}{k}")
    # LaTeX of the claims that mathtext does not know as written (\le, \iff, \Bigl, \tfrac12, \mathbb P)
    for latex in [r"\tfrac1{2\beta}\le\sqrt\eta", r"a\iff b", r"\Bigl(x\Bigr)\ge 0", r"\mathbb P(x)\ne 0",
                  r"\operatorname{spec}J\quad\text{stable}"]:
        uri = math_svg(latex)
        assert uri is not None and b"<svg" in base64.b64decode(uri.split(",", 1)[1])[:400], latex
    text = _statement_html(r"x = 1 \\ \undefinedmacro{y}", math_svg)
    assert text.count("<img") == 1 and "<pre>\\undefinedmacro{y}</pre>" in text
    # without a renderer (no `plot` extra) every line shows its source
    text = _statement_html(r"x = 1 \\ y", None)
    assert text.count("<img") == 0 and text.count("<pre>") == 2


def _chromium():
    return shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.mark.skipif(_chromium() is None, reason="headless Chromium not installed (CI installs Debian's "
                    "`chromium` in .ci/run; locally: apt-get install -y chromium)")
def test_html_report_renders_in_headless_chromium(tmp_path, runs):
    runs, _ = runs
    from attnflow.plotting import report_renderers

    path = report.write_report(tmp_path / "r.html", runs, "quick", 2, **report_renderers())
    n_images = len(_IMG.findall(path.read_text()))
    cmd = [_chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
           "--disable-component-update", "--disable-sync", "--no-first-run", f"--user-data-dir={tmp_path / 'profile'}",
           "--enable-logging=stderr", "--v=0", "--dump-dom", path.as_uri()]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr[-2000:]
    dom = proc.stdout
    assert '<table class="claims" id="claims">' in dom and "toy.rate" in dom
    # the page's load handler ran (no script error) and every image decoded in the browser
    m = re.search(r'data-images="(\d+)" data-images-ok="(\d+)"', dom)
    assert m, "the load handler did not run: " + proc.stderr[-1000:]
    assert int(m.group(1)) == n_images == int(m.group(2)) == 5
    assert "Uncaught" not in proc.stderr


if __name__ == "__main__":  # pragma: no cover
    sys.exit(pytest.main([__file__]))
