"""ApiKeyService contract: create (secret shown once), list own keys, revoke."""

from __future__ import annotations

import datetime as dt

import grpc
import pytest
from google.protobuf import timestamp_pb2

from zquant.identity.v1 import api_key_pb2
from zquant_kit.grpc.client import bearer
from zquant_kit.testing import walk_pages

pytestmark = pytest.mark.contract
C = grpc.StatusCode


def timestamp(value: dt.datetime) -> timestamp_pb2.Timestamp:
    stamp = timestamp_pb2.Timestamp()
    stamp.FromDatetime(value)
    return stamp


async def test_api_key_rpcs_require_credentials_and_apikey_permissions(identity, make_user, expect_error):
    _, viewer = await make_user("victor", "viewer")
    for rpc, request, permission in (
        (identity.api_keys.CreateApiKey, api_key_pb2.CreateApiKeyRequest(name="k"), "apikey:create"),
        (identity.api_keys.ListApiKeys, api_key_pb2.ListApiKeysRequest(), "apikey:read"),
        (
            identity.api_keys.RevokeApiKey,
            api_key_pb2.RevokeApiKeyRequest(api_key_id="zqak_x"),
            "apikey:revoke",
        ),
    ):
        await expect_error(rpc(request), C.UNAUTHENTICATED)
        await expect_error(rpc(request, metadata=bearer("not.a.jwt")), C.UNAUTHENTICATED)
        found = await expect_error(rpc(request, metadata=viewer), C.PERMISSION_DENIED)
        assert permission in found.message


async def test_create_api_key_returns_the_secret_once(identity, make_user, expect_error):
    _, researcher = await make_user("rita")
    created = await identity.api_keys.CreateApiKey(
        api_key_pb2.CreateApiKeyRequest(name="  ci  "), metadata=researcher
    )
    key = created.api_key
    assert created.secret.startswith("zqsk_") and key.id.startswith("zqak_")
    assert (key.name, key.revoked) == ("ci", False)
    assert key.HasField("create_time")
    assert not key.HasField("expire_time") and not key.HasField("last_used_time")

    expires = (dt.datetime.now(dt.UTC) + dt.timedelta(days=30)).replace(microsecond=0)
    expiring = await identity.api_keys.CreateApiKey(
        api_key_pb2.CreateApiKeyRequest(name="temp", expire_time=timestamp(expires)), metadata=researcher
    )
    assert expiring.api_key.expire_time.ToDatetime(tzinfo=dt.UTC) == expires
    assert expiring.secret != created.secret

    listed = await identity.api_keys.ListApiKeys(api_key_pb2.ListApiKeysRequest(), metadata=researcher)
    assert sorted(k.id for k in listed.api_keys) == sorted([key.id, expiring.api_key.id])

    for name in ("", "   ", "k" * 101):
        found = await expect_error(
            identity.api_keys.CreateApiKey(api_key_pb2.CreateApiKeyRequest(name=name), metadata=researcher),
            C.INVALID_ARGUMENT,
        )
        assert found.fields == ["name"]
    past = timestamp(dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1))
    found = await expect_error(
        identity.api_keys.CreateApiKey(
            api_key_pb2.CreateApiKeyRequest(name="old", expire_time=past), metadata=researcher
        ),
        C.INVALID_ARGUMENT,
    )
    assert found.fields == ["expire_time"]


async def test_list_api_keys_walks_every_page_once(identity, admin, expect_error):
    created = set()
    for index in range(5):
        response = await identity.api_keys.CreateApiKey(
            api_key_pb2.CreateApiKeyRequest(name=f"k{index}"), metadata=admin
        )
        created.add(response.api_key.id)

    keys, pages = await walk_pages(
        lambda token: identity.api_keys.ListApiKeys(
            api_key_pb2.ListApiKeysRequest(page_size=2, page_token=token), metadata=admin
        ),
        lambda page: page.api_keys,
    )
    seen = [k.id for k in keys]
    assert len(seen) == len(set(seen)) == 5 and set(seen) == created
    assert pages == 3

    for request, field in (
        (api_key_pb2.ListApiKeysRequest(page_token="garbage!"), "page_token"),
        (api_key_pb2.ListApiKeysRequest(page_size=-1), "page_size"),
    ):
        found = await expect_error(identity.api_keys.ListApiKeys(request, metadata=admin), C.INVALID_ARGUMENT)
        assert found.fields == [field]


async def test_revoke_api_key_marks_it_revoked(identity, admin, expect_error):
    key = (
        await identity.api_keys.CreateApiKey(api_key_pb2.CreateApiKeyRequest(name="ci"), metadata=admin)
    ).api_key
    for _ in range(2):  # revoking twice is harmless
        response = await identity.api_keys.RevokeApiKey(
            api_key_pb2.RevokeApiKeyRequest(api_key_id=key.id), metadata=admin
        )
        assert response == api_key_pb2.RevokeApiKeyResponse()
    (listed,) = (
        await identity.api_keys.ListApiKeys(api_key_pb2.ListApiKeysRequest(), metadata=admin)
    ).api_keys
    assert (listed.id, listed.revoked) == (key.id, True)

    found = await expect_error(
        identity.api_keys.RevokeApiKey(
            api_key_pb2.RevokeApiKeyRequest(api_key_id="zqak_ghost"), metadata=admin
        ),
        C.NOT_FOUND,
    )
    assert (found.resource_type, found.resource_name) == ("api_key", "zqak_ghost")
    found = await expect_error(
        identity.api_keys.RevokeApiKey(api_key_pb2.RevokeApiKeyRequest(), metadata=admin), C.INVALID_ARGUMENT
    )
    assert found.fields == ["api_key_id"]
