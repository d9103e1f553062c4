"""Watchlist use cases, favorites, against the in-memory fakes of their ports (tests/fakes/watchlist.py)."""

from __future__ import annotations

import datetime as dt

import pytest

from services.marketdata.tests.fakes.watchlist import ALICE, BOB, NOW
from zquant_kit.errors import AlreadyExists, InvalidArgument, NotFound

pytestmark = pytest.mark.unit


# -- favorites ---------------------------------------------------------------------------------


async def test_add_favorite_normalizes_the_code_and_stamps_times(world):
    favorite = await world.use_cases.add_favorite(BOB, " 600000.sh ", "bank")
    assert (favorite.user_id, favorite.ts_code, favorite.comment) == ("bob-id", "600000.SH", "bank")
    assert favorite.created_at == favorite.updated_at == NOW
    assert ("bob-id", "600000.SH") in world.store.favorites


async def test_add_favorite_twice_is_already_exists(world):
    await world.use_cases.add_favorite(BOB, "600000.SH", "")
    with pytest.raises(AlreadyExists) as raised:
        await world.use_cases.add_favorite(BOB, "600000.SH", "again")
    assert (raised.value.resource_type, raised.value.resource_name, raised.value.field) == (
        "favorite", "600000.SH", "ts_code",
    )


async def test_two_users_may_favor_the_same_code(world):
    await world.use_cases.add_favorite(BOB, "600000.SH", "")
    await world.use_cases.add_favorite(ALICE, "600000.SH", "")
    assert len(world.store.favorites) == 2


async def test_add_favorite_of_an_unknown_code_names_the_code(world):
    with pytest.raises(NotFound) as raised:
        await world.use_cases.add_favorite(BOB, "688999.SH", "")
    assert (raised.value.resource_type, raised.value.resource_name) == ("stock", "688999.SH")
    assert world.commits == 0


@pytest.mark.parametrize("code", ["", "600000", "60000.SH", "600000.HK", "6000001.SH", "abcdef.SZ"])
async def test_add_favorite_rejects_a_malformed_code(world, code):
    with pytest.raises(InvalidArgument) as raised:
        await world.use_cases.add_favorite(BOB, code, "")
    assert raised.value.field == "ts_code"


async def test_comment_is_at_most_500_characters(world):
    await world.use_cases.add_favorite(BOB, "600000.SH", "字" * 500)
    with pytest.raises(InvalidArgument) as raised:
        await world.use_cases.add_favorite(BOB, "000001.SZ", "x" * 501)
    assert raised.value.field == "comment"
    with pytest.raises(InvalidArgument) as raised:
        await world.use_cases.update_favorite(BOB, "600000.SH", "x" * 501)
    assert raised.value.field == "comment"


async def test_list_favorites_pages_by_code_and_shows_only_own_rows(world):
    for code in ("600000.SH", "000001.SZ", "430047.BJ"):
        await world.use_cases.add_favorite(BOB, code, "")
    await world.use_cases.add_favorite(ALICE, "600000.SH", "")
    first, more = await world.use_cases.list_favorites(BOB, None, 2)
    assert [f.ts_code for f in first] == ["000001.SZ", "430047.BJ"] and more
    rest, more = await world.use_cases.list_favorites(BOB, first[-1].ts_code, 2)
    assert [f.ts_code for f in rest] == ["600000.SH"] and not more
    assert all(f.user_id == "bob-id" for f in first + list(rest))


async def test_update_favorite_changes_the_comment_and_update_time(world):
    await world.use_cases.add_favorite(BOB, "600000.SH", "old")
    world.clock.current = NOW + dt.timedelta(hours=1)
    updated = await world.use_cases.update_favorite(BOB, "600000.SH", "new")
    assert (updated.comment, updated.created_at, updated.updated_at) == ("new", NOW, NOW + dt.timedelta(hours=1))


async def test_update_or_remove_someone_elses_favorite_is_not_found(world):
    await world.use_cases.add_favorite(ALICE, "600000.SH", "alice's")
    with pytest.raises(NotFound) as raised:
        await world.use_cases.update_favorite(BOB, "600000.SH", "mine now")
    assert (raised.value.resource_type, raised.value.resource_name) == ("favorite", "600000.SH")
    with pytest.raises(NotFound):
        await world.use_cases.remove_favorite(BOB, "600000.SH")
    assert world.store.favorites[("alice-id", "600000.SH")].comment == "alice's"


async def test_remove_favorite(world):
    await world.use_cases.add_favorite(BOB, "600000.SH", "")
    await world.use_cases.remove_favorite(BOB, "600000.sh")
    assert world.store.favorites == {}
    with pytest.raises(NotFound):
        await world.use_cases.remove_favorite(BOB, "600000.SH")
