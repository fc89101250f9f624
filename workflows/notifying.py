"""Notifications from inside a workflow: one activity per channel and event, never in the way.

Sending never blocks the caller: ``send`` starts a task and returns. Each channel's events go out
in the order they were sent (a PagerDuty "resolve" that overtook its "trigger" would leave the
incident open forever), and a channel that finally fails is recorded as an outcome, never raised.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError

from workflows.retries import cause

with workflow.unsafe.imports_passed_through():
    from activities.notify import NotifyActivities
    from activities.payloads import NotifyInput
    from genesis.failover.models import NotificationEvent, NotificationOutcome, NotificationRoutes

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
        for channel in self._routes.channels_for(event.kind):
            task = asyncio.create_task(self._send(channel, event, self._last.get(channel)))
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
    ) -> NotificationOutcome:
        if before is not None:
            await workflow.wait([before])  # its outcome is its own; only the order matters here
        try:
            outcome: NotificationOutcome = await workflow.execute_activity_method(
                NotifyActivities.send_notification,
                NotifyInput(channel=channel, event=event),
                start_to_close_timeout=NOTIFY_ATTEMPT_TIMEOUT,
                schedule_to_close_timeout=timedelta(seconds=self._routes.deadline_seconds),
                retry_policy=NOTIFY_RETRY,
                summary=f"notify {channel}: {event.kind}",
            )
            outcome = outcome.model_copy(update={"at": workflow.now()})
        except ActivityError as err:
            outcome = NotificationOutcome(
                channel=channel, event=event.kind, ok=False, error=cause(err), at=workflow.now()
            )
            workflow.logger.warning(
                "notification %s to %s failed: %s", event.kind, channel, outcome.error
            )
        if self._on_outcome is not None:
            self._on_outcome(outcome)
        return outcome
