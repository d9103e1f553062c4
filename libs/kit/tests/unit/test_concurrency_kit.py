"""Kit pieces for concurrent readers: read transactions on SQLite, the heavy-read limiter, RetryInfo."""

from __future__ import annotations

import asyncio

import pytest
from google.rpc import code_pb2, error_details_pb2
from sqlalchemy import text

from zquant.identity.v1 import user_pb2_grpc  # noqa: F401  (registers the identity contract's descriptors)
from zquant_kit.errors import ResourceExhausted, Unavailable
from zquant_kit.grpc.read_only import has_no_side_effects
from zquant_kit.grpc.status import status_for
from zquant_kit.limits import HeavyReadBounds, HeavyReadLimiter
from zquant_kit.persistence.engine import (
    WriteInReadOnlyTransaction,
    create_engine,
    read_only_scope,
    reader,
    session_factory,
)
from zquant_kit.testing import status_detail

pytestmark = pytest.mark.unit


async def test_sqlite_reads_never_wait_for_the_write_lock_and_refuse_writes(tmp_path):
    engine = create_engine(f"sqlite:///{tmp_path}/t.db", "s")
    try:
        async with engine.begin() as connection:
            await connection.execute(text("CREATE TABLE t (a INTEGER)"))
        writer = await engine.connect()
        await writer.execute(text("INSERT INTO t VALUES (1)"))  # BEGIN IMMEDIATE: holds the write lock
        async with reader(engine).connect() as connection:
            assert await asyncio.wait_for(connection.scalar(text("SELECT count(*) FROM t")), 1) == 0
        with read_only_scope():
            async with session_factory(engine)() as session:
                assert await session.scalar(text("SELECT count(*) FROM t")) == 0
                with pytest.raises(WriteInReadOnlyTransaction):
                    await session.execute(text("INSERT INTO t VALUES (2)"))
        await writer.commit()
        await writer.close()
        async with session_factory(engine)() as session:  # outside the scope: a writer again
            await session.execute(text("INSERT INTO t VALUES (3)"))
            await session.commit()
            assert await session.scalar(text("SELECT count(*) FROM t")) == 2
    finally:
        await engine.dispose()


def test_contract_declares_which_rpcs_only_read():
    assert has_no_side_effects("/zquant.identity.v1.UserService/GetMe")
    assert not has_no_side_effects("/zquant.identity.v1.UserService/CreateUser")
    assert not has_no_side_effects("/no.such.Service/Method")


async def test_limiter_queues_first_come_first_served_then_refuses():
    limiter = HeavyReadLimiter(HeavyReadBounds(concurrent=1, queued=1, wait_seconds=5))
    order = []

    async def read(name: str, hold: asyncio.Event | None = None) -> None:
        async with limiter.slot(name):
            order.append(name)
            if hold is not None:
                await hold.wait()

    release = asyncio.Event()
    first = asyncio.create_task(read("first", release))
    await asyncio.sleep(0)
    second = asyncio.create_task(read("second"))
    await asyncio.sleep(0)
    assert (limiter.active, limiter.waiting) == (1, 1)
    with pytest.raises(ResourceExhausted) as refused:
        await read("third")
    assert refused.value.retry_after == 2.0
    release.set()
    await asyncio.gather(first, second)
    assert order == ["first", "second"] and (limiter.active, limiter.waiting) == (0, 0)


async def test_limiter_wait_is_bounded_and_a_cancelled_waiter_frees_its_place():
    limiter = HeavyReadLimiter(HeavyReadBounds(concurrent=1, queued=4, wait_seconds=0.05))
    async with limiter.slot("holder"):
        with pytest.raises(ResourceExhausted):
            async with limiter.slot("late"):
                pass
        waiter = asyncio.create_task(limiter.slot("gone").__aenter__())
        await asyncio.sleep(0)
        waiter.cancel()
        with pytest.raises(asyncio.CancelledError):
            await waiter
    assert (limiter.active, limiter.waiting) == (0, 0)
    async with limiter.slot("next"):
        assert limiter.active == 1


def test_retry_after_maps_to_retry_info_on_any_error():
    for error, code in (
        (ResourceExhausted("busy", retry_after=1.5), code_pb2.RESOURCE_EXHAUSTED),
        (Unavailable("shutting down", retry_after=0.25), code_pb2.UNAVAILABLE),
    ):
        status = status_for(error, "test.zquant")
        assert status.code == code
        assert len([d for d in status.details if d.Is(error_details_pb2.RetryInfo.DESCRIPTOR)]) == 1
        info = status_detail(status, error_details_pb2.RetryInfo)
        assert info.retry_delay.ToNanoseconds() / 1e9 == error.retry_after
    plain = status_for(Unavailable("down"), "test.zquant")
    assert status_detail(plain, error_details_pb2.RetryInfo) is None
