"""Pure policy tests: each names the failure story the rule prevents."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from genesis.failover.domain import policy
from genesis.failover.domain.config import CheckConfig, PolicySettings
from genesis.failover.domain.models import FailoverResult, ProbeResult, RecordSwitch
from genesis.failover.domain.state import CheckHealth, OperationRecord, SiteState

T0 = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
PRIMARY, BACKUP = "192.0.2.10", "192.0.2.20"
CHECK = CheckConfig(name="api", check_type="tcp", target="127.0.0.1:1", failure_threshold=3)
POLICY = PolicySettings()


def probe(ok: bool, at: datetime = T0, name: str = "api") -> ProbeResult:
    return ProbeResult(
        check_name=name, healthy=ok, latency_ms=1.0, error=None if ok else "refused", checked_at=at
    )


def feed(health: CheckHealth, pattern: str, check: CheckConfig = CHECK) -> CheckHealth:
    """Apply a probe pattern such as "ffs" (f = failure, s = success) one second apart."""
    for i, ch in enumerate(pattern):
        health = policy.apply_probe(health, check, probe(ch == "s", T0 + timedelta(seconds=i)))
    return health


def site(unhealthy: bool = True, **kw: object) -> SiteState:
    s = SiteState(site="genesis", **kw)  # type: ignore[arg-type]
    s.checks["api"] = CheckHealth(name="api", is_healthy=not unhealthy, last_error="refused")
    s.records["genesis.example.com/A"] = "primary"
    return s


# --- thresholds ------------------------------------------------------------------------------


def test_one_blip_does_not_flip_a_check() -> None:
    assert feed(CheckHealth(name="api"), "ff").is_healthy
    assert feed(CheckHealth(name="api"), "ffsff").is_healthy


def test_check_turns_unhealthy_at_the_threshold_with_the_last_error() -> None:
    h = feed(CheckHealth(name="api"), "fff")
    assert not h.is_healthy
    assert h.last_error == "refused"
    assert h.consecutive_failures == 3


def test_one_good_probe_does_not_end_an_outage() -> None:
    h = feed(CheckHealth(name="api"), "fffs")
    assert not h.is_healthy, "a single success from a flapping primary must not count as recovery"
    h = feed(h, "s")
    assert h.is_healthy and h.last_error is None
    assert h.healthy_since is not None


def test_alternating_probes_never_change_a_healthy_check() -> None:
    assert feed(CheckHealth(name="api"), "fs" * 50).is_healthy


def test_alternating_probes_never_recover_an_unhealthy_check() -> None:
    h = feed(CheckHealth(name="api"), "fff" + "sf" * 50)
    assert not h.is_healthy


# --- automatic failover ----------------------------------------------------------------------


def test_automatic_failover_when_a_critical_check_is_unhealthy() -> None:
    d = policy.decide_automatic_failover(site(), POLICY, T0)
    assert d.allowed and "api unhealthy" in d.message


def test_non_critical_check_never_triggers_failover() -> None:
    s = site()
    s.checks["api"].critical = False
    d = policy.decide_automatic_failover(s, POLICY, T0)
    assert not d.allowed and d.reason == "healthy"


def test_cooldown_refuses_a_second_failover_and_says_for_how_long() -> None:
    s = site(last_change_at=T0 - timedelta(seconds=100))
    d = policy.decide_automatic_failover(s, POLICY, T0)
    assert not d.allowed and d.reason == "cooldown"
    assert "200s" in d.message
    later = policy.decide_automatic_failover(s, POLICY, T0 + timedelta(seconds=200))
    assert later.allowed


def test_rolling_daily_limit() -> None:
    recent = [T0 - timedelta(hours=h) for h in (1, 3, 5, 7, 9)]
    s = site(recent_failovers=recent)
    d = policy.decide_automatic_failover(s, POLICY, T0)
    assert not d.allowed and d.reason == "daily_limit"
    # Rolling, not calendar: once the oldest is 24 h old, one more is allowed.
    assert policy.decide_automatic_failover(s, POLICY, T0 + timedelta(hours=15, seconds=1)).allowed
    assert policy.failovers_left_today(s, POLICY, T0) == 0


def test_auto_failover_off_reports_why() -> None:
    d = policy.decide_automatic_failover(site(), PolicySettings(auto_failover=False), T0)
    assert not d.allowed and d.reason == "auto_failover_disabled"


def test_no_second_failover_when_already_failed_over() -> None:
    s = site()
    s.records["genesis.example.com/A"] = "backup"
    d = policy.decide_automatic_failover(s, POLICY, T0)
    assert not d.allowed and d.reason == "already_failed_over"


def test_partial_failover_may_be_completed() -> None:
    s = site()
    s.records["genesis.example.com/A"] = "backup"
    s.records["api.example.com/A"] = "primary"
    assert s.partial
    assert policy.decide_automatic_failover(s, POLICY, T0).allowed


def test_nothing_starts_while_an_operation_runs() -> None:
    s = site()
    s.current = OperationRecord(
        workflow_id="failover-genesis-switch",
        direction="failover",
        trigger="manual",
        reason="x",
        started_at=T0,
    )
    assert policy.decide_automatic_failover(s, POLICY, T0).reason == "in_progress"
    d = policy.decide_manual(s, POLICY, T0, direction="failover", dry_run=False, force=True)
    assert not d.allowed and d.reason == "in_progress", "force never allows two writers"


# --- manual operations -----------------------------------------------------------------------


def test_manual_failover_respects_cooldown_unless_forced() -> None:
    s = site(last_change_at=T0)
    d = policy.decide_manual(s, POLICY, T0, direction="failover", dry_run=False, force=False)
    assert not d.allowed and d.reason == "cooldown" and "force" in d.message
    assert policy.decide_manual(
        s, POLICY, T0, direction="failover", dry_run=False, force=True
    ).allowed
    assert policy.decide_manual(
        s, POLICY, T0, direction="failover", dry_run=True, force=False
    ).allowed


def test_failback_refused_while_primary_unhealthy() -> None:
    s = site()
    s.records["genesis.example.com/A"] = "backup"
    s.state = "failed_over"
    d = policy.decide_manual(s, POLICY, T0, direction="failback", dry_run=False, force=False)
    assert not d.allowed and d.reason == "primary_unhealthy"
    assert policy.decide_manual(
        s, POLICY, T0, direction="failback", dry_run=False, force=True
    ).allowed
    s.checks["api"].is_healthy = True
    s.checks["api"].healthy_since = T0 - timedelta(seconds=POLICY.failback_healthy_seconds)
    assert policy.decide_manual(
        s, POLICY, T0, direction="failback", dry_run=False, force=False
    ).allowed


def test_manual_failback_waits_for_the_primary_healthy_window() -> None:
    """The story: the primary died, the site failed over, and a minute later the primary
    answers its checks again. An operator who fails back now sends traffic to a machine that may
    die again within the hour. The window holds the failback until the primary has been healthy
    for failback_healthy_seconds; force lifts it."""
    pol = PolicySettings(failback_healthy_seconds=300)
    s = site(unhealthy=False, state="failed_over")
    s.records["genesis.example.com/A"] = "backup"
    s.checks["api"].healthy_since = T0 - timedelta(seconds=60)
    d = policy.decide_manual(s, pol, T0, direction="failback", dry_run=False, force=False)
    assert not d.allowed and d.reason == "healthy_window"
    assert "60s of the 300s" in d.message and "force" in d.message
    assert policy.decide_manual(s, pol, T0, direction="failback", dry_run=False, force=True).allowed
    # A dry run is allowed (it changes nothing) and says what the gate would say.
    assert policy.decide_manual(s, pol, T0, direction="failback", dry_run=True, force=False).allowed
    gate = policy.healthy_window_gate(s, pol, T0)
    assert not gate.ok and gate.kind == "healthy_window" and gate.value == 60 and gate.limit == 300
    later = T0 + timedelta(seconds=240)
    assert policy.decide_manual(
        s, pol, later, direction="failback", dry_run=False, force=False
    ).allowed
    assert policy.healthy_window_gate(s, pol, later).ok


def test_a_primary_never_probed_healthy_does_not_open_the_failback_window() -> None:
    # A monitor that just started presumes checks healthy but has seen no success yet: that is
    # no evidence the primary is back.
    s = site(unhealthy=False, state="failed_over")
    s.records["genesis.example.com/A"] = "backup"
    s.checks["api"].healthy_since = None
    gate = policy.healthy_window_gate(s, POLICY, T0)
    assert not gate.ok and "not probed healthy yet" in gate.detail
    d = policy.decide_manual(s, POLICY, T0, direction="failback", dry_run=False, force=False)
    assert not d.allowed and d.reason == "healthy_window"


def test_a_zero_window_lets_a_healthy_primary_take_traffic_back_at_once() -> None:
    pol = PolicySettings(failback_healthy_seconds=0)
    s = site(unhealthy=False, state="failed_over")
    s.records["genesis.example.com/A"] = "backup"
    s.checks["api"].healthy_since = T0
    assert policy.decide_manual(
        s, pol, T0, direction="failback", dry_run=False, force=False
    ).allowed


def test_failback_when_nothing_failed_over_is_refused() -> None:
    s = site(unhealthy=False)
    d = policy.decide_manual(s, POLICY, T0, direction="failback", dry_run=False, force=False)
    assert not d.allowed and d.reason == "not_failed_over"


# --- automatic failback ----------------------------------------------------------------------


def failed_over_site(healthy_since: datetime | None) -> SiteState:
    s = site(unhealthy=healthy_since is None, state="failed_over")
    s.checks["api"].healthy_since = healthy_since
    s.records["genesis.example.com/A"] = "backup"
    return s


def test_failback_is_never_automatic_by_default() -> None:
    s = failed_over_site(T0 - timedelta(days=1))
    d = policy.decide_automatic_failback(s, POLICY, T0)
    assert not d.allowed and d.reason == "auto_failback_disabled"


def test_automatic_failback_waits_for_the_healthy_window() -> None:
    pol = PolicySettings(auto_failback=True, failback_healthy_seconds=300)
    s = failed_over_site(T0 - timedelta(seconds=120))
    d = policy.decide_automatic_failback(s, pol, T0)
    assert not d.allowed and d.reason == "healthy_window"
    assert policy.decide_automatic_failback(s, pol, T0 + timedelta(seconds=181)).allowed


def test_a_failed_probe_below_the_threshold_restarts_the_failback_window() -> None:
    """The story: after a failover the primary comes back but drops every third probe. Its
    check never turns unhealthy (two good probes in a row, then one bad: the failure threshold
    is never reached), yet it is not healthy "without a break": each failed probe starts the
    failback window again, so automatic failback never hands traffic back to it."""
    pol = PolicySettings(auto_failback=True, failback_healthy_seconds=60)
    s = failed_over_site(None)
    h = feed(s.checks["api"], "fff" + "ssf" * 40)  # 120 probes, 1 s apart
    s.checks["api"] = h
    end = T0 + timedelta(seconds=len("fff" + "ssf" * 40))
    assert h.is_healthy and h.healthy_since is None
    d = policy.decide_automatic_failback(s, pol, end)
    assert not d.allowed and d.reason == "healthy_window"
    assert "failed its latest probe (api: refused)" in d.message
    manual = policy.decide_manual(s, pol, end, direction="failback", dry_run=False, force=False)
    assert not manual.allowed and manual.reason == "healthy_window"
    # The next good probe starts the window; a whole window of them opens it.
    h = policy.apply_probe(h, CHECK, probe(True, end))
    assert h.healthy_since == end
    s.checks["api"] = h
    assert not policy.decide_automatic_failback(s, pol, end + timedelta(seconds=59)).allowed
    assert policy.decide_automatic_failback(s, pol, end + timedelta(seconds=60)).allowed


# --- state machine ---------------------------------------------------------------------------


def result(records: list[RecordSwitch], direction: str = "failover") -> FailoverResult:
    return FailoverResult(
        success=True,
        duration_seconds=1,
        dry_run=False,
        outcome="succeeded",
        direction=direction,  # type: ignore[arg-type]
        trigger="manual",
        reason="t",
        site="genesis",
        primary_ip=PRIMARY,
        backup_ip=BACKUP,
        started_at=T0,
        finished_at=T0,
        records=records,
    )


def switch(domain: str, action: str, before: str, target: str) -> RecordSwitch:
    return RecordSwitch(
        domain=domain,
        record_type="A",
        provider="rfc2136",
        before=[before],
        after=[target] if action in ("switched", "already_at_target") else [before],
        target=target,
        action=action,  # type: ignore[arg-type]
    )


@pytest.mark.parametrize(
    ("actions", "state", "partial"),
    [
        (["switched", "switched"], "failed_over", False),
        (["switched", "failed"], "failed_over", True),
        (["refused", "refused"], "normal", False),
    ],
)
def test_result_says_exactly_which_records_moved(
    actions: list[str], state: str, partial: bool
) -> None:
    s = SiteState(site="genesis")
    s.records = {"a.example.com/A": "primary", "b.example.com/A": "primary"}
    recs = [
        switch(f"{d}.example.com", a, PRIMARY, BACKUP) for d, a in zip("ab", actions, strict=True)
    ]
    s.apply_result(result(recs))
    assert s.state == state
    assert s.partial is partial


def test_a_record_never_read_is_unknown_and_keeps_the_next_failover_possible() -> None:
    """The story: the provider refused the token when the monitor first read record b, and
    again during the failover. Record a moved; b was never seen. Left out of the map, b would
    make the site look fully failed over and the failover that moves b would be refused
    ("every record already points at the backup") while b still sends traffic to the primary."""
    s = SiteState(site="genesis")
    s.records = {"a.example.com/A": "primary"}
    failed_read = switch("b.example.com", "failed", PRIMARY, BACKUP).model_copy(
        update={"before": [], "after": None}
    )
    s.apply_result(result([switch("a.example.com", "switched", PRIMARY, BACKUP), failed_read]))
    assert s.records == {"a.example.com/A": "backup", "b.example.com/A": "unknown"}
    assert s.state == "failed_over" and s.partial and not s.fully_failed_over
    again = policy.decide_manual(
        s,
        PolicySettings(),
        T0 + timedelta(hours=1),
        direction="failover",
        dry_run=False,
        force=False,
    )
    assert again.allowed, again.message


def test_failback_returns_to_normal() -> None:
    s = SiteState(site="genesis", state="failed_over", records={"a.example.com/A": "backup"})
    s.apply_result(result([switch("a.example.com", "switched", BACKUP, PRIMARY)], "failback"))
    assert s.state == "normal" and s.records["a.example.com/A"] == "primary"
