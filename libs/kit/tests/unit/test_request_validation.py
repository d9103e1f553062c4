"""The kit's request validator: the proto's buf.validate bounds, plus NUL and Timestamp checks on every field."""

from __future__ import annotations

import math

import pytest
from google.rpc import code_pb2, error_details_pb2

from zquant.factor.v1 import calculation_pb2
from zquant.identity.v1 import audit_pb2, role_pb2, user_pb2
from zquant.marketdata.v1 import common_pb2, market_data_pb2, sync_pb2, watchlist_pb2
from zquant_kit.errors import InvalidArgument, NotFound
from zquant_kit.grpc.interceptor import _target_of
from zquant_kit.grpc.status import MAX_ECHO, MAX_MESSAGE, clip, status_for
from zquant_kit.grpc.validation import MANY_ITEMS, MAX_VIOLATIONS, RequestValidator

pytestmark = pytest.mark.unit


@pytest.fixture(scope="module")
def validator() -> RequestValidator:
    return RequestValidator()


def violations(validator: RequestValidator, request) -> dict[str, str]:
    with pytest.raises(InvalidArgument) as caught:
        validator.check(request)
    return dict(caught.value.violations)


def test_requests_within_bounds_pass(validator):
    validator.check(user_pb2.GetMeRequest())
    validator.check(
        market_data_pb2.GetBarsRequest(
            ts_codes=["600000.SH", " 000001.sz "], start_date="19900101", end_date="21001231",
            adjust=common_pb2.ADJUST_QFQ, adjust_base_date="20240229",
        )
    )
    validator.check(watchlist_pb2.AddPositionRequest(ts_code="600000.SH", quantity=100, average_cost=0, buy_date=""))
    validator.check(sync_pb2.SetSourceConfigRequest(calls_per_minute=0))  # 0 keeps the current rate
    validator.check(market_data_pb2.ListStocksRequest(page_size=5000))  # over the maximum is clamped (AIP-158)


@pytest.mark.parametrize(
    "day", ["19891231", "21010101", "99991231", "20230229", "20240431", "20241301", "20240100", "2024-01-01", "2024011"]
)
def test_a_date_must_be_a_calendar_day_between_1990_and_2100(validator, day):
    found = violations(validator, market_data_pb2.GetIndexBarsRequest(ts_code="000300.SH", start_date=day))
    assert list(found) == ["start_date"]
    assert found["start_date"].endswith("must be a calendar date YYYYMMDD between 19900101 and 21001231")


@pytest.mark.parametrize("day", ["20240229", "20000229", "19900101", "21001231", "20231231"])
def test_leap_days_and_the_ends_of_the_range_are_dates(validator, day):
    validator.check(market_data_pb2.GetIndexBarsRequest(ts_code="000300.SH", start_date=day, end_date=day))


def test_string_lengths_and_list_sizes(validator):
    found = violations(
        validator, role_pb2.CreateRoleRequest(name="r" * 65, description="d" * 1001, permissions=["p" * 65, "ok"])
    )
    assert found == {
        "name": "must be at most 64 characters",
        "description": "must be at most 500 characters",
        "permissions[0]": "must be at most 64 characters",
    }
    # A list over its cap is refused before anything else is looked at.
    found = violations(validator, role_pb2.CreateRoleRequest(name="r" * 65, permissions=["p" * 65] * 101))
    assert found == {"permissions": "must contain no more than 100 item(s)"}


def test_a_hundred_thousand_codes_are_one_violation(validator):
    found = violations(validator, market_data_pb2.GetPanelRequest(ts_codes=["600000.SH"] * 100_000))
    assert found == {"ts_codes": "must contain no more than 10000 item(s)"}


def test_a_long_list_inside_a_list_item_is_one_violation(validator):
    indicator = calculation_pb2.IndicatorRequest(indicator="ma", params=[calculation_pb2.IndicatorParam()] * 100_000)
    request = calculation_pb2.ComputeIndicatorsRequest(ts_codes=["600000.SH"], indicators=[indicator])
    assert violations(validator, request) == {"indicators[0].params": "must contain no more than 8 item(s)"}


def test_many_bad_items_are_reported_briefly(validator):
    with pytest.raises(InvalidArgument) as caught:
        validator.check(market_data_pb2.GetBarsRequest(ts_codes=["bad"] * 50))
    assert len(caught.value.violations) == MAX_VIOLATIONS and caught.value.message.endswith("(and 49 more)")
    with pytest.raises(InvalidArgument) as caught:  # past MANY_ITEMS, the first rule violation only
        validator.check(market_data_pb2.GetBarsRequest(ts_codes=["bad"] * (MANY_ITEMS + 1)))
    assert [field for field, _ in caught.value.violations] == ["ts_codes[0]"]


