"""When each check is probed next: the monitor's probe schedule, pure and deterministic.

Every check keeps its own cadence (``interval_seconds``) without drift, never tries to catch up
on ticks it missed, and is never probed twice at once. Checks that fall due within
``BATCH_WINDOW`` of each other are probed together, in one activity. A site with more checks than
one batch (``PROBES_PER_BATCH``) starts them spread over their interval, so its targets see a
steady rate and no probe waits behind a thousand others.

No clock of its own: every method takes ``now`` (workflow time in the monitor), so the monitor
replays to the same schedule and a unit test can walk it without Temporal.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from genesis.failover.domain.config import CheckConfig
from genesis.failover.domain.probes import PROBES_PER_BATCH, first_due_offset

# Checks due within this window of each other share one probe activity.
BATCH_WINDOW = timedelta(milliseconds=50)
# The soonest a deadline may be: a timer of 0 s would spin the loop.
MIN_WAIT = timedelta(milliseconds=1)


@dataclass(frozen=True)
class Batch:
    """Checks to probe together now, and when the earliest of them was due."""

    checks: list[CheckConfig]
    due_at: datetime


class ProbeSchedule:
    def __init__(self) -> None:
        self._next_due: dict[str, datetime] = {}
        self._in_flight: set[str] = set()

    @property
    def probing(self) -> bool:
        """Some check is being probed (its result will come back)."""
        return bool(self._in_flight)

    def take_due(self, checks: list[CheckConfig], now: datetime) -> Batch | None:
        """The checks due now (marked in flight until ``done``), or None."""
        due: list[CheckConfig] = []
        due_at: datetime | None = None
        for index, check in enumerate(checks):
            if check.name in self._in_flight:
                continue
            when = self._next_due.get(check.name)
            if when is None:
                when = now + timedelta(seconds=self._first_offset(index, len(checks), check))
            if when > now + BATCH_WINDOW:
                self._next_due[check.name] = when
                continue
            due.append(check)
            due_at = when if due_at is None else min(due_at, when)
            # Keep the cadence (no drift), but never try to catch up on missed ticks.
            step = timedelta(seconds=check.interval_seconds)
            self._next_due[check.name] = when + step if when + step > now else now + step
        if not due or due_at is None:
            return None
        self._in_flight.update(c.name for c in due)
        return Batch(due, due_at)

    def done(self, checks: Iterable[CheckConfig]) -> None:
        """Their probe ended (with a result or lost): they are due again on their cadence."""
        self._in_flight.difference_update(c.name for c in checks)

    def next_deadline(self, now: datetime) -> datetime | None:
        """When the loop must wake for the next due check; None when every check is being
        probed (a result wakes the loop, no timer needed)."""
        pending = [t for name, t in self._next_due.items() if name not in self._in_flight]
        if not pending:
            return None
        return max(min(pending), now + MIN_WAIT)

    def keep_only(self, names: Iterable[str]) -> None:
        """Follow a changed list of checks: a removed check is never due again."""
        kept = set(names)
        self._next_due = {k: v for k, v in self._next_due.items() if k in kept}

    @staticmethod
    def _first_offset(index: int, count: int, check: CheckConfig) -> float:
        if count <= PROBES_PER_BATCH:
            return 0.0
        return first_due_offset(index, count, check.interval_seconds)
