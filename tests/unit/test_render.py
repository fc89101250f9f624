"""What an operator reads: the CLI's text for results and status, from the real shapes."""

from __future__ import annotations

import io
import re
import sys
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from genesis.failover.app import render
from genesis.failover.domain.config import FailoverConfig, PolicySettings, parse_config
from genesis.failover.domain.models import GateResult, NotificationOutcome
from genesis.failover.domain.state import OperationRecord, SiteState
from genesis.failover.domain.status import build_status

T0 = datetime(2026, 11, 27, 3, 0, tzinfo=UTC)


class Tty(io.StringIO):
    """A stream that says it is a terminal."""

    def isatty(self) -> bool:
        return True


def result(**extra: object) -> dict[str, object]:
    base: dict[str, object] = {
        "success": False,
        "direction": "failover",
        "outcome": "aborted",
        "duration_seconds": 0.42,
        "error": "readiness gate failed: replication_lag: replication lag 45 > max 30",
        "records": [],
    }
    return {**base, **extra}


def test_a_result_shows_each_gate_and_each_failed_notification() -> None:
    gates = [
        GateResult(name="backup_api", kind="backup_check", ok=True, detail="healthy in 3 ms"),
        GateResult(
            name="replication_lag",
            kind="replication_lag",
            ok=False,
            detail="replication lag 45 > max 30",
            value=45,
            limit=30,
        ),
    ]
    notes = [
        NotificationOutcome(channel="email", event="failover_failed", ok=True),
        NotificationOutcome(
            channel="slack", event="failover_failed", ok=False, error="slack webhook: HTTP 404"
        ),
    ]
    text = render.result_text(
        result(
            gates=[g.model_dump(mode="json") for g in gates],
            notifications=[n.model_dump(mode="json") for n in notes],
        )
    )
    assert "failover aborted in 0.42s" in text
    assert "gate backup_api (backup_check): ok - healthy in 3 ms" in text
    assert "gate replication_lag (replication_lag): FAILED - replication lag 45 > max 30" in text
    assert "notify email failover_failed: sent" in text
    assert "notify slack failover_failed: FAILED slack webhook: HTTP 404" in text
    # Not a terminal: no colour codes in what a script or a log reads.
    assert "\033[" not in text


def test_a_forced_result_says_the_gates_were_skipped() -> None:
    gate = GateResult(
        name="backup_api",
        kind="backup_check",
        ok=True,
        skipped=True,
        detail="skipped: forced by the operator",
    )
    text = render.result_text(
        result(success=True, outcome="succeeded", error=None, gates=[gate.model_dump()])
    )
    assert "gate backup_api (backup_check): skipped - skipped: forced by the operator" in text


def test_status_shows_notifications_that_finally_failed() -> None:
    state = SiteState(site="genesis")
    state.notifications.record(
        NotificationOutcome(channel="email", event="check_unhealthy", ok=True)
    )
    state.notifications.record(
        NotificationOutcome(
            channel="pagerduty",
            event="failover_started",
            ok=False,
            error="pagerduty events API: HTTP 400 invalid event",
            at=T0,
        )
    )
    status = build_status(
        state, PolicySettings(), T0, primary_ip="192.0.2.10", backup_ip="192.0.2.20"
    )
    assert status["notifications"]["failed"] == 1 and status["notifications"]["sent"] == 1
    text = render.status_text(status)
    assert "notifications: 1 failed, 1 sent; last: pagerduty failover_started: " in text
    assert "HTTP 400 invalid event" in text


def test_colour_only_on_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NO_COLOR", raising=False)
    assert render.paint("FAILED", "red", stream=io.StringIO()) == "FAILED"
    assert render.paint("FAILED", "red", stream=Tty()) == "\033[31mFAILED\033[0m"


def test_a_hook_shows_its_last_line_of_output_or_its_error() -> None:
    hooks = [
        {
            "name": "stop_trading",
            "phase": "pre_failover",
            "ok": True,
            "output": "cancelling 3 orders\ntrading halted\n",
        },
        {
            "name": "verify",
            "phase": "post_failover",
            "ok": False,
            "error": "hook 'verify' exited with status 3: api down",
        },
    ]
    text = render.result_text(result(hooks=hooks))
    assert "hook stop_trading (pre_failover): ok - trading halted" in text
    assert (
        "hook verify (post_failover): FAILED hook 'verify' exited with status 3: api down" in text
    )


# --- status for the on-call engineer -------------------------------------------------------------


def lab_config(**policy: object) -> FailoverConfig:
    return parse_config(
        {
            "site": {"name": "genesis", "primary_ip": "192.0.2.10", "backup_ip": "192.0.2.20"},
            "policy": {"failback_healthy_seconds": 300, **policy},
            "checks": [
                {"name": "primary_api", "type": "http", "target": "http://127.0.0.1:1/health"},
                {
                    "name": "primary_db",
                    "type": "tcp",
                    "target": "127.0.0.1:5432",
                    "interval": 5,
                    "threshold": 4,
                },
            ],
            "dns": {
                "provider": "rfc2136",
                "records": [{"domain": "genesis.example.test"}],
                "rfc2136": {"server": "127.0.0.1:5300", "zone": "example.test"},
            },
        }
    )


