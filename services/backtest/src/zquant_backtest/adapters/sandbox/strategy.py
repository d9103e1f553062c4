"""SandboxStrategy: the strategy port's adapter that runs user code in a locked-down child process.

The parent trusts nothing from the child: replies are length-capped msgpack maps validated field by
field, every exchange has a per-day deadline inside a total one, and any breach kills the child's
process group and fails only this run with a reason.
"""

from __future__ import annotations

import asyncio
import os
import signal
import time
from dataclasses import dataclass
from typing import Any, NoReturn

import numpy as np
from numpy.typing import NDArray

from .child.framing import MAX_REPLY_BYTES, UP_PREFIX, decode_map, encode_down
from .launcher import child_launch
from .messages import PortfolioView, SandboxOrder, SandboxRunFailed, parse_orders, parse_ready


@dataclass(frozen=True)
class SandboxLimits:
    """Resource limits and deadlines of one run."""

    memory_bytes: int = 3 << 29  # 1.5 GiB of address space
    cpu_seconds: int = 600
    start_deadline_s: float = 30.0
    day_deadline_s: float = 5.0
    total_deadline_s: float = 3600.0
    static_check: bool = True


_SIGNAL_REASONS = {
    signal.SIGSYS: "forbidden system call (seccomp)",
    signal.SIGKILL: "killed (memory or time limit)",
    signal.SIGXCPU: "CPU time limit exceeded",
    signal.SIGSEGV: "crashed (segmentation fault)",
}


class SandboxStrategy:
    """One user strategy, one child process, one run."""

    def __init__(self, limits: SandboxLimits | None = None) -> None:
        self._limits = limits or SandboxLimits()
        self._process: asyncio.subprocess.Process | None = None
        self._shape = (0, 0)
        self._deadline = 0.0

    async def start(self, code: str, params: dict[str, Any], codes: list[str], fields: list[str]) -> None:
        """Start the child, send it the code, wait until initialize() has run."""
        limits = self._limits
        launch = child_launch(limits.memory_bytes, limits.cpu_seconds)
        self._deadline = time.monotonic() + limits.total_deadline_s
        self._shape = (len(codes), len(fields))
        self._process = await asyncio.create_subprocess_exec(
            *launch.argv, env=launch.env, user=launch.user, group=launch.group,
            extra_groups=[] if launch.user is not None else None, start_new_session=True,
            stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.DEVNULL, limit=MAX_REPLY_BYTES + UP_PREFIX.size,
        )
        header = {"t": "start", "code": code, "params": params, "codes": codes, "fields": fields,
                  "check": limits.static_check}
        parse_ready(await self._exchange(encode_down(header), limits.start_deadline_s))

    async def on_day(
        self, date: str, bars: NDArray[np.float64], portfolio: PortfolioView
    ) -> list[SandboxOrder]:
        """Show the child one day (bars: codes x fields) and return its validated orders."""
        n, f = self._shape
        if bars.shape != (n, f) or portfolio.shares.shape != (n,):
            raise ValueError(f"expected bars {n}x{f} and {n} shares, got {bars.shape} and {portfolio.shares.shape}")
        payload = np.ascontiguousarray(bars, dtype="<f8").tobytes()
        payload += np.ascontiguousarray(portfolio.shares, dtype="<f8").tobytes()
        header = {"t": "day", "d": date, "c": float(portfolio.cash)}
        reply = await self._exchange(encode_down(header, payload), self._limits.day_deadline_s)
        return parse_orders(reply, n)

    async def close(self) -> None:
        """End the run; the child is killed whatever state it is in."""
        process, self._process = self._process, None
        if process is not None:
            await _kill(process)

    async def _exchange(self, frame: bytes, deadline_s: float) -> dict[str, Any]:
        process = self._process
        if process is None or process.stdin is None or process.stdout is None:
            raise SandboxRunFailed("sandbox is not running")
        budget = min(deadline_s, self._deadline - time.monotonic())
        try:
            async with asyncio.timeout(max(budget, 0.0)):
                process.stdin.write(frame)
                await process.stdin.drain()
                size = UP_PREFIX.unpack(await process.stdout.readexactly(UP_PREFIX.size))[0]
                if size > MAX_REPLY_BYTES:
                    raise SandboxRunFailed(f"reply too large ({size} bytes > {MAX_REPLY_BYTES})")
                body = await process.stdout.readexactly(size)
            return decode_map(body, MAX_REPLY_BYTES)
        except TimeoutError:
            await self._fail(f"deadline exceeded ({budget:.1f}s)")
        except (asyncio.IncompleteReadError, ConnectionError, BrokenPipeError):
            await self._fail(await _exit_reason(process))
        except ValueError as exc:
            await self._fail(f"invalid reply from sandbox: {exc}")
        except SandboxRunFailed as exc:
            await self._fail(exc.reason)

    async def _fail(self, reason: str) -> NoReturn:
        await self.close()
        raise SandboxRunFailed(reason)


async def _kill(process: asyncio.subprocess.Process) -> None:
    if process.returncode is None:
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    await process.wait()


async def _exit_reason(process: asyncio.subprocess.Process) -> str:
    try:
        code = await asyncio.wait_for(process.wait(), timeout=5.0)
    except TimeoutError:
        return "sandbox closed its pipe"
    signum = -code if code < 0 else code - 128 if code > 128 else 0
    if signum:
        return f"sandbox {_SIGNAL_REASONS.get(signal.Signals(signum), f'killed by signal {signum}')}"
    return f"sandbox exited unexpectedly (status {code})"
