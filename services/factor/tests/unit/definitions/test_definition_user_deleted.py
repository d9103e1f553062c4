"""identity.user.deleted.v1: the user's private factors go with their models, configs and values; their
shared factors stay, attributed to a deleted user. Replays of the event change nothing."""

from __future__ import annotations

import pytest

from zquant_factor.application.definition_events import DEFINITION_DELETED, DEFINITION_UPDATED
from zquant_factor.application.definitions import USER_CLEANUP_CONSUMER, DefinitionChanges
from zquant_factor.domain.definitions.records import ModelMapping, Visibility
from zquant_kit.errors import PermissionDenied, Unauthenticated
from zquant_kit.events.model import Event, PoisonMessage

pytestmark = pytest.mark.unit


@pytest.fixture
async def owned(world, bob, alice):
    """Bob's private and shared factors (each with a model, a mapping and values) and Alice's private one."""
    made = {}
    for name, owner, visibility in (
        ("bob_private", bob, Visibility.PRIVATE),
        ("bob_shared", bob, Visibility.SHARED),
        ("alice_private", alice, Visibility.PRIVATE),
    ):
        factor = await world.definitions.create_definition(owner, world.builtin(name, visibility=visibility))
        model = await world.models.create_model(owner, factor.id, "macd", {})
        await world.models.put_config(owner, factor.id, True, [ModelMapping(model.id, ("600000.SH",))])
        world.store.values.add(factor.id)
        made[name] = factor
    world.published.clear()
    return made


def _snapshot(world):
    s = world.store
    return (
        {k: (d.owner_id, d.owner_deleted, d.updated_at) for k, d in s.definitions.items()},
        set(s.models),
        set(s.configs),
        set(s.values),
        len(world.published),
    )


async def test_private_factors_go_with_models_configs_and_values(world, owned):
    await world.definitions.on_user_deleted(world.user_deleted("bob-id"))
    gone, shared, other = owned["bob_private"].id, owned["bob_shared"].id, owned["alice_private"].id
    assert set(world.store.definitions) == {shared, other}
    assert gone not in world.store.configs and gone not in world.store.values
    assert {m.factor_id for m in world.store.models.values()} == {shared, other}
    assert world.store.values == {shared, other}
    assert sorted(world.event_types()) == [DEFINITION_DELETED, DEFINITION_UPDATED]


async def test_shared_factors_stay_attributed_to_a_deleted_user(world, owned, alice, admin):
    await world.definitions.on_user_deleted(world.user_deleted("bob-id"))
    shared = world.store.definitions[owned["bob_shared"].id]
    assert (shared.owner_id, shared.owner_deleted, shared.owner_display) == ("bob-id", True, "deleted user")
    assert (await world.definitions.get_definition(alice, shared.id)).owner_deleted
    assert [m.factor_id for m in await world.models.list_models(alice, shared.id)] == [shared.id]
    await world.definitions.delete_definition(admin, shared.id)
    assert shared.id not in world.store.definitions


async def test_the_same_event_twice_is_idempotent(world, owned):
    event = world.user_deleted("bob-id")
    await world.definitions.on_user_deleted(event)
    after_first = _snapshot(world)
    world.clock.advance(seconds=30)
    await world.definitions.on_user_deleted(event)
    assert _snapshot(world) == after_first
    assert (USER_CLEANUP_CONSUMER, event.id) in world.store.processed


async def test_a_second_event_for_the_same_user_changes_nothing_more(world, owned):
    await world.definitions.on_user_deleted(world.user_deleted("bob-id", "evt-1"))
    after_first = _snapshot(world)
    world.clock.advance(seconds=30)
    await world.definitions.on_user_deleted(world.user_deleted("bob-id", "evt-2"))
    assert _snapshot(world) == after_first


async def test_the_deleted_users_live_token_creates_and_changes_nothing(world, owned, bob):
    await world.definitions.on_user_deleted(world.user_deleted("bob-id"))
    with pytest.raises(Unauthenticated):
        await world.definitions.create_definition(bob, world.new_definition("again"))
    with pytest.raises(PermissionDenied):
        await world.definitions.update_definition(
            bob, owned["bob_shared"].id, DefinitionChanges(enabled=False)
        )


async def test_other_users_are_untouched_and_an_empty_user_id_only_claims(world, owned):
    before = _snapshot(world)
    await world.definitions.on_user_deleted(world.user_deleted(""))
    assert _snapshot(world) == before and world.store.deleted_users == set()


async def test_an_undecodable_event_is_poison(world):
    bad = Event(
        id="evt-x", type="identity.user.deleted.v1", payload=b"\xff\xff", occurred_at=world.clock.now()
    )
    with pytest.raises(PoisonMessage):
        await world.definitions.on_user_deleted(bad)
