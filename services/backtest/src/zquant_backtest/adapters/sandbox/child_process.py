"""One sandboxed child seen from the trusted side: deadline-bound frame exchange, kill, why it ended.

Blocking code on purpose: it runs inside a worker process, never on the event loop. Both pipe ends are
non-blocking and every read and write waits through one selector until the exchange's deadline, so a
child that stops reading or never answers cannot stall the worker. Any breach kills the process group.
"""

from __future__ import annotations

import logging
import os
import selectors
import signal
import time
from collections.abc import Sequence
from typing import Any, NoReturn

from .child.framing import MAX_REPLY_BYTES, UP_PREFIX, decode_map
from .limits import SandboxLimits
from .messages import SandboxRunFailed
from .spawn import FreshChild
from .zygote import spawn_from_zygote

log = logging.getLogger(__name__)

_SIGNAL_REASONS = {
    signal.SIGSYS: "forbidden system call (seccomp)",
    signal.SIGKILL: "killed (memory or time limit)",
    signal.SIGXCPU: "CPU time limit exceeded",
    signal.SIGSEGV: "crashed (segmentation fault)",
}


class _Deadline(Exception):
    pass


class _Closed(Exception):
    pass


class ChildProcess:
    """Frames go down as bytes, replies come up as validated msgpack maps (or a fixed raw block)."""

    def __init__(self, limits: SandboxLimits) -> None:
        self._total_until = time.monotonic() + limits.total_deadline_s
        try:
            self._child = spawn_from_zygote(limits) if limits.zygote else FreshChild(limits)
        except (OSError, RuntimeError):
            log.exception("the sandbox could not be started")
            raise SandboxRunFailed("the sandbox could not be started (the worker's log says why)") from None
        self._down, self._up = self._child.down, self._child.up
        self._readable, self._writable = selectors.DefaultSelector(), selectors.DefaultSelector()
        self._readable.register(self._up, selectors.EVENT_READ)  # registered once: one syscall per wait
        self._writable.register(self._down, selectors.EVENT_WRITE)
        self._alive = True

    def exchange(
        self, frame: Sequence[bytes | memoryview], deadline_s: float, raw_reply: int = 0
    ) -> tuple[dict[str, Any], bytes]:
        """Send one frame, read one reply map (plus `raw_reply` fixed bytes when the map says so)."""
        if not self._alive:
            raise SandboxRunFailed("sandbox is not running")
        budget = max(min(deadline_s, self._total_until - time.monotonic()), 0.0)
        until = time.monotonic() + budget
        try:
            self._write(frame, until)
            size = UP_PREFIX.unpack(self._read(UP_PREFIX.size, until))[0]
            if size > MAX_REPLY_BYTES:
                self.fail(f"reply too large ({size} bytes > {MAX_REPLY_BYTES})")
            message = decode_map(self._read(size, until), MAX_REPLY_BYTES)
            raw = self._read(raw_reply, until) if raw_reply and message.get("t") != "error" else b""
            return message, raw
        except _Deadline:
            self.fail(f"deadline exceeded ({budget:.1f}s)")
        except (_Closed, BrokenPipeError, ConnectionError):
            self.fail(self._exit_reason())
        except ValueError as exc:
            self.fail(f"invalid reply from sandbox: {exc}")

    def fail(self, reason: str) -> NoReturn:
        """Kill the child and fail the run with `reason`."""
        self.kill()
        raise SandboxRunFailed(reason)

    def kill(self) -> None:
        """SIGKILL the whole process group, whatever state it is in, and reap it."""
        if self._alive:
            self._alive = False
            self._readable.close()
            self._writable.close()
            self._child.kill()

    def _write(self, frame: Sequence[bytes | memoryview], until: float) -> None:
        for part in frame:
            view = memoryview(part)
            while view:
                try:
                    view = view[os.write(self._down, view) :]
                except BlockingIOError:
                    self._wait(self._writable, until)

    def _read(self, size: int, until: float) -> bytes:
        chunks, missing = [], size
        while missing:
            try:
                chunk = os.read(self._up, missing)
            except BlockingIOError:
                self._wait(self._readable, until)
                continue
            if not chunk:
                raise _Closed
            chunks.append(chunk)
            missing -= len(chunk)
        return b"".join(chunks)

    @staticmethod
    def _wait(selector: selectors.BaseSelector, until: float) -> None:
        left = until - time.monotonic()
        if left <= 0 or not selector.select(left):
            raise _Deadline

    def _exit_reason(self) -> str:
        code = self._child.exit_code(5.0)
        if code is None:
            return "sandbox closed its pipe"
        signum = -code if code < 0 else code - 128 if code > 128 else 0
        known = {int(s): reason for s, reason in _SIGNAL_REASONS.items()}
        if signum:
            return f"sandbox {known.get(signum, f'killed by signal {signum}')}"
        return f"sandbox exited unexpectedly (status {code})"
