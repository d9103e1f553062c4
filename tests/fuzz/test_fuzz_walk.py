"""The fuzz walk: every RPC of every zquant service, every request field, boundary and garbage values,
as an admin and as a viewer, all-in-one and on PostgreSQL + NATS.

The bar for every call: no INTERNAL or UNKNOWN status, no call over 5 s, and the servers SERVING afterwards;
and the interceptor logged no unhandled error.
The summary of status codes per RPC is printed (`pytest -s` shows it; it is also in the failure message).
"""

from __future__ import annotations

import grpc
import pytest

from tests.fuzz.fuzz_walk import FuzzWalker, WalkReport, zquant_services
from zquant.identity.v1 import user_pb2, user_pb2_grpc
from zquant_kit.testing import ADMIN_PASSWORD, create_user, sign_in

pytestmark = [pytest.mark.fuzz, pytest.mark.timeout(300)]

VIEWER_PASSWORD = "Viewer-passw0rd!"
# The viewer's walk leaves out the 10 MB strings (the admin's walk sends them to every field): they cost
# most of the time budget, and the 1 MB strings already carry oversized input past the permission checks.
VIEWER_SKIPS = frozenset({"10MB"})


def _channels(stack, services) -> dict[str, grpc.aio.Channel]:
    """The channel of the server hosting each service; every declared service must be served somewhere."""
    by_address = {name: grpc.aio.insecure_channel(stack.address(name)) for name in stack.servers}
    hosted = {s.full_name: by_address[name] for name, app in stack.apps.items() for s in app.grpc_services}
    missing = [s.full_name for s in services if s.full_name not in hosted]
    assert not missing, f"declared but not served by any started service: {missing}"
    return hosted


def _session(identity: grpc.aio.Channel, username: str, password: str):
    """A `relogin(metadata)` that keeps the caller's metadata while GetMe accepts it, else logs in again."""
    users = user_pb2_grpc.UserServiceStub(identity)

    async def relogin(metadata):
        if metadata:
            try:
                await users.GetMe(user_pb2.GetMeRequest(), metadata=metadata, timeout=5)
                return metadata
            except grpc.aio.AioRpcError:
                pass
        return await sign_in(identity, username, password)

    return relogin


async def test_fuzz_walk_every_rpc(fuzz_stack, caplog):
    mode, stack = fuzz_stack
    services = zquant_services()
    assert services, "no zquant services found in the generated stubs"
    channels = _channels(stack, services)
    identity = channels["zquant.identity.v1.AuthService"]
    try:
        admin = await _session(identity, "admin", ADMIN_PASSWORD)([])
        await create_user(identity, "fuzz_viewer", role="viewer", password=VIEWER_PASSWORD, admin=admin)
        summaries, failures = [], []
        for caller, password, skip in (("admin", ADMIN_PASSWORD, ()), ("fuzz_viewer", VIEWER_PASSWORD, VIEWER_SKIPS)):
            walker = FuzzWalker(channels, _session(identity, caller, password), skip)
            await walker.sign_in()
            report = WalkReport()
            await walker.walk(services, report)
            summaries.append(report.summary(f"{mode} as {caller}"))
            failures += report.failures
        print("\n" + "\n".join(summaries))
        assert not failures, "\n".join(summaries)
        # Also what a client never sees: an exception that escaped every handler (a cancelled stream, say),
        # or an event a consumer could not store (fuzzed text relayed through the audit log, say).
        unhandled = [
            r.getMessage() for r in caplog.records
            if r.name == "zquant_kit.grpc.interceptor" or "handler failed" in r.getMessage()
        ]
        assert not unhandled, unhandled[:5]
    finally:
        for channel in {id(c): c for c in channels.values()}.values():
            await channel.close()
