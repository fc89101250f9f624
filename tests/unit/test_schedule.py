"""The monitor's probe schedule (domain/schedule.py), walked without Temporal: each test is a
story the schedule must not let happen."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from genesis.failover.domain.config import CheckConfig
from genesis.failover.domain.probes import PROBES_PER_BATCH
from genesis.failover.domain.schedule import BATCH_WINDOW, ProbeSchedule

T0 = datetime(2026, 12, 1, 3, 0, tzinfo=UTC)


def check(name: str, interval: float = 10) -> CheckConfig:
    return CheckConfig(name=name, check_type="tcp", target="127.0.0.1:9", interval_seconds=interval)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def test_a_new_site_probes_every_check_at_once_in_one_batch() -> None:
    checks = [check("api"), check("db"), check("cache", interval=30)]
    batch = ProbeSchedule().take_due(checks, T0)
    assert batch is not None
    assert [c.name for c in batch.checks] == ["api", "db", "cache"]
    assert batch.due_at == T0


def test_a_check_being_probed_is_never_probed_again_until_its_result() -> None:
    """A probe slower than its interval (a hanging target) must not pile up a second one."""
    api = [check("api", interval=1)]
    schedule = ProbeSchedule()
    assert schedule.take_due(api, T0) is not None
    assert schedule.probing
    assert schedule.take_due(api, at(5)) is None
    assert schedule.next_deadline(at(5)) is None, "nothing to wake for: the result wakes the loop"
    schedule.done(api)
    assert not schedule.probing
    assert schedule.take_due(api, at(5)) is not None


def test_each_check_keeps_its_own_cadence_without_drift() -> None:
    """A batch that took 300 ms must not push every later probe 300 ms back."""
    api = [check("api", interval=10)]
    schedule = ProbeSchedule()
    first = schedule.take_due(api, T0)
    assert first is not None
    schedule.done(api)
    assert schedule.next_deadline(at(0.3)) == at(10)
    second = schedule.take_due(api, at(10.02))
    assert second is not None and second.due_at == at(10)
    schedule.done(api)
    assert schedule.next_deadline(at(10.3)) == at(20)


def test_missed_ticks_are_not_caught_up_in_a_burst() -> None:
    """A worker back after a minute probes once, not six times in a row."""
    api = [check("api", interval=10)]
    schedule = ProbeSchedule()
    schedule.take_due(api, T0)
    schedule.done(api)
    late = schedule.take_due(api, at(65))
    assert late is not None and late.due_at == at(10)
    schedule.done(api)
    assert schedule.next_deadline(at(65)) == at(75)
    assert schedule.take_due(api, at(65)) is None


def test_checks_due_within_the_batch_window_share_one_batch() -> None:
    fast, slow = check("fast", interval=1), check("slow", interval=2)
    schedule = ProbeSchedule()
    schedule.take_due([fast, slow], T0)
    schedule.done([fast, slow])
    nearly = at(2) - BATCH_WINDOW / 2
    batch = schedule.take_due([fast, slow], nearly)
    assert batch is not None and [c.name for c in batch.checks] == ["fast", "slow"]


def test_a_large_site_starts_its_checks_spread_over_the_interval() -> None:
    """A thousand probes started together reach their targets a second late and hit a load
    balancer as a burst: beyond one batch, the site starts in groups across its interval."""
    checks = [check(f"c{i}", interval=10) for i in range(PROBES_PER_BATCH * 2 + 1)]
    schedule = ProbeSchedule()
    first = schedule.take_due(checks, T0)
    assert first is not None and 0 < len(first.checks) <= PROBES_PER_BATCH
    deadline = schedule.next_deadline(T0)
    assert deadline is not None and T0 < deadline < at(10)
    later = schedule.take_due(checks, deadline)
    assert later is not None and not {c.name for c in later.checks} & {c.name for c in first.checks}


def test_a_removed_check_is_never_due_again() -> None:
    api, old = check("api"), check("old", interval=3)
    schedule = ProbeSchedule()
    schedule.take_due([api, old], T0)
    schedule.done([api, old])
    schedule.keep_only(["api"])
    assert schedule.next_deadline(at(1)) == at(10), "the removed check's 3 s tick is gone"


def test_a_deadline_is_never_now_or_in_the_past() -> None:
    """A timer of 0 s (or less) would spin the loop: the soonest deadline is a moment away."""
    api = [check("api", interval=1)]
    schedule = ProbeSchedule()
    schedule.take_due(api, T0)
    schedule.done(api)
    deadline = schedule.next_deadline(at(5))
    assert deadline is not None and deadline > at(5)
