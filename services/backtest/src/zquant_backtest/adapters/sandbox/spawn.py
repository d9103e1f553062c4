"""How a child comes to life, seen from the trusted side: a fresh interpreter, or a fork of the zygote.

Either way the parent holds the child's stdin (write end) and stdout (read end), can SIGKILL it, and learns
how it ended (a wait status as `subprocess` reports it: negative for a signal).
"""

from __future__ import annotations

import os
import signal
import subprocess
from typing import Protocol

from .launcher import child_launch
from .limits import SandboxLimits


class Spawned(Protocol):
    down: int
    """The child's stdin, non-blocking."""
    up: int
    """The child's stdout, non-blocking."""

    def kill(self) -> None:
        """SIGKILL, reap, close both pipe ends; safe to call twice."""
        ...

    def exit_code(self, timeout: float) -> int | None:
        """How it ended (negative: the signal), None if still running after `timeout` seconds."""
        ...


class FreshChild(Spawned):
    """A new interpreter in its own session, so the whole process group (bwrap included) can be killed."""

    def __init__(self, limits: SandboxLimits) -> None:
        launch = child_launch(limits)
        self._process = subprocess.Popen(
            launch.argv, env=launch.env, user=launch.user, group=launch.group,
            extra_groups=[] if launch.user is not None else None, start_new_session=True,
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, bufsize=0,
        )
        assert self._process.stdin is not None and self._process.stdout is not None
        self.down, self.up = self._process.stdin.fileno(), self._process.stdout.fileno()
        os.set_blocking(self.down, False)
        os.set_blocking(self.up, False)

    def kill(self) -> None:
        process = self._process
        if process.poll() is None:
            try:
                os.killpg(process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        process.wait()
        for stream in (process.stdin, process.stdout):
            if stream is not None:
                stream.close()

    def exit_code(self, timeout: float) -> int | None:
        try:
            return self._process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return None
