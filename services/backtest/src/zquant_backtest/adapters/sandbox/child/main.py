"""Entry point of the sandboxed child. The order matters and is the security argument:

uid already dropped by the parent (refuse to run as root) -> rlimits -> import the allowed modules ->
read the code and AST-check it -> Landlock -> seccomp -> only then run user code, looping on the pipe.

`run`: one fresh interpreter per strategy. `zygote`: one pre-warmed interpreter (imports done, never runs user
code) forks a child per strategy, which sets its rlimits and continues from "read the code" (see zygote.py).
"""

from __future__ import annotations

import io
import os
import sys
import traceback
from typing import Any

from . import rlimits
from .framing import DOWN_PREFIX, MAX_HEADER_BYTES, PHASES, decode_map, encode_up, read_exact, write_all
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


def _warm_up() -> None:
    """Import everything user code may need now, while the filesystem is still reachable."""
    import bisect  # noqa: F401

    import numpy as np
    import pandas as pd

    frame = pd.DataFrame(np.arange(12.0).reshape(4, 3), columns=list("abc"))
    frame.rolling(2).mean().rank(axis=1).pct_change().fillna(0).describe()
    pd.to_datetime(["2024-01-02"]).to_period("M")
    from . import api, static_check, targets_api  # noqa: F401


def _line_of(exc: BaseException) -> str:
    lines = [f.lineno for f in traceback.extract_tb(exc.__traceback__) if f.filename == "<strategy>"]
    return f" (line {lines[-1]})" if lines else ""


def _reason(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}{_line_of(exc)}"[:2000]


class Child:
    """Holds the two pipe ends."""

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

    def send(self, message: dict[str, Any], raw: bytes = b"") -> None:
        write_all(self.outbound, encode_up(message) + raw)

    def fail(self, reason: str) -> None:
        self.send({"t": "error", "r": reason})
        sys.exit(3)


def main(argv: list[str]) -> None:
    if os.getuid() == 0 or os.geteuid() == 0:
        sys.exit("refusing to run user code as root")
    if argv[0] == "zygote":
        from .zygote import serve

        control_fd, layers, paths = int(argv[1]), argv[2], argv[3:]
        rlimits.apply_for_zygote()
        _warm_up()
        serve(control_fd, lambda memory, cpu: _session(memory, cpu, layers, paths))
        return
    memory_bytes, cpu_seconds, layers, paths = int(argv[1]), int(argv[2]), argv[3], argv[4:]
    rlimits.apply(memory_bytes, cpu_seconds)
    _warm_up()
    _session(None, None, layers, paths)


def _session(memory_bytes: int | None, cpu_seconds: int | None, layers: str, paths: list[str]) -> None:
    """One strategy on fds 0/1, imports done; a forked zygote child sets its rlimits here first."""
    from .static_check import check_source

    if memory_bytes is not None and cpu_seconds is not None:
        rlimits.apply(memory_bytes, cpu_seconds)
    child = Child()
    start, _ = child.receive()
    if start.get("check", True):
        problems = check_source(start["code"])
        if problems:
            child.fail("; ".join(f"line {p.line} col {p.column}: {p.message}" for p in problems))
    try:
        _lock_down(layers, paths)
    except Exception as exc:
        child.fail(f"sandbox setup failed: {type(exc).__name__}: {exc}")
    if start.get("mode") == "vector":
        _serve_targets(child, start)
    else:
        _serve_days(child, start)


def _lock_down(layers: str, paths: list[str]) -> None:
    if "landlock" in layers:
        restrict_to_read_only(paths)
    if "seccomp" in layers:
        apply_allow_list()


def _load(child: Child, start: dict[str, Any], namespace: dict[str, Any], entry: str) -> None:
    try:
        exec(compile(start["code"], "<strategy>", "exec"), namespace)
    except BaseException as exc:
        child.fail(_reason(exc))
    if not callable(namespace.get(entry)):
        child.fail(f"the strategy must define {entry}()")


def _serve_days(child: Child, start: dict[str, Any]) -> None:
    import numpy as np

    from . import api

    codes, fields, factors = list(start["codes"]), list(start["fields"]), list(start["factors"])
    runtime = api.Runtime(codes, fields, factors, start.get("params", {}))
    namespace = runtime.user_globals()
    _load(child, start, namespace, "handle_bar")
    try:
        if callable(namespace.get("initialize")):
            namespace["initialize"](runtime.context)
    except BaseException as exc:
        child.fail(_reason(exc))
    child.send({"t": "ready", "p": [p for p in PHASES if callable(namespace.get(p))]})
    n, f, k = len(codes), len(fields), len(factors)
    while True:
        header, payload = child.receive()
        if header.get("t") != "day":
            return
        block = np.frombuffer(payload, dtype="<f8")
        new_dates = list(header["rd"])
        rows = len(new_dates) * f * n
        runtime.add_rows(new_dates, block[:rows].reshape(len(new_dates), f, n))
        vectors = block[rows : rows + 3 * n].reshape(3, n).copy()
        today = block[rows + 3 * n : rows + (3 + k) * n].reshape(k, n).copy()
        try:
            bars = runtime.start_call(header, vectors, today)
            if header["ph"] == "handle_bar":
                namespace["handle_bar"](runtime.context, bars)
            else:
                namespace[header["ph"]](runtime.context)
        except BaseException as exc:
            child.fail(_reason(exc))
        child.send({"t": "orders", "o": runtime.orders})


def _serve_targets(child: Child, start: dict[str, Any]) -> None:
    import numpy as np

    from . import targets_api

    namespace = targets_api.user_globals()
    _load(child, start, namespace, "targets")
    child.send({"t": "ready", "p": ["targets"]})
    header, payload = child.receive()
    if header.get("t") != "panel":
        return
    codes, dates, factors = list(start["codes"]), list(header["dates"]), list(start["factors"])
    shape = (len(dates), len(codes))
    block = np.frombuffer(payload, dtype="<f8").reshape(1 + len(factors), *shape)
    try:
        context = targets_api.TargetsContext(codes, dates, start.get("params", {}), factors, block)
        raw = targets_api.weights_of(namespace["targets"](context), shape)
    except BaseException as exc:
        child.fail(_reason(exc))
    child.send({"t": "weights"}, raw)
