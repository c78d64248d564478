"""Interrupted writes: SIGTERM / SIGINT sent to a subprocess in the middle of a write leave no
temporary file (``attnflow._base.io``), and finished files get the umask's permissions."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from attnflow._base import io as _io

ROOT = Path(__file__).resolve().parents[2]

# writes one file through atomic_path, prints READY half-way, then waits to be interrupted
_WRITER = textwrap.dedent("""
    import sys, time
    from attnflow._base.io import atomic_path, install_signal_handlers
    install_signal_handlers()
    target = sys.argv[1]
    with atomic_path(target) as tmp:
        with open(tmp, "w") as fh:
            fh.write("half of it")
            fh.flush()
            print("READY", flush=True)
            time.sleep(30)
""")

# writes files in a loop (the interrupt lands anywhere, the creation of the temporary file included)
_LOOP = textwrap.dedent("""
    import sys
    from attnflow._base.io import atomic_write_text, install_signal_handlers
    install_signal_handlers()
    print("READY", flush=True)
    i = 0
    while True:
        atomic_write_text(sys.argv[1] + f"/f{i % 3}.txt", "x" * 1000)
        i += 1
""")

# the CLI: `attnflow simulate --save` with np.savez slowed down mid-write
_CLI = textwrap.dedent("""
    import sys, time
    import numpy as np
    real = np.savez
    def slow_savez(fh, **arrays):
        fh.write(b"PK partial")
        fh.flush()
        print("READY", flush=True)
        time.sleep(30)
    np.savez = slow_savez
    from attnflow.cli import main
    sys.exit(main(["simulate", "--n", "3", "--t-final", "0.02", "--save", sys.argv[1] + "/traj.npz"]))
""")

# the export's staging folder
_EXPORT = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    from attnflow._base.io import install_signal_handlers
    from attnflow.export import _install
    install_signal_handlers()
    target = Path(sys.argv[1]) / "pkg"
    with _install.staging(target) as tmp:
        (tmp / "kernels").mkdir()
        (tmp / "kernels" / "x.py").write_text("x = 1")
        print("READY", flush=True)
        time.sleep(30)
""")


def _run_and_interrupt(script: str, folder: Path, sig: int, delay: float = 0.0) -> int:
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    # SIGINT back to its default in the child: a shell's background job inherits it ignored, and Python then
    # installs no KeyboardInterrupt handler (a CI run started with `&` would time out here)
    proc = subprocess.Popen([sys.executable, "-c", script, str(folder)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env, cwd=folder,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    try:
        for line in proc.stdout:  # the CLI prints its summary first
            if line.strip() == "READY":
                break
        else:
            raise AssertionError(f"never got ready: {proc.stderr.read()}")
        if delay:
            time.sleep(delay)
        proc.send_signal(sig)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    return proc.returncode


def _hidden(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.rglob("*") if p.name.startswith("."))


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_signal_mid_write_leaves_no_temp_file(tmp_path, sig):
    rc = _run_and_interrupt(_WRITER, tmp_path, sig)
    assert rc != 0
    assert list(tmp_path.iterdir()) == [], "interrupted write left files behind"


@pytest.mark.parametrize("delay", [0.01, 0.05, 0.13])
def test_sigterm_at_any_point_of_a_write_loop(tmp_path, delay):
    _run_and_interrupt(_LOOP, tmp_path, signal.SIGTERM, delay)
    assert _hidden(tmp_path) == []
    assert all(p.read_text() == "x" * 1000 for p in tmp_path.iterdir())  # complete files only


@pytest.mark.parametrize("sig", [signal.SIGTERM], ids=["SIGTERM"])  # SIGINT: the writer tests above
def test_cli_simulate_save_interrupted(tmp_path, sig):
    rc = _run_and_interrupt(_CLI, tmp_path, sig)
    assert rc == (143 if sig == signal.SIGTERM else 130)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("sig", [signal.SIGINT], ids=["SIGINT"])  # SIGTERM: the same handler as the CLI test
def test_export_staging_folder_removed_on_interrupt(tmp_path, sig):
    _run_and_interrupt(_EXPORT, tmp_path, sig)
    assert list(tmp_path.iterdir()) == []


def test_files_get_the_umask_mode(tmp_path):
    old = os.umask(0o022)
    try:
        p = _io.atomic_write_text(tmp_path / "report.md", "x")
        assert p.stat().st_mode & 0o777 == 0o644
        os.umask(0o077)
        q = _io.atomic_write_text(tmp_path / "private.md", "x")
        assert q.stat().st_mode & 0o777 == 0o600
    finally:
        os.umask(old)
