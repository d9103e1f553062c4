"""Definition use cases over the fakes in conftest.py: creation rules, AIP-158 listing, visibility with ids
taken from another user, ownership of writes, deletion of everything a factor has."""

from __future__ import annotations

import dataclasses

import pytest

from zquant.factor.v1 import events_pb2
from zquant_factor.application.definition_events import (
    DEFINITION_CREATED,
    DEFINITION_DELETED,
    DEFINITION_UPDATED,
)
from zquant_factor.application.definitions import DefinitionChanges
from zquant_factor.domain.definitions.records import FactorKind, ModelMapping, Visibility
from zquant_kit.errors import AlreadyExists, InvalidArgument, NotFound, PermissionDenied
from zquant_kit.principal import Principal

pytestmark = pytest.mark.unit


async def test_create_stamps_owner_times_and_an_empty_enabled_config(world, bob):
    made = await world.definitions.create_definition(bob, world.new_definition())
    assert (made.owner_id, made.visibility, made.kind, made.enabled) == (
        "bob-id",
        Visibility.PRIVATE,
        FactorKind.CUSTOM_EXPRESSION,
        True,
    )
    assert made.created_at == made.updated_at == world.clock.now()
    config = world.store.configs[made.id]
    assert (config.enabled, config.mappings) == (True, ())
    assert world.event_types() == [DEFINITION_CREATED]
    payload = world.published[0].decode(events_pb2.FactorDefinitionChangedEvent)
    assert (payload.factor_id, payload.factor_name, payload.owner_id) == (made.id, "momentum_20d", "bob-id")


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"factor_name": ""}, "factor_name"),
        ({"factor_name": "9lives"}, "factor_name"),
        ({"factor_name": "has space"}, "factor_name"),
        ({"column_name": "Upper"}, "column_name"),
        ({"column_name": "1st"}, "column_name"),
        ({"column_name": "a" * 64}, "column_name"),
        ({"column_name": "with-dash"}, "column_name"),
        ({"cn_name": " "}, "cn_name"),
        ({"en_name": "x" * 101}, "en_name"),
        ({"description": "nul\x00byte"}, "description"),
        ({"expression": None}, "expression"),
        ({"expression": "ref(close, -1)"}, "expression"),
        ({"kind": FactorKind.BUILTIN_INDICATOR}, "expression"),
    ],
)
async def test_create_refuses_a_bad_field_naming_it(world, bob, overrides, field):
    with pytest.raises(InvalidArgument) as raised:
        await world.definitions.create_definition(bob, world.new_definition(**overrides))
    assert raised.value.field == field
    assert world.commits == 0


async def test_the_longest_column_name_is_63_characters(world, bob):
    made = await world.definitions.create_definition(bob, world.new_definition(column_name="a" * 63))
    assert made.column_name == "a" * 63


async def test_factor_name_and_column_name_are_unique_across_users(world, bob, alice):
    await world.definitions.create_definition(bob, world.new_definition("mom"))
    with pytest.raises(AlreadyExists) as raised:
        await world.definitions.create_definition(alice, world.new_definition("mom", column_name="other"))
    assert raised.value.field == "factor_name"
    with pytest.raises(AlreadyExists) as raised:
        await world.definitions.create_definition(alice, world.new_definition("mom2", column_name="mom"))
    assert raised.value.field == "column_name"


async def test_builtins_are_system_owned_shared_and_need_factor_admin(world, bob, admin):
    with pytest.raises(PermissionDenied):
        await world.definitions.create_definition(bob, world.builtin(), system=True)
    made = await world.definitions.create_definition(
        admin, dataclasses.replace(world.builtin(), visibility=Visibility.PRIVATE), system=True
    )
    assert (made.owner_id, made.visibility, made.is_system, made.owner_display) == (
        None,
        Visibility.SHARED,
        True,
        "system",
    )
    with pytest.raises(InvalidArgument) as raised:
        await world.definitions.update_definition(
            admin, made.id, DefinitionChanges(visibility=Visibility.PRIVATE)
        )
    assert raised.value.field == "visibility"
    for call in (
        world.definitions.update_definition(bob, made.id, DefinitionChanges(description="mine")),
        world.definitions.delete_definition(bob, made.id),
        world.models.create_model(bob, made.id, "macd", {}),
    ):
        with pytest.raises(PermissionDenied):
            await call
    updated = await world.definitions.update_definition(admin, made.id, DefinitionChanges(description="MACD"))
    assert updated.description == "MACD" and (await world.definitions.get_definition(bob, made.id)).is_system


