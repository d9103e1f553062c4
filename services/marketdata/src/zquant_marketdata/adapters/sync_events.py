"""`marketdata.sync.completed.v1`: a finished run's completion record as its protobuf event."""

from __future__ import annotations

from zquant.marketdata.v1 import events_pb2
from zquant_kit.events.model import Event
from zquant_marketdata.domain.sync import SYNC_COMPLETED_EVENT, SyncCompleted, fmt_date


def completed_event(completed: SyncCompleted) -> Event:
    message = events_pb2.SyncCompletedEvent(
        run_id=completed.run_id,
        datasets=list(completed.datasets),
        start_date=fmt_date(completed.start) if completed.start else "",
        end_date=fmt_date(completed.end) if completed.end else "",
        state=completed.state.value,
    )
    return Event.create(SYNC_COMPLETED_EVENT, message)
