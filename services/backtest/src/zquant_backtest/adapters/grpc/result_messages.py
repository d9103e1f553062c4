"""A stored `BacktestResult` and a comparison as BacktestService messages; rows are windowed."""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np

from zquant.backtest.v1 import backtest_pb2 as pb
from zquant_backtest.adapters.grpc.json_fields import json_text
from zquant_backtest.application.task_results import Comparison
from zquant_backtest.domain.comparison import RunSide
from zquant_backtest.domain.orders import Reason
from zquant_backtest.domain.simulation import BacktestResult

DEFAULT_ROWS = 1000


def metrics(values: Mapping[str, float]) -> pb.Metrics:
    fields = pb.Metrics.DESCRIPTOR.fields_by_name
    known = {name: float(v) for name, v in values.items() if name in fields and name != "closed_trades"}
    closed = float(values.get("closed_trades", 0.0))
    return pb.Metrics(**known, closed_trades=int(closed) if math.isfinite(closed) else 0)


def _reason(value: int) -> str:
    try:
        return Reason(value).name
    except ValueError:
        return str(value)


def result(task_id: str, stored: BacktestResult, values: Mapping[str, float], offset: int, limit: int):
    limit = limit or DEFAULT_ROWS
    window = slice(offset, offset + limit)
    days = [str(day).replace("-", "") for day in stored.dates.astype("datetime64[D]")]
    codes = stored.codes
    equity = stored.equity
    fills, refusals, positions = stored.fills, stored.refusals, stored.positions
    return pb.GetBacktestResultResponse(
        task_id=task_id,
        metrics=metrics(values),
        equity=pb.EquityCurve(
            dates=days,
            nav=equity.nav.tolist(),
            cash=equity.cash.tolist(),
            market_value=equity.market_value.tolist(),
            benchmark_nav=[] if equity.benchmark_nav is None else equity.benchmark_nav.tolist(),
        ),  # fmt: skip
        fills=[
            pb.Fill(
                trade_date=days[d],
                ts_code=codes[c],
                qty=int(q),
                price=p,
                base_price=b,
                commission=cm,
                stamp_duty=sd,
                transfer_fee=tf,
                slippage=sl,
            )  # fmt: skip
            for d, c, q, p, b, cm, sd, tf, sl in zip(
                fills.day[window],
                fills.code[window],
                fills.qty[window],
                fills.price[window].tolist(),
                fills.base_price[window].tolist(),
                fills.commission[window].tolist(),
                fills.stamp_duty[window].tolist(),
                fills.transfer_fee[window].tolist(),
                fills.slippage[window].tolist(),
            )  # fmt: skip
        ],
        refusals=[
            pb.Refusal(
                trade_date=days[d],
                ts_code=codes[c],
                reason=_reason(int(r)),
                requested=int(q),
                remaining=int(m),
            )
            for d, c, r, q, m in zip(
                refusals.day[window],
                refusals.code[window],
                refusals.reason[window],
                refusals.requested[window],
                refusals.remaining[window],
            )  # fmt: skip
        ],
        positions=[
            pb.Position(trade_date=days[d], ts_code=codes[c], qty=int(q))
            for d, c, q in zip(positions.day[window], positions.code[window], positions.qty[window])
        ],
        total_fills=int(np.size(fills.qty)),
        total_refusals=int(np.size(refusals.reason)),
        total_positions=int(np.size(positions.qty)),
        fingerprint=stored.fingerprint,
        rules_version=stored.rules_version,
    )


def _summary(side: RunSide) -> pb.RunSummary:
    return pb.RunSummary(
        task_id=side.task_id, code_hash=side.code_hash, params_json=json_text(dict(side.params)),
        rules_version=side.rules_version, data_version=side.data_version, fingerprint=side.fingerprint,
        metrics=metrics(side.metrics),
    )  # fmt: skip


def comparison(found: Comparison) -> pb.CompareRunsResponse:
    return pb.CompareRunsResponse(
        first=_summary(found.first),
        second=_summary(found.second),
        differences=[
            pb.RunDifference(field=d.field, first=d.first, second=d.second) for d in found.differences
        ],
        same_fingerprint=found.same_fingerprint,
    )
