"""Composition root of the identity service: the one place that picks adapters for ports.

`build` parses nothing: it takes the `IdentityConfig` that `bootstrap` (the runner's entry) and the CLI read
once, wires the use cases and servicers over the kit's `Infrastructure`, and returns the declared `IdentityApp`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from zquant_identity.adapters.grpc.audit_targets import AUDIT_TARGET_FIELDS
from zquant_identity.adapters.security import Argon2PasswordHasher, JwtAccessTokenIssuer, SigningKeyRing
from zquant_identity.adapters.sqlalchemy import tables
from zquant_identity.adapters.sqlalchemy.legacy_secrets import encrypt_plaintext_rows
from zquant_identity.adapters.sqlalchemy.repositories import SqlAlchemyIdentityUnitOfWork
from zquant_identity.application import events
from zquant_identity.application.api_keys import ApiKeyUseCases
from zquant_identity.application.auth import AuthUseCases
from zquant_identity.application.inbox import (
    AUDIT_CONSUMER,
    NOTIFICATION_CONSUMER,
    AuditUseCases,
    NotificationUseCases,
)
from zquant_identity.application.outcome_notifications import CONSUMERS, OutcomeNotifications
from zquant_identity.application.owner_tokens import OwnerTokenUseCases
from zquant_identity.application.revocations import RevocationQueries
from zquant_identity.application.roles import RoleUseCases
from zquant_identity.application.users import UserUseCases
from zquant_identity.application.views import ProfileCache
from zquant_identity.bootstrap.config import NAME, FirstAdminAccount, IdentityConfig
from zquant_identity.bootstrap.servicers import grpc_services, public_methods
from zquant_kit.auth import ApiKeyAuthenticator, ApiKeyCredentials
from zquant_kit.clock import SystemClock
from zquant_kit.events.model import Event, EventBus
from zquant_kit.grpc.interceptor import AuthInterceptor
from zquant_kit.grpc.server import GrpcService
from zquant_kit.grpc.wiring import CallerChecks, auth_interceptor
from zquant_kit.infrastructure import Infrastructure, OnInfrastructure
from zquant_kit.principal import Principal
from zquant_kit.revocation import TOKEN_REVOKED, RevocationSync, revocation_from_event
from zquant_kit.secretbox import FernetSecretBox
from zquant_kit.service import ServiceDefinition

log = logging.getLogger(__name__)

__all__ = ["SERVICE", "IdentityApp", "IdentityConfig", "build"]


@dataclass
class IdentityApp(OnInfrastructure):
    """What `build` returns: the runner serves `grpc_services` behind `interceptors` and starts and stops
    `infra`; tests reach the use cases and stores through these same fields."""

    config: IdentityConfig
    infra: Infrastructure
    uow: Callable[[], SqlAlchemyIdentityUnitOfWork]
    box: FernetSecretBox
    ring: SigningKeyRing
    users: UserUseCases
    auth: AuthUseCases
    roles: RoleUseCases
    api_keys: ApiKeyUseCases
    notifications: NotificationUseCases
    audit: AuditUseCases
    owner_tokens: OwnerTokenUseCases
    outcomes: OutcomeNotifications
    revocations: RevocationSync
    grpc_services: list[GrpcService] = field(default_factory=list)
    interceptors: list[AuthInterceptor] = field(default_factory=list)
    name: str = NAME


class LocalApiKeyAuthenticator(ApiKeyAuthenticator):
    """Inside identity the interceptor checks API keys directly; other services call AuthenticateApiKey."""

    def __init__(self, auth: AuthUseCases) -> None:
        self._auth = auth

    async def authenticate(self, credentials: ApiKeyCredentials) -> Principal:
        return await self._auth.authenticate_api_key(credentials)


def _own_revocations(revocations: RevocationSync) -> Callable[[list[Event]], None]:
    """Identity applies its own revocations as they commit, before any event reaches the bus."""

    def apply(committed: list[Event]) -> None:
        for event in committed:
            if event.type == TOKEN_REVOKED:
                revocations.map.apply(revocation_from_event(event))

    return apply


async def announce_first_admin(users: UserUseCases, account: FirstAdminAccount) -> None:
    """Creates the first admin (the rule lives in `UserUseCases`); a generated password is printed once."""
    created = await users.ensure_first_admin(account.username, account.email, account.password)
    if created is None:
        return
    if created.generated:
        print(
            f"identity: created admin user {created.username!r} with generated password: {created.password}",
            flush=True,
        )
        print("identity: (shown once; set ZQUANT_ADMIN_PASSWORD to choose it)", flush=True)
    else:
        log.info("created admin user %r from ZQUANT_ADMIN_PASSWORD", created.username)


def build(config: IdentityConfig, bus: EventBus) -> IdentityApp:
    tables.map_domain()
    infra = Infrastructure(config.kit, tables.SCHEMA, tables.outbox, bus)
    clock = SystemClock()
    box = config.secret_box()
    ring = SigningKeyRing(infra.sessions, box)

    def uow() -> SqlAlchemyIdentityUnitOfWork:
        # `revocations` (below) is read when a unit of work is made, not now: the two need each other.
        return SqlAlchemyIdentityUnitOfWork(
            infra.sessions, tables.outbox, infra.relay.wake, on_events=_own_revocations(revocations)
        )

    hasher = Argon2PasswordHasher()
    issuer = JwtAccessTokenIssuer(ring, config.kit.jwt_issuer, config.kit.jwt_audience)
    profiles = ProfileCache(clock)
    revocation_queries = RevocationQueries(uow, clock)
    # Identity reads its own revocation table (no RPC to itself) and hears other replicas' on the bus.
    revocations = RevocationSync(revocation_queries)
    auth = AuthUseCases(uow, hasher, issuer, clock, box)
    app = IdentityApp(
        config=config,
        infra=infra,
        uow=uow,
        box=box,
        ring=ring,
        users=UserUseCases(uow, hasher, clock, profiles),
        auth=auth,
        roles=RoleUseCases(uow, clock, profiles),
        api_keys=ApiKeyUseCases(uow, clock, box),
        notifications=NotificationUseCases(uow, clock),
        audit=AuditUseCases(uow),
        owner_tokens=OwnerTokenUseCases(uow, issuer, clock),
        outcomes=OutcomeNotifications(uow, clock),
        revocations=revocations,
    )
    app.grpc_services.extend(
        grpc_services(
            config.kit,
            ring,
            revocation_queries,
            auth_use_cases=auth,
            users=app.users,
            roles=app.roles,
            api_keys=app.api_keys,
            notifications=app.notifications,
            audit=app.audit,
            owner_tokens=app.owner_tokens,
        )
    )
    _add_start_and_stop(app)
    app.interceptors.append(
        auth_interceptor(
            infra,
            CallerChecks(keys=ring, revocations=revocations, api_keys=LocalApiKeyAuthenticator(auth)),
            public_methods=public_methods(),
            audit_target_fields=AUDIT_TARGET_FIELDS,
        )
    )
    infra.subscribe(AUDIT_CONSUMER, events.AUDIT_RECORDED_PATTERN, app.audit.on_audit_recorded)
    infra.subscribe(
        NOTIFICATION_CONSUMER,
        events.NOTIFICATION_REQUESTED_PATTERN,
        app.notifications.on_notification_requested,
    )
    for event_type, handler in app.outcomes.handlers().items():
        infra.subscribe(CONSUMERS[event_type], event_type, handler)
    return app


def _add_start_and_stop(app: IdentityApp) -> None:
    """Keys and roles before the first admin; the revocation map loaded before the interceptor's resync starts."""

    async def prepare() -> None:
        await encrypt_plaintext_rows(app.sessions, app.box)
        await app.ring.load()
        app.ring.start_reloading()
        await app.roles.seed()
        await announce_first_admin(app.users, app.config.first_admin)
        await app.revocations.sync_once()

    app.infra.on_start(prepare)
    app.infra.on_stop(app.ring.stop_reloading)


SERVICE = ServiceDefinition.composed(
    NAME,
    tables.SCHEMA,
    Path(__file__).resolve().parent.parent / "migrations",
    IdentityConfig.from_settings,
    build,
)
