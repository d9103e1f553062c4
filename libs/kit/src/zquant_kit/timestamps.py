"""Proto `Timestamp`s from datetimes (or microseconds since the epoch): every event payload and every reply
carries its times this way."""

from __future__ import annotations

import datetime as dt

from google.protobuf import timestamp_pb2

from zquant_kit.clock import as_utc


def timestamp(value: dt.datetime) -> timestamp_pb2.Timestamp:
    """Naive datetimes (SQLite hands them back) are UTC, like everything stored."""
    stamp = timestamp_pb2.Timestamp()
    stamp.FromDatetime(as_utc(value))
    return stamp


def timestamp_of_micros(micros: int) -> timestamp_pb2.Timestamp:
    """Microseconds since 1970-01-01 UTC (how revocations keep their instants)."""
    stamp = timestamp_pb2.Timestamp()
    stamp.FromMicroseconds(micros)
    return stamp
