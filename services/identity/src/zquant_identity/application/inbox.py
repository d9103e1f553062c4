"""Notifications (a per-user inbox) and the audit log, both also fed by other services' events."""

from __future__ import annotations

import datetime as dt
import uuid

from zquant.common.v1 import audit_pb2
from zquant.identity.v1 import events_pb2
from zquant_identity.application.ports import AuditFilter, Clock, IdentityUnitOfWork, UnitOfWorkFactory
from zquant_identity.domain.model import AuditEntry, Notification
from zquant_kit.errors import InvalidArgument, NotFound
from zquant_kit.events.model import Event
from zquant_kit.pagination import Page, fetch_page
from zquant_kit.principal import Principal
from zquant_kit.text import check_text, storable

AUDIT_CONSUMER = "identity-audit-log"
NOTIFICATION_CONSUMER = "identity-notifications"


class NotificationUseCases:
    def __init__(self, uow: UnitOfWorkFactory, clock: Clock) -> None:
        self._uow = uow
        self._clock = clock

    async def _own(self, uow: IdentityUnitOfWork, actor: Principal, notification_id: str) -> Notification:
        """Someone else's notification is NOT_FOUND, not PERMISSION_DENIED: ids don't leak."""
        if not notification_id:
            raise InvalidArgument("notification_id", "required")
        found = await uow.notifications.get(notification_id)
        if found is None or found.user_id != actor.user_id:
            raise NotFound("notification", notification_id)
        return found

    async def list(
        self, actor: Principal, unread_only: bool, after: tuple[str, str] | None, limit: int
    ) -> Page[Notification]:
        async with self._uow() as uow:
            return await fetch_page(
                lambda n: uow.notifications.list_for_user(actor.user_id, unread_only, after, n), limit
            )

    async def mark_read(self, actor: Principal, notification_id: str) -> Notification:
        async with self._uow() as uow:
            notification = await self._own(uow, actor, notification_id)
            notification.read = True
            await uow.commit()
            return notification

    async def mark_all_read(self, actor: Principal) -> int:
        async with self._uow() as uow:
            count = await uow.notifications.mark_all_read(actor.user_id)
            await uow.commit()
            return count

    async def delete(self, actor: Principal, notification_id: str) -> None:
        async with self._uow() as uow:
            await uow.notifications.delete(await self._own(uow, actor, notification_id))
            await uow.commit()

    async def send(
        self, user_id: str, title: str, body: str, notification_id: str | None = None
    ) -> Notification:
        if not user_id:
            raise InvalidArgument("user_id", "required")
        if not check_text(title, "title").strip() or len(title) > 200:
            raise InvalidArgument("title", "1-200 characters required")
        check_text(body, "body", max_length=10_000)
        async with self._uow() as uow:
            if await uow.users.get(user_id) is None:
                raise NotFound("user", user_id)
            notification = Notification(
                id=notification_id or str(uuid.uuid4()),
                user_id=user_id,
                title=title,
                body=body,
                created_at=self._clock.now(),
            )
            await uow.notifications.add(notification)
            await uow.commit()
            return notification

    async def on_notification_requested(self, event: Event) -> None:
        message: events_pb2.NotificationRequestedEvent = event.decode(events_pb2.NotificationRequestedEvent)
        async with self._uow() as uow:
            if not await uow.claim(NOTIFICATION_CONSUMER, event.id):
                return
            if await uow.users.get(message.user_id) is None:
                await uow.commit()  # user gone meanwhile: nothing to deliver, but the event is handled
                return
            await uow.notifications.add(
                Notification(
                    id=message.notification_id or event.id,
                    user_id=message.user_id,
                    title=storable(message.title, 200),
                    body=storable(message.body, 10_000),
                    created_at=self._clock.now(),
                )
            )
            await uow.commit()


class AuditUseCases:
    def __init__(self, uow: UnitOfWorkFactory) -> None:
        self._uow = uow

    async def list(self, filter: AuditFilter, after: tuple[str, str] | None, limit: int) -> Page[AuditEntry]:
        async with self._uow() as uow:
            return await fetch_page(lambda n: uow.audit.list(filter, after, n), limit)

    async def on_audit_recorded(self, event: Event) -> None:
        message: audit_pb2.AuditRecordedEvent = event.decode(audit_pb2.AuditRecordedEvent)
        async with self._uow() as uow:
            if not await uow.claim(AUDIT_CONSUMER, event.id):
                return
            # Clamped to the column widths, NUL replaced: any service may send these, none may block the log.
            await uow.audit.add(
                AuditEntry(
                    id=storable(message.entry_id or event.id, 36),
                    actor_user_id=storable(message.actor_user_id, 36),
                    service=storable(message.service, 32),
                    method=storable(message.method, 200),
                    target=storable(message.target, 200),
                    result_code=storable(message.result_code, 32),
                    client_address=storable(message.client_address, 100),
                    time=message.time.ToDatetime(tzinfo=dt.UTC),
                )
            )
            await uow.commit()
