"""Watchlist use cases, permissions and the user-deleted consumer, against the in-memory fakes of their ports (tests/fakes/watchlist.py)."""

from __future__ import annotations

import pytest

from services.marketdata.tests.fakes.watchlist import ALICE, BOB, NOW, actor, user_deleted
from zquant_kit.errors import PermissionDenied, Unauthenticated
from zquant_kit.events.model import Event, PoisonMessage
from zquant_marketdata.application.watchlist import USER_CLEANUP_CONSUMER, USER_DELETED
from zquant_marketdata.domain.watchlist import Favorite

pytestmark = pytest.mark.unit


# -- permissions -------------------------------------------------------------------------------


async def test_every_operation_needs_data_read(world):
    nobody = actor("bob-id", frozenset())
    calls = [
        world.use_cases.add_favorite(nobody, "600000.SH", ""),
        world.use_cases.list_favorites(nobody, None, 10),
        world.use_cases.update_favorite(nobody, "600000.SH", ""),
        world.use_cases.remove_favorite(nobody, "600000.SH"),
        world.use_cases.add_position(nobody, "600000.SH", 1, 1, ""),
        world.use_cases.list_positions(nobody, None, 10),
        world.use_cases.update_position(nobody, "x", 1, 1, ""),
        world.use_cases.remove_position(nobody, "x"),
    ]
    for call in calls:
        with pytest.raises(PermissionDenied) as raised:
            await call
        assert raised.value.permission == "data:read"
    assert world.commits == 0


async def test_a_wildcard_grant_is_enough(world):
    admin = actor("admin-id", frozenset({"*"}))
    await world.use_cases.add_favorite(admin, "600000.SH", "")


# -- user deleted consumer ---------------------------------------------------------------------


async def test_user_deleted_removes_only_that_users_rows(world):
    await world.use_cases.add_favorite(BOB, "600000.SH", "")
    await world.use_cases.add_position(BOB, "600000.SH", 100, 9, "")
    await world.use_cases.add_favorite(ALICE, "600000.SH", "")
    alices = (await world.use_cases.add_position(ALICE, "000001.SZ", 100, 9, "")).position
    await world.use_cases.on_user_deleted(user_deleted("bob-id"))
    assert list(world.store.favorites) == [("alice-id", "600000.SH")]
    assert list(world.store.positions) == [alices.id]
    assert (USER_CLEANUP_CONSUMER, "evt-1") in world.store.processed


async def test_user_deleted_replay_is_a_no_op(world):
    await world.use_cases.on_user_deleted(user_deleted("bob-id"))
    commits = world.commits
    # Rows appearing afterwards (say, restored from a backup) survive a redelivery of the same event.
    world.store.favorites[("bob-id", "600000.SH")] = Favorite("bob-id", "600000.SH", "", NOW, NOW)
    await world.use_cases.on_user_deleted(user_deleted("bob-id"))
    assert ("bob-id", "600000.SH") in world.store.favorites
    assert world.commits == commits
    # A different event for the same user is processed.
    await world.use_cases.on_user_deleted(user_deleted("bob-id", event_id="evt-2"))
    assert world.store.favorites == {}


async def test_user_deleted_emits_nothing(world):
    await world.use_cases.add_favorite(BOB, "600000.SH", "")
    await world.use_cases.on_user_deleted(user_deleted("bob-id"))
    assert world.events == []


async def test_an_undecodable_user_deleted_is_poison(world):
    event = Event(id="bad", type=USER_DELETED, payload=b"\xff\xff\xff", occurred_at=NOW)
    with pytest.raises(PoisonMessage):
        await world.use_cases.on_user_deleted(event)
    assert world.commits == 0


async def test_a_deleted_users_live_token_cannot_create_rows_again(world):
    await world.use_cases.on_user_deleted(user_deleted("bob-id"))
    assert "bob-id" in world.store.deleted_users
    for attempt in (
        world.use_cases.add_favorite(BOB, "600000.SH", ""),
        world.use_cases.add_position(BOB, "600000.SH", 100, 9, ""),
    ):
        with pytest.raises(Unauthenticated) as caught:
            await attempt
        assert caught.value.reason == "ACCOUNT_DELETED"
    assert world.store.favorites == {} and world.store.positions == {}
    await world.use_cases.add_favorite(ALICE, "600000.SH", "")
