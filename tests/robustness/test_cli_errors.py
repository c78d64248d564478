"""The CLI's last line of defence: errors that escape a command become one line and an exit status."""

from __future__ import annotations

import signal

import pytest

from attnflow.cli import main
from attnflow.commands import profile


@pytest.mark.parametrize("exc, code, text", [
    (OSError(28, "No space left on device"), 1, "No space left on device"),
    (MemoryError(), 1, "out of memory"),
    (KeyboardInterrupt(), 130, "interrupted"),
])
def test_escaping_errors_become_messages(monkeypatch, capsys, exc, code, text):
    def boom(args):
        raise exc

    monkeypatch.setattr(profile, "run", boom)
    assert main(["profile"]) == code
    err = capsys.readouterr().err
    assert text in err and "Traceback" not in err


def test_sigterm_handler_is_restored_for_in_process_callers(capsys):
    before = signal.getsignal(signal.SIGTERM)
    assert main(["profile", "--t", "0.5"]) == 0
    assert signal.getsignal(signal.SIGTERM) is before
