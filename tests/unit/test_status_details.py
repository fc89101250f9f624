"""What the Web UI shows of a site and of a failover (the monitor's current details, a failover's
static details), and the drill flag of an operator's request."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError

from genesis.failover.domain.config import CheckConfig, PolicySettings
from genesis.failover.domain.models import FailoverInput, OperationRequest, RecordRef
from genesis.failover.domain.plan import MonitorPlan
from genesis.failover.domain.state import CheckHealth, Decision, OperationRecord, SiteState
from genesis.failover.domain.status import details_markdown, operation_details, plan_details

T0 = datetime(2026, 11, 27, 3, 0, tzinfo=UTC)
POLICY = PolicySettings(cooldown_seconds=300, max_failovers_per_day=5)


PLAN = MonitorPlan(
    site="genesis",
    primary_ip="1.2.3.4",
    backup_ip="5.6.7.8",
    policy=POLICY,
    checks=[],
    provider="rfc2136",
    records=[],
    task_queue="genesis-failover",
)


def failed_over_site() -> SiteState:
    s = SiteState(site="genesis", state="failed_over")
    s.records = {"genesis.example.com/A": "backup", "api.example.com/A": "primary"}
    s.checks["primary_api"] = CheckHealth(
        name="primary_api",
        is_healthy=False,
        consecutive_failures=7,
        last_error="HTTP 503 | upstream\nconnect error",
    )
    s.checks["primary_disk"] = CheckHealth(name="primary_disk", critical=False)
    s.last_change_at = T0 - timedelta(seconds=100)
    s.recent_failovers = [T0 - timedelta(hours=2), T0 - timedelta(seconds=120)]
    s.last_refusal = Decision(
        allowed=False, reason="cooldown", message="cooldown: 200s left", at=T0
    )
    return s


def test_the_monitor_details_answer_the_on_call_questions_at_a_glance() -> None:
    text = details_markdown(failed_over_site(), PLAN, T0)
    assert text.splitlines()[0] == "**Site:** genesis · primary 1.2.3.4 · backup 5.6.7.8"
    assert "**State:** failed_over (traffic is SPLIT)" in text
    assert "genesis.example.com/A at **backup**" in text
    assert "api.example.com/A at **primary**" in text
    assert "**Cooldown:** 3m 20s left" in text
    assert "**Failovers left today:** 3 of 5" in text
    assert "**Last refusal:** cooldown" in text
    # One line per check, the error on the same line as its check.
    rows = [line for line in text.splitlines() if line.startswith("- primary_")]
    assert len(rows) == 2
    api = rows[0]
    assert api == (
        "- primary_api: **UNHEALTHY**, 7 failures in a row: HTTP 503 | upstream connect error"
    )
    assert rows[1] == "- primary_disk: healthy (not critical)"


def test_a_quiet_site_says_no_cooldown_and_the_full_allowance() -> None:
    s = SiteState(site="genesis")
    s.checks["api"] = CheckHealth(name="api")
    text = details_markdown(s, PLAN, T0)
    assert "**Cooldown:** none" in text
    assert "**Failovers left today:** 5 of 5" in text
    assert "**Records:** not read yet" in text
    assert "Running" not in text


def test_a_running_operation_is_named_with_its_workflow_id() -> None:
    s = SiteState(site="genesis", state="failing_over")
    s.current = OperationRecord(
        workflow_id="failover-genesis-1",
        direction="failover",
        trigger="automatic",
        reason="primary_api unhealthy",
        started_at=T0,
    )
    text = details_markdown(s, PLAN, T0)
    assert "**Running:** failover (automatic: primary_api unhealthy) `failover-genesis-1`" in text


def test_a_failover_states_what_it_was_asked_to_do() -> None:
    inp = FailoverInput(
        site="genesis",
        direction="failback",
        trigger="drill",
        reason="monthly drill",
        dry_run=True,
        primary_ip="1.2.3.4",
        backup_ip="5.6.7.8",
        provider="rfc2136",
        records=[RecordRef(domain="genesis.example.com", record_type="A", ttl=60)],
    )
    text = operation_details(inp)
    assert "**Failback** of site **genesis**: 5.6.7.8 -> 1.2.3.4" in text
    assert "**Trigger:** drill (dry run)" in text
    assert "genesis.example.com A" in text


def test_a_drill_is_always_a_dry_run() -> None:
    assert OperationRequest(reason="drill", dry_run=True, drill=True).drill
    with pytest.raises(ValidationError, match="drill.*dry_run"):
        OperationRequest(reason="drill", drill=True)


def test_the_monitor_states_what_it_watches_and_its_rules() -> None:
    plan = MonitorPlan(
        site="genesis",
        primary_ip="1.2.3.4",
        backup_ip="5.6.7.8",
        policy=PolicySettings(cooldown_seconds=300, max_failovers_per_day=5),
        checks=[
            CheckConfig(name="api", check_type="http", target="http://127.0.0.1:1/health"),
            CheckConfig(name="disk", check_type="tcp", target="127.0.0.1:2", critical=False),
        ],
        provider="rfc2136",
        records=[
            RecordRef(domain="genesis.example.com", record_type="A", ttl=60, provider="rfc2136")
        ],
        task_queue="genesis-failover",
    )
    text = plan_details(plan)
    assert "**Site:** genesis · primary 1.2.3.4 · backup 5.6.7.8" in text
    assert "genesis.example.com A at rfc2136" in text
    assert "api (http, every 10s, 3 to fail)" in text
    assert "disk (tcp, every 10s, 3 to fail, not critical)" in text
    assert (
        "cooldown 5m 0s, at most 5 in 24 h, failback after 5m 0s healthy (by an operator)" in text
    )
