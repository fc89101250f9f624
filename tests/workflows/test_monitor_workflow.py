"""MonitorWorkflow and FailoverWorkflow on the time-skipping test server.

Real workflows, real DNS and hook activities over an in-memory zone (a fake provider, not a
patch); only the probe activity is scripted, so 10 s intervals and a 5-minute cooldown pass in
seconds of real time.
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

import pytest
from temporalio.client import WorkflowUpdateFailedError

from genesis.failover.domain.config import (
    ALL_EVENTS,
    CheckConfig,
    GatesSettings,
    PolicySettings,
)
from genesis.failover.domain.models import (
    NotificationRoutes,
    OperationRequest,
    RecordRef,
)
from tests.workflows.lab import (
    BACKUP,
    DOMAIN,
    PRIMARY,
    Lab,
    until,
)
from workflows.failover import FailoverWorkflow
from workflows.monitor import MonitorWorkflow


async def test_primary_dies_site_fails_over_once_and_cooldown_holds(lab: Lab) -> None:
    # No failback window here: the failback by hand is the way back; the window has its own test.
    plan = lab.plan(failback_healthy_seconds=0)
    async with lab.worker():
        handle = await lab.start(plan)
        await until(handle, lab.env, lambda s: s["health"]["checks"]["api"]["total_probes"] >= 2)
        assert lab.zone.records[DOMAIN] == PRIMARY

        lab.probes.healthy["api"] = False
        status = await until(handle, lab.env, lambda s: s["state"] == "failed_over")
        assert lab.zone.records[DOMAIN] == BACKUP
        assert status["failover_count"] == 1
        assert status["last_operation"]["trigger"] == "automatic"
        assert "api unhealthy" in status["last_operation"]["reason"]
        # It took three failures (threshold) at 10 s intervals, not one.
        assert status["health"]["checks"]["api"]["consecutive_failures"] >= 3

        # Recovery by hand, then a second outage inside the 5-minute cooldown: no second failover.
        lab.probes.healthy["api"] = True
        await until(handle, lab.env, lambda s: s["health"]["checks"]["api"]["is_healthy"])
        result = await handle.execute_update(
            MonitorWorkflow.request_failback, OperationRequest(reason="fixed")
        )
        assert result.success and lab.zone.records[DOMAIN] == PRIMARY
        lab.probes.healthy["api"] = False
        status = await until(
            handle, lab.env, lambda s: (s["last_refusal"] or {}).get("reason") == "cooldown"
        )
        assert lab.zone.records[DOMAIN] == PRIMARY
        assert status["failover_count"] == 1
        assert status["cooldown_remaining_seconds"] > 0
        # People are told the site is down and will not move by itself for now.
        refused = await until(
            handle,
            lab.env,
            lambda s: any(e.reason == "cooldown" for e in lab.notes.events),
            step=1,
        )
        assert refused["state"] == "normal"

        # After the cooldown the site fails over again, by itself.
        status = await until(handle, lab.env, lambda s: s["state"] == "failed_over", step=30)
        assert status["failover_count"] == 2
        await handle.terminate()


async def test_non_critical_check_reports_but_never_fails_over(lab: Lab) -> None:
    lab.probes.healthy["cache"] = False
    async with lab.worker():
        handle = await lab.start(lab.plan())
        status = await until(
            handle, lab.env, lambda s: not s["health"]["checks"]["cache"]["is_healthy"]
        )
        await lab.env.sleep(120)
        status = await handle.query("status")
        assert status["state"] == "normal" and lab.zone.writes == 0
        assert status["health"]["overall_health"] is True
        assert status["health"]["checks"]["cache"]["last_error"] == "connection refused"
        await handle.terminate()


async def test_auto_failover_off_says_why_in_status(lab: Lab) -> None:
    async with lab.worker():
        handle = await lab.start(lab.plan(auto_failover=False))
        lab.probes.healthy["api"] = False
        status = await until(handle, lab.env, lambda s: s["last_refusal"] is not None)
        assert status["last_refusal"]["reason"] == "auto_failover_disabled"
        assert lab.zone.writes == 0
        await handle.terminate()


async def test_updates_are_rejected_with_the_reason(lab: Lab) -> None:
    async with lab.worker():
        handle = await lab.start(lab.plan())
        await until(handle, lab.env, lambda s: s["health"]["checks"]["api"]["total_probes"] >= 1)
        with pytest.raises(WorkflowUpdateFailedError) as info:
            await handle.execute_update(MonitorWorkflow.request_failback, OperationRequest())
        assert "not_failed_over" in str(info.value.cause)

        first = await handle.execute_update(
            MonitorWorkflow.request_failover, OperationRequest(reason="drill")
        )
        assert first.success and first.outcome == "succeeded"
        with pytest.raises(WorkflowUpdateFailedError) as info:
            await handle.execute_update(
                MonitorWorkflow.request_failover, OperationRequest(reason="again")
            )
        assert "already_failed_over" in str(info.value.cause)

        # The primary is unhealthy now: failback is refused unless forced.
        lab.probes.healthy["api"] = False
        await until(handle, lab.env, lambda s: not s["health"]["checks"]["api"]["is_healthy"])
        with pytest.raises(WorkflowUpdateFailedError) as info:
            await handle.execute_update(MonitorWorkflow.request_failback, OperationRequest())
        assert "primary_unhealthy" in str(info.value.cause)
        forced = await handle.execute_update(
            MonitorWorkflow.request_failback, OperationRequest(force=True)
        )
        assert forced.success and forced.forced and lab.zone.records[DOMAIN] == PRIMARY
        await handle.terminate()


async def test_dry_run_writes_nothing_runs_no_hooks_and_returns_the_plan(lab: Lab) -> None:
    calls: list[str] = []

    async def stop_trading() -> None:
        calls.append("stop_trading")

    lab.hooks.register("pre_failover", stop_trading)
    async with lab.worker():
        handle = await lab.start(lab.plan())
        result = await handle.execute_update(
            MonitorWorkflow.request_failover, OperationRequest(reason="rehearsal", dry_run=True)
        )
        assert result.success and result.dry_run and result.outcome == "dry_run"
        assert lab.zone.writes == 0 and calls == []
        assert result.plan.records[0].before == [PRIMARY]
        assert result.plan.records[0].action == "would_switch"
        assert result.plan.hooks == ["stop_trading"]
        status = await handle.query("status")
        assert status["state"] == "normal" and status["failover_count"] == 0
        assert status["cooldown_remaining_seconds"] == 0

        real = await handle.execute_update(
            MonitorWorkflow.request_failover, OperationRequest(reason="real")
        )
        assert real.success and calls == ["stop_trading"] and lab.zone.writes == 1
        await handle.terminate()


async def test_failing_pre_hook_aborts_before_any_dns_change(lab: Lab) -> None:
    def refuse() -> None:
        raise RuntimeError("exchange still has open orders")

    lab.hooks.register("pre_failover", refuse, name="stop_trading")
    async with lab.worker():
        handle = await lab.start(lab.plan())
        result = await handle.execute_update(
            MonitorWorkflow.request_failover, OperationRequest(reason="x")
        )
        assert not result.success and result.outcome == "aborted"
        assert "open orders" in result.error
        assert lab.zone.writes == 0 and lab.zone.records[DOMAIN] == PRIMARY
        status = await handle.query("status")
        assert status["state"] == "normal"
        await handle.terminate()


async def test_record_at_a_third_value_is_refused_unless_forced(lab: Lab) -> None:
    lab.zone.records[DOMAIN] = "198.51.100.7"  # someone else moved it
    async with lab.worker():
        handle = await lab.start(lab.plan())
        result = await handle.execute_update(
            MonitorWorkflow.request_failover, OperationRequest(reason="x")
        )
        assert not result.success and result.records[0].action == "refused"
        assert lab.zone.records[DOMAIN] == "198.51.100.7"
        forced = await handle.execute_update(
            MonitorWorkflow.request_failover, OperationRequest(reason="x", force=True)
        )
        assert forced.success and lab.zone.records[DOMAIN] == BACKUP
        await handle.terminate()


async def test_a_record_the_provider_would_not_show_is_unknown_and_its_failover_can_finish(
    lab: Lab,
) -> None:
    """The provider refuses to show the second record (here: not in the zone, a non-retryable
    read error), at start and during the failover. The first record moves; the site must read
    as split with the second "unknown", so the failover that would move it is not refused as
    "every record already points at the backup"."""
    other = "other.example.test"
    plan = lab.plan()
    plan = plan.model_copy(update={"records": [*plan.records, RecordRef(domain=other)]})
    async with lab.worker():
        handle = await lab.start(plan)
        status = await until(handle, lab.env, lambda s: len(s["records"]) == 2)
        assert status["records"] == {f"{DOMAIN}/A": "primary", f"{other}/A": "unknown"}
        await handle.signal(MonitorWorkflow.manual_failover, {"reason": "first try"})
        status = await until(handle, lab.env, lambda s: s["failover_count"] == 1)
        status = await until(handle, lab.env, lambda s: s["current_operation"] is None)
        assert status["records"] == {f"{DOMAIN}/A": "backup", f"{other}/A": "unknown"}
        assert status["state"] == "failed_over" and status["partial"] is True
        lab.zone.records[other] = PRIMARY  # the provider shows it again
        await handle.signal(MonitorWorkflow.manual_failover, {"reason": "finish", "force": True})
        status = await until(handle, lab.env, lambda s: s["failover_count"] == 2)
        status = await until(handle, lab.env, lambda s: s["current_operation"] is None)
        assert status["records"] == {f"{DOMAIN}/A": "backup", f"{other}/A": "backup"}
        assert lab.zone.records == {DOMAIN: BACKUP, other: BACKUP}
        await handle.terminate()


async def test_signal_refusal_is_visible_in_status(lab: Lab) -> None:
    async with lab.worker():
        handle = await lab.start(lab.plan())
        await handle.signal("manual_failback", OperationRequest())
        status = await until(handle, lab.env, lambda s: s["last_refusal"] is not None, step=1)
        assert status["last_refusal"]["reason"] == "not_failed_over"
        await handle.signal("manual_failover", OperationRequest(reason="by signal"))
        status = await until(handle, lab.env, lambda s: s["state"] == "failed_over", step=1)
        assert status["last_operation"]["reason"] == "by signal"
        await handle.terminate()


async def test_continue_as_new_carries_every_piece_of_state(lab: Lab) -> None:
    plan = lab.plan().model_copy(update={"max_history_events": 100})
    async with lab.worker():
        handle = await lab.start(plan)
        await handle.execute_update(
            MonitorWorkflow.request_failover, OperationRequest(reason="before CAN")
        )
        lab.probes.healthy["api"] = False
        await until(handle, lab.env, lambda s: not s["health"]["checks"]["api"]["is_healthy"])
        first_run = (await handle.describe()).run_id
        await lab.env.sleep(400)  # > 100 events of probing
        latest = lab.env.client.get_workflow_handle(handle.id)
        assert (await latest.describe()).run_id != first_run, "monitor never continued as new"
        status = await latest.query("status")
        assert status["state"] == "failed_over"
        assert status["failover_count"] == 1
        assert status["last_failover"] is not None
        assert status["health"]["checks"]["api"]["is_healthy"] is False
        assert status["health"]["checks"]["api"]["total_probes"] > 10
        history = await latest.query("history")
        assert [h["reason"] for h in history] == ["before CAN"]
        await latest.terminate()


async def test_one_operation_at_a_time(lab: Lab) -> None:
    gate = asyncio.Event()

    async def slow_hook() -> None:
        await gate.wait()

    lab.hooks.register("pre_failover", slow_hook, timeout_seconds=600)
    async with lab.worker():
        handle = await lab.start(lab.plan())
        first = asyncio.create_task(
            handle.execute_update(MonitorWorkflow.request_failover, OperationRequest(reason="one"))
        )
        await until(handle, lab.env, lambda s: s["current_operation"] is not None, step=1)
        with pytest.raises(WorkflowUpdateFailedError) as info:
            await handle.execute_update(
                MonitorWorkflow.request_failover, OperationRequest(reason="two")
            )
        assert "in_progress" in str(info.value.cause)
        with pytest.raises(WorkflowUpdateFailedError):
            await handle.execute_update(
                MonitorWorkflow.request_failback, OperationRequest(force=True)
            )
        gate.set()
        assert (await first).success
        assert lab.zone.writes == 1
        await handle.terminate()


def _ts(delta: float) -> timedelta:
    return timedelta(seconds=delta)


async def test_malformed_signals_are_refused_and_the_monitor_keeps_probing(lab: Lab) -> None:
    async with lab.worker():
        handle = await lab.start(lab.plan())
        await until(handle, lab.env, lambda s: s["health"]["checks"]["api"]["total_probes"] >= 1)
        # A "drill" that is not a dry run must never become a real failover.
        drill_not_dry = {"reason": "drill", "drill": True}
        for bad in (
            {"reason": 5, "dry_run": "maybe"},
            {"bogus": 1},
            "not an object",
            None,
            drill_not_dry,
        ):
            await handle.signal("manual_failover", bad)
        before = (await handle.query("status"))["health"]["checks"]["api"]["total_probes"]
        status = await until(
            handle,
            lab.env,
            lambda s: s["health"]["checks"]["api"]["total_probes"] >= before + 3,
        )
        assert status["state"] == "normal" and lab.zone.writes == 0
        with pytest.raises(WorkflowUpdateFailedError):
            await handle.execute_update("request_failover", drill_not_dry)
        assert (await handle.query("status"))["state"] == "normal" and lab.zone.writes == 0
        # No workflow task is failing in a loop: a good signal still works afterwards.
        await handle.signal("manual_failover", {"reason": "good", "dry_run": False})
        await until(handle, lab.env, lambda s: s["state"] == "failed_over", step=1)
        await handle.terminate()


async def test_the_workflow_id_lock_refuses_a_second_writer(real_lab: Lab) -> None:
    """Someone starts a FailoverWorkflow by hand with the site's id: the monitor's own failover
    must be refused by Temporal's workflow-id policy, not run beside it."""
    gate = asyncio.Event()

    async def hold() -> None:
        await gate.wait()

    real_lab.hooks.register("pre_failover", hold, timeout_seconds=600)
    plan = real_lab.plan()
    async with real_lab.worker():
        handle = await real_lab.start(plan)
        manual = await real_lab.client.start_workflow(
            FailoverWorkflow.run,
            plan.operation_input("failover", "manual", "by hand", dry_run=False, force=False),
            id=f"failover-{plan.site}-switch",
            task_queue=real_lab.task_queue,
        )
        with pytest.raises(WorkflowUpdateFailedError) as info:
            await handle.execute_update(
                MonitorWorkflow.request_failover, OperationRequest(reason="second writer")
            )
        assert "in_progress" in str(info.value.cause)
        status = await handle.query("status")
        assert status["current_operation"] is None and status["failover_count"] == 0
        gate.set()
        assert (await manual.result()).success
        assert real_lab.zone.writes == 1
        await handle.terminate()


