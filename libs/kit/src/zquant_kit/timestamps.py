"""Proto `Timestamp`s from datetimes: every event payload and every reply carries its times this way."""

from __future__ import annotations

import datetime as dt

from google.protobuf import timestamp_pb2

from zquant_kit.clock import as_utc


def timestamp(value: dt.datetime) -> timestamp_pb2.Timestamp:
    """Naive datetimes (SQLite hands them back) are UTC, like everything stored."""
    stamp = timestamp_pb2.Timestamp()
    stamp.FromDatetime(as_utc(value))
    return stamp
