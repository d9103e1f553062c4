"""The kit's shared helpers: keyset pages and cursors, YYYYMMDD dates, ON CONFLICT inserts, found/required,
`Principal.require` and the SQLAlchemy unit of work's `claim`."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest
from sqlalchemy import Column, Integer, MetaData, String, Table, select
from sqlalchemy.dialects import postgresql

from zquant_kit import dates, pagination
from zquant_kit.errors import InvalidArgument, NotFound, PermissionDenied, found, required
from zquant_kit.pagination import Cursor, Page, fetch_page, page_of, pair_cursor, single_cursor
from zquant_kit.persistence.engine import create_engine, session_factory
from zquant_kit.persistence.unit_of_work import SqlAlchemyUnitOfWork
from zquant_kit.persistence.upsert import insert_or_ignore, upsert
from zquant_kit.principal import Principal

pytestmark = pytest.mark.unit


async def test_a_page_keeps_limit_rows_and_says_whether_more_follow():
    asked: list[int] = []

    async def fetch(n: int) -> list[int]:
        asked.append(n)
        return list(range(min(n, 5)))

    assert await fetch_page(fetch, 3) == Page([0, 1, 2], True)
    assert await fetch_page(fetch, 5) == ([0, 1, 2, 3, 4], False)
    assert asked == [4, 6]
    assert page_of([], 10) == ([], False)


def test_cursors_round_trip_typed_keys_and_end_on_the_last_page():
    names = single_cursor("users", lambda name: name)
    assert names.next_token(Page(["ann", "bob"], False)) == ""
    token = names.next_token(Page(["ann", "bob"], True))
    assert names.after(token) == "bob" and names.after("") is None
    logs: Cursor[tuple[dt.date, str], tuple[dt.date, str]] = Cursor(
        "logs", 2, key=lambda row: (row[0].isoformat(), row[1]), parse=lambda k: (dt.date.fromisoformat(k[0]), k[1])
    )
    last = (dt.date(2024, 1, 2), "x")
    assert logs.after(logs.next_token(Page([last], True))) == last


async def test_a_list_rpc_page_fetches_after_the_token_and_hands_back_the_next_one():
    names = single_cursor("users", lambda name: name)
    asked: list[tuple[str | None, int]] = []

    async def fetch(after: str | None, limit: int) -> Page[str]:
        asked.append((after, limit))
        return Page(["ann", "bob"], after is None)

    first = await names.page(_ListRequest(0, ""), fetch)
    assert first.items == ["ann", "bob"] and names.after(first.next_page_token) == "bob"
    assert await names.page(_ListRequest(10**6, first.next_page_token), fetch) == (["ann", "bob"], "")
    assert asked == [(None, pagination.DEFAULT_PAGE_SIZE), ("bob", pagination.MAX_PAGE_SIZE)]
    with pytest.raises(InvalidArgument) as caught:
        await names.page(_ListRequest(1, "garbage!"), fetch)
    assert caught.value.field == "page_token" and len(asked) == 2


@dataclasses.dataclass(frozen=True)
class _ListRequest:
    page_size: int
    page_token: str


def test_a_bad_page_token_is_invalid_argument_on_page_token():
    timed = pair_cursor("audit", lambda row: row, dt.datetime.fromisoformat)
    bad_tokens = [
        "garbage!",
        pagination.encode_cursor("users", ["2024-01-01", "x"]),  # another list's token
        pagination.encode_cursor("audit", ["only-one"]),  # wrong width
        pagination.encode_cursor("audit", [1, "x"]),  # not strings
        pagination.encode_cursor("audit", ["noon", "x"]),  # the parse refuses it
    ]
    for token in bad_tokens:
        with pytest.raises(InvalidArgument) as caught:
            timed.after(token)
        assert caught.value.field == "page_token"
    assert timed.after(pagination.encode_cursor("audit", ["2024-01-01T00:00:00", "x"])) == ("2024-01-01T00:00:00", "x")


def test_yyyymmdd_is_exactly_eight_digits_of_a_calendar_date():
    assert dates.parse_yyyymmdd("20240229") == dt.date(2024, 2, 29)
    for bad in ("2024011", " 20240101", "2024-01-01", "20230229", "２０２４０１０１"):
        with pytest.raises(ValueError):
            dates.parse_yyyymmdd(bad)
    assert not dates.is_yyyymmdd("2024011") and dates.is_yyyymmdd("20231340")
    assert dates.parse_optional_yyyymmdd("") is None and dates.parse_optional_yyyymmdd(None) is None
    assert dates.format_yyyymmdd(dt.date(2024, 1, 5)) == "20240105" and dates.format_yyyymmdd(None) == ""


def test_found_and_required_name_what_is_missing():
    assert found(0, "stock", "x") == 0 and required("a", "name") == "a"
    with pytest.raises(NotFound) as missing:
        found(None, "stock", "000001.SZ")
    assert (missing.value.resource_type, missing.value.resource_name) == ("stock", "000001.SZ")
    with pytest.raises(InvalidArgument) as empty:
        required("", "user_id")
    assert empty.value.field == "user_id"


def test_principal_require_returns_the_principal_or_names_the_permission():
    researcher = Principal("u", "n", "researcher", frozenset({"data:*"}))
    assert researcher.require("data:read") is researcher
    with pytest.raises(PermissionDenied) as denied:
        researcher.require("user:read")
    assert denied.value.permission == "user:read"


_metadata = MetaData()
_columns = [Column("key", String(10), primary_key=True), Column("version", Integer), Column("note", String(10))]
_rows = Table("rows", _metadata, *_columns)


async def test_insert_or_ignore_and_upsert_on_sqlite(tmp_path):
    engine = create_engine(f"sqlite:///{tmp_path}/u.db", "s")
    try:
        async with engine.begin() as connection:
            await connection.run_sync(_metadata.create_all)
        async with session_factory(engine)() as session:
            inserted = insert_or_ignore(session, _rows, key="a", version=1, note="first").returning(_rows.c.key)
            assert (await session.execute(inserted)).first() is not None
            again = insert_or_ignore(session, _rows, key="a", version=9, note="again").returning(_rows.c.key)
            assert (await session.execute(again)).first() is None
            forward = upsert(
                engine, _rows, ["key"], ["version", "note"], where=lambda new: _rows.c.version < new.version
            )
            await session.execute(
                forward, [{"key": "a", "version": 0, "note": "older"}, {"key": "b", "version": 1, "note": "new"}]
            )
            await session.execute(forward, [{"key": "a", "version": 2, "note": "newer"}])
            fix_b = upsert("sqlite", _rows, ["key"], {"note": "fixed"}, values={"key": "b", "version": 5, "note": "x"})
            await session.execute(fix_b)
            rows = (await session.execute(select(_rows).order_by(_rows.c.key))).all()
        assert [tuple(row) for row in rows] == [("a", 2, "newer"), ("b", 1, "fixed")]
    finally:
        await engine.dispose()


def test_upsert_speaks_postgresql_on_a_postgresql_bind():
    statement = upsert("postgresql", _rows, ["key"], ["note"], values={"key": "a", "version": 1, "note": "n"})
    sql = str(statement.compile(dialect=postgresql.dialect()))
    assert "ON CONFLICT (key) DO UPDATE SET note = excluded.note" in sql


async def test_a_unit_of_work_without_a_processed_messages_table_cannot_claim(tmp_path):
    engine = create_engine(f"sqlite:///{tmp_path}/c.db", "s")
    try:
        async with SqlAlchemyUnitOfWork(session_factory(engine), _rows) as unit:
            with pytest.raises(TypeError):
                await unit.claim("consumer", "event")
    finally:
        await engine.dispose()
