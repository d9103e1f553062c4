"""Identity's gRPC services, each its servicer over the app's use cases: its own six and the shared
`zquant.common.v1` TokenVerificationService and OwnerTokenService every other service's kit calls."""

from __future__ import annotations

from zquant.common.v1 import owner_token_pb2_grpc, token_verification_pb2_grpc
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
from zquant_identity.adapters.grpc.auth_servicer import AuthServicer
from zquant_identity.adapters.grpc.notification_servicer import NotificationServicer
from zquant_identity.adapters.grpc.owner_token_servicer import OwnerTokenServicer
from zquant_identity.adapters.grpc.role_servicer import RoleServicer
from zquant_identity.adapters.grpc.token_verification_servicer import TokenVerificationServicer
from zquant_identity.adapters.grpc.user_servicer import UserServicer
from zquant_identity.adapters.security import SigningKeyRing
from zquant_identity.application.api_keys import ApiKeyUseCases
from zquant_identity.application.auth import AuthUseCases
from zquant_identity.application.inbox import AuditUseCases, NotificationUseCases
from zquant_identity.application.owner_tokens import OwnerTokenUseCases
from zquant_identity.application.revocations import RevocationQueries
from zquant_identity.application.roles import RoleUseCases
from zquant_identity.application.users import UserUseCases
from zquant_kit.grpc.server import GrpcService
from zquant_kit.infrastructure import ServiceConfig


def public_methods() -> frozenset[str]:
    """The methods anyone may call without a credential."""
    return AuthServicer.PUBLIC | TokenVerificationServicer.PUBLIC


def grpc_services(
    kit: ServiceConfig,
    ring: SigningKeyRing,
    revocation_queries: RevocationQueries,
    *,
    auth_use_cases: AuthUseCases,
    users: UserUseCases,
    roles: RoleUseCases,
    api_keys: ApiKeyUseCases,
    notifications: NotificationUseCases,
    audit: AuditUseCases,
    owner_tokens: OwnerTokenUseCases,
) -> list[GrpcService]:
    verification = TokenVerificationServicer(
        auth_use_cases, revocation_queries, ring, kit.jwt_issuer, kit.jwt_audience
    )
    return [
        GrpcService("zquant.identity.v1.AuthService", AuthServicer(auth_use_cases),
                    auth_pb2_grpc.add_AuthServiceServicer_to_server),
        GrpcService("zquant.identity.v1.UserService", UserServicer(users),
                    user_pb2_grpc.add_UserServiceServicer_to_server),
        GrpcService("zquant.identity.v1.RoleService", RoleServicer(roles),
                    role_pb2_grpc.add_RoleServiceServicer_to_server),
        GrpcService("zquant.identity.v1.ApiKeyService", ApiKeyServicer(api_keys),
                    api_key_pb2_grpc.add_ApiKeyServiceServicer_to_server),
        GrpcService("zquant.identity.v1.NotificationService", NotificationServicer(notifications),
                    notification_pb2_grpc.add_NotificationServiceServicer_to_server),
        GrpcService("zquant.identity.v1.AuditService", AuditServicer(audit),
                    audit_pb2_grpc.add_AuditServiceServicer_to_server),
        GrpcService(TokenVerificationServicer.SERVICE, verification,
                    token_verification_pb2_grpc.add_TokenVerificationServiceServicer_to_server),
        GrpcService(OwnerTokenServicer.SERVICE, OwnerTokenServicer(owner_tokens),
                    owner_token_pb2_grpc.add_OwnerTokenServiceServicer_to_server),
    ]  # fmt: skip
