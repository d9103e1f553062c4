import datetime as dt

import pytest
from google.rpc import code_pb2, error_details_pb2

from zquant_kit import pagination, principal
from zquant_kit.audit import is_mutating
from zquant_kit.errors import AlreadyExists, InvalidArgument, NotFound, PermissionDenied, Unauthenticated
from zquant_kit.events.model import subject_matches
from zquant_kit.grpc.status import status_for
from zquant_kit.principal import Principal
from zquant_kit.settings import Settings
from zquant_kit.testing import status_detail

pytestmark = pytest.mark.unit


def test_page_tokens_round_trip_and_are_bound_to_their_list():
    token = pagination.encode_cursor("users", ["bob"])
    assert pagination.decode_cursor("users", token) == ["bob"]
    assert pagination.decode_cursor("users", "") is None
    for bad in ("garbage!", token + "x", pagination.encode_cursor("roles", ["bob"])):
        with pytest.raises(InvalidArgument) as caught:
            pagination.decode_cursor("users", bad)
        assert caught.value.field == "page_token"


def test_page_size_defaults_caps_and_rejects_negative():
    assert pagination.page_size(0) == pagination.DEFAULT_PAGE_SIZE
    assert pagination.page_size(10**6) == pagination.MAX_PAGE_SIZE
    with pytest.raises(InvalidArgument):
        pagination.page_size(-1)


def test_permission_wildcards():
    p = Principal("u", "n", "researcher", frozenset({"backtest:*", "data:read"}))
    assert p.has("backtest:run") and p.has("data:read")
    assert not p.has("data:sync")
    assert Principal("a", "a", "admin", frozenset({"*"})).has("anything:at_all")


@pytest.mark.parametrize(("unbound_ask", "username"), [("data:read", "n"), ("user:read", "vic")])
def test_require_needs_a_bound_principal_and_the_permission(unbound_ask, username):
    """Also what identity relies on: PermissionDenied names the permission, no caller is Unauthenticated."""
    with pytest.raises(Unauthenticated):
        principal.require(unbound_ask)
    token = principal.bind(Principal("u", username, "viewer", frozenset({"data:read"})))
    try:
        assert principal.require("data:read").user_id == "u"
        with pytest.raises(PermissionDenied) as caught:
            principal.require("user:create")
        assert caught.value.permission == "user:create"
    finally:
        principal.reset(token)


def test_subject_wildcards():
    assert subject_matches("identity.user.deleted.v1", "identity.user.deleted.v1")
    assert subject_matches("*.audit.recorded.v1", "marketdata.audit.recorded.v1")
    assert not subject_matches("*.audit.recorded.v1", "identity.user.deleted.v1")
    assert subject_matches("identity.>", "identity.user.created.v1")
    assert not subject_matches("identity.user", "identity.user.created.v1")


def test_mutating_methods_by_aip_verb():
    assert is_mutating("/zquant.identity.v1.UserService/CreateUser")
    assert is_mutating("/zquant.identity.v1.AuthService/Login")
    assert not is_mutating("/zquant.identity.v1.UserService/GetMe")
    assert not is_mutating("/zquant.identity.v1.UserService/ListUsers")


def test_status_details_name_field_resource_and_reason():
    status = status_for(InvalidArgument("email", "not a valid email address"), "identity.zquant")
    assert status.code == code_pb2.INVALID_ARGUMENT
    assert status_detail(status, error_details_pb2.BadRequest).field_violations[0].field == "email"
    assert status_detail(status, error_details_pb2.ErrorInfo).domain == "identity.zquant"
    status = status_for(NotFound("user", "42"), "identity.zquant")
    assert status.code == code_pb2.NOT_FOUND
    assert status_detail(status, error_details_pb2.ResourceInfo).resource_name == "42"
    assert status_for(AlreadyExists("user", "bob", "username"), "d").code == code_pb2.ALREADY_EXISTS


def test_settings_defaults_and_overrides(tmp_path):
    settings = Settings({"ZQUANT_DATA_DIR": str(tmp_path)})
    assert settings.database_url("identity") == f"sqlite+aiosqlite:///{tmp_path}/identity.db"
    assert settings.port("backtest") == 50054
    assert settings.event_bus == "inprocess"
    nats = Settings({"ZQUANT_NATS_URL": "nats://x:4222", "ZQUANT_IDENTITY_PORT": "6000"})
    assert nats.event_bus == "nats" and nats.port("identity") == 6000


async def test_in_process_bus_gives_up_on_an_event_after_max_deliver():
    from zquant_kit.events.inprocess import InProcessEventBus
    from zquant_kit.events.model import Event

    bus = InProcessEventBus(max_deliver=3)
    calls = {"bad": 0, "good": 0}

    async def bad(event):
        calls["bad"] += 1
        raise RuntimeError("boom")

    async def good(event):
        calls["good"] += 1

    await bus.subscribe("bad", "x.>", bad)
    await bus.subscribe("good", "x.>", good)
    event = Event(id="e1", type="x.y.v1", payload=b"", occurred_at=dt.datetime.now(dt.UTC))
    for _ in range(2):
        with pytest.raises(RuntimeError):
            await bus.publish(event)
    await bus.publish(event)  # third failure: the bad consumer gives up, the publish succeeds
    await bus.publish(event)
    assert calls == {"bad": 3, "good": 4}