def test_codes_must_look_like_codes(validator):
    found = violations(validator, market_data_pb2.GetBarsRequest(ts_codes=["600000.SH", "", "600000", "1.S"]))
    assert set(found) == {"ts_codes[2]", "ts_codes[3]"}  # an empty code is the handler's to refuse or skip
    found = violations(validator, watchlist_pb2.AddFavoriteRequest(ts_code="000300.HK"))
    assert found["ts_code"].startswith("must look like 600000.SH")


def test_unknown_enum_numbers_are_refused(validator):
    found = violations(validator, market_data_pb2.GetBarsRequest(ts_codes=["600000.SH"], adjust=42))
    assert found == {"adjust": "value must be one of the defined enum values"}
    assert violations(validator, sync_pb2.StartSyncRequest(mode=-1)) == {
        "mode": "value must be one of the defined enum values"
    }


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf, 1e-9, 1e308, -1.0])
def test_a_rate_limit_is_a_finite_number_in_range(validator, value):
    found = violations(validator, sync_pb2.SetSourceConfigRequest(calls_per_minute=value))
    assert list(found) == ["calls_per_minute"]


def test_positions_are_finite_and_bounded(validator):
    found = violations(
        validator, watchlist_pb2.UpdatePositionRequest(position_id="p", quantity=1e308, average_cost=math.nan)
    )
    assert set(found) == {"quantity", "average_cost"}
    assert "must be finite" in found["average_cost"]  # one violation per field, its messages joined


def test_timestamps_must_be_representable(validator):
    request = audit_pb2.ListAuditEntriesRequest()
    request.start_time.seconds = 10**15
    request.end_time.nanos = 1_000_000_000
    found = violations(validator, request)
    assert set(found) == {"start_time", "end_time"}
    assert found["end_time"] == "not a valid Timestamp"


def test_nul_bytes_are_refused_in_any_string_nested_or_repeated(validator):
    request = user_pb2.UpdateUserRequest(
        user_id="u\x00", user=user_pb2.User(username="ok", email="a\x00@example.com", permissions=["a", "b\x00"])
    )
    assert violations(validator, request) == {
        "user_id": "must not contain a NUL character",
        "user.email": "must not contain a NUL character",
        "user.permissions[1]": "must not contain a NUL character",
    }


def test_the_error_names_every_bad_field_once(validator):
    with pytest.raises(InvalidArgument) as caught:
        validator.check(
            market_data_pb2.GetBarsRequest(ts_codes=["bad\x00"], start_date="99991231", end_date="x", adjust=9)
        )
    error = caught.value
    assert [field for field, _ in error.violations] == ["ts_codes[0]", "start_date", "end_date", "adjust"]
    assert error.message.startswith("ts_codes[0]: ") and error.message.endswith("(and 3 more)")
    status = status_for(error, "marketdata.zquant")
    assert status.code == code_pb2.INVALID_ARGUMENT
    bad_request = error_details_pb2.BadRequest()
    assert status.details[1].Unpack(bad_request)
    assert [v.field for v in bad_request.field_violations] == ["ts_codes[0]", "start_date", "end_date", "adjust"]


def test_errors_quote_at_most_about_a_hundred_characters_of_input():
    huge = "x" * 10_000_000
    status = status_for(InvalidArgument("permissions[0]", f"unknown permission {huge!r}"), "identity.zquant")
    assert len(status.message) <= MAX_MESSAGE and status.message.endswith("…")
    bad_request = error_details_pb2.BadRequest()
    status.details[1].Unpack(bad_request)
    assert len(bad_request.field_violations[0].description) == MAX_ECHO
    missing = status_for(NotFound("user", huge), "identity.zquant")
    assert len(missing.SerializeToString()) < 1000
    assert clip("short") == "short"


def test_of_needs_and_keeps_every_violation():
    error = InvalidArgument.of([("a", "bad"), ("b.c[1]", "worse")])
    assert (error.field, error.description, error.violations) == ("a", "bad", (("a", "bad"), ("b.c[1]", "worse")))
    assert InvalidArgument("f", "d").violations == (("f", "d"),)


def test_a_refused_nul_still_leaves_a_storable_audit_target():
    target = _target_of(user_pb2.DeleteUserRequest(user_id="u\x00" + "x" * 1000), ("user_id",))
    assert "\x00" not in target and target.startswith("user_id=u\ufffd") and len(target) <= 200
