"""Watchlist use cases against in-memory fakes of their ports (application/watchlist_ports.py).

A fake unit of work works on a deep copy of the store and `commit()` makes the copy the store, so a
use case that raises before committing leaves no trace, as with a real transaction.
"""

from __future__ import annotations

import copy
import datetime as dt
from dataclasses import dataclass, field

import pytest
from google.protobuf import timestamp_pb2

from zquant.identity.v1 import events_pb2
from zquant_kit.errors import AlreadyExists, InvalidArgument, NotFound, PermissionDenied, Unauthenticated
from zquant_kit.events.model import Event, PoisonMessage
from zquant_kit.principal import Principal
from zquant_kit.testing import FakeClock
from zquant_marketdata.application.watchlist import USER_CLEANUP_CONSUMER, USER_DELETED, WatchlistUseCases
from zquant_marketdata.domain.watchlist import Favorite, Position, ValuedPosition

pytestmark = pytest.mark.unit

NOW = dt.datetime(2024, 6, 3, 8, 0, tzinfo=dt.UTC)  # 16:00 in Beijing, Monday 2024-06-03


@dataclass
class Store:
    stocks: set[str] = field(default_factory=set)
    bars: dict[str, dict[dt.date, float]] = field(default_factory=dict)
    favorites: dict[tuple[str, str], Favorite] = field(default_factory=dict)
    positions: dict[str, Position] = field(default_factory=dict)
    processed: set[tuple[str, str]] = field(default_factory=set)
    deleted_users: set[str] = field(default_factory=set)


class FakeFavorites:
    def __init__(self, store: Store) -> None:
        self._s = store

    async def add(self, favorite: Favorite) -> None:
        key = (favorite.user_id, favorite.ts_code)
        if key in self._s.favorites:
            raise AlreadyExists("favorite", favorite.ts_code, "ts_code")
        self._s.favorites[key] = favorite

    async def get(self, user_id: str, ts_code: str) -> Favorite | None:
        return self._s.favorites.get((user_id, ts_code))

    async def list_for_user(self, user_id: str, after: str | None, limit: int) -> list[Favorite]:
        mine = sorted((f for f in self._s.favorites.values() if f.user_id == user_id), key=lambda f: f.ts_code)
        return [f for f in mine if after is None or f.ts_code > after][:limit]

    async def delete(self, favorite: Favorite) -> None:
        del self._s.favorites[(favorite.user_id, favorite.ts_code)]

    async def delete_for_user(self, user_id: str) -> int:
        gone = [k for k in self._s.favorites if k[0] == user_id]
        for key in gone:
            del self._s.favorites[key]
        return len(gone)


class FakePositions:
    def __init__(self, store: Store, holder: World) -> None:
        self._s = store
        self._holder = holder

    def _value(self, position: Position) -> ValuedPosition:
        bars = self._s.bars.get(position.ts_code)
        if not bars:
            return ValuedPosition(position, None, None)
        latest = max(bars)
        return ValuedPosition(position, bars[latest], latest)

    async def add(self, position: Position) -> None:
        self._s.positions[position.id] = position

    async def get(self, position_id: str) -> Position | None:
        return self._s.positions.get(position_id)

    async def valued(self, position_id: str) -> ValuedPosition | None:
        position = self._s.positions.get(position_id)
        return None if position is None else self._value(position)

    async def list_valued(self, user_id: str, after: tuple[str, str] | None, limit: int) -> list[ValuedPosition]:
        self._holder.list_calls += 1
        mine = sorted(
            (p for p in self._s.positions.values() if p.user_id == user_id), key=lambda p: (p.ts_code, p.id)
        )
        return [self._value(p) for p in mine if after is None or (p.ts_code, p.id) > after][:limit]

    async def delete(self, position: Position) -> None:
        del self._s.positions[position.id]

    async def delete_for_user(self, user_id: str) -> int:
        gone = [k for k, p in self._s.positions.items() if p.user_id == user_id]
        for key in gone:
            del self._s.positions[key]
        return len(gone)


