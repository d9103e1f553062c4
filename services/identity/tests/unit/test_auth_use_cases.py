"""Identity's login, refresh-token and API-key use cases over in-memory fakes of the ports (see conftest.py): no database, no gRPC."""

from __future__ import annotations

import datetime as dt
import hashlib

import pytest

from zquant_identity.domain.rules import PERMISSIONS, SEED_ROLES
from zquant_kit.auth import ApiKeyCredentials, hmac_key, request_digest, signature
from zquant_kit.errors import (
    InvalidArgument,
    NotFound,
    Unauthenticated,
)
from zquant_kit.testing import USER_PASSWORD, root_principal

pytestmark = pytest.mark.unit
ROOT = root_principal(PERMISSIONS)


GET_ME = "/zquant.identity.v1.UserService/GetMe"


def credentials(app, key_id: str, secret: str, nonce: str = "n-1", age_seconds: int = 0) -> ApiKeyCredentials:
    timestamp = int(app.clock.now().timestamp()) - age_seconds
    body = request_digest(b"")
    return ApiKeyCredentials(
        key_id, timestamp, nonce, GET_ME, body, signature(hmac_key(secret), timestamp, nonce, GET_ME, body)
    )


# --- auth ------------------------------------------------------------------------------------------------------


async def test_login_issues_a_pair_and_stores_only_the_refresh_token_hash(app):
    await app.make_user("alice")
    pair = await app.auth.login("alice", USER_PASSWORD)
    (stored,) = app.store.refresh_tokens.values()
    assert stored.token_hash == hashlib.sha256(pair.refresh_token.encode()).hexdigest() != pair.refresh_token
    assert pair.access_expires_at == app.clock.now() + dt.timedelta(minutes=15)
    assert pair.refresh_expires_at == stored.expires_at == app.clock.now() + dt.timedelta(days=7)


async def test_unknown_user_and_wrong_password_fail_the_same_way(app):
    await app.make_user("alice")
    with pytest.raises(Unauthenticated) as wrong_password:
        await app.auth.login("alice", "Wrong-pass-1")
    with pytest.raises(Unauthenticated) as unknown_user:
        await app.auth.login("nobody", "Wrong-pass-1")
    assert (wrong_password.value.reason, str(wrong_password.value)) == (
        unknown_user.value.reason,
        str(unknown_user.value),
    )


async def test_refresh_rotates_and_reuse_revokes_the_whole_family(app):
    await app.make_user("alice")
    other_session = await app.auth.login("alice", USER_PASSWORD)
    first = await app.auth.login("alice", USER_PASSWORD)
    second = await app.auth.refresh(first.refresh_token)
    assert second.refresh_token != first.refresh_token

    with pytest.raises(Unauthenticated) as raised:
        await app.auth.refresh(first.refresh_token)
    assert raised.value.reason == "REFRESH_TOKEN_REUSED"
    with pytest.raises(Unauthenticated):
        await app.auth.refresh(second.refresh_token)
    family = {t.family_id for t in app.store.refresh_tokens.values() if t.used_at is not None}
    assert all(t.revoked_at is not None for t in app.store.refresh_tokens.values() if t.family_id in family)
    assert (await app.auth.refresh(other_session.refresh_token)).access_token


async def test_expired_refresh_token_and_logout(app):
    await app.make_user("alice")
    stale, current = (
        await app.auth.login("alice", USER_PASSWORD),
        await app.auth.login("alice", USER_PASSWORD),
    )
    app.clock.advance(days=7)
    with pytest.raises(Unauthenticated) as raised:
        await app.auth.refresh(stale.refresh_token)
    assert raised.value.reason == "REFRESH_TOKEN_EXPIRED"

    await app.auth.logout(current.refresh_token)
    with pytest.raises(Unauthenticated):
        await app.auth.refresh(current.refresh_token)
    with pytest.raises(Unauthenticated) as raised:
        await app.auth.logout("zqrt_unknown")
    assert raised.value.reason == "REFRESH_TOKEN_INVALID"


async def test_api_key_authentication_checks_window_signature_key_state_and_nonce(app):
    alice = await app.make_user("alice")
    key, secret = await app.api_keys.create(await app.principal(alice), "ci", None)

    for creds, reason in (
        (credentials(app, key.id, secret, age_seconds=301), "SIGNATURE_EXPIRED"),
        (credentials(app, key.id, "zqsk_wrong"), "SIGNATURE_INVALID"),
        (credentials(app, "zqak_ghost", secret), "API_KEY_INVALID"),
    ):
        with pytest.raises(Unauthenticated) as raised:
            await app.auth.authenticate_api_key(creds)
        assert raised.value.reason == reason
    assert app.store.nonces == {}  # rejected requests do not burn nonces

    caller = await app.auth.authenticate_api_key(credentials(app, key.id, secret, age_seconds=290))
    assert (caller.user_id, caller.auth_method) == (alice.id, "api_key")
    assert caller.permissions == frozenset(SEED_ROLES["researcher"][1])
    assert app.store.api_keys[key.id].last_used_at == app.clock.now()
    with pytest.raises(Unauthenticated) as raised:
        await app.auth.authenticate_api_key(credentials(app, key.id, secret, age_seconds=290))
    assert raised.value.reason == "NONCE_REUSED"

    await app.api_keys.revoke(await app.principal(alice), key.id)
    with pytest.raises(Unauthenticated) as raised:
        await app.auth.authenticate_api_key(credentials(app, key.id, secret, nonce="n-2"))
    assert raised.value.reason == "API_KEY_INVALID"


# --- API keys --------------------------------------------------------------------------------------------------


async def test_api_key_secret_is_not_stored_and_expiry_must_be_in_the_future(app):
    alice = await app.make_user("alice")
    as_alice = await app.principal(alice)
    key, secret = await app.api_keys.create(as_alice, " ci ", None)
    stored = app.store.api_keys[key.id]
    assert key.name == "ci" and stored.hmac_key_encrypted.startswith("sealed:")
    assert hmac_key(secret).hex() not in stored.hmac_key_encrypted and secret not in repr(stored)

    with pytest.raises(InvalidArgument) as raised:
        await app.api_keys.create(as_alice, "old", app.clock.now())
    assert raised.value.field == "expire_time"
    with pytest.raises(InvalidArgument) as raised:
        await app.api_keys.create(as_alice, "  ", None)
    assert raised.value.field == "name"


async def test_another_users_api_key_cannot_be_seen_or_revoked(app):
    alice, bob = await app.make_user("alice"), await app.make_user("bob")
    bob_key, _ = await app.api_keys.create(await app.principal(bob), "ci", None)
    as_alice = await app.principal(alice)
    assert await app.api_keys.list(as_alice, None, 10) == ([], False)
    with pytest.raises(NotFound):
        await app.api_keys.revoke(as_alice, bob_key.id)
    assert app.store.api_keys[bob_key.id].revoked_at is None
