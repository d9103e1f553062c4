"""A token a service got through the kit's `IdentityOwnerTokens` works at marketdata exactly like the owner's login
token, and is refused as soon as the owner's role loses the permission (identity revokes the role's tokens)."""

from __future__ import annotations

import grpc
import pytest

from zquant.identity.v1 import role_pb2, role_pb2_grpc
from zquant.marketdata.v1 import sync_pb2
from zquant_kit.errors import PermissionDenied
from zquant_kit.grpc.client import bearer
from zquant_kit.grpc.delegation_client import IdentityOwnerTokens
from zquant_kit.service_credential import load_service_secret
from zquant_kit.testing import refused_within

pytestmark = pytest.mark.contract


@pytest.fixture
def marketdata_extra_settings(tmp_path) -> dict[str, str]:
    return {"ZQUANT_DATA_DIR": str(tmp_path), "ZQUANT_MARKETDATA_SOURCE": "sample"}


async def test_owner_token_works_at_marketdata_until_the_role_loses_the_permission(
    marketdata, marketdata_settings
):
    admin = await marketdata.admin()
    roles = role_pb2_grpc.RoleServiceStub(marketdata.identity_channel)
    await roles.CreateRole(
        role_pb2.CreateRoleRequest(name="reader", permissions=["data:read"]), metadata=admin
    )
    owner_id, _ = await marketdata.user("owner", role="reader")
    tokens = IdentityOwnerTokens(
        marketdata.identity_channel, load_service_secret(marketdata_settings), "scheduler"
    )

    token = await tokens.token_for(owner_id, ("data:read",))
    assert await tokens.token_for(owner_id, ("data:read",)) == token  # cached until shortly before it expires
    status = sync_pb2.GetSyncStatusRequest()
    await marketdata.sync.GetSyncStatus(status, metadata=bearer(token))
    await marketdata.sync.ListSyncLogs(sync_pb2.ListSyncLogsRequest(), metadata=bearer(token))
    with pytest.raises(PermissionDenied) as denied:
        await tokens.token_for(owner_id, ("data:read", "data:sync"))
    assert denied.value.permission == "data:sync"

    await roles.RemoveRolePermissions(
        role_pb2.RemoveRolePermissionsRequest(name="reader", permissions=["data:read"]), metadata=admin
    )
    error = await refused_within(
        lambda: marketdata.sync.GetSyncStatus(status, metadata=bearer(token)), 3.0, "the delegated token still works"
    )
    assert error.code() == grpc.StatusCode.UNAUTHENTICATED and "revoked" in (error.details() or "")
    tokens.forget(owner_id)
    with pytest.raises(PermissionDenied) as lost:
        await tokens.token_for(owner_id, ("data:read",))
    assert lost.value.permission == "data:read" and lost.value.reason == "OWNER_PERMISSION_MISSING"
