"""Model and config use cases over the fakes in conftest.py: parameters checked against the calculator's
schema, one default model per factor (switched in one unit of work), and every mapping rule of a config."""

from __future__ import annotations

import pytest

from zquant_factor.domain.definitions.mappings import MAX_MAPPINGS
from zquant_factor.domain.definitions.records import ModelMapping
from zquant_kit.errors import FailedPrecondition, InvalidArgument

pytestmark = pytest.mark.unit


@pytest.fixture
async def factor(world, bob):
    return await world.definitions.create_definition(bob, world.builtin())


def _defaults(world, factor_id):
    return [m.id for m in world.store.models.values() if m.factor_id == factor_id and m.is_default]


async def test_params_are_checked_typed_and_completed_from_the_schema(world, bob, factor):
    model = await world.models.create_model(bob, factor.id, "macd", {"fast": 5.0})
    assert model.params == {"fast": 5, "slow": 26, "signal": 9}
    assert isinstance(model.params["fast"], int)
    boll = await world.models.create_model(bob, factor.id, "boll", {"k": 3, "sample_std": True})
    assert boll.params == {"n": 20, "k": 3.0, "sample_std": True} and isinstance(boll.params["k"], float)
    with pytest.raises(InvalidArgument) as raised:
        await world.models.create_model(bob, factor.id, "boll", {"sample_std": 1})
    assert raised.value.field == "params.sample_std"


@pytest.mark.parametrize(
    ("params", "fields"),
    [
        ({"fast": 0}, ["params.fast"]),
        ({"fast": 2.5}, ["params.fast"]),
        ({"fast": True}, ["params.fast"]),
        ({"fast": "12"}, ["params.fast"]),
        ({"slow": float("nan")}, ["params.slow"]),
        ({"signal": 251}, ["params.signal"]),
        ({"bogus": 1, "fast": -1}, ["params.bogus", "params.fast"]),
    ],
)
async def test_bad_params_are_invalid_argument_naming_each_one(world, bob, factor, params, fields):
    with pytest.raises(InvalidArgument) as raised:
        await world.models.create_model(bob, factor.id, "macd", params)
    assert [field for field, _ in raised.value.violations] == fields
    assert world.store.models == {}


async def test_an_unknown_or_missing_model_code_is_refused(world, bob, factor):
    for code in ("nope", ""):
        with pytest.raises(InvalidArgument) as raised:
            await world.models.create_model(bob, factor.id, code, {})
        assert raised.value.field == "model_code"


async def test_update_rechecks_params_against_the_models_calculator(world, bob, factor):
    model = await world.models.create_model(bob, factor.id, "boll", {})
    updated = await world.models.update_model(bob, model.id, params={"n": 10})
    assert updated.params == {"n": 10, "k": 2.0, "sample_std": False}
    with pytest.raises(InvalidArgument) as raised:
        await world.models.update_model(bob, model.id, params={"fast": 3})
    assert raised.value.field == "params.fast"


async def test_the_first_model_is_the_default_and_a_new_default_replaces_it_in_one_commit(world, bob, factor):
    first = await world.models.create_model(bob, factor.id, "macd", {})
    world.clock.advance(seconds=1)
    second = await world.models.create_model(bob, factor.id, "macd", {"fast": 5})
    assert _defaults(world, factor.id) == [first.id]
    world.clock.advance(seconds=1)
    commits = world.commits
    third = await world.models.create_model(bob, factor.id, "boll", {}, is_default=True)
    assert world.commits == commits + 1
    assert _defaults(world, factor.id) == [third.id]
    await world.models.set_default_model(bob, second.id)
    assert _defaults(world, factor.id) == [second.id]
    listed = await world.models.list_models(bob, factor.id)
    assert [m.id for m in listed] == [first.id, second.id, third.id]


async def test_the_default_model_must_stay_enabled(world, bob, factor):
    with pytest.raises(FailedPrecondition):
        await world.models.create_model(bob, factor.id, "macd", {}, enabled=False)
    default = await world.models.create_model(bob, factor.id, "macd", {})
    other = await world.models.create_model(bob, factor.id, "boll", {}, enabled=False)
    with pytest.raises(FailedPrecondition):
        await world.models.update_model(bob, default.id, enabled=False)
    with pytest.raises(FailedPrecondition):
        await world.models.set_default_model(bob, other.id)
    assert _defaults(world, factor.id) == [default.id]
    await world.models.update_model(bob, other.id, enabled=True)
    await world.models.set_default_model(bob, other.id)
    await world.models.update_model(bob, default.id, enabled=False)
    assert not world.store.models[default.id].enabled


async def test_delete_refuses_the_default_while_others_exist_and_a_mapped_model(world, bob, factor):
    default = await world.models.create_model(bob, factor.id, "macd", {})
    mapped = await world.models.create_model(bob, factor.id, "boll", {})
    await world.models.put_config(bob, factor.id, True, [ModelMapping(mapped.id, ("600000.SH",))])
    with pytest.raises(FailedPrecondition, match="default"):
        await world.models.delete_model(bob, default.id)
    with pytest.raises(FailedPrecondition, match=r"mappings\[0\]"):
        await world.models.delete_model(bob, mapped.id)
    with pytest.raises(FailedPrecondition, match=r"mappings\[0\]"):
        await world.models.update_model(bob, mapped.id, enabled=False)
    await world.models.put_config(bob, factor.id, True, [])
    await world.models.delete_model(bob, mapped.id)
    await world.models.delete_model(bob, default.id)
    assert world.store.models == {}


