"""Resolving a code to a model: a code-specific mapping, else the default mapping, else the default model.

One rule for every run mode: the seed applied its mappings in single-day runs and silently ignored them in
multi-day ones, so these tests resolve the same codes day by day and as one multi-day run and demand the
same answer, both on the pure function and through the application's plan.
"""

from __future__ import annotations

import pytest

from services.factor.tests.unit.definitions.records import T0, definition
from zquant_factor.domain.definitions.records import FactorConfig, FactorModel, ModelMapping
from zquant_factor.domain.definitions.resolution import resolve_model, resolve_models
from zquant_kit.errors import FailedPrecondition, InvalidArgument, NotFound

pytestmark = pytest.mark.unit


DAYS = {
    "20240102": ["600000.SH", "000001.SZ", "430047.BJ", "600519.SH"],
    "20240103": ["600000.SH", "000001.SZ", "600519.SH", "300750.SZ"],
    "20240104": ["000001.SZ", "300750.SZ", "688981.SH", "430047.BJ"],
}


def _model(
    model_id: str, *, default: bool = False, enabled: bool = True, factor_id: str = "f1"
) -> FactorModel:
    return FactorModel(model_id, factor_id, "macd", {}, default, enabled, T0, T0)


def _models() -> list[FactorModel]:
    return [
        _model("m-default", default=True),
        _model("m-banks"),
        _model("m-rest"),
        _model("m-other", factor_id="f2"),
    ]


def _config() -> FactorConfig:
    return FactorConfig(
        "f1", True, (ModelMapping("m-banks", ("600000.SH", "000001.SZ")), ModelMapping("m-rest", None))
    )


def test_a_code_mapping_beats_the_default_mapping_which_beats_the_default_model():
    assert resolve_model(definition("macd"), _models(), _config(), "600000.SH") == "m-banks"
    assert resolve_model(definition("macd"), _models(), _config(), "600519.SH") == "m-rest"
    only_codes = FactorConfig("f1", True, (ModelMapping("m-banks", ("600000.SH",)),))
    assert resolve_model(definition("macd"), _models(), only_codes, "600519.SH") == "m-default"
    assert resolve_model(definition("macd"), _models(), None, "600000.SH") == "m-default"


def test_a_disabled_config_keeps_its_mappings_but_resolves_to_the_default_model():
    off = FactorConfig("f1", False, _config().mappings)
    assert resolve_models(definition("macd"), _models(), off, ["600000.SH", "600519.SH"]) == {
        "m-default": ("600000.SH", "600519.SH")
    }


def test_no_mapping_and_no_enabled_default_model_is_a_clear_failed_precondition():
    models = [_model("m-default", default=True, enabled=False), _model("m-banks")]
    config = FactorConfig("f1", True, (ModelMapping("m-banks", ("600000.SH",)),))
    assert resolve_model(definition("macd"), models, config, "600000.SH") == "m-banks"
    with pytest.raises(FailedPrecondition, match=r"'macd'.*600519\.SH.*default model"):
        resolve_models(definition("macd"), models, config, ["600000.SH", "600519.SH"])


def test_a_mapping_to_a_missing_disabled_or_foreign_model_is_refused():
    for model_id in ("m-gone", "m-other"):
        config = FactorConfig("f1", True, (ModelMapping(model_id, None),))
        with pytest.raises(FailedPrecondition, match=model_id):
            resolve_model(definition("macd"), _models(), config, "600000.SH")
    models = [*_models()[:2], _model("m-rest", enabled=False)]
    with pytest.raises(FailedPrecondition, match="m-rest"):
        resolve_model(definition("macd"), models, _config(), "600000.SH")


def test_two_default_models_are_refused_not_picked_at_random():
    with pytest.raises(FailedPrecondition, match="2 default models"):
        resolve_model(
            definition("macd"), [_model("a", default=True), _model("b", default=True)], None, "600000.SH"
        )


def test_resolve_models_groups_codes_per_model_in_order_without_duplicates():
    codes = ["600519.SH", "600000.SH", "430047.BJ", "000001.SZ", "600000.SH"]
    assert resolve_models(definition("macd"), _models(), _config(), codes) == {
        "m-rest": ("600519.SH", "430047.BJ"),
        "m-banks": ("600000.SH", "000001.SZ"),
    }
    assert resolve_models(definition("macd"), _models(), _config(), []) == {}


def _by_code(plan: dict[str, tuple[str, ...]]) -> dict[str, str]:
    return {code: model_id for model_id, codes in plan.items() for code in codes}


@pytest.mark.parametrize(
    "config",
    [
        _config(),
        FactorConfig("f1", True, (ModelMapping("m-banks", ("600000.SH", "000001.SZ")),)),
        FactorConfig("f1", True, (ModelMapping("m-rest", None),)),
        None,
    ],
)
def test_single_day_and_multi_day_runs_resolve_identically(config):
    single_days: dict[str, str] = {}
    for codes in DAYS.values():
        day = _by_code(resolve_models(definition("macd"), _models(), config, codes))
        assert all(single_days.get(code, model) == model for code, model in day.items())
        single_days.update(day)
    every_code = [code for codes in DAYS.values() for code in codes]
    multi_day = _by_code(resolve_models(definition("macd"), _models(), config, every_code))
    assert multi_day == single_days
    assert multi_day == {
        code: resolve_model(definition("macd"), _models(), config, code) for code in every_code
    }


async def test_the_application_plan_is_the_same_for_a_day_and_for_a_range(world, bob):
    factor = await world.definitions.create_definition(bob, world.builtin())
    default = await world.models.create_model(bob, factor.id, "macd", {})
    banks = await world.models.create_model(bob, factor.id, "macd", {"fast": 5})
    await world.models.put_config(bob, factor.id, True, [ModelMapping(banks.id, ("600000.SH", "000001.SZ"))])
    every_code = sorted({code for codes in DAYS.values() for code in codes})
    multi_day = _by_code(await world.resolution.plan(factor.id, every_code))
    for codes in DAYS.values():
        day = _by_code(await world.resolution.plan(factor.id, codes))
        assert day == {code: multi_day[code] for code in codes}
    assert multi_day["600000.SH"] == banks.id and multi_day["600519.SH"] == default.id


async def test_the_plan_checks_codes_and_the_factor(world, bob):
    factor = await world.definitions.create_definition(bob, world.builtin())
    with pytest.raises(InvalidArgument) as raised:
        await world.resolution.plan(factor.id, ["600000.SH", "bad"])
    assert raised.value.field == "codes[1]"
    with pytest.raises(NotFound):
        await world.resolution.plan("no-such-factor", ["600000.SH"])
    with pytest.raises(FailedPrecondition, match="no enabled default model"):
        await world.resolution.plan(factor.id, ["600000.SH"])
