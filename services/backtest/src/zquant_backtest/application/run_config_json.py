"""A run's config as plain JSON values: stored with the task, shown by CompareRuns, never pickled."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from zquant_backtest.application.run_ports import CostConfig, EngineKind, RunConfig
from zquant_backtest.domain.orders import Timing
from zquant_backtest.domain.params import ParamValue


def config_to_json(config: RunConfig) -> dict[str, Any]:
    costs = config.costs
    return {
        "start": config.start.isoformat(),
        "end": config.end.isoformat(),
        "initial_cash": config.initial_cash,
        "codes": list(config.codes),
        "index_code": config.index_code,
        "benchmark": config.benchmark,
        "costs": {
            "commission_rate": costs.commission_rate,
            "min_commission": costs.min_commission,
            "slippage_bps": costs.slippage_bps,
            "volume_cap": costs.volume_cap,
        },
        "timing": config.timing.value,
        "params": dict(config.params),
        "engine": config.engine.value,
    }


def _param(value: object) -> ParamValue:
    if isinstance(value, bool | int | float | str):
        return value
    raise ValueError(f"param value {value!r} is not a bool, number or string")


def config_from_json(data: Mapping[str, Any]) -> RunConfig:
    costs = data["costs"]
    return RunConfig(
        start=dt.date.fromisoformat(data["start"]),
        end=dt.date.fromisoformat(data["end"]),
        initial_cash=float(data["initial_cash"]),
        codes=tuple(str(code) for code in data["codes"]),
        index_code=data["index_code"],
        benchmark=data["benchmark"],
        costs=CostConfig(
            commission_rate=float(costs["commission_rate"]),
            min_commission=float(costs["min_commission"]),
            slippage_bps=float(costs["slippage_bps"]),
            volume_cap=None if costs["volume_cap"] is None else float(costs["volume_cap"]),
        ),
        timing=Timing(data["timing"]),
        params={str(name): _param(value) for name, value in data["params"].items()},
        engine=EngineKind(data["engine"]),
    )


def settings_of(config: RunConfig) -> dict[str, Any]:
    """Everything but the params, for CompareRuns' `config.<name>` rows."""
    plain = config_to_json(config)
    del plain["params"]
    return plain