async def test_a_new_monitor_reads_where_dns_points_instead_of_assuming_normal(lab: Lab) -> None:
    lab.zone.records[DOMAIN] = BACKUP  # the site was failed over before this monitor existed
    lab.probes.healthy["api"] = False
    async with lab.worker():
        handle = await lab.start(lab.plan())
        status = await until(handle, lab.env, lambda s: bool(s["records"]), step=1)
        assert status["state"] == "failed_over"
        assert status["records"] == {f"{DOMAIN}/A": "backup"}
        status = await until(
            handle, lab.env, lambda s: not s["health"]["checks"]["api"]["is_healthy"]
        )
        assert status["last_decision"]["reason"] == "already_failed_over"
        assert lab.zone.writes == 0 and status["failover_count"] == 0
        await handle.terminate()


async def test_a_changed_config_is_applied_and_keeps_every_counter(lab: Lab) -> None:
    plan = lab.plan()
    async with lab.worker():
        handle = await lab.start(plan)
        await until(handle, lab.env, lambda s: s["health"]["checks"]["api"]["total_probes"] >= 3)
        before = (await handle.query("status"))["health"]["checks"]["api"]["total_probes"]
        extra = CheckConfig(name="db", check_type="tcp", target="127.0.0.1:9", interval_seconds=5)
        changed = plan.model_copy(
            update={
                "checks": [*plan.checks[:1], extra],  # "cache" removed, "db" added
                "policy": PolicySettings(auto_failover=False),
            }
        )
        await handle.signal(MonitorWorkflow.apply_plan, changed)
        status = await until(
            handle,
            lab.env,
            lambda s: s["health"]["checks"].get("db", {}).get("total_probes", 0) > 0,
        )
        assert set(status["health"]["checks"]) == {"api", "db"}
        assert status["health"]["checks"]["api"]["total_probes"] >= before
        assert status["auto_failover"] is False
        await handle.terminate()


