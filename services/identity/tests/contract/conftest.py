"""Helpers shared by the identity contract tests: error details, users, database checks.

Tests run with `--import-mode=importlib`, so helpers reach the tests as fixtures, not imports.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import grpc
import pytest
from google.rpc import error_details_pb2
from grpc_status import rpc_status
from sqlalchemy import func, select

from zquant.identity.v1 import user_pb2
from zquant_kit.grpc.client import bearer
from zquant_kit.service_credential import load_service_secret, service_metadata

USER_PASSWORD = "Secret-pass-1"


@dataclass(frozen=True)
class ErrorDetails:
    """What a client can learn from a failed call: status, message and the packed google.rpc details."""

    code: grpc.StatusCode
    message: str
    reason: str
    domain: str
    fields: list[str]
    resource_type: str
    resource_name: str


def details(error: grpc.aio.AioRpcError) -> ErrorDetails:
    """Decodes ErrorInfo, BadRequest and ResourceInfo from a failed call's status."""
    status = rpc_status.from_call(error)
    info = error_details_pb2.ErrorInfo()
    bad_request = error_details_pb2.BadRequest()
    resource = error_details_pb2.ResourceInfo()
    for packed in status.details if status is not None else ():
        for message in (info, bad_request, resource):
            if packed.Is(message.DESCRIPTOR):
                packed.Unpack(message)
    return ErrorDetails(
        code=error.code(),
        message=error.details() or "",
        reason=info.reason,
        domain=info.domain,
        fields=[violation.field for violation in bad_request.field_violations],
        resource_type=resource.resource_type,
        resource_name=resource.resource_name,
    )


async def _expect_error(call, code: grpc.StatusCode) -> ErrorDetails:
    """Awaits `call`, asserts it fails with `code` and a clean message, and returns the decoded details."""
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await call
    found = details(caught.value)
    assert found.code == code, f"expected {code.name}, got {found.code.name}: {found.message}"
    assert "Traceback" not in found.message
    return found


@pytest.fixture
def expect_error():
    """`await expect_error(stub.Rpc(request, metadata=...), grpc.StatusCode.X)` → ErrorDetails."""
    return _expect_error


@pytest.fixture
async def admin(identity):
    """Bearer metadata of the seeded admin (one Login per test)."""
    return await identity.admin_metadata()


@pytest.fixture
def service(identity_settings):
    """Metadata carrying the service credential, as another zquant service sends it."""
    return service_metadata(load_service_secret(identity_settings))


@pytest.fixture
def make_user(identity, admin):
    """`await make_user("alice", "viewer")` → (User, bearer metadata); reuses the admin's login."""

    async def make(username: str, role: str = "researcher", password: str = USER_PASSWORD):
        created = await identity.users.CreateUser(
            user_pb2.CreateUserRequest(
                username=username, email=f"{username}@example.com", password=password, role=role
            ),
            metadata=admin,
        )
        return created.user, bearer((await identity.login(username, password)).access_token)

    return make


@pytest.fixture
def count_rows(identity):
    """`await count_rows(table, *conditions)` → rows in identity's database matching the conditions."""

    async def count(table, *conditions) -> int:
        async with identity.app.sessions() as session:
            query = select(func.count()).select_from(table).where(*conditions)
            return (await session.execute(query)).scalar_one()

    return count


@pytest.fixture
def eventually():
    """`await eventually(fetch, check)` polls `fetch()` every 50 ms (≤ 3 s) until `check(result)`; returns it."""

    async def poll(fetch, check, timeout: float = 3.0):
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            result = await fetch()
            if check(result) or asyncio.get_running_loop().time() > deadline:
                return result
            await asyncio.sleep(0.05)

    return poll
