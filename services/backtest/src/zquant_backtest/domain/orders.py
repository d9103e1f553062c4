"""What the fill kernel takes and gives back: the fill day's bars, the settings, the fills and the refusals."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum, IntEnum

from zquant_backtest.domain.arrays import BoolArray, FloatArray, IntArray
from zquant_backtest.domain.costs import CommissionModel


class Timing(Enum):
    """When an order decided on day t fills, always on day t+1's own bar."""

    OPEN = "open"
    CLOSE = "close"
    VWAP = "vwap"


class Reason(IntEnum):
    """Why an order was refused or cut; every cut is recorded, nothing is dropped silently."""

    LIMIT_UP_LOCKED = 1
    LIMIT_DOWN_LOCKED = 2
    T1_NOT_SELLABLE = 3
    LOT_SIZE = 4
    SUSPENDED = 5
    INSUFFICIENT_CASH = 6
    VOLUME_CAP = 7
    NO_POSITION = 8
    NOT_IN_UNIVERSE = 9
    """A buy of a code outside the day's universe, refused when it was placed (recorded on the decision day)."""
    NO_PRICE = 10
    """A value, percent or weight order on a code with no close yet to turn it into shares (decision day)."""


@dataclass(frozen=True, eq=False)
class DayBars:
    """One day's unadjusted bars over the universe (Tushare units: ``volume`` in 手 = 100 shares, ``amount`` in
    千元). ``has_bar`` is False for a suspended code. ``up_limit`` / ``down_limit`` are ``stk_limit``'s, NaN where
    not synced; ``list_days`` counts trading days since listing (1 on the listing day)."""

    open: FloatArray
    high: FloatArray
    low: FloatArray
    close: FloatArray
    volume: FloatArray
    amount: FloatArray
    pre_close: FloatArray
    has_bar: BoolArray
    is_st: BoolArray
    list_days: IntArray
    up_limit: FloatArray | None = None
    down_limit: FloatArray | None = None


@dataclass(frozen=True)
class FillSettings:
    timing: Timing = Timing.OPEN
    slippage_bps: float = 0.0
    volume_cap: float | None = None
    """Largest fraction of the bar's volume one order may take; the rest expires."""
    commission: CommissionModel = field(default_factory=CommissionModel)


@dataclass(frozen=True, eq=False)
class Refusals:
    """One row per cut: order ``index`` went from ``requested`` to ``remaining`` shares for ``reason``."""

    index: IntArray
    reason: IntArray
    requested: IntArray
    remaining: IntArray

    def reasons_of(self, index: int) -> list[Reason]:
        return [Reason(int(r)) for r in self.reason[self.index == index]]


@dataclass(frozen=True, eq=False)
class FillColumns:
    """What every fill records: ``qty`` signed (buys positive), the price paid or received (slippage included),
    the fill day's open / close / VWAP before slippage, and the costs and slippage in CNY."""

    qty: IntArray
    price: FloatArray
    base_price: FloatArray
    commission: FloatArray
    stamp_duty: FloatArray
    transfer_fee: FloatArray
    slippage: FloatArray

    @property
    def costs(self) -> FloatArray:
        return self.commission + self.stamp_duty + self.transfer_fee


@dataclass(frozen=True, eq=False)
class DayFills(FillColumns):
    """Fills of one day, one slot per code, with the signed cash flow per code (sale proceeds net of costs, buys
    negative with their costs)."""

    cash_flow: FloatArray
    refusals: Refusals
