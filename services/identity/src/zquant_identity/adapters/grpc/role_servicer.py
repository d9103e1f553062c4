"""RoleService: roles, their permissions, and role assignment."""

from __future__ import annotations

from zquant.identity.v1 import role_pb2, role_pb2_grpc
from zquant_identity.adapters.grpc.messages import role_message
from zquant_identity.adapters.grpc.page_keys import PERMISSIONS, ROLES
from zquant_identity.application.roles import RoleUseCases
from zquant_kit import principal


class RoleServicer(role_pb2_grpc.RoleServiceServicer):
    def __init__(self, roles: RoleUseCases) -> None:
        self._roles = roles

    async def CreateRole(self, request, context):
        actor = principal.require("role:write")
        role = await self._roles.create(actor, request.name, request.description, list(request.permissions))
        return role_pb2.CreateRoleResponse(role=role_message(role))

    async def GetRole(self, request, context):
        principal.require("role:read")
        return role_pb2.GetRoleResponse(role=role_message(await self._roles.get(request.name)))

    async def ListRoles(self, request, context):
        principal.require("role:read")
        roles, token = await ROLES.page(request, self._roles.list)
        return role_pb2.ListRolesResponse(roles=[role_message(r) for r in roles], next_page_token=token)

    async def UpdateRole(self, request, context):
        actor = principal.require("role:write")
        role = await self._roles.update(actor, request.name, request.description)
        return role_pb2.UpdateRoleResponse(role=role_message(role))

    async def DeleteRole(self, request, context):
        actor = principal.require("role:write")
        await self._roles.delete(actor, request.name)
        return role_pb2.DeleteRoleResponse()

    async def AddRolePermissions(self, request, context):
        actor = principal.require("role:write")
        role = await self._roles.change_permissions(
            actor, request.name, list(request.permissions), grant=True
        )
        return role_pb2.AddRolePermissionsResponse(role=role_message(role))

    async def RemoveRolePermissions(self, request, context):
        actor = principal.require("role:write")
        role = await self._roles.change_permissions(
            actor, request.name, list(request.permissions), grant=False
        )
        return role_pb2.RemoveRolePermissionsResponse(role=role_message(role))

    async def ListPermissions(self, request, context):
        principal.require("role:read")
        permissions, token = await PERMISSIONS.page(request, self._roles.permissions)
        return role_pb2.ListPermissionsResponse(
            permissions=[role_pb2.Permission(name=p.name, description=p.description) for p in permissions],
            next_page_token=token,
        )

    async def AssignUserRole(self, request, context):
        actor = principal.require("role:write")
        await self._roles.assign(actor, request.user_id, request.role)
        return role_pb2.AssignUserRoleResponse()
