"""Conversions every servicer needs between Python values and well-known proto types."""

from __future__ import annotations

import datetime as dt
from typing import Any

from google.protobuf import timestamp_pb2
from google.protobuf.message import Message

from zquant_kit.dates import parse_yyyymmdd
from zquant_kit.errors import InvalidArgument
from zquant_kit.timestamps import timestamp


def to_timestamp(value: dt.datetime | None) -> timestamp_pb2.Timestamp | None:
    """Naive datetimes (SQLite hands them back) are UTC, like everything stored."""
    return None if value is None else timestamp(value)


def from_timestamp(stamp: timestamp_pb2.Timestamp, field: str) -> dt.datetime:
    """An aware UTC datetime; a Timestamp outside 0001..9999 or with bad nanos is InvalidArgument naming `field`."""
    try:
        return stamp.ToDatetime(tzinfo=dt.UTC)
    except (ValueError, OverflowError):
        raise InvalidArgument(
            field, "not a valid timestamp (0001-01-01 to 9999-12-31, nanos in [0, 1e9))"
        ) from None


def optional_day(text: str, field: str) -> dt.date | None:
    """A YYYYMMDD request field that may be left empty (None); anything but a calendar date is InvalidArgument
    naming `field` (the contract's bounds say the same before the request gets here)."""
    if not text:
        return None
    try:
        return parse_yyyymmdd(text)
    except ValueError:
        raise InvalidArgument(field, "must be a calendar date YYYYMMDD") from None


def optional_timestamp(message: Message, field: str) -> dt.datetime | None:
    """`from_timestamp` of a Timestamp field the sender may leave out: None when it is not set."""
    return from_timestamp(getattr(message, field), field) if message.HasField(field) else None


def optional(message: Message, field: str, default: Any = None) -> Any:
    """A proto3 `optional` field's value when the sender set it, else `default` (the message's own zero value
    would be indistinguishable from "leave as it is")."""
    return getattr(message, field) if message.HasField(field) else default


def same_named(source: object, *names: str) -> dict[str, Any]:
    """`{name: source.name}` for the fields that pass as they are between a message and a domain value (either
    way); the servicer writes out only the fields it converts."""
    return {name: getattr(source, name) for name in names}
