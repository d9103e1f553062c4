"""ComputeIndicators (on the fly, nothing stored) and GetFactorValues (the stored panel), both `factor:read`.

Both answer a `ValuePanel`, which the servicer streams in the panel codec of marketdata's GetPanel. Indicators
are computed on hfq prices; qfq divides the price-scaled ones by each stock's adj_factor on the last day of the
range (the qfq base), `domain.indicators.adjust.qfq_from_hfq`; `none` computes on unadjusted prices.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from zquant_factor.application.calculation_compute import run_calculator
from zquant_factor.application.calculation_plan import calculator_warmup, value_columns
from zquant_factor.application.calculation_ports import ComputePool
from zquant_factor.application.definition_access import READ_PERMISSION, visible_definition
from zquant_factor.application.definition_ports import UnitOfWorkFactory
from zquant_factor.application.market_ports import Adjust, Credentials, MarketDataReader, warmup_start
from zquant_factor.application.value_ports import FactorValueStore
from zquant_factor.domain.definitions.fields import check_ts_code
from zquant_factor.domain.definitions.records import FactorKind
from zquant_factor.domain.indicators.adjust import qfq_from_hfq
from zquant_factor.domain.indicators.errors import InvalidIndicatorParameter
from zquant_factor.domain.indicators.registry import Calculator, calculator
from zquant_kit.errors import InvalidArgument
from zquant_kit.principal import Principal

MAX_ON_THE_FLY_CODES = 500


@dataclass(frozen=True, slots=True)
class ValuePanel:
    """Named float64 panels dates × codes."""

    codes: tuple[str, ...]
    dates: np.ndarray
    fields: dict[str, np.ndarray]


@dataclass(frozen=True, slots=True)
class IndicatorAsk:
    indicator: str
    params: dict[str, float]


def _param(calc: Calculator, name: str, value: float, field: str) -> int | float | bool:
    """A proto double as the parameter's kind; an unknown name is left for `validate` to refuse."""
    kinds = {param.name: param.kind for param in calc.params}
    kind = kinds.get(name, float)
    if kind is bool:
        return value != 0
    if kind is int:
        if not float(value).is_integer():
            raise InvalidArgument(field, f"must be an integer, got {value}")
        return int(value)
    return float(value)