async def test_probing_goes_on_during_a_long_failover_even_when_history_is_full(lab: Lab) -> None:
    gate = asyncio.Event()

    async def slow_pre_hook() -> None:
        await gate.wait()

    lab.hooks.register("pre_failover", slow_pre_hook, timeout_seconds=3600)
    # The hook activity holds the server's clock to real time, so probe fast instead.
    plan = lab.plan()
    fast = [c.model_copy(update={"interval_seconds": 0.5}) for c in plan.checks]
    plan = plan.model_copy(update={"max_history_events": 100, "checks": fast})
    async with lab.worker():
        handle = await lab.start(plan)
        first_run = (await handle.describe()).run_id
        op = asyncio.create_task(
            handle.execute_update(MonitorWorkflow.request_failover, OperationRequest(reason="slow"))
        )
        await until(handle, lab.env, lambda s: s["current_operation"] is not None, step=1)
        probes = (await handle.query("status"))["health"]["checks"]["api"]["total_probes"]
        await asyncio.sleep(4)  # far past 100 events: continue-as-new is due but must wait
        status = await handle.query("status")
        assert status["current_operation"] is not None
        assert (await handle.describe()).history_length > 100
        assert status["health"]["checks"]["api"]["total_probes"] >= probes + 5
        assert (await handle.describe()).run_id == first_run, "no continue-as-new mid-failover"
        gate.set()
        assert (await op).success
        latest = lab.env.client.get_workflow_handle(handle.id)
        for _ in range(50):
            if (await latest.describe()).run_id != first_run:
                break
            await asyncio.sleep(0.1)
        assert (await latest.describe()).run_id != first_run
        assert (await latest.query("status"))["state"] == "failed_over"
        await latest.terminate()


