"""Secrets of the parent stay out of reach: environment, /proc/<parent>, a 0700 directory, signals."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest

from .conftest import failure_of, run_strategy

pytestmark = pytest.mark.sandbox


def test_child_environment_holds_no_secret(canary_env: str) -> None:
    code = "import os\ndef handle_bar(context, bars):\n    raise RuntimeError(repr(dict(os.environ)))\n"
    reason = failure_of(code)
    assert "RuntimeError" in reason and canary_env not in reason and "ZQUANT" not in reason, reason


def test_parent_proc_environ_is_unreadable(canary_env: str) -> None:
    code = ("def handle_bar(context, bars):\n"
            "    raise RuntimeError(open(f\"/proc/{context.params['parent']}/environ\", 'rb').read())\n")
    reason = failure_of(code, params={"parent": os.getpid()})
    assert "Error" in reason and canary_env not in reason, reason


def test_files_in_a_0700_directory_of_the_parent_are_unreadable(tmp_path: Path) -> None:
    secret_dir = tmp_path / "private"
    secret_dir.mkdir(mode=0o700)
    (secret_dir / "key").write_text("canary-file-secret")
    code = ("def handle_bar(context, bars):\n"
            "    raise RuntimeError(open(context.params['path']).read())\n")
    reason = failure_of(code, params={"path": str(secret_dir / "key")})
    assert "Error" in reason and "canary-file-secret" not in reason, reason


def test_killing_the_parent_fails_and_the_parent_lives() -> None:
    code = ("import os, signal\ndef handle_bar(context, bars):\n"
            "    os.kill(context.params['parent'], signal.SIGTERM)\n")
    reason = failure_of(code, params={"parent": os.getpid()})
    assert "forbidden system call" in reason or "PermissionError" in reason, reason
    os.kill(os.getpid(), 0)
    assert signal.getsignal(signal.SIGTERM) is not None


def test_a_failed_run_leaves_the_parent_able_to_run_the_next() -> None:
    failure_of("import os\ndef handle_bar(context, bars):\n    os.fork()\n")
    orders = run_strategy("def handle_bar(context, bars):\n    order_shares(context.universe[1], 100)\n")
    assert [(o.code, o.amount) for o in orders[0]] == [(1, 100.0)]
