"""A `BacktestResult` as compact bytes and back: msgpack of plain values, every array as its little-endian
bytes with dtype and shape, the whole zlib-compressed. No pickle either way: decoding builds arrays from
bytes and dataclasses from numbers and strings only."""

from __future__ import annotations

import zlib
from typing import Any

import msgpack
import numpy as np

from zquant_backtest.domain.metrics import Drawdown, TradeStats
from zquant_backtest.domain.performance import Performance
from zquant_backtest.domain.record import EquityCurve, FillRows, PositionRows, RefusalRows
from zquant_backtest.domain.simulation import BacktestResult

FORMAT = 1
_ALLOWED_KINDS = frozenset("fiubM")
_FILL = ("qty", "price", "base_price", "commission", "stamp_duty", "transfer_fee", "slippage", "day", "code")
_REFUSAL = ("day", "code", "reason", "requested", "remaining")
_POSITION = ("day", "code", "qty")
_EQUITY = ("nav", "cash", "market_value", "benchmark_nav")
_PERFORMANCE_FLOATS = (
    "total_return", "annual_return", "annual_volatility", "sharpe", "sortino", "calmar", "alpha", "beta",
    "information_ratio", "tracking_error", "turnover", "total_costs",
)  # fmt: skip


def _array(values: np.ndarray | None) -> dict[str, Any] | None:
    if values is None:
        return None
    little = np.ascontiguousarray(values, dtype=values.dtype.newbyteorder("<"))
    return {"dtype": little.dtype.str, "shape": list(little.shape), "data": little.tobytes()}


def _from(packed: dict[str, Any] | None) -> Any:
    if packed is None:
        return None
    dtype = np.dtype(packed["dtype"])
    if dtype.kind not in _ALLOWED_KINDS:
        raise ValueError(f"stored array of dtype {dtype} is not plain numbers or dates")
    return np.frombuffer(packed["data"], dtype=dtype).reshape(packed["shape"]).copy()


def _day(value: np.datetime64 | None) -> str | None:
    return None if value is None else str(value)


def _columns(rows: object, names: tuple[str, ...]) -> dict[str, Any]:
    return {name: _array(getattr(rows, name)) for name in names}


def encode_result(result: BacktestResult) -> bytes:
    p = result.performance
    performance: dict[str, Any] = {name: float(getattr(p, name)) for name in _PERFORMANCE_FLOATS}
    performance.update(
        rules_version=p.rules_version,
        max_drawdown=[
            float(p.max_drawdown.depth), _day(p.max_drawdown.peak), _day(p.max_drawdown.trough),
            _day(p.max_drawdown.recovery),
        ],
        trades=[int(p.trades.closed), float(p.trades.win_rate), float(p.trades.profit_loss_ratio)],
        monthly=[_array(p.monthly[0]), _array(p.monthly[1])],
        yearly=[_array(p.yearly[0]), _array(p.yearly[1])],
    )  # fmt: skip
    document = {
        "format": FORMAT,
        "dates": _array(result.dates),
        "codes": list(result.codes),
        "equity": _columns(result.equity, _EQUITY),
        "fills": _columns(result.fills, _FILL),
        "refusals": _columns(result.refusals, _REFUSAL),
        "positions": _columns(result.positions, _POSITION),
        "unfilled_at_end": _array(result.unfilled_at_end),
        "performance": performance,
        "rules_version": result.rules_version,
        "fingerprint": result.fingerprint,
    }
    return zlib.compress(msgpack.packb(document, use_bin_type=True), 6)


def _optional_day(text: str | None) -> np.datetime64 | None:
    return None if text is None else np.datetime64(text)


def decode_result(data: bytes) -> BacktestResult:
    """ValueError for anything but a result this module wrote."""
    try:
        return _decoded(msgpack.unpackb(zlib.decompress(data), raw=False, strict_map_key=True))
    except (zlib.error, msgpack.UnpackException, KeyError, TypeError, IndexError) as exc:
        raise ValueError(f"stored result is corrupt: {exc!r}") from exc


def _decoded(document: Any) -> BacktestResult:
    if document.get("format") != FORMAT:
        raise ValueError(f"stored result format {document.get('format')!r} is not {FORMAT}")
    p = document["performance"]
    depth, peak, trough, recovery = p["max_drawdown"]
    closed, win_rate, ratio = p["trades"]
    performance = Performance(
        rules_version=str(p["rules_version"]),
        **{name: float(p[name]) for name in _PERFORMANCE_FLOATS},
        max_drawdown=Drawdown(
            float(depth), _optional_day(peak), _optional_day(trough), _optional_day(recovery)
        ),
        trades=TradeStats(int(closed), float(win_rate), float(ratio)),
        monthly=(_from(p["monthly"][0]), _from(p["monthly"][1])),
        yearly=(_from(p["yearly"][0]), _from(p["yearly"][1])),
    )

    def rows(kind: type, key: str, names: tuple[str, ...]) -> Any:
        return kind(**{name: _from(document[key][name]) for name in names})

    return BacktestResult(
        dates=_from(document["dates"]),
        codes=tuple(str(code) for code in document["codes"]),
        equity=rows(EquityCurve, "equity", _EQUITY),
        fills=rows(FillRows, "fills", _FILL),
        refusals=rows(RefusalRows, "refusals", _REFUSAL),
        positions=rows(PositionRows, "positions", _POSITION),
        unfilled_at_end=_from(document["unfilled_at_end"]),
        performance=performance,
        rules_version=str(document["rules_version"]),
        fingerprint=str(document["fingerprint"]),
    )
