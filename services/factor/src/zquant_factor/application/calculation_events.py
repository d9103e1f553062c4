"""`factor.calculated.v1`, typed by the proto contract, emitted with the succeeded job's record."""

from __future__ import annotations

import datetime as dt

from zquant.factor.v1 import events_pb2
from zquant_factor.application.calculation_ports import CalculationRecord
from zquant_kit.events.model import Event
from zquant_kit.timestamps import timestamp

FACTOR_CALCULATED = "factor.calculated.v1"


def yyyymmdd(day: dt.date) -> str:
    return day.strftime("%Y%m%d")


def calculated(record: CalculationRecord, now: dt.datetime) -> Event:
    message = events_pb2.FactorCalculatedEvent(
        job_id=record.id,
        factor_ids=list(record.factor_ids),
        ts_codes=list(record.codes),
        start_date=yyyymmdd(record.start),
        end_date=yyyymmdd(record.end),
        mode=record.mode.value,
        values_written=record.values_written,
        owner_id=record.owner_id,
        occur_time=timestamp(now),
    )
    return Event.create(FACTOR_CALCULATED, message)
