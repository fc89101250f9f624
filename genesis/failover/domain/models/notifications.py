"""Where notifications go, and whether each channel took one."""

from __future__ import annotations

from datetime import datetime

from pydantic import Field

from genesis.failover.domain.config import EventKind
from genesis.failover.domain.models.base import Model


class NotificationOutcome(Model):
    """Whether one channel took one event (after its retries)."""

    channel: str
    event: EventKind
    ok: bool
    detail: str | None = None
    error: str | None = None
    # When the channel took it, or gave up (workflow time).
    at: datetime | None = None


class NotificationRoutes(Model):
    """Which channel is sent which events, and how long a notification may retry (non-secret)."""

    routes: dict[str, list[EventKind]] = Field(default_factory=dict)
    deadline_seconds: float = 60

    def channels_for(self, kind: EventKind) -> list[str]:
        return [channel for channel, kinds in self.routes.items() if kind in kinds]
