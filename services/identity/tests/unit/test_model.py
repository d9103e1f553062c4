"""domain/model.py: lockout, token expiry and spending, API-key usability, role grants."""

from __future__ import annotations

import datetime as dt

import pytest

from zquant_identity.domain.model import LOCKOUT, MAX_FAILED_LOGINS, ApiKey, RefreshToken, Role, User

pytestmark = pytest.mark.unit
NOW = dt.datetime(2026, 1, 5, 9, 0, tzinfo=dt.UTC)


def user() -> User:
    return User("u1", "alice", "alice@example.com", "hash", "researcher", True, NOW, NOW)


def test_fifth_consecutive_failure_locks_for_fifteen_minutes():
    alice = user()
    for _ in range(MAX_FAILED_LOGINS - 1):
        alice.record_failed_login(NOW)
    assert (alice.failed_logins, alice.locked_until) == (4, None)
    assert not alice.is_locked(NOW)

    alice.record_failed_login(NOW)
    assert alice.locked_until == NOW + LOCKOUT == NOW + dt.timedelta(minutes=15)
    assert alice.failed_logins == 0  # the next lock needs five fresh failures
    assert alice.is_locked(NOW + LOCKOUT - dt.timedelta(seconds=1))
    assert not alice.is_locked(NOW + LOCKOUT)


def test_successful_login_resets_failures_and_lock():
    alice = user()
    for _ in range(3):
        alice.record_failed_login(NOW)
    alice.record_successful_login()
    assert alice.failed_logins == 0
    for _ in range(4):
        alice.record_failed_login(NOW)
    assert alice.locked_until is None  # only consecutive failures count

    alice.record_failed_login(NOW)
    alice.record_successful_login()
    assert (alice.failed_logins, alice.locked_until) == (0, None)


def test_naive_lock_time_from_sqlite_is_read_as_utc():
    alice = user()
    alice.locked_until = (NOW + dt.timedelta(minutes=1)).replace(tzinfo=None)
    assert alice.is_locked(NOW)
    assert not alice.is_locked(NOW + dt.timedelta(minutes=2))


def test_refresh_token_is_spent_once_used_or_revoked_and_expires_at_its_deadline():
    token = RefreshToken("t1", "u1", "f1", "hash", NOW, NOW + dt.timedelta(days=7))
    assert not token.is_spent()
    assert not token.is_expired(NOW + dt.timedelta(days=7) - dt.timedelta(seconds=1))
    assert token.is_expired(NOW + dt.timedelta(days=7))

    token.used_at = NOW
    assert token.is_spent()
    revoked = RefreshToken("t2", "u1", "f1", "hash2", NOW, NOW + dt.timedelta(days=7), revoked_at=NOW)
    assert revoked.is_spent()


def test_api_key_is_usable_until_revoked_or_expired():
    forever = ApiKey("k1", "u1", "ci", "00", NOW)
    assert forever.usable(NOW + dt.timedelta(days=3650))

    expiring = ApiKey("k2", "u1", "ci", "00", NOW, expires_at=NOW + dt.timedelta(hours=1))
    assert expiring.usable(NOW + dt.timedelta(minutes=59))
    assert not expiring.usable(NOW + dt.timedelta(hours=1))

    naive = ApiKey("k3", "u1", "ci", "00", NOW, expires_at=(NOW + dt.timedelta(hours=1)).replace(tzinfo=None))
    assert naive.usable(NOW) and not naive.usable(NOW + dt.timedelta(hours=2))

    forever.revoked_at = NOW
    assert not forever.usable(NOW)


def test_role_grant_is_idempotent_and_permissions_are_sorted():
    role = Role("quant", "research lead", NOW)
    role.grant(["factor:read", "data:read", "factor:read"])
    role.grant(["data:read", "backtest:run"])
    assert role.permissions == ["backtest:run", "data:read", "factor:read"]
    assert len(role.grants) == 3
    assert {g.role_name for g in role.grants} == {"quant"}


def test_role_revoke_removes_only_the_named_permissions():
    role = Role("quant", "", NOW)
    role.grant(["data:read", "factor:read", "backtest:run"])
    grants = role.grants
    role.revoke(["factor:read", "not:granted"])
    assert role.permissions == ["backtest:run", "data:read"]
    assert role.grants is grants  # changed in place, so the ORM sees the orphan to delete
