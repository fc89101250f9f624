"""Notification activity: one event to one channel. Each channel is its own activity, so a Slack
outage is retried on its own and never sends the email twice."""

from __future__ import annotations

from temporalio import activity

from activities.payloads import NotifyInput
from genesis.failover.domain.errors import NotificationError
from genesis.failover.domain.models import NotificationOutcome
from genesis.failover.domain.notify import Notifiers
from genesis.failover.temporal.errors import to_application_error


class NotifyActivities:
    def __init__(self, notifiers: Notifiers) -> None:
        self._notifiers = notifiers

    @activity.defn(name="send_notification")
    async def send_notification(self, inp: NotifyInput) -> NotificationOutcome:
        try:
            detail = await self._notifiers.send(inp.channel, inp.event)
        except NotificationError as exc:
            raise to_application_error(exc) from None
        return NotificationOutcome(
            channel=inp.channel, event=inp.event.kind, ok=True, detail=detail
        )