class FakeStocks:
    def __init__(self, store: Store) -> None:
        self._s = store

    async def exists(self, ts_code: str) -> bool:
        return ts_code in self._s.stocks


class FakeDeletedUsers:
    def __init__(self, store: Store) -> None:
        self._s = store

    async def mark(self, user_id: str, at: dt.datetime) -> None:
        self._s.deleted_users.add(user_id)

    async def contains(self, user_id: str) -> bool:
        return user_id in self._s.deleted_users


class FakeUnitOfWork:
    def __init__(self, holder: World) -> None:
        self._holder = holder
        self.events: list[Event] = []

    async def __aenter__(self) -> FakeUnitOfWork:
        self._work = copy.deepcopy(self._holder.store)
        self.favorites = FakeFavorites(self._work)
        self.positions = FakePositions(self._work, self._holder)
        self.stocks = FakeStocks(self._work)
        self.deleted_users = FakeDeletedUsers(self._work)
        return self

    async def __aexit__(self, *exc_info) -> None:
        return None

    def emit(self, event: Event) -> None:
        self.events.append(event)

    async def claim(self, consumer: str, event_id: str) -> bool:
        if (consumer, event_id) in self._work.processed:
            return False
        self._work.processed.add((consumer, event_id))
        return True

    async def commit(self) -> None:
        self._holder.store = self._work
        self._holder.commits += 1
        self._holder.published.extend(self.events)


@dataclass
class World:
    store: Store = field(default_factory=Store)
    commits: int = 0
    list_calls: int = 0
    published: list[Event] = field(default_factory=list)
    clock: FakeClock = field(default_factory=lambda: FakeClock(NOW))

    @property
    def use_cases(self) -> WatchlistUseCases:
        return WatchlistUseCases(lambda: FakeUnitOfWork(self), self.clock)


def _actor(user_id: str, permissions: frozenset[str] = frozenset({"data:read"})) -> Principal:
    return Principal(user_id=user_id, username=user_id, role="researcher", permissions=permissions)


BOB = _actor("bob-id")
ALICE = _actor("alice-id")


@pytest.fixture
def world() -> World:
    w = World()
    w.store.stocks = {"600000.SH", "000001.SZ", "430047.BJ"}
    return w


def _user_deleted(user_id: str, event_id: str = "evt-1") -> Event:
    stamp = timestamp_pb2.Timestamp()
    stamp.FromDatetime(NOW)
    message = events_pb2.UserDeletedEvent(user_id=user_id, occur_time=stamp)
    return Event(id=event_id, type=USER_DELETED, payload=message.SerializeToString(), occurred_at=NOW)


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


# -- positions ---------------------------------------------------------------------------------


async def test_add_position_parses_the_buy_date(world):
    valued = await world.use_cases.add_position(BOB, "600000.SH", 1000, 9.5, "20240603")
    p = valued.position
    assert (p.user_id, p.ts_code, p.quantity, p.average_cost, p.buy_date) == (
        "bob-id", "600000.SH", 1000.0, 9.5, dt.date(2024, 6, 3),
    )
    assert world.store.positions[p.id].quantity == 1000


async def test_add_position_without_buy_date(world):
    valued = await world.use_cases.add_position(BOB, "600000.SH", 100, 0, "")
    assert valued.position.buy_date is None and valued.position.average_cost == 0


@pytest.mark.parametrize(
    ("quantity", "average_cost", "buy_date", "field"),
    [
        (0, 10, "", "quantity"),
        (-5, 10, "", "quantity"),
        (float("nan"), 10, "", "quantity"),
        (float("inf"), 10, "", "quantity"),
        (100, -0.01, "", "average_cost"),
        (100, float("nan"), "", "average_cost"),
        (100, 10, "2024-06-01", "buy_date"),
        (100, 10, "20240230", "buy_date"),
        (100, 10, "2024061", "buy_date"),
        (100, 10, "20240604", "buy_date"),  # tomorrow in Beijing
    ],
)
async def test_position_fields_are_validated(world, quantity, average_cost, buy_date, field):
    with pytest.raises(InvalidArgument) as raised:
        await world.use_cases.add_position(BOB, "600000.SH", quantity, average_cost, buy_date)
    assert raised.value.field == field
    valued = await world.use_cases.add_position(BOB, "600000.SH", 1, 1, "")
    with pytest.raises(InvalidArgument) as raised:
        await world.use_cases.update_position(BOB, valued.position.id, quantity, average_cost, buy_date)
    assert raised.value.field == field


