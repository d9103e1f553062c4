"""domain/throttling.py: backoff per (account, address), the per-address window, and their memory bounds."""

from __future__ import annotations

import datetime as dt

import pytest

from zquant_identity.domain import throttling
from zquant_identity.domain.throttling import (
    FREE_FAILURES,
    MAX_BACKOFF,
    AddressFailureLimit,
    LoginThrottle,
    throttle_key,
)

pytestmark = pytest.mark.unit
NOW = dt.datetime(2026, 1, 5, 9, 0, tzinfo=dt.UTC)


def test_the_fifth_failure_blocks_for_one_second_and_each_next_one_doubles_up_to_the_cap():
    pair = LoginThrottle("alice", "10.0.0.9")
    for _ in range(FREE_FAILURES - 1):
        pair.record_failure(NOW)
    assert pair.retry_after(NOW) is None
    pair.record_failure(NOW)
    assert pair.retry_after(NOW) == dt.timedelta(seconds=1)
    assert pair.retry_after(NOW + dt.timedelta(seconds=1)) is None
    pair.record_failure(NOW)
    assert pair.retry_after(NOW) == dt.timedelta(seconds=2)
    for _ in range(1000):
        pair.record_failure(NOW)
    assert pair.retry_after(NOW) == MAX_BACKOFF == dt.timedelta(minutes=15)


def test_failures_older_than_a_day_start_the_count_afresh():
    pair = LoginThrottle("alice", "10.0.0.9")
    for _ in range(FREE_FAILURES - 1):
        pair.record_failure(NOW)
    later = NOW + dt.timedelta(hours=25)
    pair.record_failure(later)
    assert (pair.failures, pair.retry_after(later)) == (1, None)


def test_naive_block_time_from_sqlite_is_read_as_utc():
    pair = LoginThrottle(
        "alice", "10.0.0.9", failures=5, blocked_until=(NOW + dt.timedelta(minutes=1)).replace(tzinfo=None)
    )
    assert pair.retry_after(NOW) == dt.timedelta(minutes=1)
    assert pair.retry_after(NOW + dt.timedelta(minutes=2)) is None


def test_throttle_key_ignores_case_and_is_bounded_like_usernames():
    assert throttle_key("Admin") == throttle_key("ADMIN") == "admin"
    assert len(throttle_key("x" * 10_000)) == 64


def test_address_window_refuses_past_the_limit_until_the_oldest_failure_ages_out():
    limit = AddressFailureLimit(limit=3, window=dt.timedelta(minutes=1))
    for second in range(3):
        assert limit.retry_after("10.0.0.9", NOW + dt.timedelta(seconds=second)) is None
        limit.record_failure("10.0.0.9", NOW + dt.timedelta(seconds=second))
    at = NOW + dt.timedelta(seconds=10)
    assert limit.retry_after("10.0.0.9", at) == dt.timedelta(seconds=50)
    assert limit.retry_after("10.0.0.7", at) is None
    assert limit.retry_after("10.0.0.9", NOW + dt.timedelta(seconds=60)) is None


def test_address_window_tracks_a_bounded_number_of_addresses(monkeypatch):
    monkeypatch.setattr(throttling, "MAX_TRACKED_ADDRESSES", 2)
    limit = AddressFailureLimit(limit=1)
    for address in ("a", "b", "c"):
        limit.record_failure(address, NOW)
    assert limit.retry_after("a", NOW) is None  # evicted first
    assert limit.retry_after("b", NOW) and limit.retry_after("c", NOW)