async def test_automatic_failback_only_after_a_healthy_window_when_enabled(lab: Lab) -> None:
    plan = lab.plan(auto_failback=True, failback_healthy_seconds=120, cooldown_seconds=60)
    async with lab.worker():
        handle = await lab.start(plan)
        lab.probes.healthy["api"] = False
        await until(handle, lab.env, lambda s: s["state"] == "failed_over")
        # One good probe from a flapping primary: still failed over.
        lab.probes.healthy["api"] = True
        await lab.env.sleep(10)
        lab.probes.healthy["api"] = False
        status = await until(
            handle, lab.env, lambda s: s["health"]["checks"]["api"]["consecutive_failures"] >= 1
        )
        assert status["state"] == "failed_over" and lab.zone.records[DOMAIN] == BACKUP
        # Healthy for good: failback waits out the window, then happens by itself.
        lab.probes.healthy["api"] = True
        status = await until(handle, lab.env, lambda s: s["health"]["checks"]["api"]["is_healthy"])
        healthy_at = datetime.fromisoformat(status["as_of"])
        status = await until(handle, lab.env, lambda s: s["state"] == "normal")
        assert lab.zone.records[DOMAIN] == PRIMARY
        last = status["last_operation"]
        assert last["direction"] == "failback" and last["trigger"] == "automatic"
        assert datetime.fromisoformat(last["started_at"]) - healthy_at >= timedelta(seconds=100)
        await handle.terminate()