def checked_codes(codes: Sequence[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(check_ts_code(code, f"ts_codes[{i}]") for i, code in enumerate(codes)))


def checked_range(start: dt.date | None, end: dt.date | None) -> tuple[dt.date, dt.date]:
    problems = [(name, "required") for name, day in (("start_date", start), ("end_date", end)) if day is None]
    if start and end and start > end:
        problems.append(("end_date", "must not be before start_date"))
    if problems:
        raise InvalidArgument.of(problems)
    assert start is not None and end is not None
    return start, end


async def base_adj_factor(
    market: MarketDataReader, codes: Sequence[str], start: dt.date, end: dt.date, credentials: Credentials
) -> np.ndarray:
    """Each stock's latest adj_factor in [start, end], the qfq base (1 for a stock without one)."""
    factors = (await market.panel(codes, start, end, ("adj_factor",), Adjust.NONE, credentials)).fields[
        "adj_factor"
    ]
    latest = np.ones(len(codes))
    for column in range(len(codes)):
        finite = factors[:, column][np.isfinite(factors[:, column])]
        if finite.size:
            latest[column] = finite[-1]
    return latest


class ValueReader:
    """What the read use cases share: definitions (visibility), market data, stored values, the worker pool."""

    def __init__(
        self,
        definitions: UnitOfWorkFactory,
        market: MarketDataReader,
        values: FactorValueStore,
        pool: ComputePool,
    ) -> None:
        self._definitions = definitions
        self._market = market
        self._values = values
        self._pool = pool


class PanelReads(ValueReader):
    async def compute_indicators(
        self,
        actor: Principal,
        codes: Sequence[str],
        span: tuple[dt.date | None, dt.date | None],
        asks: Sequence[IndicatorAsk],
        adjust: Adjust,
        credentials: Credentials,
    ) -> ValuePanel:
        actor.require(READ_PERMISSION)
        chosen = checked_codes(codes)
        if not chosen or len(chosen) > MAX_ON_THE_FLY_CODES:
            raise InvalidArgument("ts_codes", f"between 1 and {MAX_ON_THE_FLY_CODES} codes required")
        start, end = checked_range(*span)
        if not asks:
            raise InvalidArgument("indicators", "at least one indicator required")
        checked = []
        for i, ask in enumerate(asks):
            try:
                calc = calculator(ask.indicator)
            except InvalidArgument:
                raise InvalidArgument(
                    f"indicators[{i}].indicator", f"unknown indicator {ask.indicator!r}"
                ) from None
            raw = {
                name: _param(calc, name, value, f"indicators[{i}].params.{name}")
                for name, value in ask.params.items()
            }
            try:
                checked.append((calc, calc.validate(raw)))
            except InvalidIndicatorParameter as exc:
                raise InvalidArgument(f"indicators[{i}].params.{exc.field}", exc.description) from None
        inputs = sorted({name for calc, _ in checked for name in calc.inputs})
        warmup = max(calculator_warmup(calc, params) for calc, params in checked)
        origin = await warmup_start(self._market, start, warmup, credentials)
        source = Adjust.NONE if adjust is Adjust.NONE else Adjust.HFQ
        bars = await self._market.panel(chosen, origin, end, inputs, source, credentials)
        first = int(np.searchsorted(bars.dates, np.datetime64(start, "D")))
        base = (
            await base_adj_factor(self._market, chosen, start, end, credentials)
            if adjust is Adjust.QFQ
            else None
        )
        names = [calc.code for calc, _ in checked]
        fields: dict[str, np.ndarray] = {}
        for position, (calc, params) in enumerate(checked):
            label = calc.code if names.count(calc.code) == 1 else f"{calc.code}_{position}"
            outputs, _ = await self._pool.run(run_calculator, calc.code, params, bars.fields, None)
            for output, panel in outputs.items():
                values = panel[first:]
                if base is not None:
                    values = qfq_from_hfq(values, base, price_scaled=calc.price_scaled)
                fields[f"{label}.{output}"] = values
        return ValuePanel(chosen, bars.dates[first:], fields)

    async def factor_values(
        self,
        actor: Principal,
        factor_id: str,
        codes: Sequence[str],
        span: tuple[dt.date | None, dt.date | None],
        adjust: Adjust,
        credentials: Credentials,
    ) -> ValuePanel:
        """The stored columns on the first column's dates; qfq scales a built-in's price-scaled outputs."""
        actor.require(READ_PERMISSION)
        chosen = checked_codes(codes)
        start, end = checked_range(*span)
        async with self._definitions() as uow:
            definition = await visible_definition(uow, actor, factor_id)
            models = await uow.models.list_for_factor(definition.id)
        columns = value_columns(definition, models)
        scaled = set()
        if definition.kind is FactorKind.BUILTIN_INDICATOR:
            scaled = {
                out
                for m in models
                if calculator(m.model_code).price_scaled
                for out in calculator(m.model_code).outputs
            }
        found, dates, first = await self._values.read(definition.id, columns[0], chosen or None, start, end)
        fields = {columns[0]: first}
        for column in columns[1:]:
            _, other_dates, other = await self._values.read(definition.id, column, found, start, end)
            aligned = np.full((dates.size, len(found)), np.nan)
            rows = np.searchsorted(dates, other_dates)
            keep = (rows < dates.size) & (dates[np.minimum(rows, dates.size - 1)] == other_dates)
            aligned[rows[keep]] = other[keep]
            fields[column] = aligned
        if adjust is Adjust.QFQ and scaled and found:
            base = await base_adj_factor(self._market, found, start, end, credentials)
            fields = {name: qfq_from_hfq(v, base, price_scaled=name in scaled) for name, v in fields.items()}
        return ValuePanel(tuple(found), dates, fields)
