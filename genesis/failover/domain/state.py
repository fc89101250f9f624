"""The monitor's state: per-check counters, failover state, history.

One object, carried whole through continue-as-new, read by the ``status``/``health`` queries.
Plain data: the decisions that change it live in ``policy.py``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
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

    @property
    def counts_toward_limits(self) -> bool:
        """Dry runs and drills change nothing: they neither start a cooldown nor use the limit."""
        return not self.dry_run and self.trigger != "drill"


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

    def note_decision(self, decision: Decision) -> bool:
        """Keep the policy's latest word. True for a refusal that is new (not the same reason as
        the last decision): it is said once per streak, not at every loop of a dead site."""
        last = self.last_decision
        self.last_decision = decision
        if decision.allowed or decision.reason in ("healthy", "in_progress"):
            return False
        self.last_refusal = decision
        return last is None or last.reason != decision.reason

    # --- one operation's life: claimed, started, finished (the monitor calls these) ------------

    def claim(self, op: OperationRecord) -> None:
        """The site is taken by ``op`` before anything awaits: a request arriving in the same
        workflow task already finds it busy."""
        self.current = op

    def release(self) -> None:
        """The claimed operation never started (another run holds its workflow id)."""
        self.current = None

    def started(self, op: OperationRecord, run_id: str | None, now: datetime) -> None:
        """Its workflow runs: the state moves, and a real failover counts toward the limits
        from its start (a failover that hangs must not leave room for five more)."""
        op.run_id = run_id
        if not op.counts_toward_limits:
            return
        self.state = "failing_over" if op.direction == "failover" else "failing_back"
        if op.direction == "failover":
            self.recent_failovers.append(now)
            self.failover_count += 1
            self.last_failover = now

    def finished(self, op: OperationRecord, result: FailoverResult, now: datetime) -> None:
        """Its result is in: where the records point now, what was notified, and the cooldown
        from its end. Reads done by a dry run are as true as a real run's."""
        op.finished_at = now
        op.outcome = result.outcome
        op.success = result.success
        op.duration_seconds = result.duration_seconds
        op.records = result.records
        op.error = result.error
        self.apply_result(result)
        for note in result.notifications:
            self.notifications.record(note)
        if op.counts_toward_limits:
            self.last_change_at = now
        self.current = None
        self.history.append(op)
        del self.history[:-HISTORY_LIMIT]

    def apply_result(self, result: FailoverResult) -> None:
        """Fold an operation's result into the record map and the state machine."""
        self.learn_records(
            {_key(r): _values_seen(r) for r in result.records}, result.primary_ip, result.backup_ip
        )

    def records_unknown(self, keys: Iterable[str]) -> None:
        """An operation died without a result: nobody knows which of these moved."""
        for key in keys:
            self.records[key] = "unknown"

    def learn_records(
        self, seen: Mapping[str, list[str] | None], primary_ip: str, backup_ip: str
    ) -> None:
        """Where each record points (``{"domain/TYPE": values}``), from an operation's writes
        and reads or the monitor's own reads; None: it could not be read."""
        for key, values in seen.items():
            if values is None:
                # We learnt nothing about where this record points. What we knew stands; a
                # record never read is "unknown", never left out: a map without it would call
                # a site whose other records moved fully failed over, and refuse the failover
                # that would move this one.
                self.records.setdefault(key, "unknown")
            else:
                self.records[key] = side_of(values, primary_ip, backup_ip)
        self.state = "failed_over" if "backup" in self.records.values() else "normal"

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


def _key(rec: RecordSwitch) -> str:
    return record_key(rec.domain, rec.record_type)


def _values_seen(rec: RecordSwitch) -> list[str] | None:
    """What an operation saw the record hold last; None when its read or write failed."""
    if rec.action == "failed":
        return None
    return [rec.target] if rec.at_target else rec.before


def side_of(values: list[str], primary_ip: str, backup_ip: str) -> RecordSide:
    if values == [primary_ip]:
        return "primary"
    if values == [backup_ip]:
        return "backup"
    return "other" if values else "unknown"