# --- notifications and failback gates ---------------------------------------------------------


async def test_people_hear_of_the_outage_the_failover_and_the_recovery_in_order(lab: Lab) -> None:
    async with lab.worker():
        handle = await lab.start(lab.plan(failback_healthy_seconds=0))
        lab.probes.healthy["api"] = False
        await until(handle, lab.env, lambda s: s["state"] == "failed_over")
        await until(handle, lab.env, lambda s: s["notifications"]["sent"] >= 3, step=1)
        assert lab.notes.kinds()[:3] == [
            "check_unhealthy",
            "failover_started",
            "failover_succeeded",
        ]
        started, done = lab.notes.events[1], lab.notes.events[2]
        # One incident per failover: PagerDuty triggers and resolves the same key.
        assert started.dedup_key == done.dedup_key and "failover-" in started.dedup_key
        assert done.records == [f"{DOMAIN} A: {PRIMARY} -> {BACKUP} (switched)"]
        assert (
            done.duration_seconds is not None
            and done.operation
            and done.operation.trigger == "automatic"
        )

        lab.probes.healthy["api"] = True
        await until(handle, lab.env, lambda s: s["health"]["checks"]["api"]["is_healthy"])
        status = await until(handle, lab.env, lambda s: s["notifications"]["sent"] >= 4, step=1)
        assert lab.notes.kinds()[3] == "check_recovered"
        assert lab.notes.events[3].dedup_key == lab.notes.events[0].dedup_key
        assert status["notifications"]["failed"] == 0
        await handle.terminate()