def site_state(*, on: str = "primary", api_error: str | None = None) -> SiteState:
    state = SiteState(site="genesis")
    state.sync_checks(lab_config().checks)
    state.records = {"genesis.example.test/A": on}  # type: ignore[dict-item]
    state.state = "failed_over" if on == "backup" else "normal"
    api = state.checks["primary_api"]
    api.last_checked = T0 - timedelta(seconds=4)
    api.last_latency_ms = 12.34
    api.healthy_since = T0 - timedelta(seconds=90)
    if api_error:
        api.is_healthy = False
        api.consecutive_failures = 5
        api.last_error = api_error
        api.healthy_since = None
    db = state.checks["primary_db"]
    db.consecutive_failures = 2
    db.last_error = "connection refused"
    db.last_checked = T0 - timedelta(minutes=10)
    db.healthy_since = T0 - timedelta(seconds=120)
    return state


def status_of(state: SiteState, **policy: Any) -> dict[str, Any]:
    return build_status(
        state,
        PolicySettings(**policy),
        T0,
        primary_ip="192.0.2.10",
        backup_ip="192.0.2.20",
    )


def test_status_table_shows_failures_against_thresholds_age_latency_and_stale_checks() -> None:
    text = render.status_text(status_of(site_state()), lab_config())
    lines = text.splitlines()
    assert (
        lines[0]
        == "site genesis  state NORMAL  traffic on the PRIMARY 192.0.2.10 (backup 192.0.2.20)"
    )
    assert (
        "cooldown: none  failovers left today: 5 (0 in the last 24 h, 0 in all; last never)" in text
    )
    header = next(line for line in lines if line.startswith("CHECK"))
    assert header.split() == [
        "CHECK",
        "HEALTH",
        "CRITICAL",
        "FAILS",
        "CHECKED",
        "LATENCY",
        "LAST",
        "ERROR",
    ]
    api = next(line for line in lines if line.startswith("primary_api"))
    assert api.split() == ["primary_api", "healthy", "yes", "0/3", "4s", "ago", "12.3ms", "-"]
    # Ten minutes without a probe of a 5 s check: nobody is probing it.
    db = next(line for line in lines if line.startswith("primary_db"))
    assert "2/4" in db and "10m 0s ago STALE" in db and db.endswith("connection refused")
    # Columns line up: every row's CHECKED column starts under its header.
    column = header.index("CHECKED")
    assert api[column:].startswith("4s ago") and db[column:].startswith("10m 0s ago")
    assert "\033[" not in text


def test_status_on_the_backup_names_the_check_that_blocks_failback() -> None:
    state = site_state(on="backup", api_error="HTTP 503 from /health")
    text = render.status_text(status_of(state), lab_config())
    assert "state FAILED_OVER  traffic on the BACKUP 192.0.2.20 (primary 192.0.2.10)" in text
    assert "WARNING: running on backup infrastructure" in text
    assert "failback blocked by: primary_api (HTTP 503 from /health)" in text


def test_status_on_the_backup_says_how_long_until_failback_may_run() -> None:
    state = site_state(on="backup")
    state.checks["primary_db"].consecutive_failures = 0
    state.checks["primary_db"].last_error = None
    s = status_of(state)
    # The failback window needs each check's healthy_since; without it, the window is named.
    for check in s["health"]["checks"].values():
        check["healthy_since"] = (T0 - timedelta(seconds=90)).isoformat()
    text = render.status_text(s, lab_config())
    assert "failback: primary healthy for 1m 30s of the 5m 0s window; wait 3m 30s" in text
    for check in s["health"]["checks"].values():
        del check["healthy_since"]
    text = render.status_text(s, lab_config())
    assert "failback: primary's critical checks healthy; it must stay healthy for 5m 0s" in text
    # One check failed its latest probe (still healthy, below the threshold): its window
    # starts again, whatever the other check's says.
    s["health"]["checks"]["primary_api"]["healthy_since"] = (T0 - timedelta(hours=1)).isoformat()
    s["health"]["checks"]["primary_db"].update(healthy_since=None, consecutive_failures=1)
    text = render.status_text(s, lab_config())
    assert (
        "failback: primary_db failed its latest probe; the 5m 0s window starts again at its "
        "next good probe" in text
    )
    assert "ready" not in text


def test_status_shows_the_running_operation_and_its_steps() -> None:
    state = site_state()
    state.current = OperationRecord(
        workflow_id="failover-genesis-switch",
        direction="failover",
        trigger="manual",
        reason="db maintenance",
        started_at=T0 - timedelta(seconds=7),
    )
    s = status_of(state)
    s["current_operation"]["progress"] = [
        "gate backup_api: ok (healthy in 3 ms)",
        "hook stop_trading: ok",
    ]
    text = render.status_text(s, lab_config())
    assert (
        "RUNNING: failover (manual: db maintenance) started 7s ago  [failover-genesis-switch]"
        in text
    )
    assert "  - gate backup_api: ok (healthy in 3 ms)\n  - hook stop_trading: ok" in text


