"""Which changes revoke access tokens: each records a not-before and emits identity.token.revoked.v1 in its unit of work."""

import datetime as dt

import pytest

from zquant.common.v1 import revocation_pb2
from zquant_identity.application.revocations import RevocationQueries
from zquant_identity.domain.rules import PERMISSIONS
from zquant_kit.errors import FailedPrecondition
from zquant_kit.revocation import TOKEN_REVOKED, Revocation, epoch_us
from zquant_kit.testing import USER_PASSWORD, root_principal

pytestmark = pytest.mark.unit
ROOT = root_principal(PERMISSIONS, user_id="root-id")


def revoked(app) -> list[tuple[str, str, str]]:
    """(user_id, role, cause) of every committed revocation event."""
    found = [e.decode(revocation_pb2.TokenRevokedEvent) for e in app.uow.events_of(TOKEN_REVOKED)]
    return [(m.user_id, m.role, m.cause) for m in found]


async def test_every_rights_change_revokes_the_users_tokens(app):
    admin = await app.principal(
        (await app.users.create(ROOT, "boss", "boss@example.com", USER_PASSWORD, "admin")).user
    )
    rita = (await app.users.create(ROOT, "rita", "rita@example.com", USER_PASSWORD, "researcher")).user
    await app.roles.assign(ROOT, rita.id, "viewer")
    await app.roles.assign(ROOT, rita.id, "viewer")  # no change, no revocation
    await app.users.set_active(admin, rita.id, False)
    await app.users.set_active(admin, rita.id, True)  # activation revokes nothing
    await app.users.reset_password(admin, rita.id, "Reset-pass-22")
    await app.users.change_own_password(await app.principal(rita), "Reset-pass-22", "Changed-pass-3")
    await app.auth.logout_all(await app.principal(rita))
    await app.users.delete(admin, rita.id)
    assert revoked(app) == [
        (rita.id, "", cause)
        for cause in (
            "role_changed",
            "user_deactivated",
            "password_reset",
            "password_changed",
            "logout_all",
            "user_deleted",
        )
    ]


async def test_role_permission_changes_revoke_the_role_and_failures_revoke_nothing(app):
    await app.roles.create(ROOT, "keyholder", "", ["apikey:read"])
    await app.roles.change_permissions(ROOT, "keyholder", ["apikey:create"], grant=True)
    await app.roles.change_permissions(ROOT, "keyholder", ["apikey:create"], grant=False)
    with pytest.raises(FailedPrecondition):
        await app.roles.change_permissions(ROOT, "admin", ["user:read"], grant=False)
    assert revoked(app) == [("", "keyholder", "role_permissions_changed")] * 2


async def test_revocations_in_force_keep_the_latest_and_skip_expired_ones(app):
    rita = (await app.users.create(ROOT, "rita", "rita@example.com", USER_PASSWORD, "researcher")).user
    admin = await app.principal(
        (await app.users.create(ROOT, "boss", "boss@example.com", USER_PASSWORD, "admin")).user
    )
    await app.users.set_active(admin, rita.id, False)
    first = epoch_us(app.clock.now())
    app.clock.advance(seconds=3)
    await app.users.set_active(admin, rita.id, True)
    await app.users.set_active(admin, rita.id, False)
    queries = RevocationQueries(app.uow, app.clock)
    latest = Revocation(rita.id, "", first + 3_000_000)
    assert await queries.revocations(None) == [latest]
    assert await queries.revocations(first + 3_000_001) == []
    assert await queries.revocations(10**30) == []  # out of any column's range: clamped, not an error
    app.clock.advance(minutes=30)  # every token issued before it has expired
    assert await queries.revocations(None) == []
    assert await queries.revocations(first - dt.timedelta(days=1) // dt.timedelta(microseconds=1)) == []
