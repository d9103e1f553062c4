"""Security properties of the identity service, end to end over gRPC and PostgreSQL."""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import json
import time
import uuid

import grpc
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc
from sqlalchemy import select, update

from zquant.common.v1 import token_verification_pb2
from zquant.identity.v1 import api_key_pb2, auth_pb2, events_pb2, notification_pb2, user_pb2
from zquant_identity.adapters.sqlalchemy import tables
from zquant_identity.application.events import USER_DELETED
from zquant_kit.auth import sign_access_token, signed_metadata
from zquant_kit.grpc.client import call_with_api_key
from zquant_kit.testing import ADMIN_PASSWORD

pytestmark = pytest.mark.contract
C = grpc.StatusCode
SERVICES = [
    f"zquant.identity.v1.{name}"
    for name in (
        "AuthService",
        "UserService",
        "RoleService",
        "ApiKeyService",
        "NotificationService",
        "AuditService",
    )
]
GET_ME = "/zquant.identity.v1.UserService/GetMe"
LIST_API_KEYS = "/zquant.identity.v1.ApiKeyService/ListApiKeys"


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def b64url_json(value: dict) -> str:
    return b64url(json.dumps(value).encode())


async def test_forged_and_malformed_access_tokens_are_rejected(identity, admin, make_user, expect_error):
    me = (await identity.users.GetMe(user_pb2.GetMeRequest(), metadata=admin)).user
    keys = await identity.verification.GetVerificationKeys(
        token_verification_pb2.GetVerificationKeysRequest()
    )
    kid = jwt.get_unverified_header(admin[0][1].removeprefix("Bearer "))["kid"]
    now = int(time.time())

    def claims(**overrides) -> dict:
        values = {
            "iss": keys.issuer,
            "aud": keys.audience,
            "sub": me.id,
            "username": "admin",
            "role": "admin",
            "perms": list(me.permissions),
            "iat": now,
            "exp": now + 600,
            "jti": uuid.uuid4().hex,
            "typ": "access",
        }
        values.update(overrides)
        return {k: v for k, v in values.items() if v is not None}

    def get_me(token: str, scheme: str = "Bearer"):
        return identity.users.GetMe(
            user_pb2.GetMeRequest(), metadata=[("authorization", f"{scheme} {token}")]
        )

    # Control: a token we sign with the service's own key and the full claim set is accepted.
    assert (await get_me(identity.app.ring.sign(claims()))).user.id == me.id

    _, researcher = await make_user("rita")
    header, payload, sig = researcher[0][1].removeprefix("Bearer ").split(".")
    escalated = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    escalated.update(role="admin", perms=list(me.permissions))
    flipped = payload[:10] + ("A" if payload[10] != "A" else "B") + payload[11:]
    other_key = Ed25519PrivateKey.generate()
    cases = {
        "expired": (identity.app.ring.sign(claims(iat=now - 3600, exp=now - 60)), "TOKEN_EXPIRED"),
        "payload char flipped": (f"{header}.{flipped}.{sig}", "TOKEN_INVALID"),
        "payload rewritten": (f"{header}.{b64url_json(escalated)}.{sig}", "TOKEN_INVALID"),
        "alg none": (
            f"{b64url_json({'alg': 'none', 'typ': 'JWT', 'kid': kid})}.{b64url_json(claims())}.",
            "TOKEN_INVALID",
        ),
        "HS256 with public key": (
            jwt.encode(claims(), keys.keys[0].x.encode(), algorithm="HS256", headers={"kid": kid}),
            "TOKEN_INVALID",
        ),
        "other key, same kid": (sign_access_token(other_key, kid, claims()), "TOKEN_INVALID"),
        "other key, unknown kid": (sign_access_token(other_key, "unknown-kid", claims()), "TOKEN_INVALID"),
        "wrong audience": (identity.app.ring.sign(claims(aud="someone-else")), "TOKEN_INVALID"),
        "wrong issuer": (identity.app.ring.sign(claims(iss="evil-identity")), "TOKEN_INVALID"),
        "not an access token": (identity.app.ring.sign(claims(typ="refresh")), "TOKEN_INVALID"),
        "no expiry": (identity.app.ring.sign(claims(exp=None)), "TOKEN_INVALID"),
        "no subject": (identity.app.ring.sign(claims(sub=None)), "TOKEN_INVALID"),
    }
    for name, (token, reason) in cases.items():
        found = await expect_error(get_me(token), C.UNAUTHENTICATED)
        assert found.reason == reason, name

    valid = identity.app.ring.sign(claims())
    for scheme, token in (("Basic", valid), ("Token", valid), ("Bearer", "")):
        found = await expect_error(get_me(token, scheme), C.UNAUTHENTICATED)
        assert found.reason == "TOKEN_INVALID", scheme


