"""Notifications from inside a workflow: one activity per channel and event, never in the way.

Sending never blocks the caller: ``send`` starts a task and returns. Each channel's events go out
in the order they were sent (a PagerDuty "resolve" that overtook its "trigger" would leave the
incident open forever), and a channel that finally fails is recorded as an outcome, never raised.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime, timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError

from workflows.retries import cause

with workflow.unsafe.imports_passed_through():
    from activities.notify import NotifyActivities
    from activities.payloads import NotifyInput
    from genesis.failover.domain.models import (
        NotificationEvent,
        NotificationOutcome,
        NotificationRoutes,
    )

# Retried with backoff until the deadline (NotificationRoutes.deadline_seconds); one attempt is
# bounded by the channel's own timeout, this only covers a worker that vanished mid-send.
NOTIFY_ATTEMPT_TIMEOUT = timedelta(seconds=150)
NOTIFY_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(seconds=15),
)


class Notifications:
    """The notifications one workflow sends. ``on_outcome`` sees each outcome as it lands."""

    def __init__(
        self,
        routes: NotificationRoutes,
        *,
        on_outcome: Callable[[NotificationOutcome], None] | None = None,
    ) -> None:
        self._routes = routes
        self._on_outcome = on_outcome
        self._tasks: list[asyncio.Task[NotificationOutcome]] = []
        self._last: dict[str, asyncio.Task[NotificationOutcome]] = {}

    def reroute(self, routes: NotificationRoutes) -> None:
        """Follow a changed config (events already under way keep their channel)."""
        self._routes = routes

    @property
    def pending(self) -> int:
        return sum(1 for t in self._tasks if not t.done())

    def send(self, event: NotificationEvent) -> None:
        # The deadline runs from now, waiting for the channel's previous event included, so a
        # caller that waits for everything waits at most deadline_seconds from its last send.
        deadline_at = workflow.now() + timedelta(seconds=self._routes.deadline_seconds)
        for channel in self._routes.channels_for(event.kind):
            before = self._last.get(channel)
            task = asyncio.create_task(self._send(channel, event, before, deadline_at))
            self._last[channel] = task
            self._tasks.append(task)

    async def wait(self) -> list[NotificationOutcome]:
        """Every outcome so far, once every notification sent so far has finished."""
        return list(await asyncio.gather(*self._tasks))

    def forget_finished(self) -> None:
        """Drop finished tasks (a long-running monitor sends many over its life)."""
        self._tasks = [t for t in self._tasks if not t.done()]
        self._last = {c: t for c, t in self._last.items() if not t.done()}

    async def _send(
        self,
        channel: str,
        event: NotificationEvent,
        before: asyncio.Task[NotificationOutcome] | None,
        deadline_at: datetime,
    ) -> NotificationOutcome:
        if before is not None:
            # Its outcome is its own; only the order matters here. It was sent earlier with a
            # deadline as long as ours, so it ends before ours does.
            await workflow.wait([before])
        outcome = await self._deliver(channel, event, deadline_at - workflow.now())
        if not outcome.ok:
            workflow.logger.warning(
                "notification %s to %s failed: %s", event.kind, channel, outcome.error
            )
        if self._on_outcome is not None:
            self._on_outcome(outcome)
        return outcome

    async def _deliver(
        self, channel: str, event: NotificationEvent, remaining: timedelta
    ) -> NotificationOutcome:
        if remaining <= timedelta(0):
            return NotificationOutcome(
                channel=channel,
                event=event.kind,
                ok=False,
                error="not sent: its deadline passed while the channel's previous event retried",
                at=workflow.now(),
            )
        try:
            outcome: NotificationOutcome = await workflow.execute_activity_method(
                NotifyActivities.send_notification,
                NotifyInput(channel=channel, event=event),
                start_to_close_timeout=NOTIFY_ATTEMPT_TIMEOUT,
                schedule_to_close_timeout=remaining,
                retry_policy=NOTIFY_RETRY,
                summary=f"notify {channel}: {event.kind}",
            )
        except ActivityError as err:
            return NotificationOutcome(
                channel=channel, event=event.kind, ok=False, error=cause(err), at=workflow.now()
            )
        return outcome.model_copy(update={"at": workflow.now()})
