"""Flapping: a primary that cannot make up its mind, for an hour of skipped time.

The workflow lab on the time-skipping server; the probe answers from a pattern of its probe
number. The unit tests (tests/unit/test_policy.py) hold each rule alone; these hold the whole
story in the running monitor: probes every 10 s for an hour, decisions, the failover and failback
workflows, the history they leave.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from temporalio import activity
from temporalio.client import WorkflowHandle

from activities.payloads import ProbeBatchInput, ProbeBatchResult
from tests.workflows.lab import BACKUP, DOMAIN, PRIMARY, Lab, ScriptedGates, ScriptedProbes, until

HOUR = 3600.0


class PatternProbes(ScriptedProbes):
    """The probe activity answering the ``api`` check from a pattern of its probe number:
    ``pattern(n)`` is the n-th answer (from 0) since the pattern was set. The answer also lands
    in ``healthy``, so the failback's last look (ScriptedGates) agrees with the last probe."""

    def __init__(self, pattern: Callable[[int], bool], check: str = "api") -> None:
        super().__init__()
        self.check = check
        self.answers: list[bool] = []
        self.set(pattern)

    def set(self, pattern: Callable[[int], bool]) -> None:
        self.pattern = pattern
        self._n = 0

    @activity.defn(name="probe_checks")
    async def probe_checks(self, inp: ProbeBatchInput) -> ProbeBatchResult:
        if any(c.name == self.check for c in inp.checks):
            answer = self.pattern(self._n)
            self._n += 1
            self.answers.append(answer)
            self.healthy[self.check] = answer
        return await super().probe_checks(inp)


def patterned(lab: Lab, pattern: Callable[[int], bool]) -> PatternProbes:
    probes = PatternProbes(pattern)
    lab.probes = probes
    lab.gates = ScriptedGates(probes)
    return probes


def alternating(n: int) -> bool:
    return n % 2 == 1  # bad, good, bad, good...