async def test_a_refused_automatic_failover_is_told_once_per_streak(lab: Lab) -> None:
    async with lab.worker():
        handle = await lab.start(lab.plan(auto_failover=False))
        lab.probes.healthy["api"] = False
        await until(handle, lab.env, lambda s: s["last_refusal"] is not None)
        await lab.env.sleep(120)  # a dozen more probes, all refused for the same reason
        await until(handle, lab.env, lambda s: s["notifications"]["sent"] >= 2, step=1)
        assert lab.notes.kinds().count("auto_failover_refused") == 1
        refused = next(e for e in lab.notes.events if e.kind == "auto_failover_refused")
        assert refused.reason == "auto_failover_disabled" and refused.severity == "critical"
        await handle.terminate()


async def test_dry_runs_tell_nobody(lab: Lab) -> None:
    async with lab.worker():
        handle = await lab.start(lab.plan())
        result = await handle.execute_update(
            MonitorWorkflow.request_failover, OperationRequest(reason="drill", dry_run=True)
        )
        assert result.success and result.notifications == []
        assert "failover_started" not in lab.notes.kinds()
        await handle.terminate()


async def test_failback_waits_for_the_healthy_window_and_a_last_look(lab: Lab) -> None:
    """The story: the primary died and came back a minute later. Failing back at once would hand
    traffic to a machine that may die again; the window holds it, a dry run says why, force lifts
    it (and says so), and a primary that fails its last look right before the switch is not
    given the traffic back even after the window."""
    async with lab.worker():
        handle = await lab.start(lab.plan(failback_healthy_seconds=120))
        await handle.execute_update(MonitorWorkflow.request_failover, OperationRequest(reason="x"))
        assert lab.zone.records[DOMAIN] == BACKUP
        lab.probes.healthy["api"] = False
        await until(handle, lab.env, lambda s: not s["health"]["checks"]["api"]["is_healthy"])
        lab.probes.healthy["api"] = True
        await until(handle, lab.env, lambda s: s["health"]["checks"]["api"]["is_healthy"])

        with pytest.raises(WorkflowUpdateFailedError) as info:
            await handle.execute_update(MonitorWorkflow.request_failback, OperationRequest())
        assert "healthy_window" in str(info.value.cause)
        dry = await handle.execute_update(
            MonitorWorkflow.request_failback, OperationRequest(dry_run=True)
        )
        assert not dry.success and dry.outcome == "dry_run"
        window = next(g for g in dry.gates if g.kind == "healthy_window")
        assert not window.ok and window.limit == 120 and "would abort" in (dry.error or "")
        assert lab.zone.records[DOMAIN] == BACKUP

        # After the window, the last look fails: aborted, nothing written, people told.
        await lab.env.sleep(130)
        lab.gates.verdicts["api"] = False
        aborted = await handle.execute_update(MonitorWorkflow.request_failback, OperationRequest())
        assert aborted.outcome == "aborted" and not aborted.success
        assert [g.kind for g in aborted.gates] == ["healthy_window", "primary_check"]
        assert aborted.gates[0].ok and not aborted.gates[1].ok
        assert "readiness gate failed: api" in (aborted.error or "")
        assert lab.zone.records[DOMAIN] == BACKUP
        await until(handle, lab.env, lambda s: "failback_failed" in lab.notes.kinds(), step=1)

        # Forced: no gate asked, each reported as skipped, and the history says so.
        lab.gates.verdicts.clear()
        asked = len(lab.gates.calls)
        forced = await handle.execute_update(
            MonitorWorkflow.request_failback, OperationRequest(force=True)
        )
        assert forced.success and forced.forced and lab.zone.records[DOMAIN] == PRIMARY
        assert len(lab.gates.calls) == asked
        assert {g.kind for g in forced.gates} == {"healthy_window", "primary_check"}
        assert all(g.skipped and "forced" in g.detail for g in forced.gates)
        child = lab.env.client.get_workflow_handle(forced.workflow_id, run_id=None)
        memo = await (await child.describe()).memo_value("gates")
        assert memo == "skipped: forced by the operator"
        await handle.terminate()


