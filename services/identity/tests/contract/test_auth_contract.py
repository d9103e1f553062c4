"""AuthService contract: Login, Refresh, Logout, GetPublicKeys (public) and AuthenticateApiKey (service-only)."""

from __future__ import annotations

import datetime as dt
import secrets
import time

import grpc
import jwt
import pytest

from zquant.identity.v1 import api_key_pb2, auth_pb2, user_pb2
from zquant_kit.auth import hmac_key, public_key_from_jwk, request_digest, signature
from zquant_kit.grpc.client import bearer
from zquant_kit.testing import ADMIN_PASSWORD

pytestmark = pytest.mark.contract
C = grpc.StatusCode
GET_ME = "/zquant.identity.v1.UserService/GetMe"


def signed_request(key_id: str, secret: str, **overrides) -> auth_pb2.AuthenticateApiKeyRequest:
    """What another service forwards: the caller's key id, timestamp, nonce, method, body digest and signature."""
    values = {
        "key_id": key_id,
        "timestamp": int(time.time()),
        "nonce": secrets.token_hex(16),
        "method": GET_ME,
        "body_sha256": request_digest(user_pb2.GetMeRequest().SerializeToString()),
    }
    values.update(overrides)
    values.setdefault(
        "signature",
        signature(hmac_key(secret), values["timestamp"], values["nonce"], values["method"], values["body_sha256"]),
    )
    return auth_pb2.AuthenticateApiKeyRequest(**values)


async def test_login_returns_a_bearer_token_pair(identity):
    before = dt.datetime.now(dt.UTC)
    # Auth RPCs are public: credentials, even garbage ones, are not looked at.
    response = await identity.auth.Login(
        auth_pb2.LoginRequest(username="admin", password=ADMIN_PASSWORD), metadata=bearer("garbage")
    )
    tokens = response.tokens
    assert tokens.token_type == "Bearer"
    assert tokens.access_token and tokens.refresh_token and tokens.access_token != tokens.refresh_token
    access_ttl = tokens.access_token_expire_time.ToDatetime(tzinfo=dt.UTC) - before
    refresh_ttl = tokens.refresh_token_expire_time.ToDatetime(tzinfo=dt.UTC) - before
    assert dt.timedelta(minutes=14) < access_ttl <= dt.timedelta(minutes=16)
    assert dt.timedelta(days=6, hours=23) < refresh_ttl <= dt.timedelta(days=7, minutes=1)

    me = await identity.users.GetMe(user_pb2.GetMeRequest(), metadata=bearer(tokens.access_token))
    assert me.user.username == "admin"


async def test_login_rejects_missing_fields_and_bad_credentials(identity, expect_error):
    for username, password, field in (("", ADMIN_PASSWORD, "username"), ("admin", "", "password")):
        found = await expect_error(
            identity.auth.Login(auth_pb2.LoginRequest(username=username, password=password)), C.INVALID_ARGUMENT
        )
        assert found.fields == [field]

    wrong_password = await expect_error(
        identity.auth.Login(auth_pb2.LoginRequest(username="admin", password="Wrong-pass-1")), C.UNAUTHENTICATED
    )
    unknown_user = await expect_error(
        identity.auth.Login(auth_pb2.LoginRequest(username="nobody", password="Wrong-pass-1")), C.UNAUTHENTICATED
    )
    assert wrong_password.reason == unknown_user.reason == "BAD_CREDENTIALS"
    assert wrong_password.message == unknown_user.message  # does not reveal which usernames exist


