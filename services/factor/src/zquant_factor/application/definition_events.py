"""The events the definition use cases publish, typed by the proto contract."""

from __future__ import annotations

import datetime as dt

from zquant.factor.v1 import events_pb2
from zquant_factor.domain.definitions.records import FactorDefinition
from zquant_kit.events.model import Event
from zquant_kit.timestamps import timestamp

DEFINITION_CREATED = "factor.definition.created.v1"
DEFINITION_UPDATED = "factor.definition.updated.v1"
DEFINITION_DELETED = "factor.definition.deleted.v1"


def definition_changed(event_type: str, definition: FactorDefinition, now: dt.datetime) -> Event:
    message = events_pb2.FactorDefinitionChangedEvent(
        factor_id=definition.id,
        factor_name=definition.factor_name,
        owner_id=definition.owner_id or "",
        occur_time=timestamp(now),
    )
    return Event.create(event_type, message)
