"""Small hand-made universes for the rules tests: one-day bars from a few keyword arrays."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import pytest

from zquant_backtest.domain.boards import boards_of, exchanges_of
from zquant_backtest.domain.fills import Universe
from zquant_backtest.domain.orders import DayBars

BarsFactory = Callable[..., DayBars]


def _bars(n: int = 1, **given: object) -> DayBars:
    """Defaults: open 10.00, high 10.20, low 9.90, close 10.00, pre_close 10.00, 1,000 手, long listed, not ST."""

    def field(name: str, default: float) -> np.ndarray:
        value = given.get(name, default)
        return np.broadcast_to(np.asarray(value, dtype=np.float64), (n,)).copy()

    has_bar = np.broadcast_to(np.asarray(given.get("has_bar", True), dtype=bool), (n,)).copy()
    return DayBars(
        open=field("open", 10.0),
        high=field("high", 10.2),
        low=field("low", 9.9),
        close=field("close", 10.0),
        volume=np.where(has_bar, field("volume", 1_000.0), 0.0),
        amount=field("amount", 1_000.0),
        pre_close=field("pre_close", 10.0),
        has_bar=has_bar,
        is_st=np.broadcast_to(np.asarray(given.get("is_st", False), dtype=bool), (n,)).copy(),
        list_days=np.broadcast_to(np.asarray(given.get("list_days", 1_000), dtype=np.int64), (n,)).copy(),
        up_limit=None if "up_limit" not in given else field("up_limit", np.nan),
        down_limit=None if "down_limit" not in given else field("down_limit", np.nan),
    )


@pytest.fixture
def bars() -> BarsFactory:
    return _bars


@pytest.fixture
def universe_of() -> Callable[[Sequence[str]], Universe]:
    return lambda codes: Universe(boards=boards_of(codes), exchanges=exchanges_of(codes))
