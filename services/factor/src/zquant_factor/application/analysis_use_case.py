"""AnalyzeFactor: a stored factor column against hfq close and industries from marketdata, `factor:read`.

The factor's stored values are placed on marketdata's calendar for [start, end]; forward returns need
`horizon` more days inside that range, so the last dates of the range only serve as return ends.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from zquant_factor.application.calculation_plan import value_columns
from zquant_factor.application.definition_access import READ_PERMISSION, visible_definition
from zquant_factor.application.market_ports import Adjust, Credentials
from zquant_factor.application.panel_reads import ValueReader, checked_codes, checked_range
from zquant_factor.domain.analysis.analyse import AnalysisSettings, analyse_factor
from zquant_factor.domain.analysis.results import FactorAnalysis
from zquant_kit.errors import FailedPrecondition, InvalidArgument
from zquant_kit.principal import Principal

WINSORISE_QUANTILES = (0.01, 0.99)


@dataclass(frozen=True, slots=True)
class AnalysisAsk:
    factor_id: str
    column: str
    codes: Sequence[str]
    start: dt.date | None
    end: dt.date | None
    horizons: tuple[int, ...] = (1, 5, 10, 20)
    quantiles: int = 5
    winsorise: bool = False
    zscore: bool = False
    industry_neutral: bool = False


@dataclass(frozen=True, slots=True)
class AnalysisResult:
    analysis: FactorAnalysis
    codes: tuple[str, ...]
    dates: np.ndarray


def _settings(ask: AnalysisAsk) -> AnalysisSettings:
    try:
        return AnalysisSettings(
            horizons=ask.horizons,
            quantiles=ask.quantiles,
            winsorise=WINSORISE_QUANTILES if ask.winsorise else None,
            industry_neutral=ask.industry_neutral,
            zscore=ask.zscore,
        )
    except ValueError as exc:
        field, _, description = str(exc).partition(": ")
        raise InvalidArgument(field, description) from None


def industry_labels(codes: Sequence[str], industries: dict[str, str]) -> np.ndarray:
    """One integer per stock (−1 for a stock without an industry, which the neutral demean leaves out)."""
    names = sorted({industries[code] for code in codes if industries.get(code)})
    index = {name: i for i, name in enumerate(names)}
    return np.array([index.get(industries.get(code, ""), -1) for code in codes], dtype=np.int64)


class FactorAnalysisUseCase(ValueReader):
    async def analyse(self, actor: Principal, ask: AnalysisAsk, credentials: Credentials) -> AnalysisResult:
        actor.require(READ_PERMISSION)
        codes = checked_codes(ask.codes)
        start, end = checked_range(ask.start, ask.end)
        settings = _settings(ask)
        async with self._definitions() as uow:
            definition = await visible_definition(uow, actor, ask.factor_id)
            models = await uow.models.list_for_factor(definition.id)
        columns = value_columns(definition, models)
        column = ask.column or columns[0]
        if column not in columns:
            raise InvalidArgument("column", f"factor {definition.factor_name!r} has columns {list(columns)}")
        found, dates, stored = await self._values.read(definition.id, column, codes or None, start, end)
        if not found or dates.size == 0:
            raise FailedPrecondition(
                f"factor {definition.factor_name!r} has no values in the range: calculate it"
            )
        bars = await self._market.panel(found, start, end, ("close",), Adjust.HFQ, credentials)
        factor = np.full((bars.dates.size, len(found)), np.nan)
        rows = np.searchsorted(bars.dates, dates)
        keep = (rows < bars.dates.size) & (bars.dates[np.minimum(rows, bars.dates.size - 1)] == dates)
        factor[rows[keep]] = stored[keep]
        labels = (
            industry_labels(found, await self._market.industries(credentials))
            if ask.industry_neutral
            else None
        )
        universe = np.ones(factor.shape, dtype=bool)
        analysis = await self._pool.run(
            analyse_factor, factor, bars.fields["close"], universe, settings, labels
        )
        return AnalysisResult(analysis, tuple(found), bars.dates)