async def test_get_config_of_a_new_factor_is_enabled_without_mappings(world, bob, factor):
    config = await world.models.get_config(bob, factor.id)
    assert (config.factor_id, config.enabled, config.mappings) == (factor.id, True, ())


async def test_put_config_normalises_codes_and_replaces_the_config(world, bob, factor):
    a = await world.models.create_model(bob, factor.id, "macd", {})
    b = await world.models.create_model(bob, factor.id, "boll", {})
    stored = await world.models.put_config(
        bob, factor.id, True, [ModelMapping(a.id, ()), ModelMapping(b.id, (" 600000.sh", "000001.SZ"))]
    )
    assert stored.mappings == (ModelMapping(a.id, None), ModelMapping(b.id, ("600000.SH", "000001.SZ")))
    assert (await world.models.get_config(bob, factor.id)).mappings == stored.mappings
    replaced = await world.models.put_config(bob, factor.id, False, [ModelMapping(b.id, None)])
    assert world.store.configs[factor.id].mappings == replaced.mappings and not replaced.enabled


async def test_a_mapping_model_must_belong_to_the_factor(world, bob, factor):
    other = await world.definitions.create_definition(bob, world.builtin("other"))
    foreign = await world.models.create_model(bob, other.id, "macd", {})
    for model_id, message in ((foreign.id, "not a model of this factor"), ("", "required")):
        with pytest.raises(InvalidArgument) as raised:
            await world.models.put_config(bob, factor.id, True, [ModelMapping(model_id, None)])
        assert (raised.value.field, raised.value.description.endswith(message)) == (
            "mappings[0].model_id",
            True,
        )


async def test_at_most_one_default_mapping(world, bob, factor):
    a = await world.models.create_model(bob, factor.id, "macd", {})
    b = await world.models.create_model(bob, factor.id, "boll", {})
    with pytest.raises(InvalidArgument) as raised:
        await world.models.put_config(
            bob, factor.id, True, [ModelMapping(a.id, None), ModelMapping(b.id, ())]
        )
    assert raised.value.field == "mappings[1].codes"
    assert "mappings[0]" in raised.value.description


async def test_a_code_appears_in_at_most_one_mapping(world, bob, factor):
    a = await world.models.create_model(bob, factor.id, "macd", {})
    b = await world.models.create_model(bob, factor.id, "boll", {})
    mappings = [
        ModelMapping(a.id, ("600000.SH", "000001.SZ")),
        ModelMapping(b.id, ("430047.BJ", "600000.sh")),
    ]
    with pytest.raises(InvalidArgument) as raised:
        await world.models.put_config(bob, factor.id, True, mappings)
    assert raised.value.field == "mappings[1].codes[1]"
    assert "mappings[0]" in raised.value.description
    with pytest.raises(InvalidArgument) as raised:
        await world.models.put_config(bob, factor.id, True, [ModelMapping(a.id, ("600000.SH", "600000.SH"))])
    assert raised.value.field == "mappings[0].codes[1]"


async def test_mapped_codes_are_checked_and_every_bad_one_is_named(world, bob, factor):
    a = await world.models.create_model(bob, factor.id, "macd", {})
    with pytest.raises(InvalidArgument) as raised:
        await world.models.put_config(
            bob, factor.id, True, [ModelMapping(a.id, ("600000.SH", "600000", "60000.HK"))]
        )
    assert [field for field, _ in raised.value.violations] == ["mappings[0].codes[1]", "mappings[0].codes[2]"]
    assert world.store.configs[factor.id].mappings == ()


async def test_a_mapping_to_a_disabled_model_is_a_failed_precondition(world, bob, factor):
    await world.models.create_model(bob, factor.id, "macd", {})
    off = await world.models.create_model(bob, factor.id, "boll", {}, enabled=False)
    with pytest.raises(FailedPrecondition, match="disabled"):
        await world.models.put_config(bob, factor.id, True, [ModelMapping(off.id, ("600000.SH",))])


async def test_the_number_of_mappings_is_bounded(world, bob, factor):
    a = await world.models.create_model(bob, factor.id, "macd", {})
    too_many = [ModelMapping(a.id, (f"{i:06d}.SZ",)) for i in range(MAX_MAPPINGS + 1)]
    with pytest.raises(InvalidArgument) as raised:
        await world.models.put_config(bob, factor.id, True, too_many)
    assert raised.value.field == "mappings"


async def test_a_custom_expression_factor_has_no_models(world, bob):
    custom = await world.definitions.create_definition(bob, world.new_definition())
    with pytest.raises(FailedPrecondition, match="custom expression"):
        await world.models.create_model(bob, custom.id, "macd", {})
    with pytest.raises(FailedPrecondition, match="custom expression"):
        await world.resolution.plan(custom.id, ["600000.SH"])
