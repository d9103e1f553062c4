"""Acting for a user: a service asks for a short-lived access token of a user, limited to scopes the user holds now.

The token is an ordinary access token (same keys, same verification, same revocations at every service), so a
role that loses a permission revokes it like any login token of that role. It carries only the requested scopes
and an `act` claim naming the service, and each issue is written to the audit log in the same transaction.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from zquant_identity.application.ports import Clock, OwnerTokenIssuer, UnitOfWorkFactory
from zquant_identity.domain.model import ACCESS_TOKEN_TTL, AuditEntry
from zquant_identity.domain.rules import check_permissions
from zquant_kit.errors import FailedPrecondition, NotFound, PermissionDenied
from zquant_kit.principal import Principal
from zquant_kit.text import storable

DEFAULT_TTL = dt.timedelta(minutes=10)
MIN_TTL = dt.timedelta(minutes=1)
AUDIT_METHOD = "/zquant.common.v1.OwnerTokenService/IssueOwnerToken"


@dataclass(frozen=True, slots=True)
class OwnerToken:
    access_token: str
    expires_at: dt.datetime
    scopes: tuple[str, ...]


class OwnerTokenUseCases:
    def __init__(self, uow: UnitOfWorkFactory, issuer: OwnerTokenIssuer, clock: Clock) -> None:
        self._uow = uow
        self._issuer = issuer
        self._clock = clock

    async def issue(
        self,
        actor: Principal,
        user_id: str,
        scopes: Sequence[str],
        acting_service: str,
        ttl: dt.timedelta | None = None,
        client_address: str = "",
    ) -> OwnerToken:
        """Refuses a user (even an admin): only a service may act for someone else."""
        if not actor.is_service:
            raise PermissionDenied("only zquant services may act for a user", permission="service")
        lifetime = min(max(ttl or DEFAULT_TTL, MIN_TTL), ACCESS_TOKEN_TTL)  # revocations are kept that long
        wanted = tuple(dict.fromkeys(scopes))
        now = self._clock.now()
        async with self._uow() as uow:
            check_permissions(list(wanted), await uow.roles.catalogue(), field="scopes")
            user = await uow.users.get(user_id)
            if user is None:
                raise NotFound("user", user_id)
            if not user.active:
                raise FailedPrecondition(f"user {user_id} is deactivated", reason="ACCOUNT_INACTIVE")
            role = await uow.roles.get(user.role)
            held = set(role.permissions if role else [])
            missing = [scope for scope in wanted if scope not in held]
            if missing:
                raise PermissionDenied(
                    f"user {user_id} no longer holds permission {missing[0]!r}",
                    permission=missing[0],
                    reason="OWNER_PERMISSION_MISSING",
                )
            token = self._issuer.issue_for(user, list(wanted), now, lifetime, acting_service)
            await uow.audit.add(
                AuditEntry(
                    id=str(uuid.uuid4()),
                    actor_user_id="",
                    service=storable(acting_service, 32),
                    method=AUDIT_METHOD,
                    target=storable(f"user_id={user_id} scopes={','.join(wanted)}", 200),
                    result_code="OK",
                    client_address=storable(client_address, 100),
                    time=now,
                )
            )
            await uow.commit()
        return OwnerToken(token, now + lifetime, wanted)
