"""hfq-stored indicators read as qfq: price-scaled ones divided by adj_factor(base), scale-free ones unchanged —
checked against the indicators computed directly on qfq prices of the four banks in ../shared/data/a_share/
(601398.SH went ex-rights on 2023-07-17 inside the range)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from zquant_factor.domain.indicators.adjust import qfq_from_hfq
from zquant_factor.domain.indicators.errors import InvalidIndicatorParameter
from zquant_factor.domain.indicators.registry import CALCULATORS
from zquant_kit.testing import SHARED_DATA

pytestmark = pytest.mark.unit

PRICES = ("open", "high", "low", "close")


@pytest.fixture(scope="module")
def banks() -> dict[str, np.ndarray]:
    daily = pd.read_csv(SHARED_DATA / "a_share" / "daily.csv")
    adj = pd.read_csv(SHARED_DATA / "a_share" / "adj_factor.csv")
    frame = daily.merge(adj, on=["ts_code", "trade_date"])
    wide = {
        field: frame.pivot(index="trade_date", columns="ts_code", values=field)
        for field in (*PRICES, "adj_factor")
    }
    return {field: table.sort_index().to_numpy(float) for field, table in wide.items()}


def _bars(banks: dict[str, np.ndarray], scale: np.ndarray) -> dict[str, np.ndarray]:
    return {field: banks[field] * scale for field in PRICES}


@pytest.mark.parametrize("code", ["ma", "ema", "macd", "boll", "atr", "kdj", "rsi", "cci"])
def test_hfq_indicator_read_as_qfq_equals_the_indicator_on_qfq_prices(
    banks: dict[str, np.ndarray], code: str
) -> None:
    calc = CALCULATORS[code]
    base = banks["adj_factor"][-1]  # qfq at the last date
    hfq = calc.run(_bars(banks, banks["adj_factor"]), {}).values
    qfq = calc.run(_bars(banks, banks["adj_factor"] / base), {}).values
    for output in calc.outputs:
        read = qfq_from_hfq(hfq[output], base, price_scaled=calc.price_scaled)
        np.testing.assert_allclose(
            read, qfq[output], rtol=1e-9, atol=1e-9, equal_nan=True, err_msg=f"{code}.{output}"
        )


def test_raw_prices_are_not_enough_across_an_ex_rights_day(banks: dict[str, np.ndarray]) -> None:
    raw = CALCULATORS["rsi"].run(_bars(banks, np.ones_like(banks["adj_factor"])), {}).values["rsi"]
    qfq = (
        CALCULATORS["rsi"].run(_bars(banks, banks["adj_factor"] / banks["adj_factor"][-1]), {}).values["rsi"]
    )
    assert np.nanmax(np.abs(raw - qfq)) > 1.0


def test_base_factor_must_be_one_positive_value_per_stock() -> None:
    with pytest.raises(InvalidIndicatorParameter) as caught:
        qfq_from_hfq(np.ones((3, 2)), np.array([1.0, 0.0]), price_scaled=True)
    assert caught.value.field == "base_adj_factor"
    with pytest.raises(InvalidIndicatorParameter):
        qfq_from_hfq(np.ones((3, 2)), np.array([1.0]), price_scaled=True)
