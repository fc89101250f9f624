"""MonitorClient, the one client of the monitor: each message by its method, each failure
translated once (a refusal as PolicyRefusal with its reason, an absent monitor as
MonitorUnavailable naming what to start)."""

from __future__ import annotations

import pytest

from genesis.failover.domain.errors import MonitorUnavailable, PolicyRefusal
from genesis.failover.domain.models import OperationRequest
from genesis.failover.temporal.monitor_client import MonitorClient
from tests.workflows.lab import Lab, until


async def test_each_message_by_its_method(lab: Lab) -> None:
    async with lab.worker():
        plan = lab.plan()
        handle = await lab.start(plan)
        monitor = MonitorClient(lab.client, plan.site)
        assert monitor.workflow_id == handle.id
        await until(handle, lab.env, lambda s: s["records"])
        status = await monitor.status()
        assert status["site"] == plan.site and status["state"] == "normal"
        assert (await monitor.health())["overall_health"] is True

        result = await monitor.request("failover", OperationRequest(reason="by the client"))
        assert result.success and result.direction == "failover" and result.trigger == "manual"
        assert [op["reason"] for op in await monitor.history()] == ["by the client"]

        await monitor.send_request("failback", OperationRequest(reason="by signal", force=True))
        await until(
            handle, lab.env, lambda s: s["state"] == "normal" and not s["current_operation"]
        )
        assert [op["reason"] for op in await monitor.history()][-1] == "by signal"


async def test_a_refusal_comes_back_as_the_policys_reason(lab: Lab) -> None:
    async with lab.worker():
        plan = lab.plan()
        handle = await lab.start(plan)
        await until(handle, lab.env, lambda s: s["records"])
        monitor = MonitorClient(lab.client, plan.site)
        with pytest.raises(PolicyRefusal) as refused:
            await monitor.request("failback", OperationRequest())
        assert refused.value.reason == "not_failed_over"
        assert str(refused.value).startswith("refused (not_failed_over): ")
        assert not refused.value.retryable


async def test_a_monitor_nobody_started_is_unavailable_and_says_what_to_start(lab: Lab) -> None:
    monitor = MonitorClient(lab.client, "nowhere")
    with pytest.raises(MonitorUnavailable) as absent:
        await monitor.status()
    assert "failover-monitor-nowhere" in str(absent.value)
    assert "genesis-failover worker" in str(absent.value)
    assert absent.value.retryable