async def test_reads_need_factor_read_and_writes_factor_write(world, bob):
    made = await world.definitions.create_definition(bob, world.new_definition())
    nobody = Principal("bob-id", "bob", "researcher", frozenset())
    reader = world.actor("bob-id", read_only=True)
    with pytest.raises(PermissionDenied) as raised:
        await world.definitions.get_definition(nobody, made.id)
    assert raised.value.permission == "factor:read"
    with pytest.raises(PermissionDenied):
        await world.definitions.list_definitions(nobody, None, 10)
    assert (await world.definitions.get_definition(reader, made.id)).id == made.id
    for call in (
        world.definitions.create_definition(reader, world.new_definition("other")),
        world.definitions.update_definition(reader, made.id, DefinitionChanges(enabled=False)),
        world.definitions.delete_definition(reader, made.id),
    ):
        with pytest.raises(PermissionDenied) as raised:
            await call
        assert raised.value.permission == "factor:write"


async def test_a_user_sees_builtins_shared_and_own_private_factors_only(world, bob, alice, admin):
    await world.definitions.create_definition(admin, world.builtin("b_macd"), system=True)
    await world.definitions.create_definition(bob, world.new_definition("bob_private"))
    await world.definitions.create_definition(
        bob, world.new_definition("bob_shared", visibility=Visibility.SHARED)
    )
    await world.definitions.create_definition(alice, world.new_definition("alice_private"))
    page, next_key = await world.definitions.list_definitions(alice, None, 10)
    assert [d.factor_name for d in page] == ["alice_private", "b_macd", "bob_shared"] and next_key is None
    everything, _ = await world.definitions.list_definitions(admin, None, 10)
    assert len(everything) == 4


async def test_list_pages_by_factor_name_with_a_next_key(world, bob):
    for name in ("e5", "a1", "c3", "b2", "d4"):
        await world.definitions.create_definition(bob, world.new_definition(name))
    first, key = await world.definitions.list_definitions(bob, None, 2)
    assert [d.factor_name for d in first] == ["a1", "b2"] and key == "b2"
    second, key = await world.definitions.list_definitions(bob, key, 2)
    assert [d.factor_name for d in second] == ["c3", "d4"] and key == "d4"
    last, key = await world.definitions.list_definitions(bob, key, 2)
    assert [d.factor_name for d in last] == ["e5"] and key is None
    with pytest.raises(InvalidArgument) as raised:
        await world.definitions.list_definitions(bob, None, -1)
    assert raised.value.field == "page_size"


async def test_another_users_private_factor_is_not_found_by_id_everywhere(world, bob, alice):
    """Ids taken from another user behave like ids that never existed: nothing leaks, nothing changes."""
    secret = await world.definitions.create_definition(alice, world.builtin("alice_secret"))
    model = await world.models.create_model(alice, secret.id, "macd", {})
    before = world.commits
    calls = [
        world.definitions.get_definition(bob, secret.id),
        world.definitions.update_definition(bob, secret.id, DefinitionChanges(description="mine")),
        world.definitions.delete_definition(bob, secret.id),
        world.models.list_models(bob, secret.id),
        world.models.create_model(bob, secret.id, "macd", {}),
        world.models.get_config(bob, secret.id),
        world.models.put_config(bob, secret.id, True, [ModelMapping(model.id, None)]),
    ]
    for call in calls:
        with pytest.raises(NotFound) as raised:
            await call
        assert (raised.value.resource_type, raised.value.resource_name) == ("factor", secret.id)
    for call in (
        world.models.update_model(bob, model.id, enabled=False),
        world.models.set_default_model(bob, model.id),
        world.models.delete_model(bob, model.id),
    ):
        with pytest.raises(NotFound) as raised:
            await call
        assert (raised.value.resource_type, raised.value.resource_name) == ("model", model.id)
    assert world.commits == before


