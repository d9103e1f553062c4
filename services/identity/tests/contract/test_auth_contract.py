"""AuthService contract: Login, Refresh and Logout (public)."""

from __future__ import annotations

import datetime as dt

import grpc
import pytest

from zquant.identity.v1 import auth_pb2, user_pb2
from zquant_kit.grpc.client import bearer
from zquant_kit.testing import ADMIN_PASSWORD

pytestmark = pytest.mark.contract
C = grpc.StatusCode


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
            identity.auth.Login(auth_pb2.LoginRequest(username=username, password=password)),
            C.INVALID_ARGUMENT,
        )
        assert found.fields == [field]

    wrong_password = await expect_error(
        identity.auth.Login(auth_pb2.LoginRequest(username="admin", password="Wrong-pass-1")),
        C.UNAUTHENTICATED,
    )
    unknown_user = await expect_error(
        identity.auth.Login(auth_pb2.LoginRequest(username="nobody", password="Wrong-pass-1")),
        C.UNAUTHENTICATED,
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
