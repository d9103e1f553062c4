"""Numbers a client sends to marketdata are finite and within sane ranges; valuations never leave the reals."""

from __future__ import annotations

import datetime as dt
import math

import pytest

from zquant_kit.errors import InvalidArgument
from zquant_kit.testing import FakeClock
from zquant_marketdata.application.source_config import SourceConfigUseCases
from zquant_marketdata.domain import sync as sync_rules
from zquant_marketdata.domain import watchlist as rules
from zquant_marketdata.domain.watchlist import Position, ValuedPosition

pytestmark = pytest.mark.unit

NOW = dt.datetime(2024, 6, 3, 8, 0, tzinfo=dt.UTC)
NON_FINITE = (float("nan"), float("inf"), float("-inf"))


@pytest.mark.parametrize("quantity", [*NON_FINITE, 0.0, -1.0, 1e308, rules.MAX_QUANTITY * 1.0001])
def test_quantity_is_finite_positive_and_bounded(quantity):
    with pytest.raises(InvalidArgument) as raised:
        rules.check_quantity(quantity)
    assert raised.value.field == "quantity"


@pytest.mark.parametrize("cost", [*NON_FINITE, -0.01, 1e308, rules.MAX_AVERAGE_COST * 1.0001])
def test_average_cost_is_finite_non_negative_and_bounded(cost):
    with pytest.raises(InvalidArgument) as raised:
        rules.check_average_cost(cost)
    assert raised.value.field == "average_cost"


def test_the_bounds_themselves_are_accepted():
    assert rules.check_quantity(rules.MAX_QUANTITY) == rules.MAX_QUANTITY
    assert rules.check_average_cost(0.0) == 0.0 and rules.check_average_cost(rules.MAX_AVERAGE_COST) > 0


def _valued(quantity: float, cost: float, close: float | None) -> ValuedPosition:
    return ValuedPosition(Position("p", "u", "600000.SH", quantity, cost, None, NOW, NOW), close, dt.date(2024, 6, 3))


@pytest.mark.parametrize(
    ("quantity", "cost", "close"),
    [
        (1e308, 10.0, 10.0),  # a row stored before the bounds existed
        (1e308, 1e308, 1e-300),
        (100.0, 10.0, float("inf")),  # a corrupt close
        (100.0, 10.0, float("nan")),
        (100.0, 10.0, -5.0),
        (rules.MAX_QUANTITY, rules.MAX_AVERAGE_COST, 1e300),
    ],
)
def test_valuation_is_always_finite(quantity, cost, close):
    valued = _valued(quantity, cost, close)
    assert all(math.isfinite(v) for v in (valued.market_value, valued.profit, valued.profit_pct))
    assert valued.usable_close is None or math.isfinite(valued.usable_close)


def test_buy_date_before_the_exchanges_opened_is_refused():
    for text in ("19000101", "19891231"):
        with pytest.raises(InvalidArgument) as raised:
            rules.parse_buy_date(text, NOW)
        assert raised.value.field == "buy_date"
    assert rules.parse_buy_date("19901219", NOW) == dt.date(1990, 12, 19)


def test_comment_with_nul_is_refused():
    with pytest.raises(InvalidArgument) as raised:
        rules.check_comment("a\x00b")
    assert raised.value.field == "comment"


@pytest.mark.parametrize("text", ["99991231", "19000101", "21010101", "19891231"])
def test_dates_outside_1990_2100_are_invalid_argument_naming_the_field(text):
    with pytest.raises(InvalidArgument) as raised:
        sync_rules.parse_date(text, "end_date")
    assert raised.value.field == "end_date" and "1990" in raised.value.description


def test_dates_inside_the_range_parse():
    assert sync_rules.parse_date("19900101", "d") == dt.date(1990, 1, 1)
    assert sync_rules.parse_date("21001231", "d") == dt.date(2100, 12, 31)
    with pytest.raises(InvalidArgument):
        sync_rules.parse_date("20230230", "d")


@pytest.mark.parametrize("rate", [*NON_FINITE, 1e-9, 0.5, -1.0, 1e9])
def test_rate_limit_is_a_finite_number_within_range(rate):
    with pytest.raises(InvalidArgument) as raised:
        sync_rules.check_calls_per_minute(rate)
    assert raised.value.field == "calls_per_minute"


def test_rate_limit_zero_keeps_the_current_value_and_bounds_pass():
    assert sync_rules.check_calls_per_minute(0) == 0.0
    assert sync_rules.check_calls_per_minute(sync_rules.MIN_CALLS_PER_MINUTE) == 1.0
    assert sync_rules.check_calls_per_minute(sync_rules.MAX_CALLS_PER_MINUTE) == 6000.0


@pytest.mark.parametrize("url", ["ftp://x", "http://a\x00b", "https://" + "x" * 3000])
def test_base_url_is_http_bounded_and_without_nul(url):
    with pytest.raises(InvalidArgument) as raised:
        sync_rules.check_base_url(url)
    assert raised.value.field == "base_url"


class _NoStore:
    """A repository that must not be written: the checks come first."""

    async def get_source_config(self):
        return None

    async def save_source_config(self, *args, **kwargs):
        raise AssertionError("an invalid configuration was stored")


@pytest.mark.parametrize("rate", [float("inf"), 1e-9])
async def test_set_source_config_refuses_inf_and_tiny_rates_before_storing(rate):
    use_cases = SourceConfigUseCases(
        _NoStore(), secrets=None, clock=FakeClock(NOW), default_base_url="http://api.example", default_calls_per_minute=200
    )
    with pytest.raises(InvalidArgument) as raised:
        await use_cases.set("", "", rate)
    assert raised.value.field == "calls_per_minute"
