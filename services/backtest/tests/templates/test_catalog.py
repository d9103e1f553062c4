"""The five packaged templates: what the catalogue says about each, and the sandbox's static check passing every one
with its default params."""

from __future__ import annotations

import pytest

from zquant_backtest.adapters.sandbox.validate import validate_strategy
from zquant_backtest.adapters.templates import PackagedTemplateCatalog
from zquant_backtest.adapters.templates.catalog import declared_factors
from zquant_backtest.application.run_ports import EngineKind
from zquant_factor.domain.indicators.registry import CALCULATORS

from .conftest import template_of

pytestmark = pytest.mark.unit

NAMES = ("buy_and_hold", "dual_ma_crossover", "macd_cross", "rsi_mean_reversion", "factor_top_n_rotation")


def test_the_catalogue_holds_the_five_templates(catalog: PackagedTemplateCatalog) -> None:
    assert tuple(t.name for t in catalog.templates()) == NAMES
    assert catalog.get("no_such_template") is None
    for template in catalog.templates():
        assert template.title and template.description and template.category
        assert template_of(catalog, template.name) is template


@pytest.mark.parametrize("name", NAMES)
def test_each_passes_validate_strategy_with_its_defaults(catalog: PackagedTemplateCatalog, name: str) -> None:
    template = template_of(catalog, name)
    assert validate_strategy(template.source, dict(template.default_params), dict(template.params_schema)) == []
    assert set(template.default_params) == set(template.params_schema)


def test_the_rotation_runs_in_the_vectorised_engine_on_a_factor_service_factor(
    catalog: PackagedTemplateCatalog,
) -> None:
    engines = {t.name: t.engine for t in catalog.templates()}
    assert engines.pop("factor_top_n_rotation") is EngineKind.VECTOR
    assert set(engines.values()) == {EngineKind.EVENT}
    rotation = template_of(catalog, "factor_top_n_rotation")
    assert rotation.factors == ("rsi",)
    assert set(rotation.factors) <= set(CALCULATORS)  # a built-in calculator of the factor service
    assert "def targets(context)" in rotation.source
    assert all(not t.factors for t in catalog.templates() if t is not rotation)


def test_factors_are_read_from_the_source_without_running_it() -> None:
    assert declared_factors("FACTORS = ['rsi', 'macd']\nraise SystemExit\n") == ("rsi", "macd")
    assert declared_factors("def handle_bar(context, bars):\n    pass\n") == ()
    with pytest.raises(ValueError, match="list of factor names"):
        declared_factors("FACTORS = [1]\n")
