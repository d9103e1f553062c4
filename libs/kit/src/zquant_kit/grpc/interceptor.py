"""One server interceptor for every service: authenticate, bind the principal, map errors, audit."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
from collections.abc import AsyncIterator, Iterable, Sequence
from typing import Any

import grpc

from zquant_kit import principal as principal_ctx
from zquant_kit.audit import AuditRecord, AuditSink, is_mutating
from zquant_kit.auth import (
    API_KEY_HEADER,
    NONCE_HEADER,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    ApiKeyAuthenticator,
    ApiKeyCredentials,
    TokenVerifier,
    request_digest,
)
from zquant_kit.errors import Unauthenticated, ZqError
from zquant_kit.grpc.handlers import Behavior, Context, Continuation, Handler, ServerInterceptor
from zquant_kit.grpc.status import internal_status, to_grpc_status
from zquant_kit.grpc.validation import RequestValidator
from zquant_kit.persistence import errors as database_errors
from zquant_kit.principal import Principal
from zquant_kit.service_credential import SERVICE_PRINCIPAL, SERVICE_TOKEN_HEADER, is_service_secret
from zquant_kit.text import storable

log = logging.getLogger(__name__)

_EXEMPT_PREFIXES = ("/grpc.health.v1.", "/grpc.reflection.")


def _target_of(request: Any, fields: Sequence[str]) -> str:
    """A short description of what the call acted on: the first set field among those the service names."""
    for field in fields:
        value = getattr(request, field, None)
        if isinstance(value, str) and value:
            return storable(f"{field}={value[:200]}", 200)
    return ""


class AuthInterceptor(ServerInterceptor):
    def __init__(
        self,
        service: str,
        verifier: TokenVerifier,
        api_keys: ApiKeyAuthenticator | None,
        audit: AuditSink | None,
        public_methods: Iterable[str] = (),
        *,
        service_secret: str,
        audit_target_fields: Sequence[str] = (),
    ) -> None:
        self._service = service
        self._target_fields = tuple(audit_target_fields)
        self._service_secret = service_secret
        self._domain = f"{service}.zquant"
        self._verifier = verifier
        self._api_keys = api_keys
        self._audit = audit
        self._public = frozenset(public_methods)
        self._bounds = RequestValidator()

    async def intercept_service(
        self, continuation: Continuation, handler_call_details: grpc.HandlerCallDetails
    ) -> Handler:
        handler = await continuation(handler_call_details)
        method = handler_call_details.method
        if handler is None or method.startswith(_EXEMPT_PREFIXES):
            return handler
        if handler.unary_unary is not None:
            return grpc.unary_unary_rpc_method_handler(
                self._wrap_unary(method, handler.unary_unary),
                request_deserializer=handler.request_deserializer,
                response_serializer=handler.response_serializer,
            )
        if handler.unary_stream is not None:
            return grpc.unary_stream_rpc_method_handler(
                self._wrap_stream(method, handler.unary_stream),
                request_deserializer=handler.request_deserializer,
                response_serializer=handler.response_serializer,
            )
        return None  # type: ignore[return-value]  # no zquant contract streams from the client: never serve one unauthenticated

    async def _principal(self, method: str, request: Any, context: Context) -> Principal | None:
        if method in self._public:
            return None
        metadata = {k: v for k, v in (context.invocation_metadata() or ()) if isinstance(v, str)}
        if SERVICE_TOKEN_HEADER in metadata:
            if not is_service_secret(self._service_secret, metadata[SERVICE_TOKEN_HEADER]):
                raise Unauthenticated("invalid service credential", reason="SERVICE_TOKEN_INVALID")
            return SERVICE_PRINCIPAL
        authorization = metadata.get("authorization", "")
        if authorization:
            scheme, _, token = authorization.partition(" ")
            if scheme.lower() != "bearer" or not token:
                raise Unauthenticated("authorization must be 'Bearer <token>'", reason="TOKEN_INVALID")
            return await self._verifier.verify(token.strip())
        if API_KEY_HEADER in metadata:
            if self._api_keys is None:
                raise Unauthenticated("API keys are not accepted here", reason="API_KEY_INVALID")
            try:
                credentials = ApiKeyCredentials(
                    key_id=metadata[API_KEY_HEADER],
                    timestamp=int(metadata.get(TIMESTAMP_HEADER, "")),
                    nonce=metadata.get(NONCE_HEADER, ""),
                    method=method,
                    body_sha256=request_digest(request.SerializeToString(deterministic=True)),
                    signature=metadata.get(SIGNATURE_HEADER, ""),
                )
            except ValueError:
                raise Unauthenticated(
                    "x-zq-timestamp must be unix seconds", reason="API_KEY_INVALID"
                ) from None
            return await self._api_keys.authenticate(credentials)
        raise Unauthenticated(
            "missing credentials: send 'authorization: Bearer <token>' or an API-key signature"
        )

    async def _fail(self, context: Context, error: Exception) -> None:
        if isinstance(error, ZqError):
            status = to_grpc_status(error, self._domain)
        else:
            log.exception("unhandled error", exc_info=error)
            status = internal_status()
        await context.abort(status.code, status.details, status.trailing_metadata)

    async def _record(
        self, method: str, request: Any, context: Context, principal: Principal | None, code: grpc.StatusCode
    ) -> None:
        if self._audit is None or not is_mutating(method):
            return
        try:
            await self._audit.record(
                AuditRecord(
                    actor_user_id=principal.user_id if principal else "",
                    service=self._service,
                    method=method,
                    target=_target_of(request, self._target_fields),
                    result_code=code.name,
                    client_address=context.peer() or "",
                    time=dt.datetime.now(dt.UTC),
                )
            )
        except Exception:
            log.exception("audit record failed for %s", method)

    @contextlib.asynccontextmanager
    async def _guard(self, method: str, request: Any, context: Context) -> AsyncIterator[None]:
        """Around every call: authenticate and bind the caller, map errors to statuses, audit mutations."""
        principal: Principal | None = None
        code = grpc.StatusCode.OK
        try:
            principal = await self._principal(method, request, context)
            self._bounds.check(request)  # the proto's bounds, before any handler runs
            with principal_ctx.bound(principal):
                yield
        except grpc.aio.AbortError:
            code = context.code() or grpc.StatusCode.UNKNOWN
            raise
        except (asyncio.CancelledError, GeneratorExit):
            code = grpc.StatusCode.CANCELLED  # the client went away mid-call (or mid-stream)
            raise
        except Exception as raised:
            error = database_errors.client_error(raised) or raised
            code = _code_of(error)
            await self._fail(context, error)
        finally:
            await self._record(method, request, context, principal, code)

    def _wrap_unary(self, method: str, behavior: Behavior) -> Behavior:
        async def wrapped(request: Any, context: Context) -> Any:
            async with self._guard(method, request, context):
                return await behavior(request, context)

        return wrapped

    def _wrap_stream(self, method: str, behavior: Behavior) -> Behavior:
        async def wrapped(request: Any, context: Context) -> AsyncIterator[Any]:
            async with self._guard(method, request, context):
                async for item in behavior(request, context):
                    yield item

        return wrapped


def _code_of(error: Exception) -> grpc.StatusCode:
    return to_grpc_status(error, "").code if isinstance(error, ZqError) else grpc.StatusCode.INTERNAL