async def test_refresh_token_reuse_revokes_the_whole_family(identity, expect_error):
    other_session = await identity.login("admin", ADMIN_PASSWORD)
    first = await identity.login("admin", ADMIN_PASSWORD)
    second = (await identity.auth.Refresh(auth_pb2.RefreshRequest(refresh_token=first.refresh_token))).tokens

    found = await expect_error(
        identity.auth.Refresh(auth_pb2.RefreshRequest(refresh_token=first.refresh_token)), C.UNAUTHENTICATED
    )
    assert found.reason == "REFRESH_TOKEN_REUSED"
    # The newest token of that family was revoked with it (whoever holds it may be the thief).
    await expect_error(
        identity.auth.Refresh(auth_pb2.RefreshRequest(refresh_token=second.refresh_token)), C.UNAUTHENTICATED
    )
    # Other sessions of the same user live on.
    alive = await identity.auth.Refresh(auth_pb2.RefreshRequest(refresh_token=other_session.refresh_token))
    assert alive.tokens.access_token


async def test_logout_revokes_every_refresh_token_of_the_session(identity, expect_error):
    other_session = await identity.login("admin", ADMIN_PASSWORD)
    first = await identity.login("admin", ADMIN_PASSWORD)
    second = (await identity.auth.Refresh(auth_pb2.RefreshRequest(refresh_token=first.refresh_token))).tokens

    await identity.auth.Logout(auth_pb2.LogoutRequest(refresh_token=second.refresh_token))
    for token in (first.refresh_token, second.refresh_token):
        await expect_error(
            identity.auth.Refresh(auth_pb2.RefreshRequest(refresh_token=token)), C.UNAUTHENTICATED
        )
    alive = await identity.auth.Refresh(auth_pb2.RefreshRequest(refresh_token=other_session.refresh_token))
    assert alive.tokens.access_token


async def test_failed_logins_throttle_the_account_from_that_address_in_the_database(
    identity, admin, expect_error
):
    await identity.users.CreateUser(
        user_pb2.CreateUserRequest(username="rita", email="rita@example.com", password="Secret-pass-1"),
        metadata=admin,
    )

    def login(password: str):
        return identity.auth.Login(auth_pb2.LoginRequest(username="rita", password=password))

    async def throttle_state():
        async with identity.app.sessions() as session:
            c = tables.login_throttles.c
            query = select(c.address, c.failures, c.blocked_until).where(c.username == "rita")
            return (await session.execute(query)).all()

    for attempt in range(1, 6):
        found = await expect_error(login("Wrong-pass-1"), C.UNAUTHENTICATED)
        assert found.reason == "BAD_CREDENTIALS"
        if attempt == 4:
            assert [tuple(row) for row in await throttle_state()] == [("127.0.0.1", 4, None)]
    await asyncio.sleep(1.1)  # past the first 1 s block; the sixth failure doubles it
    await expect_error(login("Wrong-pass-1"), C.UNAUTHENTICATED)
    ((address, failures, blocked_until),) = await throttle_state()
    assert (address, failures) == ("127.0.0.1", 6)
    assert dt.timedelta(seconds=1) < blocked_until - dt.datetime.now(dt.UTC) <= dt.timedelta(seconds=2)

    found = await expect_error(login("Secret-pass-1"), C.UNAUTHENTICATED)  # the right password waits too
    assert found.reason == "LOGIN_RATE_LIMITED"
    assert "retry in" in found.message
    assert (await identity.login("admin", ADMIN_PASSWORD)).access_token  # other accounts are unaffected

    async with identity.app.sessions() as session, session.begin():
        past = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)
        await session.execute(update(tables.login_throttles).values(blocked_until=past))
    assert (await login("Secret-pass-1")).tokens.access_token  # the block expires on its own
    assert await throttle_state() == []  # and a success forgets the failures


