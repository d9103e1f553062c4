"""The trusted side of the pre-warmed zygote (see child/zygote.py for the protocol).

One zygote per worker process and per set of active layers, started on first use under the same launch as a
fresh child (uid, empty environment, Landlock, bubblewrap), restarted if it died. A fork of it skips the
interpreter start and the numpy/pandas imports, which are most of a fresh child's start latency.
"""

from __future__ import annotations

import os
import select
import signal
import socket
import subprocess
import threading
import time
from concurrent.futures import ThreadPoolExecutor

from . import launcher
from .child.zygote import PID, SPAWN
from .limits import SandboxLimits
from .messages import SandboxRunFailed
from .spawn import Spawned


class Zygote:
    def __init__(self) -> None:
        parent_end, zygote_end = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        launch = launcher.zygote_launch(zygote_end.fileno())
        self._process = subprocess.Popen(
            launch.argv, env=launch.env, user=launch.user, group=launch.group,
            extra_groups=[] if launch.user is not None else None, start_new_session=True,
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            pass_fds=[zygote_end.fileno()],
        )
        zygote_end.close()
        self._control = parent_end
        self._lock = threading.Lock()

    def alive(self) -> bool:
        return self._process.poll() is None

    def spawn(self, limits: SandboxLimits) -> ZygoteChild:
        down_r, down_w = os.pipe()
        up_r, up_w = os.pipe()
        mine, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        try:
            with self._lock:
                socket.send_fds(self._control, [SPAWN.pack(limits.memory_bytes, limits.cpu_seconds)],
                                [down_r, up_w, theirs.fileno()])
        except OSError:
            for fd in (down_r, down_w, up_r, up_w):
                os.close(fd)
            mine.close()
            raise
        finally:
            theirs.close()
        os.close(down_r)
        os.close(up_w)
        return ZygoteChild(self, down_w, up_r, mine, limits.start_deadline_s)

    def stop(self) -> None:
        """Kill the zygote's process group (bubblewrap's pid namespace takes its children along)."""
        self._control.close()
        try:
            os.killpg(self._process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self._process.wait()


class ZygoteChild(Spawned):
    """A forked child: the zygote reports its pid, kills it on request and reports how it ended."""

    def __init__(self, zygote: Zygote, down: int, up: int, run: socket.socket, deadline_s: float) -> None:
        self._zygote, self.down, self.up, self._run = zygote, down, up, run
        os.set_blocking(down, False)
        os.set_blocking(up, False)
        self._status: int | None = None
        self._open = True
        reply = self._receive(deadline_s)
        if reply is None or reply[:1] != b"S":
            self.kill()
            raise SandboxRunFailed("the sandbox zygote did not start the strategy")

    def kill(self) -> None:
        if not self._open:
            return
        self._open = False
        try:
            self._run.send(b"K")
        except OSError:
            pass
        if self._status is None and self.exit_code(5.0) is None:
            self._zygote.stop()  # it no longer answers: end it and every child it holds
        self._run.close()
        os.close(self.down)
        os.close(self.up)

    def exit_code(self, timeout: float) -> int | None:
        until = time.monotonic() + timeout
        while self._status is None:
            reply = self._receive(max(until - time.monotonic(), 0.0))
            if reply is None:
                return None
            if reply[:1] == b"X":
                self._status = os.waitstatus_to_exitcode(PID.unpack(reply[1:5])[0])
        return self._status

    def _receive(self, timeout: float) -> bytes | None:
        """One message, or None on timeout or when the zygote is gone."""
        if self._run.fileno() < 0 or not select.select([self._run], [], [], timeout)[0]:
            return None
        try:
            reply = self._run.recv(16)
        except OSError:
            return None
        return reply if len(reply) >= 1 + PID.size else None


_zygotes: dict[tuple[int, tuple[str, ...]], Zygote] = {}
_zygotes_lock = threading.Lock()
_starter = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sandbox-zygote")
"""Zygotes are started from this one long-lived thread: bubblewrap's --die-with-parent fires when the *thread*
that spawned it ends, and the first caller may be a short-lived one (a pool's worker)."""


def spawn_from_zygote(limits: SandboxLimits) -> Spawned:
    """A child forked from this process's zygote for the active layers, starting one when needed (and once
    more when the zygote turns out to have died)."""
    key = (os.getpid(), launcher.probe_layers().layers)
    try:
        return _zygote(key, restart=False).spawn(limits)
    except (OSError, SandboxRunFailed):  # a zygote that died, or one that no longer forks: a fresh one, once
        pass
    try:
        return _zygote(key, restart=True).spawn(limits)
    except OSError:
        raise SandboxRunFailed("the sandbox zygote could not be reached") from None


def _zygote(key: tuple[int, tuple[str, ...]], restart: bool) -> Zygote:
    with _zygotes_lock:
        zygote = _zygotes.get(key)
        if zygote is not None and (restart or not zygote.alive()):
            zygote.stop()
            zygote = None
        if zygote is None:
            zygote = _zygotes[key] = _starter.submit(Zygote).result()
        return zygote
