"""Bad signal and update payloads, fuzzed, against a running MonitorWorkflow.

The story: an operator types `temporal workflow signal --name manual_failover --input ...` by
hand at 3 a.m. (a string for a boolean, a forgotten brace, a drill without dry_run), or a script
sends junk. No such payload may start an operation, wedge the monitor (a workflow task failing
in a loop) or stop its probes; each is refused where the operator looks: status's
``last_refusal`` for a signal, the update's error for an update, naming the field.

Hypothesis draws the payloads (``drawn``); one monitor takes them all, which keeps it fast.
"""

from __future__ import annotations

import asyncio
import copy
import time
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from temporalio.api.enums.v1 import EventType
from temporalio.client import WorkflowHandle, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError

from genesis.failover.domain.config import CheckConfig
from genesis.failover.domain.errors import ConfigError
from genesis.failover.domain.models import operation_request
from genesis.failover.domain.plan import MonitorPlan
from tests.workflows.lab import BACKUP, DOMAIN, Lab, until

HUGE = "x" * 200_000

leaves = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=20),
    st.sampled_from(["", " ", "true", "false", "1", "yes", "null", "x" * 501, HUGE]),
)
json_values: st.SearchStrategy[Any] = st.recursive(
    leaves,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=8,
)
FIELDS: dict[str, st.SearchStrategy[Any]] = {
    "reason": st.one_of(st.text(max_size=20), st.just("r" * 501), json_values),
    "dry_run": st.one_of(st.booleans(), json_values),
    "force": st.one_of(st.booleans(), json_values),
    "lower_ttl_seconds": st.one_of(st.integers(min_value=-100, max_value=100_000), json_values),
    "drill": st.one_of(st.booleans(), json_values),
}
requests = st.fixed_dictionaries({}, optional=FIELDS)
with_extra = st.tuples(requests, st.dictionaries(st.text(max_size=10), json_values, max_size=2))
payloads = st.one_of(
    requests,
    with_extra.map(lambda pair: {**pair[1], **pair[0]}),
    st.lists(requests, min_size=1, max_size=2),  # a list where an object belongs
    json_values,
)
# Known shapes first: the existing regressions and the ones an operator types.
KNOWN: list[Any] = [
    {"reason": 5, "dry_run": "maybe"},
    {"bogus": 1},
    "not an object",
    None,
    {"reason": "drill", "drill": True},  # a drill that is not a dry run
    {"reason": "ttl", "lower_ttl_seconds": -5},
    {"reason": "ttl", "lower_ttl_seconds": True},  # not a 1-second TTL
    {"reason": "ttl", "lower_ttl_seconds": 1.5},
    {"reason": "typed", "dry_run": "false"},  # strict: no guessing what the string meant
    {"reason": HUGE},
    [{"reason": "list"}],
    {"reason": {"nested": ["junk"]}},
]


