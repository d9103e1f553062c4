"""Conversions every servicer needs between Python values and well-known proto types."""

from __future__ import annotations

import datetime as dt

from google.protobuf import timestamp_pb2


from zquant_kit.clock import as_utc


def to_timestamp(value: dt.datetime | None) -> timestamp_pb2.Timestamp | None:
    """Naive datetimes (SQLite hands them back) are UTC, like everything stored."""
    if value is None:
        return None
    stamp = timestamp_pb2.Timestamp()
    stamp.FromDatetime(as_utc(value))
    return stamp
