"""Tampered exports: the self-test refuses altered packages with :class:`SelftestError` naming the
file or argument -- before any kernel runs (no segfault from a wrongly shaped array) -- and
``export --force`` deletes only what an earlier export wrote."""

from __future__ import annotations

import importlib
import json
import os
import shutil
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from attnflow import export
from tests.cli.test_export import TEST_FAMILY, _check_sa_usa, _claim, _install_claims


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    parent = tmp_path_factory.mktemp("tamper")
    with pytest.MonkeyPatch.context() as mp:
        _install_claims(mp, [_claim(f"{TEST_FAMILY}.sa_usa", _check_sa_usa)], ["usa_velocity"])
        report = export.export_kernels(["usa_velocity"], parent / "tamper_src", profile="quick", seed=4321)
    return report.path


_COUNTER = iter(range(10**6))


def _copy(src, tmp_path):
    name = f"tampered_{next(_COUNTER)}"
    dst = tmp_path / name
    shutil.copytree(src, dst, ignore=shutil.ignore_patterns("__pycache__"))
    manifest = json.loads((dst / "manifest.json").read_text())
    return dst, manifest


def _save_manifest(dst, manifest):
    (dst / "manifest.json").write_text(json.dumps(manifest))


def _selftest(dst):
    sys.path.insert(0, str(dst.parent))
    try:
        mod = importlib.import_module(dst.name)
        return mod.selftest
    finally:
        sys.path.remove(str(dst.parent))


def _input(manifest, name="x"):
    return manifest["kernels"][0]["cases"][0]["inputs"][name]


def _tamper_array(dst, manifest, array):
    np.save(dst / _input(manifest), array, allow_pickle=True)


def _error(dst):
    with pytest.raises(Exception) as info:
        _selftest(dst)()
    assert type(info.value).__name__ == "SelftestError", repr(info.value)
    return str(info.value)


def test_untampered_copy_passes_the_checks(exported, tmp_path):
    """Control: an unaltered copy passes every pre-check (running its kernels is tested in
    tests/cli/test_export.py; compiling a copy's kernels here would cost ~10 s)."""
    dst, manifest = _copy(exported, tmp_path)
    sys.path.insert(0, str(dst.parent))
    try:
        st = importlib.import_module(dst.name + "._selftest")
    finally:
        sys.path.remove(str(dst.parent))
    m = st.load_manifest()
    listed = {e["path"] for e in m["files"]}
    for k in m["kernels"]:
        assert st._checked_kernel(k, listed) == k["functions"]
        for ci, case in enumerate(k["cases"]):
            args, outs = st._checked_case(k, ci, case)
            assert len(args) == len(k["args"]) and outs


def test_oversized_input_is_refused_before_the_kernel_runs(exported, tmp_path):
    """A (5000, 3) array in place of the stored (n, d) input: a shape error, not a segfault (subprocess)."""
    dst, manifest = _copy(exported, tmp_path)
    _tamper_array(dst, manifest, np.ones((5000, 3)))
    code = textwrap.dedent(f"""
        import sys
        sys.path.insert(0, {str(dst.parent)!r})
        import {dst.name} as pkg
        try:
            pkg.selftest()
        except pkg.SelftestError as exc:
            print("REFUSED", exc)
    """)
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, f"exit {res.returncode} (negative: killed by a signal): {res.stderr[-500:]}"
    assert "REFUSED" in res.stdout and "x" in res.stdout and "(5000, 3)" in res.stdout, res.stdout


@pytest.mark.parametrize("array, words", [
    (np.ones((4, 3), dtype=complex), "dtype"),
    (np.array([["a", "b", "c"]] * 4), "dtype"),
    (np.ones(12), "shape"),
    (np.ones((4, 3, 1)), "shape"),
    (np.array([None, 1], dtype=object), "cannot be loaded|pickle|dtype"),
], ids=["complex", "strings", "flat", "3d", "object"])
def test_wrong_dtype_or_rank_is_refused(exported, tmp_path, array, words):
    dst, manifest = _copy(exported, tmp_path)
    _tamper_array(dst, manifest, array)
    msg = _error(dst)
    assert "x" in msg and any(w in msg for w in words.split("|")), msg


def test_stored_float_argument_must_be_a_scalar(exported, tmp_path):
    dst, manifest = _copy(exported, tmp_path)
    np.save(dst / _input(manifest, "beta"), np.ones(3))
    assert "beta" in _error(dst)


@pytest.mark.parametrize("field, value", [
    ("module", "..evil"),
    ("module", "os"),
    ("module", "kernels.not_listed"),
    ("input", "../../../../etc/passwd"),
    ("input", "/etc/hostname"),
    ("expected", "../manifest.json"),
    ("file", "/etc/hostname"),
    ("file", "../outside.py"),
])
def test_manifest_paths_are_contained(exported, tmp_path, field, value):
    dst, manifest = _copy(exported, tmp_path)
    k = manifest["kernels"][0]
    if field == "module":
        k["module"] = value
    elif field == "input":
        k["cases"][0]["inputs"]["x"] = value
    elif field == "expected":
        k["cases"][0]["expected"]["out"] = value
    else:
        manifest["files"][0]["path"] = value
    _save_manifest(dst, manifest)
    msg = _error(dst)
    assert value in msg, msg


@pytest.mark.parametrize("text", ["not json", "[]", '{"files": []}', '{"tolerance": {"rtol": "x"}}'],
                         ids=["garbage", "list", "no-kernels", "bad-tolerance"])
def test_malformed_manifest(exported, tmp_path, text):
    dst, _ = _copy(exported, tmp_path)
    (dst / "manifest.json").write_text(text)
    assert "manifest" in _error(dst)


def test_force_deletes_only_files_of_the_earlier_export(exported, tmp_path, monkeypatch):
    dst, _ = _copy(exported, tmp_path)
    (dst / "notes.txt").write_text("mine")
    (dst / "kernels" / "mine.py").write_text("x = 1")
    with pytest.raises(ValueError, match=r"^out: .*(notes\.txt|mine\.py)"):
        export.export_kernels(["usa_velocity"], dst, force=True, seed=1)
    assert (dst / "notes.txt").read_text() == "mine" and (dst / "kernels" / "mine.py").exists()
    # an export's own files (and Python's caches) are replaced
    (dst / "notes.txt").unlink()
    (dst / "kernels" / "mine.py").unlink()
    os.makedirs(dst / "kernels" / "__pycache__", exist_ok=True)
    (dst / "kernels" / "__pycache__" / "usa.cpython-311.pyc").write_bytes(b"")
    _install_claims(monkeypatch, [_claim(f"{TEST_FAMILY}.sa_usa", _check_sa_usa)], ["usa_velocity"])
    export.export_kernels(["usa_velocity"], dst, force=True, seed=2)
    assert json.loads((dst / "manifest.json").read_text())["seed"] == 2


def test_fake_manifest_does_not_license_deletion(tmp_path):
    """A folder whose manifest.json merely claims to be an export keeps every file it lists that
    is not a file an export writes."""
    from attnflow.export._manifest import GENERATOR

    out = tmp_path / "pkg"
    out.mkdir()
    (out / "manifest.json").write_text(json.dumps({"generator": GENERATOR, "files": [{"path": "thesis.tex"}],
                                                   "kernels": []}))
    (out / "thesis.tex").write_text("years of work")
    with pytest.raises(ValueError, match="thesis.tex"):
        export.export_kernels(["usa_velocity"], out, force=True, seed=1)
    assert (out / "thesis.tex").read_text() == "years of work"
