"""Conversions every servicer needs between Python values and well-known proto types."""

from __future__ import annotations

import datetime as dt
from typing import Any

from google.protobuf import timestamp_pb2

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
        raise InvalidArgument(field, "not a valid timestamp (0001-01-01 to 9999-12-31, nanos in [0, 1e9))") from None


def same_named(source: object, *names: str) -> dict[str, Any]:
    """`{name: source.name}` for the message fields that take a domain attribute as it is; the servicer
    writes out only the fields it converts."""
    return {name: getattr(source, name) for name in names}
