"""UserService: user management and the caller's own profile and password."""

from __future__ import annotations

from functools import partial

from zquant.identity.v1 import user_pb2, user_pb2_grpc
from zquant_identity.adapters.grpc.messages import user_message
from zquant_identity.adapters.grpc.page_keys import USERS
from zquant_identity.application.ports import UserFilter
from zquant_identity.application.users import UserUseCases
from zquant_kit import principal
from zquant_kit.errors import InvalidArgument
from zquant_kit.grpc.convert import optional


def _filter(request: user_pb2.ListUsersRequest) -> UserFilter:
    return UserFilter(
        username=request.username,
        email=request.email,
        role=request.role,
        active=optional(request, "active"),
    )


class UserServicer(user_pb2_grpc.UserServiceServicer):
    def __init__(self, users: UserUseCases) -> None:
        self._users = users

    async def CreateUser(self, request, context):
        actor = principal.require("user:create")
        view = await self._users.create(
            actor, request.username, request.email, request.password, request.role
        )
        return user_pb2.CreateUserResponse(user=user_message(view))

    async def GetUser(self, request, context):
        actor = principal.current()
        if not request.user_id:
            raise InvalidArgument("user_id", "required")
        return user_pb2.GetUserResponse(user=user_message(await self._users.get(actor, request.user_id)))

    async def ListUsers(self, request, context):
        principal.require("user:read")
        users, token = await USERS.page(request, partial(self._users.list, _filter(request)))
        return user_pb2.ListUsersResponse(users=[user_message(v) for v in users], next_page_token=token)

    async def UpdateUser(self, request, context):
        actor = principal.require("user:update")
        paths = set(request.update_mask.paths)
        unknown = paths - {"username", "email"}
        if unknown:
            raise InvalidArgument("update_mask", f"cannot update {sorted(unknown)}; allowed: username, email")
        if not paths:
            raise InvalidArgument("update_mask", "name at least one field: username, email")
        view = await self._users.update(
            actor,
            request.user_id,
            request.user.username if "username" in paths else None,
            request.user.email if "email" in paths else None,
        )
        return user_pb2.UpdateUserResponse(user=user_message(view))

    async def ActivateUser(self, request, context):
        actor = principal.require("user:update")
        return user_pb2.ActivateUserResponse(
            user=user_message(await self._users.set_active(actor, request.user_id, True))
        )

    async def DeactivateUser(self, request, context):
        actor = principal.require("user:update")
        view = await self._users.set_active(actor, request.user_id, False)
        return user_pb2.DeactivateUserResponse(user=user_message(view))

    async def ResetUserPassword(self, request, context):
        actor = principal.require("user:update")
        await self._users.reset_password(actor, request.user_id, request.new_password)
        return user_pb2.ResetUserPasswordResponse()

    async def ChangePassword(self, request, context):
        await self._users.change_own_password(principal.current(), request.old_password, request.new_password)
        return user_pb2.ChangePasswordResponse()

    async def GetMe(self, request, context):
        actor = principal.current()
        return user_pb2.GetMeResponse(user=user_message(await self._users.get(actor, actor.user_id)))

    async def DeleteUser(self, request, context):
        actor = principal.require("user:delete")
        await self._users.delete(actor, request.user_id)
        return user_pb2.DeleteUserResponse()
