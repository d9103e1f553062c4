"""The definition, model and config repositories and unit of work on PostgreSQL and SQLite, driven through the
use cases: records round-trip, rules hold in one transaction, a deleted factor takes its models, config and
values, and identity's user-deleted event is applied once."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
from sqlalchemy import func, select

from zquant.identity.v1 import events_pb2
from zquant_factor.adapters.sqlalchemy import tables
from zquant_factor.application.definition_access import ADMIN_PERMISSION, READ_PERMISSION, WRITE_PERMISSION
from zquant_factor.application.definitions import (
    USER_CLEANUP_CONSUMER,
    USER_DELETED,
    DefinitionChanges,
    NewDefinition,
)
from zquant_factor.domain.definitions.records import FactorKind, ModelMapping, Visibility
from zquant_kit.errors import AlreadyExists, Unauthenticated
from zquant_kit.events.model import Event
from zquant_kit.principal import Principal

pytestmark = pytest.mark.integration

WRITER = frozenset({READ_PERMISSION, WRITE_PERMISSION})
ALICE = Principal("alice-id", "alice", "researcher", WRITER)
BOB = Principal("bob-id", "bob", "researcher", WRITER)
ADMIN = Principal("admin-id", "admin", "admin", WRITER | {ADMIN_PERMISSION})
DAYS = np.array(["2024-01-02", "2024-01-03"], dtype="datetime64[D]")


def new(name: str, visibility=Visibility.PRIVATE, kind=FactorKind.BUILTIN_INDICATOR, expression=None):
    return NewDefinition(
        factor_name=name, cn_name=f"{name} cn", en_name=name, column_name=name.lower(), description="why",
        kind=kind, expression=expression, visibility=visibility,
    )  # fmt: skip


def user_deleted(user_id: str, event_id: str) -> Event:
    message = events_pb2.UserDeletedEvent(user_id=user_id)
    return Event(
        id=event_id,
        type=USER_DELETED,
        payload=message.SerializeToString(),
        occurred_at=dt.datetime.now(dt.UTC),
    )


async def count(app, table) -> int:
    async with app.engine.connect() as connection:
        return int(await connection.scalar(select(func.count()).select_from(table)))


async def test_records_round_trip_with_their_rules(app):
    made = await app.definitions.create_definition(ALICE, new("Momentum"))
    custom = await app.definitions.create_definition(
        ALICE, new("Ratio", kind=FactorKind.CUSTOM_EXPRESSION, expression="rank(close / ma(close, 20))")
    )
    with pytest.raises(AlreadyExists):
        await app.definitions.create_definition(BOB, new("Momentum"))
    got = await app.definitions.get_definition(ALICE, made.id)
    assert (got.factor_name, got.kind, got.visibility, got.owner_id) == (
        "Momentum",
        FactorKind.BUILTIN_INDICATOR,
        Visibility.PRIVATE,
        "alice-id",
    )
    assert (
        await app.definitions.get_definition(ALICE, custom.id)
    ).expression == "rank(close / ma(close, 20))"
    first = await app.models.create_model(ALICE, made.id, "macd", {"fast": 10})
    second = await app.models.create_model(ALICE, made.id, "macd", {}, is_default=True)
    models = await app.models.list_models(ALICE, made.id)
    assert [(m.id, m.is_default, m.params) for m in models] == [
        (first.id, False, {"fast": 10, "slow": 26, "signal": 9}),
        (second.id, True, {"fast": 12, "slow": 26, "signal": 9}),
    ]
    await app.models.set_default_model(ALICE, first.id)
    assert [m.is_default for m in await app.models.list_models(ALICE, made.id)] == [True, False]
    mappings = [ModelMapping(second.id, ("600000.SH",)), ModelMapping(first.id, None)]
    await app.models.put_config(ALICE, made.id, True, mappings)
    config = await app.models.get_config(ALICE, made.id)
    assert config.mappings == (ModelMapping(second.id, ("600000.SH",)), ModelMapping(first.id, None))
    assert await app.resolution.plan(made.id, ["600000.SH", "000001.SZ"]) == {
        second.id: ("600000.SH",), first.id: ("000001.SZ",)
    }  # fmt: skip
    page, next_key = await app.definitions.list_definitions(ALICE, None, 1)
    assert [d.factor_name for d in page] == ["Momentum"] and next_key == "Momentum"
    assert [d.factor_name for d in (await app.definitions.list_definitions(BOB, None, 10))[0]] == []


async def test_a_new_expression_or_a_delete_drops_the_values(app):
    custom = await app.definitions.create_definition(
        ALICE, new("Ratio", kind=FactorKind.CUSTOM_EXPRESSION, expression="ma(close, 5)")
    )
    await app.values.write(custom.id, "ratio", ["600000.SH"], DAYS, np.ones((2, 1)))
    await app.definitions.update_definition(ALICE, custom.id, DefinitionChanges(expression="ma(close, 10)"))
    assert await app.values.last_date(custom.id, "ratio") is None
    made = await app.definitions.create_definition(ALICE, new("Momentum"))
    await app.models.create_model(ALICE, made.id, "rsi", {})
    await app.values.write(made.id, "momentum", ["600000.SH"], DAYS, np.ones((2, 1)))
    await app.states.save(made.id, "m", DAYS[-1].item(), b"s")
    await app.definitions.delete_definition(ALICE, made.id)
    assert await app.values.last_date(made.id, "momentum") is None
    assert await app.states.load(made.id, "m") is None
    assert (await count(app, tables.models), await count(app, tables.configs)) == (0, 1)


async def test_user_deleted_removes_private_factors_keeps_shared_once(app):
    private = await app.definitions.create_definition(BOB, new("Mine"))
    shared = await app.definitions.create_definition(BOB, new("Ours", Visibility.SHARED))
    kept = await app.definitions.create_definition(ALICE, new("Alices"))
    await app.values.write(private.id, "mine", ["600000.SH"], DAYS, np.ones((2, 1)))
    await app.definitions.on_user_deleted(user_deleted("bob-id", "evt-1"))
    names = [d.factor_name for d in (await app.definitions.list_definitions(ADMIN, None, 10))[0]]
    assert names == ["Alices", "Ours"]
    assert (await app.definitions.get_definition(ALICE, shared.id)).owner_display == "deleted user"
    assert await app.values.last_date(private.id, "mine") is None
    with pytest.raises(Unauthenticated):
        await app.definitions.create_definition(BOB, new("Again"))
    # A replay of the same event changes nothing, not even a factor that appeared for that user since.
    async with app.engine.begin() as connection:
        row = {c.name: getattr(kept, c.name) for c in tables.definitions.c}
        row.update(id="late", factor_name="Late", column_name="late", owner_id="bob-id")
        await connection.execute(tables.definitions.insert().values(**row))
    await app.definitions.on_user_deleted(user_deleted("bob-id", "evt-1"))
    assert (await app.definitions.get_definition(ADMIN, "late")).factor_name == "Late"
    async with app.engine.connect() as connection:
        consumers = (await connection.execute(select(tables.processed_messages.c.consumer))).scalars().all()
    assert consumers == [USER_CLEANUP_CONSUMER]
