"""Something people are told about: a failover's start and end, a check's change, a refusal."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import Field

from genesis.failover.domain.config import EventKind
from genesis.failover.domain.models.base import Model, Outcome
from genesis.failover.domain.models.operation import Operation


class NotificationEvent(Model):
    """Something people are told about. Built by pure functions (``notify.events``) so that a
    workflow can build it deterministically; rendered per channel by the notifiers. No secrets."""

    kind: EventKind
    site: str
    # One line: the email subject, the Slack headline, PagerDuty's payload.summary.
    summary: str
    severity: Literal["critical", "error", "warning", "info"]
    # PagerDuty's dedup_key: one per failover (trigger on start, resolve on success), one per
    # check incident, one per kind of refusal.
    dedup_key: str
    occurred_at: datetime
    # The failover or failback it is about (None for a check's or a refusal's event).
    operation: Operation | None = None
    reason: str | None = None
    outcome: Outcome | None = None
    workflow_id: str | None = None
    # Every failover of a site shares one workflow id; the run id names this one.
    run_id: str | None = None
    duration_seconds: float | None = None
    # One line per record: "genesis.example.com A: 1.2.3.4 -> 5.6.7.8 (switched)".
    records: list[str] = Field(default_factory=list)
    check_name: str | None = None
    error: str | None = None
