"""proto ↔ application values of FactorCalculationService: dates, modes, adjustments, records, analyses."""

from __future__ import annotations

import datetime as dt
from typing import Protocol

import grpc
import numpy as np

from zquant.factor.v1 import calculation_pb2 as pb
from zquant_factor.application.calculation_events import yyyymmdd
from zquant_factor.application.calculation_ports import CalculationRecord, RunMode
from zquant_factor.application.market_ports import Adjust, Credentials
from zquant_factor.domain.analysis.results import FactorAnalysis
from zquant_kit.errors import Unauthenticated
from zquant_kit.grpc.convert import optional_day, to_timestamp
from zquant_kit.jobs import JobUpdate

MODES = {pb.CALCULATION_MODE_UNSPECIFIED: RunMode.FULL, pb.CALCULATION_MODE_FULL: RunMode.FULL,
         pb.CALCULATION_MODE_INCREMENTAL: RunMode.INCREMENTAL}  # fmt: skip
MODE_OF = {RunMode.FULL: pb.CALCULATION_MODE_FULL, RunMode.INCREMENTAL: pb.CALCULATION_MODE_INCREMENTAL}
ADJUSTS = {pb.PRICE_ADJUST_UNSPECIFIED: Adjust.HFQ, pb.PRICE_ADJUST_HFQ: Adjust.HFQ,
           pb.PRICE_ADJUST_QFQ: Adjust.QFQ, pb.PRICE_ADJUST_NONE: Adjust.NONE}  # fmt: skip


class _DatedRequest(Protocol):
    @property
    def start_date(self) -> str: ...

    @property
    def end_date(self) -> str: ...


def day_range(request: _DatedRequest) -> tuple[dt.date | None, dt.date | None]:
    """The request's `start_date` and `end_date`, either left empty (None)."""
    return optional_day(request.start_date, "start_date"), optional_day(request.end_date, "end_date")


def caller_credentials(context: grpc.aio.ServicerContext) -> Credentials:
    """The caller's bearer token, forwarded to marketdata (an API-key signature is bound to our method and
    cannot be forwarded: such callers need a token for RPCs that read market data)."""
    metadata = dict(context.invocation_metadata() or ())
    scheme, _, token = str(metadata.get("authorization", "")).partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise Unauthenticated("this RPC reads market data on your behalf: call it with a bearer token")
    return Credentials(token.strip())


def calculation(record: CalculationRecord) -> pb.Calculation:
    return pb.Calculation(
        job_id=record.id, owner_id=record.owner_id, factor_ids=list(record.factor_ids), ts_codes=list(record.codes),
        start_date=yyyymmdd(record.start), end_date=yyyymmdd(record.end), mode=MODE_OF[record.mode],
        state=record.state.value, percent=record.percent, message=record.message, error=record.error,
        values_written=record.values_written, create_time=to_timestamp(record.created_at),
        finish_time=to_timestamp(record.finished_at),
    )  # fmt: skip


def outcome(record: CalculationRecord) -> pb.CalculateFactorsResponse:
    """CalculateFactors' word on a job as its record has it: the state, and the error or else the message."""
    return pb.CalculateFactorsResponse(
        job_id=record.id,
        state=record.state.value,
        percent=record.percent,
        message=record.error or record.message,
    )


def progress(job_id: str, update: JobUpdate) -> pb.CalculateFactorsResponse:
    """CalculateFactors' word on a job still going, as the queue reports it: the reason or else the message."""
    return pb.CalculateFactorsResponse(
        job_id=job_id,
        state=update.state.value,
        percent=update.percent or 0.0,
        message=update.reason or update.message,
    )


def _number(value: float) -> float:
    return float(value) if np.isfinite(value) else float("nan")


def analysis_response(analysis: FactorAnalysis, codes: int, dates: int) -> pb.AnalyzeFactorResponse:
    info, quantiles = analysis.information, analysis.quantiles
    horizons = []
    for h, horizon in enumerate(analysis.horizons):
        ic, rank = info.ic_summary, info.rank_ic_summary
        horizons.append(
            pb.HorizonSummary(
                horizon=horizon,
                ic_mean=_number(ic.mean[h]),
                ic_std=_number(ic.std[h]),
                icir=_number(ic.ir[h]),
                ic_t_stat=_number(ic.t_stat[h]),
                rank_ic_mean=_number(rank.mean[h]),
                rank_ic_std=_number(rank.std[h]),
                rank_icir=_number(rank.ir[h]),
                rank_ic_t_stat=_number(rank.t_stat[h]),
                quantile_mean_returns=[_number(v) for v in quantiles.mean[h]],
                long_short_spread=_number(quantiles.spread_summary.mean[h]),
            )  # fmt: skip
        )
    turnover = analysis.turnover
    return pb.AnalyzeFactorResponse(
        horizons=horizons,
        turnover=_number(float(np.nanmean(turnover.mean)) if np.isfinite(turnover.mean).any() else np.nan),
        autocorrelation=_number(turnover.mean_rank_autocorrelation),
        dates=dates,
        codes=codes,
    )