def test_status_shows_the_last_operation_with_its_error() -> None:
    state = site_state(on="backup")
    state.history.append(
        OperationRecord(
            workflow_id="failover-genesis-switch",
            direction="failover",
            trigger="automatic",
            reason="primary_api unhealthy",
            started_at=T0 - timedelta(minutes=3),
            finished_at=T0 - timedelta(minutes=2),
            outcome="degraded",
            success=False,
            duration_seconds=61.5,
            error="DNS written but not confirmed everywhere within 60s: genesis.example.test",
        )
    )
    text = render.status_text(status_of(state), lab_config())
    assert (
        "last operation: failover degraded (automatic: primary_api unhealthy) 2m 0s ago, "
        "took 61.5s  [failover-genesis-switch]"
    ) in text
    assert "  error: DNS written but not confirmed everywhere within 60s" in text


def test_status_in_colour_on_a_terminal_and_never_with_no_color(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    state = site_state(on="backup", api_error="timeout")
    monkeypatch.setattr(sys, "stdout", Tty())
    monkeypatch.delenv("NO_COLOR", raising=False)
    coloured = render.status_text(status_of(state), lab_config())
    assert "\033[31mFAILED_OVER\033[0m" in coloured and "\033[31mUNHEALTHY\033[0m" in coloured
    # The table measures what is seen: colour codes do not push columns apart.
    rows = [line for line in coloured.splitlines() if line.startswith("primary_")]
    plain = [re.sub(r"\033\[[0-9;]*m", "", line) for line in rows]
    assert plain[0].index("yes") == plain[1].index("yes")

    monkeypatch.setenv("NO_COLOR", "1")
    assert "\033[" not in render.status_text(status_of(state), lab_config())
    assert render.paint("x", "red", stream=Tty()) == "x"


# --- history and progress ------------------------------------------------------------------------


def history_item(**extra: object) -> dict[str, object]:
    base: dict[str, object] = {
        "workflow_id": "failover-genesis-switch",
        "direction": "failover",
        "trigger": "automatic",
        "reason": "primary_api unhealthy: HTTP 503",
        "dry_run": False,
        "started_at": "2026-11-27T03:00:00.123456+00:00",
        "finished_at": "2026-11-27T03:00:02+00:00",
        "duration_seconds": 1.88,
        "outcome": "succeeded",
        "success": True,
        "records": {"genesis.example.test": "switched", "api.example.test": "switched"},
        "error": None,
    }
    return {**base, **extra}


def test_history_lists_each_operation_with_its_run_id_and_error() -> None:
    items = [
        history_item(run_id="01a21e35-81cf-7eb3-a936-956b607d5a9f"),
        history_item(
            direction="failback",
            trigger="drill",
            dry_run=True,
            outcome="dry_run",
            success=False,
            records={"genesis.example.test": "already_at_target"},
            reason="monthly drill",
            error="would abort: readiness gate failed: primary_api: HTTP 503",
            run_id="01a21e35-8507-7a78-91bb-ca69782816e8",
        ),
    ]
    lines = render.history_text(items).splitlines()
    assert lines[0].split() == [
        "STARTED", "(UTC)", "DIRECTION", "TRIGGER", "OUTCOME", "TOOK", "RECORDS", "RUN", "ID",
        "REASON",
    ]  # fmt: skip
    assert lines[1].split()[:9] == [
        "2026-11-27", "03:00:00", "failover", "automatic", "succeeded", "1.9s", "2", "switched",
        "01a21e35-81cf-7eb3-a936-956b607d5a9f",
    ]  # fmt: skip
    assert "failback (dry run)  drill" in lines[2] and "1 already_at_target" in lines[2]
    assert lines[3] == "    error: would abort: readiness gate failed: primary_api: HTTP 503"
    assert lines[-1] == (
        "inspect: temporal workflow show --workflow-id failover-genesis-switch --run-id RUN_ID"
    )
    assert render.history_text([]) == "no failovers or failbacks yet"


def test_progress_lines_mark_good_and_bad_news_in_colour_only_on_a_terminal(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("NO_COLOR", raising=False)
    assert render.progress_line(0.25, "hook stop_trading: ok", True, stream=io.StringIO()) == (
        "   0.2s ✓ hook stop_trading: ok"
    )
    assert render.progress_line(12.0, "would run", None, stream=io.StringIO()) == (
        "  12.0s   would run"
    )
    bad = render.progress_line(1.5, "gate backup_api: FAILED", False, stream=Tty())
    assert bad == "   1.5s \033[31m✗\033[0m gate backup_api: FAILED"
