"""IdentityOwnerTokens over a fake stub: one issue per (owner, scopes) until shortly before expiry."""

from __future__ import annotations

import time

import grpc
import pytest

from zquant.common.v1 import owner_token_pb2 as pb
from zquant_kit.errors import Unavailable
from zquant_kit.grpc.delegation_client import IdentityOwnerTokens

pytestmark = pytest.mark.unit


class FakeStub:
    def __init__(self, lifetime: float) -> None:
        self.requests: list[pb.IssueOwnerTokenRequest] = []
        self.lifetime = lifetime
        self.fail: grpc.StatusCode | None = None

    async def IssueOwnerToken(self, request, **kwargs):
        self.requests.append(request)
        if self.fail is not None:
            raise grpc.aio.AioRpcError(self.fail, grpc.aio.Metadata(), grpc.aio.Metadata(), "down")
        reply = pb.IssueOwnerTokenResponse(access_token=f"t{len(self.requests)}", scopes=request.scopes)
        reply.expire_time.FromMicroseconds(int((time.time() + self.lifetime) * 1e6))
        return reply


def _client(stub: FakeStub) -> IdentityOwnerTokens:
    tokens = IdentityOwnerTokens(grpc.aio.insecure_channel("localhost:1"), "s" * 32, "scheduler")
    tokens._stub = stub  # type: ignore[assignment]
    return tokens


async def test_tokens_are_cached_per_owner_and_scope_set_until_near_expiry():
    stub = FakeStub(lifetime=600)
    tokens = _client(stub)
    assert await tokens.token_for("u1", ("data:read", "data:sync")) == "t1"
    assert await tokens.token_for("u1", ("data:sync", "data:read")) == "t1"
    assert await tokens.token_for("u2", ("data:read",)) == "t2"
    assert stub.requests[0].acting_service == "scheduler" and list(stub.requests[0].scopes) == ["data:read", "data:sync"]
    tokens.forget("u1")
    assert await tokens.token_for("u1", ("data:read", "data:sync")) == "t3"

    short = FakeStub(lifetime=30)  # inside the 60 s refresh margin: never reused
    tokens = _client(short)
    assert [await tokens.token_for("u1", ("data:read",)) for _ in range(2)] == ["t1", "t2"]


async def test_identity_unreachable_is_unavailable():
    stub = FakeStub(lifetime=600)
    stub.fail = grpc.StatusCode.UNAVAILABLE
    with pytest.raises(Unavailable):
        await _client(stub).token_for("u1", ("data:read",))
