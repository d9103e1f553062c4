"""A duplicate-name race on PostgreSQL: both requests pass the use case's existence check, the unique index
refuses the second, and the kit maps that to ALREADY_EXISTS (never INTERNAL)."""

from __future__ import annotations

import asyncio

import grpc
import pytest

from zquant.identity.v1 import user_pb2
from zquant_identity.adapters.sqlalchemy.repositories import SqlAlchemyUserRepository

pytestmark = pytest.mark.contract


async def test_concurrent_create_user_with_one_name_is_one_ok_and_the_rest_already_exists(
    identity, admin, monkeypatch
):
    """A slow last existence check holds every request between its checks and its insert: the race always happens."""
    by_email = SqlAlchemyUserRepository.by_email

    async def slow_by_email(self, email):
        found = await by_email(self, email)
        await asyncio.sleep(0.3)
        return found

    monkeypatch.setattr(SqlAlchemyUserRepository, "by_email", slow_by_email)
    request = user_pb2.CreateUserRequest(
        username="racer", email="racer@example.com", password="Racer-pass-12"
    )

    async def create():
        try:
            await identity.users.CreateUser(request, metadata=admin)
            return grpc.StatusCode.OK
        except grpc.aio.AioRpcError as error:
            return error.code()

    codes = await asyncio.gather(*(create() for _ in range(8)))
    assert codes.count(grpc.StatusCode.OK) == 1, codes
    assert set(codes) == {grpc.StatusCode.OK, grpc.StatusCode.ALREADY_EXISTS}, codes