async def test_concurrent_failed_logins_all_count(identity, admin):
    await identity.users.CreateUser(
        user_pb2.CreateUserRequest(username="rita", email="rita@example.com", password="Secret-pass-1"),
        metadata=admin,
    )
    guesses = [
        identity.auth.Login(auth_pb2.LoginRequest(username="rita", password="Wrong-pass-1")) for _ in range(5)
    ]
    await asyncio.gather(*guesses, return_exceptions=True)

    async with identity.app.sessions() as session:
        c = tables.login_throttles.c
        failures = (await session.execute(select(c.failures).where(c.username == "rita"))).scalar_one()
    assert failures == 5


async def test_api_key_signed_call_works_once_and_records_last_use(identity, make_user, expect_error):
    rita, researcher = await make_user("rita")
    created = await identity.api_keys.CreateApiKey(
        api_key_pb2.CreateApiKeyRequest(name="ci"), metadata=researcher
    )
    key_id, secret = created.api_key.id, created.secret

    me = await call_with_api_key(
        identity.users.GetMe, user_pb2.GetMeRequest(), key_id=key_id, secret=secret, method=GET_ME
    )
    assert me.user.id == rita.id
    request = api_key_pb2.ListApiKeysRequest(page_size=5)
    listed = await call_with_api_key(
        identity.api_keys.ListApiKeys, request, key_id=key_id, secret=secret, method=LIST_API_KEYS
    )
    (key,) = listed.api_keys
    assert key.HasField("last_used_time")
    assert abs(key.last_used_time.ToDatetime(tzinfo=dt.UTC) - dt.datetime.now(dt.UTC)) < dt.timedelta(
        minutes=1
    )

    # Within the ±300 s window, clock skew is tolerated.
    skewed = signed_metadata(key_id, secret, GET_ME, b"", now=int(time.time()) - 290)
    assert (await identity.users.GetMe(user_pb2.GetMeRequest(), metadata=skewed)).user.id == rita.id

    replayed = signed_metadata(key_id, secret, GET_ME, b"")
    assert (await identity.users.GetMe(user_pb2.GetMeRequest(), metadata=replayed)).user.id == rita.id
    found = await expect_error(
        identity.users.GetMe(user_pb2.GetMeRequest(), metadata=replayed), C.UNAUTHENTICATED
    )
    assert found.reason == "NONCE_REUSED"


