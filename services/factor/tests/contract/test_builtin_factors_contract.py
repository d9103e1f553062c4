"""Built-in factors over a real server: the seeded admin holds `factor:admin` (identity's catalogue lists it), so
it creates a system-owned, shared built-in; a researcher asking for one is refused, and sees the built-in."""

from __future__ import annotations

import grpc
import pytest

from services.factor.tests.contract.test_factor_service_contract import builtin
from zquant.factor.v1 import factor_pb2 as pb
from zquant.identity.v1 import role_pb2, role_pb2_grpc
from zquant_kit.testing import expect_error

pytestmark = pytest.mark.contract


async def test_only_a_factor_admin_creates_a_builtin_and_everyone_sees_it(factor):
    admin = await factor.admin()
    roles = role_pb2_grpc.RoleServiceStub(factor.client.channel("identity"))
    seeded = await roles.GetRole(role_pb2.GetRoleRequest(name="admin"), metadata=admin)
    assert "factor:admin" in seeded.role.permissions

    _, rita = await factor.user("rita")
    request = builtin("sys_macd", "sys_macd", visibility=pb.VISIBILITY_SHARED)
    request.system = True
    refused = await expect_error(
        factor.factors.CreateFactorDefinition(request, metadata=rita), grpc.StatusCode.PERMISSION_DENIED
    )
    assert "factor:admin" in refused.message

    created = (await factor.factors.CreateFactorDefinition(request, metadata=admin)).definition
    assert created.owner_id == "" and created.visibility == pb.VISIBILITY_SHARED
    seen = await factor.factors.GetFactorDefinition(
        pb.GetFactorDefinitionRequest(factor_id=created.id), metadata=rita
    )
    assert seen.definition.factor_name == "sys_macd"
