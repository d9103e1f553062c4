"""The pre-warmed zygote: numpy and pandas imported once, one forked child per strategy.

It never sees user code (the code goes straight to the child over the child's own pipe) and never runs any.
Protocol on the control socket (SOCK_SEQPACKET, from the trusted parent): `<QQ` address-space bytes and CPU
seconds, with three descriptors attached: the child's stdin and stdout pipe ends and a per-run socket. On the
per-run socket the zygote answers `S` + `<i` pid once forked and `X` + `<i` wait status once the child is gone;
the parent sends `K` (or closes it) to have the child SIGKILLed. The forked child keeps only its two pipe ends,
sets its rlimits, and goes on as a fresh child would after its imports: static check, Landlock, seccomp, loop.
"""

from __future__ import annotations

import os
import selectors
import signal
import socket
import struct
from collections.abc import Callable

SPAWN = struct.Struct("<QQ")
PID = struct.Struct("<i")

Session = Callable[[int, int], None]


def serve(control_fd: int, session: Session) -> None:
    """Fork children until the parent closes the control socket; then kill the ones still running.

    The zygote itself stays outside Landlock and seccomp (it forks, waits and opens /dev/null for its
    children); each child applies both before running anything it was sent."""
    control = socket.socket(fileno=control_fd)
    selector = selectors.DefaultSelector()
    selector.register(control, selectors.EVENT_READ, None)
    runs: dict[int, tuple[int, socket.socket]] = {}
    while True:
        for key, _ in selector.select():
            if key.data is None:
                if not _spawn(control, session, selector, runs):
                    for pid, _run in runs.values():
                        _kill(pid)
                    return
            elif key.data[0] == "exit":
                _reap(key.data[1], selector, runs)
            else:
                _on_request(key.data[1], selector, runs)


def _spawn(control: socket.socket, session: Session, selector: selectors.BaseSelector,
           runs: dict[int, tuple[int, socket.socket]]) -> bool:
    message, fds, _flags, _addr = socket.recv_fds(control, SPAWN.size, 3)
    if not message:
        return False
    if len(message) != SPAWN.size or len(fds) != 3:
        for fd in fds:
            os.close(fd)
        return True
    memory_bytes, cpu_seconds = SPAWN.unpack(message)
    down, up, run_fd = fds
    run = socket.socket(fileno=run_fd)
    pid = os.fork()
    if pid == 0:
        _become_child(down, up, session, memory_bytes, cpu_seconds)
    os.close(down)
    os.close(up)
    pidfd = os.pidfd_open(pid)
    runs[pidfd] = (pid, run)
    selector.register(pidfd, selectors.EVENT_READ, ("exit", pidfd))
    selector.register(run, selectors.EVENT_READ, ("request", pidfd))
    _send(run, b"S" + PID.pack(pid))
    return True


def _become_child(down: int, up: int, session: Session, memory_bytes: int, cpu_seconds: int) -> None:
    """Never returns into the zygote's loop, whatever happens."""
    status = 1
    try:
        os.dup2(down, 0)
        os.dup2(up, 1)
        os.closerange(3, os.sysconf("SC_OPEN_MAX"))  # the control socket, other runs' sockets and pipes
        session(memory_bytes, cpu_seconds)
        status = 0
    except SystemExit as exc:
        status = exc.code if isinstance(exc.code, int) else 1
    finally:
        os._exit(status)


def _reap(pidfd: int, selector: selectors.BaseSelector, runs: dict[int, tuple[int, socket.socket]]) -> None:
    pid, run = runs.pop(pidfd)
    _, status = os.waitpid(pid, 0)
    selector.unregister(pidfd)
    if run in (key.fileobj for key in selector.get_map().values()):
        selector.unregister(run)
    os.close(pidfd)
    _send(run, b"X" + PID.pack(status))
    run.close()


def _on_request(pidfd: int, selector: selectors.BaseSelector, runs: dict[int, tuple[int, socket.socket]]) -> None:
    """`K` or a closed socket: the parent wants the child gone (its exit is still reported)."""
    pid, run = runs[pidfd]
    try:
        run.recv(8)
    except OSError:
        pass
    selector.unregister(run)
    _kill(pid)


def _kill(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def _send(run: socket.socket, data: bytes) -> None:
    try:
        run.send(data)
    except OSError:
        pass  # the parent gave up on this run already
