"""The registry of calculators a FactorModel's `model_code` names: inputs, outputs, parameter schema, compute.

`Calculator.validate(params)` fills defaults and checks every parameter against its bounds, raising
`InvalidIndicatorParameter` naming the first bad or unknown one, so a model is only stored with params its
calculator accepts. `price_scaled` says whether a stored (hfq) value must be divided by adj_factor for qfq.
"""

from __future__ import annotations

import numbers
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from zquant_factor.domain.indicators import activity, oscillators, trend, volume
from zquant_factor.domain.indicators.errors import InvalidIndicatorParameter, check_period
from zquant_factor.domain.indicators.state import Computed, State

ParamValue = int | float | bool


@dataclass(frozen=True)
class Param:
    """An integer period unless `kind` says otherwise; bounds are inclusive."""

    name: str
    default: ParamValue
    minimum: float = 1
    maximum: float = 1000
    kind: type = int

    def check(self, value: object) -> ParamValue:
        if self.kind is bool:
            if not isinstance(value, bool):
                raise InvalidIndicatorParameter(self.name, f"must be true or false, got {value!r}")
            return value
        if self.kind is int:
            return check_period(self.name, value, minimum=int(self.minimum), maximum=int(self.maximum))
        if isinstance(value, bool) or not isinstance(value, numbers.Real) or not np.isfinite(float(value)):
            raise InvalidIndicatorParameter(self.name, f"must be a number, got {value!r}")
        if not self.minimum <= float(value) <= self.maximum:
            raise InvalidIndicatorParameter(
                self.name, f"must be in [{self.minimum}, {self.maximum}], got {value}"
            )
        return float(value)


@dataclass(frozen=True)
class Calculator:
    code: str
    inputs: tuple[str, ...]
    outputs: tuple[str, ...]
    params: tuple[Param, ...]
    price_scaled: bool
    resumable: bool
    compute: Callable[..., Computed]

    def validate(self, params: Mapping[str, object]) -> dict[str, ParamValue]:
        known = {param.name: param for param in self.params}
        for name in params:
            if name not in known:
                raise InvalidIndicatorParameter(
                    name, f"is not a parameter of {self.code} (has {sorted(known)})"
                )
        return {name: param.check(params.get(name, param.default)) for name, param in known.items()}

    def run(
        self,
        bars: Mapping[str, NDArray[np.floating]],
        params: Mapping[str, object],
        state: State | None = None,
    ) -> Computed:
        """Compute on the named input panels; `state` (resumable calculators only) continues a previous run."""
        checked: dict[str, Any] = self.validate(params)
        missing = [name for name in self.inputs if name not in bars]
        if missing:
            raise InvalidIndicatorParameter(missing[0], f"{self.code} needs the input panel '{missing[0]}'")
        if self.resumable:
            checked["state"] = state
        return self.compute(*(bars[name] for name in self.inputs), **checked)


HLC = ("high", "low", "close")

CALCULATORS: dict[str, Calculator] = {
    calc.code: calc
    for calc in (
        Calculator("ma", ("close",), ("ma",), (Param("n", 5),), True, False, trend.ma),
        Calculator("ema", ("close",), ("ema",), (Param("n", 12),), True, True, trend.ema),
        Calculator(
            "macd", ("close",), ("dif", "dea", "macd"),
            (Param("fast", 12), Param("slow", 26), Param("signal", 9)), True, True, trend.macd,
        ),
        Calculator(
            "boll", ("close",), ("mid", "upper", "lower"),
            (Param("n", 20), Param("width", 2.0, 0.1, 10.0, float), Param("sample_std", False, kind=bool)),
            True, True, trend.boll,
        ),
        Calculator("atr", HLC, ("atr",), (Param("n", 14),), True, True, volume.atr),
        Calculator(
            "kdj", HLC, ("k", "d", "j"), (Param("n", 9), Param("m1", 3), Param("m2", 3)), False, True, oscillators.kdj,
        ),
        Calculator("rsi", ("close",), ("rsi",), (Param("n", 6),), False, True, oscillators.rsi),
        Calculator("cci", HLC, ("cci",), (Param("n", 14),), False, True, oscillators.cci),
        Calculator("obv", ("close", "vol"), ("obv",), (), False, True, volume.obv),
        Calculator("turnover_ma", ("turnover_rate",), ("turnover_ma",), (Param("n", 5),), False, False, volume.turnover_ma),
        Calculator(
            "hyper_activity",
            ("open", "high", "low", "close", "pre_close", "amount", "turnover_rate", "total_mv"),
            ("turnover_ma", "small_cross", "small_cross_count", "active_turnover", "active_turnover_count",
             "halfyear_active_count"),
            (Param("n", 20, 1, 250), Param("half_year", 120, 1, 500)), False, False, activity.hyper_activity,
        ),
    )
}  # fmt: skip


def calculator(model_code: str) -> Calculator:
    """The calculator a model names; an unknown code is refused naming `model_code`."""
    try:
        return CALCULATORS[model_code]
    except KeyError:
        raise InvalidIndicatorParameter(
            "model_code", f"unknown calculator {model_code!r} (has {sorted(CALCULATORS)})"
        ) from None