async def test_buy_date_future_is_judged_in_beijing_time(world):
    world.clock.current = dt.datetime(2024, 6, 3, 17, 0, tzinfo=dt.UTC)  # already 06-04 01:00 in Beijing
    valued = await world.use_cases.add_position(BOB, "600000.SH", 100, 1, "20240604")
    assert valued.position.buy_date == dt.date(2024, 6, 4)


async def test_add_position_of_unknown_code_or_bad_code(world):
    with pytest.raises(NotFound) as raised:
        await world.use_cases.add_position(BOB, "688999.SH", 100, 1, "")
    assert (raised.value.resource_type, raised.value.resource_name) == ("stock", "688999.SH")
    with pytest.raises(InvalidArgument) as raised:
        await world.use_cases.add_position(BOB, "688999", 100, 1, "")
    assert raised.value.field == "ts_code"


async def test_valuation_uses_the_latest_close(world):
    world.store.bars["600000.SH"] = {dt.date(2024, 5, 30): 11.0, dt.date(2024, 5, 31): 12.5}
    valued = await world.use_cases.add_position(BOB, "600000.SH", 200, 10.0, "20240102")
    assert (valued.last_close, valued.last_trade_date) == (12.5, dt.date(2024, 5, 31))
    assert valued.market_value == pytest.approx(2500.0)
    assert valued.profit == pytest.approx(500.0)
    assert valued.profit_pct == pytest.approx(0.25)


async def test_valuation_without_bars_is_zero(world):
    valued = await world.use_cases.add_position(BOB, "000001.SZ", 200, 10.0, "")
    assert (valued.last_close, valued.last_trade_date) == (None, None)
    assert (valued.market_value, valued.profit, valued.profit_pct) == (0.0, 0.0, 0.0)


def test_valuation_math_of_a_loss_and_a_free_position():
    loss = ValuedPosition(
        Position("p", "u", "600000.SH", 300, 8.0, None, NOW, NOW), last_close=6.0, last_trade_date=dt.date(2024, 1, 2)
    )
    assert (loss.market_value, loss.profit) == (1800.0, -600.0)
    assert loss.profit_pct == pytest.approx(-0.25)
    free = ValuedPosition(Position("p", "u", "600000.SH", 10, 0.0, None, NOW, NOW), 5.0, dt.date(2024, 1, 2))
    assert (free.market_value, free.profit, free.profit_pct) == (50.0, 50.0, 0.0)


async def test_list_positions_is_one_repository_call_per_page(world):
    world.store.bars["600000.SH"] = {dt.date(2024, 5, 31): 10.0}
    for code in ("600000.SH", "000001.SZ", "600000.SH"):
        await world.use_cases.add_position(BOB, code, 100, 9, "")
    await world.use_cases.add_position(ALICE, "600000.SH", 100, 9, "")
    world.list_calls = 0
    page, more = await world.use_cases.list_positions(BOB, None, 2)
    assert world.list_calls == 1
    assert more and [v.position.ts_code for v in page] == ["000001.SZ", "600000.SH"]
    last = page[-1].position
    rest, more = await world.use_cases.list_positions(BOB, (last.ts_code, last.id), 2)
    assert not more and [v.position.ts_code for v in rest] == ["600000.SH"]
    assert {v.position.user_id for v in [*page, *rest]} == {"bob-id"}
    assert [v.market_value for v in [*page, *rest]] == [0.0, 1000.0, 1000.0]