async def test_api_key_signature_binds_time_secret_method_and_body(identity, admin, expect_error):
    created = await identity.api_keys.CreateApiKey(api_key_pb2.CreateApiKeyRequest(name="ci"), metadata=admin)
    key_id, secret = created.api_key.id, created.secret
    small, large = api_key_pb2.ListApiKeysRequest(page_size=1), api_key_pb2.ListApiKeysRequest(page_size=2)
    body = small.SerializeToString(deterministic=True)
    cases = {
        "301 s old": (
            small,
            signed_metadata(key_id, secret, LIST_API_KEYS, body, now=int(time.time()) - 301),
            "SIGNATURE_EXPIRED",
        ),
        "wrong secret": (
            small,
            signed_metadata(key_id, "zqsk_wrong", LIST_API_KEYS, body),
            "SIGNATURE_INVALID",
        ),
        "other method": (small, signed_metadata(key_id, secret, GET_ME, body), "SIGNATURE_INVALID"),
        "other body": (large, signed_metadata(key_id, secret, LIST_API_KEYS, body), "SIGNATURE_INVALID"),
        "unknown key": (
            small,
            signed_metadata("zqak_unknown", secret, LIST_API_KEYS, body),
            "API_KEY_INVALID",
        ),
        "bad timestamp": (
            small,
            [
                (k, "yesterday" if k == "x-zq-timestamp" else v)
                for k, v in signed_metadata(key_id, secret, LIST_API_KEYS, body)
            ],
            "API_KEY_INVALID",
        ),
    }
    for name, (request, metadata, reason) in cases.items():
        found = await expect_error(
            identity.api_keys.ListApiKeys(request, metadata=metadata), C.UNAUTHENTICATED
        )
        assert found.reason == reason, name


async def test_revoked_expired_or_inactive_owner_api_keys_are_rejected(
    identity, admin, make_user, expect_error
):
    rita, researcher = await make_user("rita")
    revoked, expired, owner_inactive = [
        await identity.api_keys.CreateApiKey(api_key_pb2.CreateApiKeyRequest(name=name), metadata=researcher)
        for name in ("revoked", "expired", "owner-inactive")
    ]
    await identity.api_keys.RevokeApiKey(
        api_key_pb2.RevokeApiKeyRequest(api_key_id=revoked.api_key.id), metadata=researcher
    )
    async with identity.app.sessions() as session, session.begin():
        past = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)
        await session.execute(
            update(tables.api_keys).where(tables.api_keys.c.id == expired.api_key.id).values(expires_at=past)
        )

    def get_me(key):
        return call_with_api_key(
            identity.users.GetMe,
            user_pb2.GetMeRequest(),
            key_id=key.api_key.id,
            secret=key.secret,
            method=GET_ME,
        )

    assert (await get_me(owner_inactive)).user.id == rita.id
    for key in (revoked, expired):
        found = await expect_error(get_me(key), C.UNAUTHENTICATED)
        assert found.reason == "API_KEY_INVALID"
    await identity.users.DeactivateUser(user_pb2.DeactivateUserRequest(user_id=rita.id), metadata=admin)
    found = await expect_error(get_me(owner_inactive), C.UNAUTHENTICATED)
    assert found.reason == "ACCOUNT_INACTIVE"


async def test_users_cannot_see_or_touch_each_others_keys_notifications_or_profiles(
    identity, admin, make_user, expect_error
):
    rita, as_rita = await make_user("rita")
    bob, as_bob = await make_user("bob")
    bob_key = (
        await identity.api_keys.CreateApiKey(api_key_pb2.CreateApiKeyRequest(name="bob"), metadata=as_bob)
    ).api_key
    bob_note = (
        await identity.notifications.SendNotification(
            notification_pb2.SendNotificationRequest(user_id=bob.id, title="for bob"), metadata=admin
        )
    ).notification

    rita_keys = await identity.api_keys.ListApiKeys(api_key_pb2.ListApiKeysRequest(), metadata=as_rita)
    assert list(rita_keys.api_keys) == []
    found = await expect_error(
        identity.api_keys.RevokeApiKey(
            api_key_pb2.RevokeApiKeyRequest(api_key_id=bob_key.id), metadata=as_rita
        ),
        C.NOT_FOUND,
    )
    assert (found.resource_type, found.resource_name) == ("api_key", bob_key.id)

    rita_inbox = await identity.notifications.ListNotifications(
        notification_pb2.ListNotificationsRequest(), metadata=as_rita
    )
    assert list(rita_inbox.notifications) == []
    for call in (
        identity.notifications.MarkNotificationRead(
            notification_pb2.MarkNotificationReadRequest(notification_id=bob_note.id), metadata=as_rita
        ),
        identity.notifications.DeleteNotification(
            notification_pb2.DeleteNotificationRequest(notification_id=bob_note.id), metadata=as_rita
        ),
    ):
        found = await expect_error(call, C.NOT_FOUND)
        assert (found.resource_type, found.resource_name) == ("notification", bob_note.id)
    marked = await identity.notifications.MarkAllNotificationsRead(
        notification_pb2.MarkAllNotificationsReadRequest(), metadata=as_rita
    )
    assert marked.updated_count == 0

    (still_bobs_key,) = (
        await identity.api_keys.ListApiKeys(api_key_pb2.ListApiKeysRequest(), metadata=as_bob)
    ).api_keys
    assert not still_bobs_key.revoked
    (still_bobs_note,) = (
        await identity.notifications.ListNotifications(
            notification_pb2.ListNotificationsRequest(), metadata=as_bob
        )
    ).notifications
    assert (still_bobs_note.id, still_bobs_note.read) == (bob_note.id, False)

    await expect_error(
        identity.users.GetUser(user_pb2.GetUserRequest(user_id=bob.id), metadata=as_rita), C.PERMISSION_DENIED
    )
    assert (
        await identity.users.GetUser(user_pb2.GetUserRequest(user_id=rita.id), metadata=as_rita)
    ).user.id == rita.id


