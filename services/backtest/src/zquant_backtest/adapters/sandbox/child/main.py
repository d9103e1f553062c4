"""Entry point of the sandboxed child. The order matters and is the security argument:

uid already dropped by the parent (refuse to run as root) -> rlimits -> import the allowed modules ->
read the code and AST-check it -> Landlock -> seccomp -> only then run user code, looping on the pipe.
"""

from __future__ import annotations

import io
import os
import resource
import sys
import traceback
from typing import Any

from .framing import DOWN_PREFIX, MAX_HEADER_BYTES, decode_map, encode_up, read_exact
from .landlock import restrict_to_read_only
from .seccomp_filter import apply_allow_list

OUTPUT_CAP_CHARS = 1 << 20


class CappedSink(io.TextIOBase):
    """Replaces sys.stdout/stderr: discards prints, fails the run past a cap (1 GB of output ends here)."""

    def __init__(self) -> None:
        self.written = 0

    def write(self, text: str) -> int:
        self.written += len(text)
        if self.written > OUTPUT_CAP_CHARS:
            raise RuntimeError("output limit exceeded")
        return len(text)


def _set_rlimits(memory_bytes: int, cpu_seconds: int) -> None:
    limits = {
        resource.RLIMIT_AS: memory_bytes, resource.RLIMIT_CPU: cpu_seconds, resource.RLIMIT_NOFILE: 64,
        resource.RLIMIT_FSIZE: 0, resource.RLIMIT_CORE: 0, resource.RLIMIT_NPROC: 0,
    }
    for which, value in limits.items():
        resource.setrlimit(which, (value, value))


def _warm_up() -> Any:
    """Import everything user code may need now, while the filesystem is still reachable."""
    import bisect  # noqa: F401

    import numpy as np
    import pandas as pd

    frame = pd.DataFrame(np.arange(12.0).reshape(4, 3), columns=list("abc"))
    frame.rolling(2).mean().rank(axis=1).pct_change().fillna(0).describe()
    from . import api

    return api


def _line_of(exc: BaseException) -> str:
    lines = [f.lineno for f in traceback.extract_tb(exc.__traceback__) if f.filename == "<strategy>"]
    return f" (line {lines[-1]})" if lines else ""


def _reason(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}{_line_of(exc)}"[:2000]


class Child:
    """Holds the two pipe ends and the runtime once started."""

    def __init__(self) -> None:
        self.inbound = io.FileIO(os.dup(0), "rb")
        self.outbound = io.FileIO(os.dup(1), "wb")
        devnull = os.open(os.devnull, os.O_RDWR)
        os.dup2(devnull, 0)
        os.dup2(devnull, 1)
        os.dup2(devnull, 2)
        os.close(devnull)
        sys.stdout = sys.stderr = CappedSink()

    def receive(self) -> tuple[dict[str, Any], bytearray]:
        head_len, payload_len = DOWN_PREFIX.unpack(read_exact(self.inbound, DOWN_PREFIX.size))
        header = decode_map(bytes(read_exact(self.inbound, head_len)), MAX_HEADER_BYTES)
        return header, read_exact(self.inbound, payload_len) if payload_len else bytearray()

    def send(self, message: dict[str, Any]) -> None:
        self.outbound.write(encode_up(message))

    def fail(self, reason: str) -> None:
        self.send({"t": "error", "r": reason})
        sys.exit(3)


def main(argv: list[str]) -> None:
    memory_bytes, cpu_seconds, layers, paths = int(argv[0]), int(argv[1]), argv[2], argv[3:]
    if os.getuid() == 0 or os.geteuid() == 0:
        sys.exit("refusing to run user code as root")
    _set_rlimits(memory_bytes, cpu_seconds)
    api = _warm_up()
    child = Child()
    start, _ = child.receive()
    if start.get("check", True):
        from .static_check import check_source

        problems = check_source(start["code"])
        if problems:
            child.fail("; ".join(f"line {p.line} col {p.column}: {p.message}" for p in problems))
    try:
        _lock_down(layers, paths)
    except Exception as exc:
        child.fail(f"sandbox setup failed: {type(exc).__name__}: {exc}")
    _serve(child, api, start)


def _lock_down(layers: str, paths: list[str]) -> None:
    if "landlock" in layers:
        restrict_to_read_only(paths)
    if "seccomp" in layers:
        apply_allow_list()


def _serve(child: Child, api: Any, start: dict[str, Any]) -> None:
    import numpy as np

    codes, fields = list(start["codes"]), list(start["fields"])
    runtime = api.Runtime(codes, fields, start.get("params", {}))
    namespace = runtime.user_globals()
    n, f = len(codes), len(fields)
    try:
        exec(compile(start["code"], "<strategy>", "exec"), namespace)
        if callable(namespace.get("initialize")):
            namespace["initialize"](runtime.context)
        handle_bar = namespace["handle_bar"]
    except BaseException as exc:
        child.fail(_reason(exc))
    child.send({"t": "ready"})
    while True:
        header, payload = child.receive()
        if header.get("t") != "day":
            return
        block = np.frombuffer(payload, dtype="<f8")
        bars, shares = block[: n * f].reshape(n, f), block[n * f :].copy()
        try:
            handle_bar(runtime.context, runtime.start_day(header["d"], bars, header["c"], shares))
        except BaseException as exc:
            child.fail(_reason(exc))
        child.send({"t": "orders", "o": runtime.orders})