async def test_an_automatic_failover_to_an_unready_backup_is_aborted_and_retried_after_cooldown(
    lab: Lab,
) -> None:
    """The story: the primary dies while the backup is down too. Moving traffic to the backup
    would turn one outage into a worse one, so the gate aborts with nothing written; the monitor
    does not retry in a hot loop (the aborted attempt starts the cooldown), and once the backup
    is ready and the cooldown has passed, the site fails over by itself."""
    plan = lab.plan(cooldown_seconds=60).model_copy(
        update={
            "gates": GatesSettings(
                backup_checks=[
                    CheckConfig(name="backup_api", check_type="tcp", target="127.0.0.1:9")
                ]
            )
        }
    )
    lab.gates.verdicts["backup_api"] = False
    async with lab.worker():
        handle = await lab.start(plan)
        lab.probes.healthy["api"] = False
        status = await until(
            handle, lab.env, lambda s: (s["last_operation"] or {}).get("outcome") == "aborted"
        )
        assert "backup_api" in status["last_operation"]["error"]
        assert lab.zone.writes == 0 and status["state"] == "normal"
        await lab.env.sleep(30)
        status = await handle.query("status")
        assert len(await handle.query("history")) == 1, "no retry inside the cooldown"
        assert status["last_refusal"]["reason"] == "cooldown"

        lab.gates.verdicts["backup_api"] = True
        status = await until(handle, lab.env, lambda s: s["state"] == "failed_over")
        assert lab.zone.records[DOMAIN] == BACKUP and lab.zone.writes == 1
        assert [h["outcome"] for h in await handle.query("history")] == ["aborted", "succeeded"]
        assert "failover_failed" in lab.notes.kinds()
        await handle.terminate()


async def test_a_dead_channel_neither_fails_nor_holds_the_failover_and_keeps_its_order(
    real_lab: Lab,
) -> None:
    """The story: the notification service is down during the outage. The failover must go on
    regardless, its result must say what could not be sent, and the channel's events must not
    overtake each other (a PagerDuty resolve ahead of its trigger leaves the incident open)."""
    real_lab.notes.failing.add("failover_started")
    plan = real_lab.plan().model_copy(
        # A short deadline: these retries take real seconds. On the real server, because the
        # time-skipping test server can lose an update whose child workflow waits on timers
        # (temporalio/sdk-python#661); that hung this test in CI.
        update={
            "notifications": NotificationRoutes(
                routes={"memo": list(ALL_EVENTS)}, deadline_seconds=4
            )
        }
    )
    async with real_lab.worker():
        handle = await real_lab.start(plan)
        result = await handle.execute_update(
            MonitorWorkflow.request_failover, OperationRequest(reason="drill")
        )
        assert result.success and result.outcome == "succeeded"
        assert real_lab.zone.records[DOMAIN] == BACKUP
        started, done = result.notifications
        assert (started.event, started.ok) == ("failover_started", False)
        assert "memo channel is down" in (started.error or "")
        assert (done.event, done.ok) == ("failover_succeeded", True)
        # Retried until its deadline, and only then the next event of the channel.
        assert real_lab.notes.attempts.count("failover_started") > 2
        assert real_lab.notes.attempts[-1] == "failover_succeeded"
        assert "failover_succeeded" not in real_lab.notes.attempts[:-1]
        # Waiting for the notifications took at most the deadline after the switch.
        assert (done.at - result.finished_at).total_seconds() <= plan.notifications.deadline_seconds
        status = await handle.query("status")
        assert status["notifications"]["failed"] == 1
        assert status["notifications"]["recent_failures"][0]["event"] == "failover_started"
        await handle.terminate()
