"""SandboxStrategyPort: the engine's strategy port, with the user's module running in a locked-down child.

Synchronous: it runs in the trusted worker that drives the engine. Each callback sends only the rows the
day's view can see that the child has not been sent yet (so `history()` in the child serves exactly what was
visible, never a later row), the portfolio, the eligible mask and the declared factors, as raw
little-endian float64 buffers; the reply is validated into `OrderRequest`s. Every failure, including a
breached deadline or a crash, kills the child's process group and raises `SandboxRunFailed(reason)`.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from zquant_backtest.application.run_ports import StrategyCode
from zquant_backtest.application.strategy_port import DayView, Phase, StrategyPort, StrategySetup
from zquant_backtest.domain.market import PRICE_FIELDS
from zquant_backtest.domain.order_book import OrderRequest

from .child.framing import encode_down
from .child_process import ChildProcess
from .limits import SandboxLimits
from .messages import SandboxRunFailed, parse_orders, parse_ready
from .session import SandboxedModule, start_child

FIELDS = PRICE_FIELDS
"""The bar fields the child is sent each day (open … amount, pre_close, adj_factor)."""


class SandboxStrategyPort(SandboxedModule, StrategyPort):
    """One user module, one child process, one run: `initialize` starts it, `close` (or leaving a `with`
    block) ends it; the engine itself never closes a strategy."""

    def __init__(self, code: StrategyCode, limits: SandboxLimits | None = None) -> None:
        super().__init__(code, limits)
        self._child: ChildProcess | None = None
        self._phases: frozenset[Phase] | None = None
        self._sent_rows = 0
        self._next_id = 1
        self._codes: tuple[str, ...] = ()

    @property
    def phases(self) -> frozenset[Phase]:
        """As the child reported once the module was loaded (known after `initialize`)."""
        if self._phases is None:
            raise RuntimeError("the strategy's callbacks are known once initialize() has started it")
        return self._phases

    def initialize(self, setup: StrategySetup) -> None:
        self.close()
        self._codes, self._sent_rows, self._next_id = setup.codes, 0, 1
        self._child, ready = start_child(self._facts, self._limits, "event", setup.codes, setup.params, FIELDS)
        try:
            self._phases = parse_ready(ready, Phase.HANDLE_BAR.value)
        except SandboxRunFailed as failed:
            self._child.fail(failed.reason)

    def decide(self, view: DayView) -> Sequence[OrderRequest]:
        child = self._child
        if child is None:
            raise SandboxRunFailed("sandbox is not running")
        if view.codes != self._codes:
            child.fail("the day's codes differ from the run's")
        frame = encode_down(*self._day_frame(child, view))
        reply, _ = child.exchange(frame, self._limits.day_deadline_s)
        try:
            requests = parse_orders(reply, len(self._codes), self._next_id)
        except SandboxRunFailed as failed:
            child.fail(failed.reason)
        self._next_id += len(requests)
        return requests

    def close(self) -> None:
        """End the run; the child is killed whatever state it is in. Safe to call twice."""
        child, self._child = self._child, None
        if child is not None:
            child.kill()

    def __enter__(self) -> SandboxStrategyPort:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _day_frame(self, child: ChildProcess, view: DayView) -> tuple[dict[str, object], memoryview]:
        """Header and payload: new rows (rows x fields x codes), qty, sellable, eligible, factors (k x codes)."""
        market, n, k = view.market, len(self._codes), len(self._facts.factors)
        new_rows = max(market.visible - self._sent_rows, 0)
        rows = new_rows * len(FIELDS)
        buffer = np.empty((rows + 3 + k) * n, dtype="<f8")
        if new_rows:  # straight from the panel's rows the view may see (MarketWindow.history would copy twice)
            block = buffer[: rows * n].reshape(new_rows, len(FIELDS), n)
            seen = slice(market.visible - new_rows, market.visible)
            for j, field in enumerate(FIELDS):
                block[:, j] = getattr(market.panel, field)[seen]
        folio = view.portfolio
        vectors = buffer[rows * n : (rows + 3) * n].reshape(3, n)
        vectors[0], vectors[1], vectors[2] = folio.qty, folio.sellable, view.eligible
        for index, name in enumerate(self._facts.factors):
            buffer[(rows + 3 + index) * n : (rows + 4 + index) * n] = self._factor(child, view, name, n)
        days = market.panel.days[market.visible - new_rows : market.visible]
        self._sent_rows = market.visible
        header: dict[str, object] = {"t": "day", "d": view.now.isoformat(), "ph": view.phase.value,
                                     "c": float(folio.cash), "v": float(folio.total_value),
                                     "rd": [d.isoformat() for d in days]}
        return header, buffer.data.cast("B")

    @staticmethod
    def _factor(child: ChildProcess, view: DayView, name: str, n: int) -> np.ndarray:
        try:
            values = np.asarray(view.factor(name), dtype=np.float64)
        except LookupError as exc:
            child.fail(f"factor '{name}' declared in FACTORS is not available: {exc}")
        if values.shape != (n,):
            child.fail(f"factor '{name}' has {values.size} values for {n} codes")
        return values