def drawn(strategy: st.SearchStrategy[Any], count: int) -> list[Any]:
    """``count`` values from ``strategy``, drawn by hypothesis (its edge cases included)."""
    out: list[Any] = []

    @settings(
        max_examples=count,
        database=None,
        deadline=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(strategy)
    def collect(value: Any) -> None:
        out.append(value)

    collect()
    return out


def refusal_of(payload: Any, direction: str) -> ConfigError | None:
    """What the monitor must answer: None for a valid request, else its error."""
    try:
        operation_request(payload, direction)  # type: ignore[arg-type]
    except ConfigError as error:
        return error
    return None


def bad_payloads(count: int) -> list[Any]:
    bad = [p for p in KNOWN + drawn(payloads, count) if refusal_of(p, "failover") is not None]
    assert len(bad) >= count // 2, "hypothesis drew mostly valid requests"
    return bad


def shown(payload: Any) -> str:
    text = repr(payload)
    return text if len(text) < 200 else text[:200] + "..."


async def no_failed_workflow_task(handle: WorkflowHandle[Any, Any]) -> None:
    history = await handle.fetch_history()
    failed = [
        e for e in history.events if e.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED
    ]
    assert not failed, f"workflow task failed: {failed[0].workflow_task_failed_event_attributes}"


async def refused_in_status(
    handle: WorkflowHandle[Any, Any], reason: str, message: str, payload: Any
) -> dict[str, Any]:
    deadline = time.monotonic() + 15
    while True:
        status = await handle.query("status")
        last = status.get("last_refusal") or {}
        if last.get("reason") == reason and last.get("message") == message:
            return status
        assert time.monotonic() < deadline, f"{shown(payload)} not refused in status: {last}"
        await asyncio.sleep(0.02)


def names_the_field(error: ConfigError) -> None:
    assert error.field and f"{error.field}:" in str(error) or error.field == "payload", str(error)
    assert len(str(error)) <= 800, "a huge payload came back as a huge message"


async def test_fuzzed_signals_are_refused_in_status_and_never_wedge_the_monitor(lab: Lab) -> None:
    """Extends test_malformed_signals_are_dropped_and_the_monitor_keeps_probing: many drawn
    payloads on both manual signals, each refusal read back from status."""
    async with lab.worker():
        handle = await lab.start(lab.plan())
        await until(handle, lab.env, lambda s: s["health"]["checks"]["api"]["total_probes"] >= 1)
        last = ""
        for i, payload in enumerate(bad_payloads(60)):
            direction = ("failover", "failback")[i % 2]
            error = refusal_of(payload, direction)
            assert error is not None
            names_the_field(error)
            if str(error) == last:
                continue  # the same refusal again could not be told apart in status
            await handle.signal(f"manual_{direction}", payload)
            status = await refused_in_status(handle, "bad_payload", str(error), payload)
            assert status["current_operation"] is None, shown(payload)
            last = str(error)
        status = await handle.query("status")
        assert status["state"] == "normal" and status["failover_count"] == 0
        assert lab.zone.writes == 0 and await handle.query("history") == []
        # Still probing, and still taking orders: a good signal fails the site over.
        calls = lab.probes.calls
        await until(handle, lab.env, lambda _: lab.probes.calls >= calls + 3)
        await handle.signal("manual_failover", {"reason": "good", "dry_run": False})
        await until(handle, lab.env, lambda s: s["state"] == "failed_over", step=1)
        assert lab.zone.records[DOMAIN] == BACKUP and lab.zone.writes == 1
        await no_failed_workflow_task(handle)
        await handle.terminate()


@st.composite
def mangled_plans(draw: st.DrawFn, plan: dict[str, Any]) -> Any:
    """A real plan (as JSON) with one value anywhere replaced by junk, or not a plan at all."""
    if draw(st.integers(min_value=0, max_value=9)) == 0:
        return draw(json_values)
    data = copy.deepcopy(plan)
    node: Any = data
    while True:
        keys = list(node.keys()) if isinstance(node, dict) else list(range(len(node)))
        if not keys:
            return data
        key = draw(st.sampled_from(keys))
        if isinstance(node[key], dict | list) and node[key] and draw(st.booleans()):
            node = node[key]
            continue
        node[key] = draw(json_values)
        return data


async def test_fuzzed_plans_are_refused_in_status_and_probing_goes_on(lab: Lab) -> None:
    plan = lab.plan()
    as_json = plan.model_dump(mode="json")
    async with lab.worker():
        handle = await lab.start(plan)
        await until(handle, lab.env, lambda s: s["health"]["checks"]["api"]["total_probes"] >= 1)
        sent = 0
        last = ""
        odd: list[Any] = []  # plans that parse, with something changed: applied, not refused
        for junk in drawn(mangled_plans(as_json), 300):
            try:
                parsed = MonitorPlan.model_validate(junk)
            except ValueError:
                parsed = None
            if parsed is not None and parsed.site == plan.site:
                odd.append(junk)
                continue
            if sent >= 80:
                continue
            await handle.signal("apply_plan", junk)
            sent += 1
            status = await handle.query("status")
            if status["last_refusal"] and status["last_refusal"]["message"] != last:
                last = status["last_refusal"]["message"]
                assert status["last_refusal"]["reason"] == "bad_plan", last
                assert len(last) <= 600
        assert sent >= 40 and last, "no plan was refused"
        # Odd but valid plans (no checks, other timings, other routes) run without a workflow
        # task failing; then the real plan comes back.
        for junk in odd[:20]:
            await handle.signal("apply_plan", junk)
            await lab.env.sleep(15)
            await handle.query("status")
        await no_failed_workflow_task(handle)
        await handle.signal("apply_plan", plan)
        # The plan the monitor runs is still the one it had: same checks, still probed.
        calls = lab.probes.calls
        await until(handle, lab.env, lambda _: lab.probes.calls >= calls + 3)
        health = await handle.query("health")
        assert set(health["checks"]) == {"api", "cache"}
        # A good plan is still taken afterwards.
        newer = plan.model_copy(
            update={
                "checks": [
                    *plan.checks,
                    CheckConfig(name="db", check_type="tcp", target="127.0.0.1:9"),
                ]
            }
        )
        await handle.signal("apply_plan", newer)
        await until(handle, lab.env, lambda s: "db" in s["health"]["checks"], step=1)
        await no_failed_workflow_task(handle)
        await handle.terminate()


async def test_fuzzed_updates_are_rejected_naming_the_field_and_start_nothing(
    real_lab: Lab,
) -> None:
    plan = real_lab.plan()
    fast = [c.model_copy(update={"interval_seconds": 1.0}) for c in plan.checks]
    plan = plan.model_copy(update={"checks": fast})
    async with real_lab.worker():
        handle = await real_lab.start(plan)
        for i, payload in enumerate(bad_payloads(40)):
            direction = ("failover", "failback")[i % 2]
            error = refusal_of(payload, direction)
            assert error is not None
            with pytest.raises(WorkflowUpdateFailedError) as caught:
                await handle.execute_update(f"request_{direction}", payload)
            cause = caught.value.cause
            assert isinstance(cause, ApplicationError), shown(payload)
            assert cause.message == f"refused (bad_payload): {error}", shown(payload)
            assert cause.details == ("bad_payload",) and cause.non_retryable
        status = await handle.query("status")
        assert status["current_operation"] is None and status["failover_count"] == 0
        assert real_lab.zone.writes == 0 and await handle.query("history") == []
        # Probing goes on, and a valid request is still served.
        calls = real_lab.probes.calls
        deadline = time.monotonic() + 20
        while real_lab.probes.calls < calls + 2:
            assert time.monotonic() < deadline, "the monitor stopped probing"
            await asyncio.sleep(0.1)
        # Any text is a valid reason (NUL, escapes, RTL marks, 500 emoji): it reaches the child's
        # summary, the hooks and the notifications, and must not break one of them.
        odd = ["nul\x00byte", "\x1b[31mred", "a\r\nb", "\u202e rtl", "\U0001f642" * 500]
        for reason in odd + drawn(st.text(min_size=1, max_size=500), 4):
            result = await handle.execute_update(
                "request_failover", {"reason": reason, "dry_run": True}
            )
            assert result["outcome"] == "dry_run" and result["success"], repr(reason)
        assert real_lab.zone.writes == 0
        await no_failed_workflow_task(handle)
        await handle.terminate()