async def test_a_shared_factor_is_readable_but_only_its_owner_changes_it(world, bob, alice):
    shared = await world.definitions.create_definition(
        alice, world.new_definition("alice_shared", visibility=Visibility.SHARED)
    )
    assert (await world.definitions.get_definition(bob, shared.id)).id == shared.id
    for call in (
        world.definitions.update_definition(bob, shared.id, DefinitionChanges(enabled=False)),
        world.definitions.delete_definition(bob, shared.id),
        world.models.create_model(bob, shared.id, "macd", {}),
        world.models.put_config(bob, shared.id, False, []),
    ):
        with pytest.raises(PermissionDenied):
            await call
    assert world.store.definitions[shared.id].enabled


async def test_update_replaces_given_fields_and_a_new_expression_drops_stored_values(world, bob):
    made = await world.definitions.create_definition(bob, world.new_definition())
    world.store.values.add(made.id)
    world.clock.advance(seconds=60)
    same = await world.definitions.update_definition(
        bob, made.id, DefinitionChanges(cn_name="动量", enabled=False)
    )
    assert (same.cn_name, same.en_name, same.enabled, same.updated_at) == (
        "动量",
        "20-day momentum",
        False,
        world.clock.now(),
    )
    assert made.id in world.store.values
    await world.definitions.update_definition(bob, made.id, DefinitionChanges(expression="rank(close)"))
    assert world.store.definitions[made.id].expression == "rank(close)"
    assert made.id not in world.store.values
    assert world.event_types() == [DEFINITION_CREATED, DEFINITION_UPDATED, DEFINITION_UPDATED]


async def test_update_checks_fields_and_refuses_an_expression_on_a_builtin(world, bob):
    made = await world.definitions.create_definition(bob, world.builtin())
    with pytest.raises(InvalidArgument) as raised:
        await world.definitions.update_definition(bob, made.id, DefinitionChanges(expression="rank(close)"))
    assert raised.value.field == "expression"
    with pytest.raises(InvalidArgument) as raised:
        await world.definitions.update_definition(bob, made.id, DefinitionChanges(en_name=""))
    assert raised.value.field == "en_name"


async def test_delete_removes_models_config_and_values_in_one_unit_of_work(world, bob):
    made = await world.definitions.create_definition(bob, world.builtin())
    keep = await world.definitions.create_definition(bob, world.builtin("kept"))
    model = await world.models.create_model(bob, made.id, "macd", {})
    await world.models.put_config(bob, made.id, True, [ModelMapping(model.id, ("600000.SH",))])
    kept_model = await world.models.create_model(bob, keep.id, "boll", {})
    world.store.values |= {made.id, keep.id}
    commits = world.commits
    await world.definitions.delete_definition(bob, made.id)
    assert world.commits == commits + 1
    assert made.id not in world.store.definitions and made.id not in world.store.configs
    assert set(world.store.models) == {kept_model.id} and world.store.values == {keep.id}
    assert world.event_types()[-1] == DEFINITION_DELETED
    with pytest.raises(NotFound):
        await world.definitions.get_definition(bob, made.id)


async def test_an_admin_deletes_any_factor_but_does_not_edit_others(world, alice, admin):
    mine = await world.definitions.create_definition(alice, world.new_definition("alice_private"))
    with pytest.raises(PermissionDenied):
        await world.definitions.update_definition(admin, mine.id, DefinitionChanges(enabled=False))
    await world.definitions.delete_definition(admin, mine.id)
    assert world.store.definitions == {}


async def test_a_failing_use_case_leaves_no_trace(world, bob):
    made = await world.definitions.create_definition(bob, world.builtin())
    snapshot = (world.store.definitions[made.id].description, world.commits, len(world.published))
    with pytest.raises(InvalidArgument):
        await world.definitions.update_definition(
            bob, made.id, DefinitionChanges(description="new", expression="rank(close)")
        )
    assert (world.store.definitions[made.id].description, world.commits, len(world.published)) == snapshot
