"""AuditService: the audit log, filtered and paged."""

from __future__ import annotations

from zquant.identity.v1 import audit_pb2, audit_pb2_grpc
from zquant_identity.adapters.grpc.messages import audit_message
from zquant_identity.adapters.grpc.page_keys import AUDIT
from zquant_identity.application.inbox import AuditUseCases
from zquant_identity.application.ports import AuditFilter
from zquant_kit import pagination, principal
from zquant_kit.grpc.convert import from_timestamp


def _filter(request: audit_pb2.ListAuditEntriesRequest) -> AuditFilter:
    return AuditFilter(
        actor_user_id=request.actor_user_id,
        service=request.service,
        method=request.method,
        result_code=request.result_code,
        start=from_timestamp(request.start_time, "start_time") if request.HasField("start_time") else None,
        end=from_timestamp(request.end_time, "end_time") if request.HasField("end_time") else None,
    )


class AuditServicer(audit_pb2_grpc.AuditServiceServicer):
    def __init__(self, audit: AuditUseCases) -> None:
        self._audit = audit

    async def ListAuditEntries(self, request, context):
        principal.require("audit:read")
        limit = pagination.page_size(request.page_size)
        page = await self._audit.list(_filter(request), AUDIT.after(request.page_token), limit)
        entries = [audit_message(e) for e in page.items]
        return audit_pb2.ListAuditEntriesResponse(entries=entries, next_page_token=AUDIT.next_token(page))