async def test_refresh_rotates_the_token_pair(identity, expect_error):
    first = await identity.login("admin", ADMIN_PASSWORD)
    second = (await identity.auth.Refresh(auth_pb2.RefreshRequest(refresh_token=first.refresh_token))).tokens
    assert second.token_type == "Bearer"
    assert second.refresh_token != first.refresh_token and second.access_token != first.access_token
    assert (
        await identity.users.GetMe(user_pb2.GetMeRequest(), metadata=bearer(second.access_token))
    ).user.username == "admin"
    third = (await identity.auth.Refresh(auth_pb2.RefreshRequest(refresh_token=second.refresh_token))).tokens
    assert third.refresh_token not in (first.refresh_token, second.refresh_token)

    found = await expect_error(identity.auth.Refresh(auth_pb2.RefreshRequest()), C.INVALID_ARGUMENT)
    assert found.fields == ["refresh_token"]
    for unknown in ("zqrt_unknown", third.access_token):  # an access token is no refresh token
        found = await expect_error(
            identity.auth.Refresh(auth_pb2.RefreshRequest(refresh_token=unknown)), C.UNAUTHENTICATED
        )
        assert found.reason == "REFRESH_TOKEN_INVALID"


async def test_logout_validates_the_refresh_token(identity, expect_error):
    tokens = await identity.login("admin", ADMIN_PASSWORD)
    assert (
        await identity.auth.Logout(auth_pb2.LogoutRequest(refresh_token=tokens.refresh_token))
        == auth_pb2.LogoutResponse()
    )

    found = await expect_error(identity.auth.Logout(auth_pb2.LogoutRequest()), C.INVALID_ARGUMENT)
    assert found.fields == ["refresh_token"]
    found = await expect_error(
        identity.auth.Logout(auth_pb2.LogoutRequest(refresh_token="zqrt_unknown")), C.UNAUTHENTICATED
    )
    assert found.reason == "REFRESH_TOKEN_INVALID"


async def test_get_public_keys_verify_issued_access_tokens(identity):
    response = await identity.auth.GetPublicKeys(auth_pb2.GetPublicKeysRequest())
    assert (response.issuer, response.audience) == ("zquant-identity", "zquant")
    assert len(response.keys) >= 1
    for key in response.keys:
        assert (key.kty, key.crv, key.alg) == ("OKP", "Ed25519", "EdDSA") and key.kid and key.x

    token = (await identity.login("admin", ADMIN_PASSWORD)).access_token
    kid = jwt.get_unverified_header(token)["kid"]
    (jwk,) = [k for k in response.keys if k.kid == kid]
    claims = jwt.decode(
        token,
        public_key_from_jwk({"kty": jwk.kty, "crv": jwk.crv, "x": jwk.x}),
        algorithms=["EdDSA"],
        audience=response.audience,
        issuer=response.issuer,
    )
    assert claims["username"] == "admin" and claims["role"] == "admin" and claims["typ"] == "access"


async def test_authenticate_api_key_returns_the_key_owner(identity, make_user, service):
    rita, researcher = await make_user("rita")
    created = await identity.api_keys.CreateApiKey(api_key_pb2.CreateApiKeyRequest(name="ci"), metadata=researcher)

    found = await identity.auth.AuthenticateApiKey(
        signed_request(created.api_key.id, created.secret), metadata=service
    )
    assert (found.user_id, found.username, found.role) == (rita.id, "rita", "researcher")
    assert list(found.permissions) == list(rita.permissions)


async def test_authenticate_api_key_rejects_bad_requests(identity, admin, service, expect_error):
    created = await identity.api_keys.CreateApiKey(api_key_pb2.CreateApiKeyRequest(name="ci"), metadata=admin)
    key_id, secret = created.api_key.id, created.secret
    stale = int(time.time()) - 301
    cases = [
        (signed_request("zqak_unknown", secret), "API_KEY_INVALID"),
        (signed_request(key_id, "zqsk_wrong-secret"), "SIGNATURE_INVALID"),
        (signed_request(key_id, secret, signature="00" * 32), "SIGNATURE_INVALID"),
        (signed_request(key_id, secret, timestamp=stale), "SIGNATURE_EXPIRED"),
        (signed_request(key_id, secret, timestamp=int(time.time()) + 305), "SIGNATURE_EXPIRED"),
        (signed_request(key_id, secret, nonce=""), "API_KEY_INVALID"),
        (signed_request(key_id, secret, nonce="n" * 129), "API_KEY_INVALID"),
    ]
    for request, reason in cases:
        found = await expect_error(identity.auth.AuthenticateApiKey(request, metadata=service), C.UNAUTHENTICATED)
        assert found.reason == reason, request
