"""Acting for a user over fakes: the scopes granted are the ones asked for and held now, lifetimes are clamped,
refusals name the reason, and each issue is audited."""

from __future__ import annotations

import datetime as dt

import pytest

from zquant_identity.application.owner_tokens import DEFAULT_TTL, OwnerTokenUseCases
from zquant_identity.domain.model import ACCESS_TOKEN_TTL, User
from zquant_kit.errors import FailedPrecondition, InvalidArgument, NotFound, PermissionDenied
from zquant_kit.service_credential import SERVICE_PRINCIPAL

pytestmark = pytest.mark.unit


class RecordingIssuer:
    def __init__(self) -> None:
        self.issued: list[tuple[str, list[str], dt.timedelta, str]] = []

    def issue_for(
        self, user: User, scopes: list[str], now: dt.datetime, ttl: dt.timedelta, acting_service: str
    ) -> str:
        self.issued.append((user.id, scopes, ttl, acting_service))
        return f"token-{len(self.issued)}"


@pytest.fixture
def issuer() -> RecordingIssuer:
    return RecordingIssuer()


@pytest.fixture
def owner_tokens(app, issuer) -> OwnerTokenUseCases:
    return OwnerTokenUseCases(app.uow, issuer, app.clock)


async def test_issues_only_held_scopes_with_a_clamped_lifetime_and_audits(app, owner_tokens, issuer):
    alice = await app.make_user("alice", "researcher")
    token = await owner_tokens.issue(
        SERVICE_PRINCIPAL, alice.id, ["factor:calculate", "data:read", "data:read"], "scheduler"
    )
    assert (
        token.scopes == ("factor:calculate", "data:read")
        and token.expires_at == app.clock.now() + DEFAULT_TTL
    )
    long = await owner_tokens.issue(
        SERVICE_PRINCIPAL, alice.id, ["data:read"], "scheduler", dt.timedelta(hours=2)
    )
    assert long.expires_at == app.clock.now() + ACCESS_TOKEN_TTL  # never outlives the revocations' memory
    assert [i[2] for i in issuer.issued] == [DEFAULT_TTL, ACCESS_TOKEN_TTL]
    audited = [e for e in app.store.audit.values() if e.service == "scheduler"]
    assert len(audited) == 2 and audited[0].target == f"user_id={alice.id} scopes=factor:calculate,data:read"


async def test_refusals(app, owner_tokens, issuer):
    viewer = await app.make_user("victor", "viewer")
    with pytest.raises(PermissionDenied) as user_caller:
        await owner_tokens.issue(await app.principal(viewer), viewer.id, ["data:read"], "scheduler")
    assert user_caller.value.permission == "service"
    with pytest.raises(PermissionDenied) as missing:
        await owner_tokens.issue(SERVICE_PRINCIPAL, viewer.id, ["data:read", "data:sync"], "scheduler")
    assert missing.value.permission == "data:sync"
    with pytest.raises(InvalidArgument) as unknown:
        await owner_tokens.issue(SERVICE_PRINCIPAL, viewer.id, ["data:teleport"], "scheduler")
    assert unknown.value.field == "scopes[0]"
    with pytest.raises(NotFound):
        await owner_tokens.issue(SERVICE_PRINCIPAL, "no-such-user", ["data:read"], "scheduler")
    app.store.users[viewer.id].active = False
    with pytest.raises(FailedPrecondition):
        await owner_tokens.issue(SERVICE_PRINCIPAL, viewer.id, ["data:read"], "scheduler")
    assert issuer.issued == [] and not [e for e in app.store.audit.values() if e.service == "scheduler"]
