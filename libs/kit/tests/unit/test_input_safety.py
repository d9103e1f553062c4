"""Kit input safety: DB errors mapped for clients, LIKE patterns escaped and capped, NUL refused, Timestamps checked."""

from __future__ import annotations

import datetime as dt
import sqlite3

import pytest
from google.protobuf import descriptor_pb2, timestamp_pb2
from sqlalchemy import Column, ForeignKey, Integer, MetaData, String, Table, insert, select, text
from sqlalchemy.ext.asyncio import create_async_engine

from zquant.common.v1 import token_verification_pb2
from zquant_kit.errors import AlreadyExists, FailedPrecondition, InvalidArgument
from zquant_kit.grpc.convert import from_timestamp, optional, optional_day, optional_timestamp
from zquant_kit.persistence.errors import client_error
from zquant_kit.persistence.like import MAX_SEARCH_LENGTH, contains_pattern, icontains
from zquant_kit.text import check_text, storable

pytestmark = pytest.mark.unit

metadata = MetaData()
owners = Table("owners", metadata, Column("id", Integer, primary_key=True), Column("name", String, unique=True))
pets = Table(
    "pets", metadata,
    Column("id", Integer, primary_key=True),
    Column("owner_id", Integer, ForeignKey("owners.id"), nullable=False),
    Column("name", String, nullable=False),
)


@pytest.fixture
async def engine():
    engine = create_async_engine("sqlite+aiosqlite://")
    async with engine.begin() as connection:
        await connection.execute(text("PRAGMA foreign_keys=ON"))
        await connection.run_sync(metadata.create_all)
        await connection.execute(insert(owners), [{"id": 1, "name": "ann_a%"}, {"id": 2, "name": "bob"}])
    yield engine
    await engine.dispose()


async def _raised(engine, statement) -> Exception:
    with pytest.raises(Exception) as caught:
        async with engine.begin() as connection:
            await connection.execute(text("PRAGMA foreign_keys=ON"))
            await connection.execute(statement)
    return caught.value


async def test_unique_violation_is_already_exists_naming_table_and_column_not_sql(engine):
    error = await _raised(engine, insert(owners).values(id=3, name="bob"))
    mapped = client_error(error)
    assert isinstance(mapped, AlreadyExists)
    assert (mapped.resource_type, mapped.field) == ("owners", "name")
    assert "INSERT" not in mapped.message and "bob" not in mapped.message


async def test_foreign_key_and_not_null_are_failed_precondition(engine):
    for statement in (insert(pets).values(id=1, owner_id=99, name="rex"), insert(pets).values(id=2, owner_id=1)):
        mapped = client_error(await _raised(engine, statement))
        assert isinstance(mapped, FailedPrecondition) and mapped.reason == "CONSTRAINT_VIOLATION"
        assert "INSERT" not in mapped.message


def test_raw_driver_errors_are_mapped_and_others_are_not():
    assert isinstance(client_error(sqlite3.IntegrityError("UNIQUE constraint failed: users.username")), AlreadyExists)
    assert isinstance(client_error(sqlite3.DataError("string or blob too big")), InvalidArgument)
    assert client_error(sqlite3.OperationalError("disk I/O error")) is None
    assert client_error(ValueError("a bug")) is None


def test_like_pattern_escapes_wildcards_and_the_escape_character():
    assert contains_pattern("a%b_c\\d", "q") == "%a\\%b\\_c\\\\d%"


@pytest.mark.parametrize("value", ["x" * (MAX_SEARCH_LENGTH + 1), "a\x00b"])
def test_like_pattern_refuses_long_or_nul_values_naming_the_field(value):
    with pytest.raises(InvalidArgument) as raised:
        contains_pattern(value, "username")
    assert raised.value.field == "username"
    assert len(raised.value.message) < 200


@pytest.mark.parametrize(("search", "expected"), [("A%", ["ann_a%"]), ("_", ["ann_a%"]), ("%", ["ann_a%"]), ("o", ["bob"])])
async def test_icontains_matches_literally_and_ignores_case(engine, search, expected):
    async with engine.connect() as connection:
        rows = await connection.execute(select(owners.c.name).where(icontains(search, "q", owners.c.name)))
        assert sorted(rows.scalars()) == expected


def test_check_text_refuses_nul_and_overlong_values():
    assert check_text("plain", "comment", max_length=5) == "plain"
    for value, max_length in (("a\x00", None), ("toolong", 3)):
        with pytest.raises(InvalidArgument) as raised:
            check_text(value, "comment", max_length=max_length)
        assert raised.value.field == "comment"


@pytest.mark.parametrize(("seconds", "nanos"), [(-62135596801, 0), (253402300800, 0), (0, -1), (0, 10**9)])
def test_out_of_range_timestamps_are_invalid_argument(seconds, nanos):
    with pytest.raises(InvalidArgument) as raised:
        from_timestamp(timestamp_pb2.Timestamp(seconds=seconds, nanos=nanos), "expire_time")
    assert raised.value.field == "expire_time"


def test_valid_timestamp_is_aware_utc():
    assert from_timestamp(timestamp_pb2.Timestamp(seconds=86400), "t").isoformat() == "1970-01-02T00:00:00+00:00"


def test_an_unset_timestamp_is_none_and_a_set_one_is_checked_under_its_own_name():
    request = token_verification_pb2.ListTokenRevocationsRequest
    assert optional_timestamp(request(), "since_time") is None
    since = optional_timestamp(request(since_time=timestamp_pb2.Timestamp(seconds=86400)), "since_time")
    assert since is not None and since.isoformat() == "1970-01-02T00:00:00+00:00"
    with pytest.raises(InvalidArgument) as raised:
        optional_timestamp(request(since_time=timestamp_pb2.Timestamp(nanos=-1)), "since_time")
    assert raised.value.field == "since_time"


def test_an_optional_day_is_none_when_empty_and_a_calendar_date_otherwise():
    assert optional_day("", "start_date") is None
    assert optional_day("20240229", "start_date") == dt.date(2024, 2, 29)
    for bad in ("20230229", "2024011", " 20240101"):
        with pytest.raises(InvalidArgument) as raised:
            optional_day(bad, "config.start_date")
        assert raised.value.field == "config.start_date"


def test_an_optional_field_set_to_its_zero_value_is_not_left_out():
    field = descriptor_pb2.FieldDescriptorProto
    assert optional(field(), "number") is None and optional(field(), "number", 7) == 7
    assert optional(field(number=0), "number", 7) == 0


def test_storable_replaces_nul_and_clamps():
    assert storable("a\x00" + "b" * 10, 4) == "a\ufffdbb"
