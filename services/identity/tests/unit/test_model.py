"""domain/model.py: token expiry and spending, API-key usability, role grants."""

from __future__ import annotations

import datetime as dt

import pytest

from zquant_identity.domain.model import ApiKey, RefreshToken, Role

pytestmark = pytest.mark.unit
NOW = dt.datetime(2026, 1, 5, 9, 0, tzinfo=dt.UTC)


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
