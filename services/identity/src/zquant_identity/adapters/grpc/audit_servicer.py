"""AuditService: the audit log, filtered and paged."""

from __future__ import annotations

from functools import partial

from zquant.identity.v1 import audit_pb2, audit_pb2_grpc
from zquant_identity.adapters.grpc.messages import audit_message
from zquant_identity.adapters.grpc.page_keys import AUDIT
from zquant_identity.application.inbox import AuditUseCases
from zquant_identity.application.ports import AuditFilter
from zquant_kit import principal
from zquant_kit.grpc.convert import optional_timestamp


def _filter(request: audit_pb2.ListAuditEntriesRequest) -> AuditFilter:
    return AuditFilter(
        actor_user_id=request.actor_user_id,
        service=request.service,
        method=request.method,
        result_code=request.result_code,
        start=optional_timestamp(request, "start_time"),
        end=optional_timestamp(request, "end_time"),
    )


class AuditServicer(audit_pb2_grpc.AuditServiceServicer):
    def __init__(self, audit: AuditUseCases) -> None:
        self._audit = audit

    async def ListAuditEntries(self, request, context):
        principal.require("audit:read")
        entries, token = await AUDIT.page(request, partial(self._audit.list, _filter(request)))
        return audit_pb2.ListAuditEntriesResponse(
            entries=[audit_message(e) for e in entries], next_page_token=token
        )