async def test_deleting_a_user_removes_owned_data_and_emits_one_event(identity, admin, make_user, count_rows):
    owned_tables = (tables.api_keys, tables.refresh_tokens, tables.notifications)
    users = {}
    for name in ("rita", "bob"):
        user, metadata = await make_user(name)
        key = await identity.api_keys.CreateApiKey(
            api_key_pb2.CreateApiKeyRequest(name="ci"), metadata=metadata
        )
        await call_with_api_key(
            identity.users.GetMe,
            user_pb2.GetMeRequest(),
            key_id=key.api_key.id,
            secret=key.secret,
            method=GET_ME,
        )
        await identity.notifications.SendNotification(
            notification_pb2.SendNotificationRequest(user_id=user.id, title="hello"), metadata=admin
        )
        users[name] = user
    rita, bob = users["rita"], users["bob"]
    for table in owned_tables:
        assert await count_rows(table, table.c.user_id == rita.id) == 1, table.name

    await identity.users.DeleteUser(user_pb2.DeleteUserRequest(user_id=rita.id), metadata=admin)

    for table in owned_tables:
        assert await count_rows(table, table.c.user_id == rita.id) == 0, table.name
        assert await count_rows(table, table.c.user_id == bob.id) == 1, table.name
    assert await count_rows(tables.users, tables.users.c.id == rita.id) == 0
    assert await count_rows(tables.api_key_nonces) == 1  # only bob's
    async with identity.app.sessions() as session:
        payloads = (
            (
                await session.execute(
                    select(tables.outbox.c.payload).where(tables.outbox.c.event_type == USER_DELETED)
                )
            )
            .scalars()
            .all()
        )
    assert len(payloads) == 1
    assert events_pb2.UserDeletedEvent.FromString(payloads[0]).user_id == rita.id


async def test_health_and_reflection_need_no_credentials(identity):
    health = health_pb2_grpc.HealthStub(identity.channel)
    for service in ("", *SERVICES):
        response = await health.Check(health_pb2.HealthCheckRequest(service=service))
        assert response.status == health_pb2.HealthCheckResponse.SERVING, service
    with pytest.raises(grpc.aio.AioRpcError) as unknown:
        await health.Check(health_pb2.HealthCheckRequest(service="zquant.identity.v1.NoSuchService"))
    assert unknown.value.code() == C.NOT_FOUND

    reflection = reflection_pb2_grpc.ServerReflectionStub(identity.channel)
    call = reflection.ServerReflectionInfo(iter([reflection_pb2.ServerReflectionRequest(list_services="")]))
    response = await call.read()
    listed = {service.name for service in response.list_services_response.service}
    assert set(SERVICES) | {"grpc.health.v1.Health"} <= listed
    call.cancel()
