"""The monitor's state: per-check counters, failover state, history.

One object, carried whole through continue-as-new, read by the ``status``/``health`` queries.
Plain data: the decisions that change it live in ``policy.py``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import Field

from genesis.failover.domain.config import CheckConfig
from genesis.failover.domain.models import (
    Direction,
    FailoverResult,
    Model,
    MonitorState,
    NotificationOutcome,
    Outcome,
    RecordSwitch,
    Trigger,
)

RecordSide = Literal["primary", "backup", "other", "unknown"]
HISTORY_LIMIT = 50
NOTIFICATION_FAILURES_KEPT = 10


class CheckHealth(Model):
    """What the monitor knows about one check. A new check is presumed healthy: a monitor that
    restarts must see ``failure_threshold`` real failures before it may fail over."""

    name: str
    critical: bool = True
    is_healthy: bool = True
    consecutive_failures: int = 0
    consecutive_successes: int = 0
    last_error: str | None = None
    last_checked: datetime | None = None
    last_latency_ms: float | None = None
    # Since when the check has been healthy without interruption (the failback window).
    healthy_since: datetime | None = None
    total_probes: int = 0
    total_failures: int = 0
    # The probe could not run (worker down, task lost): counted neither as a success nor as a
    # failure, because our own trouble must never fail the site over.
    probes_lost: int = 0
    origin: str = ""


class Decision(Model):
    """What the policy said the last time it was asked, and why."""

    allowed: bool
    reason: str  # machine-readable: "cooldown", "daily_limit", "already_failed_over", ...
    message: str
    at: datetime


class OperationRecord(Model):
    """One failover or failback, in the monitor's history."""

    workflow_id: str
    # Every operation of a site shares the workflow id; the run id opens this one.
    run_id: str | None = None
    direction: Direction
    trigger: Trigger
    reason: str
    dry_run: bool = False
    started_at: datetime
    finished_at: datetime | None = None
    outcome: Outcome | None = None
    success: bool | None = None
    duration_seconds: float | None = None
    records: list[RecordSwitch] = Field(default_factory=list)
    error: str | None = None


class NotificationLog(Model):
    """What the site's notifications did: counts, and the last few that finally failed (a
    channel that stopped working must show in status, not only in a history nobody reads)."""

    sent: int = 0
    failed: int = 0
    recent_failures: list[NotificationOutcome] = Field(default_factory=list)

    def record(self, outcome: NotificationOutcome) -> None:
        if outcome.ok:
            self.sent += 1
            return
        self.failed += 1
        self.recent_failures.append(outcome)
        del self.recent_failures[:-NOTIFICATION_FAILURES_KEPT]


class SiteState(Model):
    site: str
    state: MonitorState = "normal"
    checks: dict[str, CheckHealth] = Field(default_factory=dict)
    # Where each record points, as far as our own writes and reads tell ("domain/TYPE" keys).
    records: dict[str, RecordSide] = Field(default_factory=dict)
    failover_count: int = 0
    last_failover: datetime | None = None
    # Start of the cooldown: the end of the last non-dry-run failover or failback.
    last_change_at: datetime | None = None
    # Start times of non-dry-run failovers in the last 24 h (the rolling daily limit).
    recent_failovers: list[datetime] = Field(default_factory=list)
    current: OperationRecord | None = None
    history: list[OperationRecord] = Field(default_factory=list)
    last_decision: Decision | None = None
    last_refusal: Decision | None = None
    notifications: NotificationLog = Field(default_factory=NotificationLog)
    runs: int = 1  # how many workflow runs (continue-as-new) this state has lived through

    def sync_checks(self, checks: list[CheckConfig]) -> None:
        """Follow the plan's checks: new ones start fresh, removed ones go, the rest keep every
        counter (a config change must not reset a failing check's count)."""
        self.checks = {
            c.name: (
                self.checks[c.name].model_copy(update={"critical": c.critical})
                if c.name in self.checks
                else CheckHealth(name=c.name, critical=c.critical)
            )
            for c in checks
        }

    def remember(self, op: OperationRecord) -> None:
        self.history.append(op)
        del self.history[:-HISTORY_LIMIT]

    def apply_result(self, result: FailoverResult, *, unread_is_unknown: bool = True) -> None:
        """Fold a finished operation's result into the record map and the state machine."""
        self.learn_records(
            result.records,
            result.primary_ip,
            result.backup_ip,
            unread_is_unknown=unread_is_unknown,
        )

    def learn_records(
        self,
        records: list[RecordSwitch],
        primary_ip: str,
        backup_ip: str,
        *,
        unread_is_unknown: bool = True,
    ) -> None:
        """Where each record points, from an operation's writes or a dry run's reads.
        (``unread_is_unknown=False``: the rule before issue 6, for monitors replaying it.)"""
        for rec in records:
            if rec.action == "failed" and not unread_is_unknown:
                continue
            if rec.action == "failed":
                # The read or write failed: we learnt nothing about where this record points.
                # What we knew stands; a record never read is "unknown", never left out: a
                # map without it would call a site whose other records moved fully failed
                # over, and refuse the failover that would move this one.
                self.records.setdefault(record_key(rec.domain, rec.record_type), "unknown")
                continue
            values = [rec.target] if rec.at_target else rec.before
            self.records[record_key(rec.domain, rec.record_type)] = side_of(
                values, primary_ip, backup_ip
            )
        if any(side == "backup" for side in self.records.values()):
            self.state = "failed_over"
        else:
            self.state = "normal"

    @property
    def partial(self) -> bool:
        """Some records at the backup and some not: traffic is split."""
        sides = set(self.records.values())
        return "backup" in sides and sides != {"backup"}

    @property
    def fully_failed_over(self) -> bool:
        return bool(self.records) and all(s == "backup" for s in self.records.values())


def record_key(domain: str, record_type: str) -> str:
    return f"{domain.rstrip('.')}/{record_type}"


def side_of(values: list[str], primary_ip: str, backup_ip: str) -> RecordSide:
    if values == [primary_ip]:
        return "primary"
    if values == [backup_ip]:
        return "backup"
    return "other" if values else "unknown"
