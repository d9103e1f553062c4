"""The factor rotation template's ``targets(context)``, given the factor service's own RSI of the real banks as
its factor frame, drives the vectorised engine: one rebalance on each month's first trading day, top N held. Its
``handle_bar`` makes the same picks day by day, as the event engine would call it."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from zquant_backtest.adapters.templates import PackagedTemplateCatalog
from zquant_backtest.application.vector_engine import VectorEngine
from zquant_backtest.domain.market import MarketPanel
from zquant_factor.domain.indicators.registry import CALCULATORS

from .conftest import module_of, template_of

pytestmark = pytest.mark.unit


@pytest.fixture(scope="module")
def factor_frame(bank_panel: MarketPanel) -> pd.DataFrame:
    hfq = bank_panel.close * bank_panel.adj_factor
    values = CALCULATORS["rsi"].run({"close": hfq}, {"n": 6}).values["rsi"]
    dates = [str(day) for day in bank_panel.dates]
    return pd.DataFrame(values, index=pd.Index(dates, name="date"), columns=pd.Index(bank_panel.codes, name="code"))


def test_monthly_top_n_through_the_vector_engine(
    catalog: PackagedTemplateCatalog, bank_panel: MarketPanel, factor_frame: pd.DataFrame
) -> None:
    template = template_of(catalog, "factor_top_n_rotation")
    params = dict(template.default_params)
    asked: list[str] = []

    def factor(name: str) -> pd.DataFrame:
        asked.append(name)
        return factor_frame

    weights = module_of(template).targets(SimpleNamespace(params=params, factor=factor)).to_numpy()
    assert asked == list(template.factors)
    rebalance = ~np.isnan(weights).all(axis=1)
    months = bank_panel.dates.astype("datetime64[M]")
    assert rebalance.tolist() == [t == 0 or months[t] != months[t - 1] for t in range(len(months))]
    top, invested = params["top_n"], params["invested"]
    first = int(np.flatnonzero(rebalance & np.isfinite(factor_frame.to_numpy()).all(axis=1))[0])
    expected = set(np.argsort(-factor_frame.to_numpy()[first], kind="stable")[:top].tolist())
    assert set(np.flatnonzero(weights[first]).tolist()) == expected
    np.testing.assert_allclose(weights[rebalance].sum(axis=1)[1:], invested)  # the first month may lack RSI

    result = VectorEngine(bank_panel).run_weights(weights, rebalance)
    assert result.fills.qty.size > 20 and (result.fills.qty < 0).any()
    held_per_day = np.bincount(result.positions.day, minlength=len(bank_panel.dates))
    assert held_per_day.max() <= top and held_per_day[-1] == top


def test_handle_bar_makes_the_same_monthly_picks(
    catalog: PackagedTemplateCatalog, bank_panel: MarketPanel, factor_frame: pd.DataFrame
) -> None:
    template = template_of(catalog, "factor_top_n_rotation")
    params = dict(template.default_params)
    placed: list[tuple[str, str, float]] = []
    context = SimpleNamespace(params=params, current_dt="", portfolio=SimpleNamespace(positions={}))
    module = module_of(template, order_target_percent=lambda code, pct: placed.append((context.current_dt, code, pct)))
    weights = module.targets(SimpleNamespace(params=params, factor=lambda name: factor_frame))
    module.initialize(context)
    for day in factor_frame.index:
        context.current_dt = day
        context.factor = lambda name, day=day: factor_frame.loc[day]
        module.handle_bar(context, None)
        if any(d == day for d, _, _ in placed):  # a rebalance: the orders' targets are now held
            context.portfolio.positions = {code: 100.0 for d, code, pct in placed if d == day and pct > 0}
    rebalanced = weights.dropna(how="all")
    picks = {day: {code for d, code, pct in placed if d == day and pct > 0} for day in rebalanced.index}
    assert picks == {day: set(row[row > 0].index) for day, row in rebalanced.iterrows()}
    sold = [(d, code) for d, code, pct in placed if pct == 0.0]
    assert sold and all(d in rebalanced.index for d, _ in sold)  # sells only on rebalance days
