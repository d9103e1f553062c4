"""Composition root of the identity service: the one place that picks adapters for ports."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from zquant.identity.v1 import (
    api_key_pb2_grpc,
    audit_pb2_grpc,
    auth_pb2_grpc,
    notification_pb2_grpc,
    role_pb2_grpc,
    user_pb2_grpc,
)
from zquant_identity.adapters.grpc.api_key_servicer import ApiKeyServicer
from zquant_identity.adapters.grpc.audit_servicer import AuditServicer
from zquant_identity.adapters.grpc.audit_targets import AUDIT_TARGET_FIELDS
from zquant_identity.adapters.grpc.auth_servicer import AuthServicer
from zquant_identity.adapters.grpc.notification_servicer import NotificationServicer
from zquant_identity.adapters.grpc.role_servicer import RoleServicer
from zquant_identity.adapters.grpc.user_servicer import UserServicer
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
from zquant_identity.application.revocations import RevocationQueries
from zquant_identity.application.roles import RoleUseCases
from zquant_identity.application.users import UserUseCases
from zquant_identity.application.views import ProfileCache
from zquant_kit import telemetry
from zquant_kit.audit import OutboxAuditSink
from zquant_kit.auth import ApiKeyAuthenticator, ApiKeyCredentials, TokenVerifier
from zquant_kit.clock import SystemClock
from zquant_kit.events.model import Event, EventBus
from zquant_kit.grpc.interceptor import AuthInterceptor
from zquant_kit.grpc.server import GrpcService
from zquant_kit.persistence.engine import create_engine, session_factory
from zquant_kit.persistence.outbox import OutboxRelay
from zquant_kit.principal import Principal
from zquant_kit.revocation import TOKEN_REVOKED, RevocationSync, revocation_from_event
from zquant_kit.secretbox import FernetSecretBox
from zquant_kit.service import ServiceApp, ServiceDefinition
from zquant_kit.service_credential import load_service_secret
from zquant_kit.settings import Settings

log = logging.getLogger(__name__)
NAME = "identity"
# The key-encryption key of signing keys and API-key HMAC keys: this variable, else a 0600 key file.
SECRET_KEY_ENV = "ZQUANT_SECRET_KEY"
SECRET_KEY_FILE = "identity.key"
UNREADABLE = (
    f"identity's stored keys cannot be decrypted: {SECRET_KEY_ENV} (or <data dir>/{SECRET_KEY_FILE}) "
    "is not the key they were encrypted with"
)


def secret_box(settings: Settings) -> FernetSecretBox:
    return FernetSecretBox.from_settings(settings, SECRET_KEY_ENV, SECRET_KEY_FILE, UNREADABLE)
REVOCATION_CONSUMER = "identity-token-revocations"


class LocalApiKeyAuthenticator(ApiKeyAuthenticator):
    """Inside identity the interceptor checks API keys directly; other services call AuthenticateApiKey."""

    def __init__(self, auth: AuthUseCases) -> None:
        self._auth = auth

    async def authenticate(self, credentials: ApiKeyCredentials) -> Principal:
        return await self._auth.authenticate_api_key(credentials)


class IdentityApp(ServiceApp):
    """What `bootstrap` returns: the runner serves `grpc_services` behind `interceptors`; tests reach the
    use cases and stores through these same attributes."""

    name: str = NAME
    settings: Settings
    bus: EventBus
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    relay: OutboxRelay
    uow: Callable[[], SqlAlchemyIdentityUnitOfWork]
    box: FernetSecretBox
    ring: SigningKeyRing
    users: UserUseCases
    auth: AuthUseCases
    roles: RoleUseCases
    api_keys: ApiKeyUseCases
    notifications: NotificationUseCases
    audit: AuditUseCases
    revocations: RevocationSync
    grpc_services: list[GrpcService]
    interceptors: list[AuthInterceptor]

    def __init__(self, settings: Settings, bus: EventBus) -> None:
        tables.map_domain()
        self.settings = settings
        self.bus = bus
        self.engine = create_engine(settings.database_url(NAME), tables.SCHEMA)
        telemetry.instrument_engine(self.engine, settings.otel_exporter != "none")
        self.sessions = session_factory(self.engine)
        self.relay = OutboxRelay(self.sessions, tables.outbox, bus, poll_seconds=settings.outbox_poll_seconds)
        self.uow = lambda: SqlAlchemyIdentityUnitOfWork(
            self.sessions, tables.outbox, self.relay.wake, on_events=self._apply_own_revocations
        )
        clock = SystemClock()
        hasher = Argon2PasswordHasher()
        self.box = secret_box(settings)
        self.ring = SigningKeyRing(self.sessions, self.box)
        issuer = JwtAccessTokenIssuer(self.ring, settings.jwt_issuer, settings.jwt_audience)
        profiles = ProfileCache(clock)
        self.users = UserUseCases(self.uow, hasher, clock, profiles)
        self.auth = AuthUseCases(self.uow, hasher, issuer, clock, self.box)
        self.roles = RoleUseCases(self.uow, clock, profiles)
        self.api_keys = ApiKeyUseCases(self.uow, clock, self.box)
        self.notifications = NotificationUseCases(self.uow, clock)
        self.audit = AuditUseCases(self.uow)
        revocation_queries = RevocationQueries(self.uow, clock)
        # Identity reads its own table (no RPC to itself), applies its own revocations on commit, and hears
        # other replicas' on the bus.
        self.revocations = RevocationSync(revocation_queries)
        self.grpc_services = [
            GrpcService("zquant.identity.v1.AuthService",
                        AuthServicer(
                            self.auth, revocation_queries, self.ring, settings.jwt_issuer, settings.jwt_audience
                        ),
                        auth_pb2_grpc.add_AuthServiceServicer_to_server),
            GrpcService("zquant.identity.v1.UserService", UserServicer(self.users),
                        user_pb2_grpc.add_UserServiceServicer_to_server),
            GrpcService("zquant.identity.v1.RoleService", RoleServicer(self.roles),
                        role_pb2_grpc.add_RoleServiceServicer_to_server),
            GrpcService("zquant.identity.v1.ApiKeyService", ApiKeyServicer(self.api_keys),
                        api_key_pb2_grpc.add_ApiKeyServiceServicer_to_server),
            GrpcService("zquant.identity.v1.NotificationService", NotificationServicer(self.notifications),
                        notification_pb2_grpc.add_NotificationServiceServicer_to_server),
            GrpcService("zquant.identity.v1.AuditService", AuditServicer(self.audit),
                        audit_pb2_grpc.add_AuditServiceServicer_to_server),
        ]
        self.interceptors = [
            AuthInterceptor(
                NAME,
                TokenVerifier(
                    self.ring,
                    revocations=self.revocations,
                    issuer=settings.jwt_issuer,
                    audience=settings.jwt_audience,
                ),
                LocalApiKeyAuthenticator(self.auth),
                OutboxAuditSink(self.sessions, tables.outbox, self.relay.wake),
                public_methods=AuthServicer.PUBLIC,
                service_secret=load_service_secret(settings),
                audit_target_fields=AUDIT_TARGET_FIELDS,
            )
        ]

    def _apply_own_revocations(self, committed: list[Event]) -> None:
        for event in committed:
            if event.type == TOKEN_REVOKED:
                self.revocations.map.apply(revocation_from_event(event))

    async def start(self) -> None:
        await encrypt_plaintext_rows(self.sessions, self.box)
        await self.ring.load()
        self.ring.start_reloading()
        await self.roles.seed()
        await self.ensure_admin()
        await self.revocations.sync_once()
        await self.bus.subscribe(REVOCATION_CONSUMER, TOKEN_REVOKED, self.revocations.on_event)
        self.revocations.start()
        await self.bus.subscribe(AUDIT_CONSUMER, events.AUDIT_RECORDED_PATTERN, self.audit.on_audit_recorded)
        await self.bus.subscribe(
            NOTIFICATION_CONSUMER, events.NOTIFICATION_REQUESTED_PATTERN, self.notifications.on_notification_requested
        )
        self.relay.start()

    async def ensure_admin(self) -> None:
        """The first admin from ZQUANT_ADMIN_USERNAME / _EMAIL / _PASSWORD; a generated password is printed once."""
        created = await self.users.ensure_first_admin(
            self.settings.get("ZQUANT_ADMIN_USERNAME", "admin"),
            self.settings.get("ZQUANT_ADMIN_EMAIL", "admin@zquant.local"),
            self.settings.get("ZQUANT_ADMIN_PASSWORD"),
        )
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

    async def stop(self) -> None:
        await self.ring.stop_reloading()
        await self.revocations.stop()
        await self.relay.stop()
        await self.engine.dispose()


async def bootstrap(settings: Settings, bus: EventBus) -> IdentityApp:
    return IdentityApp(settings, bus)


SERVICE = ServiceDefinition(
    name=NAME,
    schema=tables.SCHEMA,
    migrations=Path(__file__).parent / "migrations",
    bootstrap=bootstrap,
)