async def watch(
    handle: WorkflowHandle[Any, Any], lab: Lab, seconds: float, *, step: float = 30
) -> list[dict[str, Any]]:
    """Skip ``seconds`` of time in ``step`` hops, keeping the monitor's status after each."""
    seen = []
    for _ in range(int(seconds // step)):
        await lab.env.sleep(step)
        seen.append(await handle.query("status"))
    return seen


def at(iso: str) -> datetime:
    return datetime.fromisoformat(iso)


async def test_a_primary_alternating_every_probe_for_an_hour_never_fails_over(lab: Lab) -> None:
    """The story: the primary answers every other probe for an hour. No run of failures reaches
    the failure threshold (3), so the check never turns unhealthy and nothing moves."""
    probes = patterned(lab, alternating)
    async with lab.worker():
        handle = await lab.start(lab.plan())
        seen = await watch(handle, lab, HOUR, step=300)
        status = seen[-1]
        api = status["health"]["checks"]["api"]
        assert api["total_probes"] >= 359 and len(probes.answers) == api["total_probes"]
        assert api["total_failures"] == probes.answers.count(False) >= 179
        assert all(s["health"]["checks"]["api"]["is_healthy"] for s in seen)
        assert all(s["health"]["checks"]["api"]["consecutive_failures"] <= 1 for s in seen)
        # Never reported unhealthy: the monitor told nobody, refused nothing, moved nothing.
        assert "check_unhealthy" not in lab.notes.kinds()
        assert status["failover_count"] == 0 and status["last_refusal"] is None
        assert await handle.query("history") == []
        assert lab.zone.writes == 0 and lab.zone.records[DOMAIN] == PRIMARY
        await handle.terminate()


def bursts(bad: int, good: int) -> Callable[[int], bool]:
    """``bad`` failures then ``good`` successes, repeating."""
    return lambda n: n % (bad + good) >= bad


async def test_a_primary_flapping_in_bursts_fails_over_at_most_once_per_cooldown_and_daily_limit(
    lab: Lab,
) -> None:
    """The story: the primary dies for 30 s every 2.5 minutes, for an hour, and automatic
    failback is on with a short healthy window, so the site keeps being handed back to it.
    Traffic moves at most once per cooldown and at most max_failovers_per_day times; every
    failover it does not make is refused with a reason people can read (cooldown, daily limit)."""
    cooldown, limit = 300, 3
    patterned(lab, bursts(3, 12))
    plan = lab.plan(
        auto_failback=True,
        failback_healthy_seconds=30,
        cooldown_seconds=cooldown,
        max_failovers_per_day=limit,
    )
    async with lab.worker():
        handle = await lab.start(plan)
        seen = await watch(handle, lab, HOUR, step=10)
        history = await handle.query("history")

    ops = [(h["direction"], at(h["started_at"]), at(h["finished_at"])) for h in history]
    failovers = [start for d, start, _ in ops if d == "failover"]
    assert all(h["trigger"] == "automatic" and h["success"] for h in history)
    # The limit is what stopped it: without one, this hour had room for more.
    assert len(failovers) == limit, ops
    assert [d for d, *_ in ops][:2] == ["failover", "failback"]
    # At most one DNS change per cooldown: each operation starts a cooldown after the last ended,
    # so consecutive failovers are at least a cooldown apart.
    for (_, _, ended), (_, started, _) in zip(ops, ops[1:], strict=False):
        assert started - ended >= timedelta(seconds=cooldown), ops
    for a, b in zip(failovers, failovers[1:], strict=False):
        assert b - a >= timedelta(seconds=cooldown)
    # The refusals were there to read, with the numbers that explain them.
    refusals = {
        s["last_refusal"]["reason"]: s["last_refusal"]["message"] for s in seen if s["last_refusal"]
    }
    assert "in cooldown for" in refusals["cooldown"], refusals
    assert f"max_failovers_per_day={limit}" in refusals["daily_limit"], refusals
    told = [e.reason for e in lab.notes.events if e.kind == "auto_failover_refused"]
    assert {"cooldown", "daily_limit"} <= set(told)
    assert seen[-1]["failovers_left_today"] == 0 and seen[-1]["failover_count"] == limit
    assert lab.zone.writes == len(ops)
    await handle.terminate()


async def test_an_alternating_primary_never_takes_traffic_back_after_a_failover(lab: Lab) -> None:
    """The story: the primary died, the site failed over, and now the primary answers some
    probes again. Automatic failback is on with a one-minute window. A primary that alternates
    never makes the success threshold (2 in a row); one that fails every third probe makes it
    but restarts the window each time: neither gets the traffic back. Steady health does."""
    window = 60
    probes = patterned(lab, lambda n: False)
    plan = lab.plan(auto_failback=True, failback_healthy_seconds=window, cooldown_seconds=60)
    async with lab.worker():
        handle = await lab.start(plan)
        await until(handle, lab.env, lambda s: s["state"] == "failed_over")

        probes.set(lambda n: n % 2 == 0)  # good, bad, good, bad...
        seen = await watch(handle, lab, HOUR, step=300)
        assert all(s["state"] == "failed_over" for s in seen)
        assert not any(s["health"]["checks"]["api"]["is_healthy"] for s in seen)
        assert "check_recovered" not in lab.notes.kinds()

        probes.set(lambda n: n % 3 != 2)  # good, good, bad...
        seen = await watch(handle, lab, HOUR, step=300)
        assert all(s["state"] == "failed_over" for s in seen)
        # Healthy by the threshold all along: the window, restarted by every bad probe, held it.
        assert all(s["health"]["checks"]["api"]["is_healthy"] for s in seen)
        assert [h["direction"] for h in await handle.query("history")] == ["failover"]
        assert lab.zone.records[DOMAIN] == BACKUP and lab.zone.writes == 1

        # Healthy for good: the window runs to its end and the primary gets the traffic back.
        probes.set(lambda n: True)
        status = await until(handle, lab.env, lambda s: s["state"] == "normal")
        back = status["last_operation"]
        assert back["direction"] == "failback" and back["trigger"] == "automatic"
        since = at(status["health"]["checks"]["api"]["healthy_since"])
        assert at(back["started_at"]) - since >= timedelta(seconds=window)
        assert lab.zone.records[DOMAIN] == PRIMARY
        await handle.terminate()