async def test_update_position_replaces_the_numbers(world):
    valued = await world.use_cases.add_position(BOB, "600000.SH", 100, 9, "20240101")
    world.clock.current = NOW + dt.timedelta(minutes=5)
    updated = await world.use_cases.update_position(BOB, valued.position.id, 300, 8.5, "")
    p = updated.position
    assert (p.quantity, p.average_cost, p.buy_date, p.ts_code) == (300, 8.5, None, "600000.SH")
    assert p.updated_at == NOW + dt.timedelta(minutes=5) and p.created_at == NOW


async def test_someone_elses_position_is_not_found_like_a_missing_one(world):
    alices = (await world.use_cases.add_position(ALICE, "600000.SH", 100, 9, "")).position
    for call in (
        world.use_cases.update_position(BOB, alices.id, 1, 1, ""),
        world.use_cases.remove_position(BOB, alices.id),
    ):
        with pytest.raises(NotFound) as raised:
            await call
        assert (raised.value.resource_type, raised.value.resource_name) == ("position", alices.id)
    with pytest.raises(NotFound) as missing:
        await world.use_cases.remove_position(BOB, "no-such-id")
    assert missing.value.message == "position 'no-such-id' not found"
    assert world.store.positions[alices.id].quantity == 100
    assert (await world.use_cases.list_positions(BOB, None, 10))[0] == []


async def test_position_id_is_required(world):
    for call in (world.use_cases.update_position(BOB, "", 1, 1, ""), world.use_cases.remove_position(BOB, "")):
        with pytest.raises(InvalidArgument) as raised:
            await call
        assert raised.value.field == "position_id"


async def test_remove_position(world):
    valued = await world.use_cases.add_position(BOB, "600000.SH", 100, 9, "")
    await world.use_cases.remove_position(BOB, valued.position.id)
    assert world.store.positions == {}


# -- permissions -------------------------------------------------------------------------------


async def test_every_operation_needs_data_read(world):
    nobody = _actor("bob-id", frozenset())
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
    admin = _actor("admin-id", frozenset({"*"}))
    await world.use_cases.add_favorite(admin, "600000.SH", "")


# -- user deleted consumer ---------------------------------------------------------------------


async def test_user_deleted_removes_only_that_users_rows(world):
    await world.use_cases.add_favorite(BOB, "600000.SH", "")
    await world.use_cases.add_position(BOB, "600000.SH", 100, 9, "")
    await world.use_cases.add_favorite(ALICE, "600000.SH", "")
    alices = (await world.use_cases.add_position(ALICE, "000001.SZ", 100, 9, "")).position
    await world.use_cases.on_user_deleted(_user_deleted("bob-id"))
    assert list(world.store.favorites) == [("alice-id", "600000.SH")]
    assert list(world.store.positions) == [alices.id]
    assert (USER_CLEANUP_CONSUMER, "evt-1") in world.store.processed


async def test_user_deleted_replay_is_a_no_op(world):
    await world.use_cases.on_user_deleted(_user_deleted("bob-id"))
    commits = world.commits
    # Rows appearing afterwards (say, restored from a backup) survive a redelivery of the same event.
    world.store.favorites[("bob-id", "600000.SH")] = Favorite("bob-id", "600000.SH", "", NOW, NOW)
    await world.use_cases.on_user_deleted(_user_deleted("bob-id"))
    assert ("bob-id", "600000.SH") in world.store.favorites
    assert world.commits == commits
    # A different event for the same user is processed.
    await world.use_cases.on_user_deleted(_user_deleted("bob-id", event_id="evt-2"))
    assert world.store.favorites == {}


async def test_user_deleted_emits_nothing(world):
    await world.use_cases.add_favorite(BOB, "600000.SH", "")
    await world.use_cases.on_user_deleted(_user_deleted("bob-id"))
    assert world.published == []


async def test_an_undecodable_user_deleted_is_poison(world):
    event = Event(id="bad", type=USER_DELETED, payload=b"\xff\xff\xff", occurred_at=NOW)
    with pytest.raises(PoisonMessage):
        await world.use_cases.on_user_deleted(event)
    assert world.commits == 0


async def test_a_deleted_users_live_token_cannot_create_rows_again(world):
    await world.use_cases.on_user_deleted(_user_deleted("bob-id"))
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
