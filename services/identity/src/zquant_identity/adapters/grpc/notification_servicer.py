"""NotificationService: a user's inbox, and sending to it."""

from __future__ import annotations

from functools import partial

from zquant.identity.v1 import notification_pb2, notification_pb2_grpc
from zquant_identity.adapters.grpc.messages import notification_message
from zquant_identity.adapters.grpc.page_keys import NOTIFICATIONS
from zquant_identity.application.inbox import NotificationUseCases
from zquant_kit import principal


class NotificationServicer(notification_pb2_grpc.NotificationServiceServicer):
    def __init__(self, notifications: NotificationUseCases) -> None:
        self._notifications = notifications

    async def ListNotifications(self, request, context):
        actor = principal.current()
        found, token = await NOTIFICATIONS.page(
            request, partial(self._notifications.list, actor, request.unread_only)
        )
        return notification_pb2.ListNotificationsResponse(
            notifications=[notification_message(n) for n in found], next_page_token=token
        )

    async def MarkNotificationRead(self, request, context):
        found = await self._notifications.mark_read(principal.current(), request.notification_id)
        return notification_pb2.MarkNotificationReadResponse(notification=notification_message(found))

    async def MarkAllNotificationsRead(self, request, context):
        count = await self._notifications.mark_all_read(principal.current())
        return notification_pb2.MarkAllNotificationsReadResponse(updated_count=count)

    async def DeleteNotification(self, request, context):
        await self._notifications.delete(principal.current(), request.notification_id)
        return notification_pb2.DeleteNotificationResponse()

    async def SendNotification(self, request, context):
        principal.require("notification:create")
        found = await self._notifications.send(request.user_id, request.title, request.body)
        return notification_pb2.SendNotificationResponse(notification=notification_message(found))
