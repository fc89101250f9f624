"""A large site's checks are spread over their interval; a small site's share one batch.

The failure story: 1,000 HTTP checks due at the same moment reached their targets over a second
of one worker's event loop, so the last probes were a second late on every tick (measured by
scripts/bench.py). Spread in groups of at most PROBES_PER_BATCH, no probe waits behind more than
one group's work, and a target behind one load balancer sees a steady rate, not a burst.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio.api.enums.v1 import EventType

from genesis.failover.domain.config import CheckConfig
from genesis.failover.domain.probes import PROBES_PER_BATCH
from tests.workflows.lab import Lab

INTERVAL = 30


def many_checks(count: int) -> list[CheckConfig]:
    return [
        CheckConfig(name=f"c{i}", check_type="tcp", target="127.0.0.1:9", interval_seconds=INTERVAL)
        for i in range(count)
    ]


async def run_for(lab: Lab, count: int, seconds: float) -> None:
    plan = lab.plan().model_copy(update={"checks": many_checks(count)})
    async with lab.worker():
        handle = await lab.start(plan)
        await lab.env.sleep(seconds)
        await handle.terminate("test done")


async def test_a_site_of_two_and_a_half_batches_is_probed_in_three_groups_a_third_apart(
    lab: Lab,
) -> None:
    count = 2 * PROBES_PER_BATCH + PROBES_PER_BATCH // 2
    await run_for(lab, count, 2 * INTERVAL)
    first_tick = lab.probes.batches[:3]
    sizes = [len(names) for _, names in first_tick]
    assert sum(sizes) == count and max(sizes) <= PROBES_PER_BATCH, sizes
    assert sorted({n for _, names in first_tick for n in names}) == sorted(
        c.name for c in many_checks(count)
    )
    start = first_tick[0][0]
    offsets = [(when - start).total_seconds() for when, _ in first_tick]
    third = INTERVAL / 3
    assert [round(o / third) for o in offsets] == [0, 1, 2], offsets
    # And each group keeps its own cadence: its next probe is one interval after its first.
    for when, names in first_tick:
        later = [w for w, n in lab.probes.batches[3:] if n == names]
        assert later and abs(later[0] - when - timedelta(seconds=INTERVAL)) < timedelta(seconds=1)


async def test_a_site_of_one_batch_is_probed_all_at_once(lab: Lab) -> None:
    await run_for(lab, PROBES_PER_BATCH, INTERVAL + 5)
    sizes = [len(names) for _, names in lab.probes.batches]
    assert sizes[:2] == [PROBES_PER_BATCH, PROBES_PER_BATCH]


async def test_a_steady_tick_costs_eleven_history_events(lab: Lab) -> None:
    # Timer fired, a workflow task, the probe activity (scheduled, started, completed), a
    # workflow task, the next timer: 11. The loop used to start a 60 s timer while the batch
    # ran and cancel it when the result came, 13 a tick: history is what a site pays forever.
    plan = lab.plan().model_copy(update={"checks": many_checks(2)})
    async with lab.worker():
        handle = await lab.start(plan)
        await lab.env.sleep(10 * INTERVAL + 5)
        events = [e async for e in handle.fetch_history_events()]
        await handle.terminate("test done")
    fired = [i for i, e in enumerate(events) if e.event_type == EventType.EVENT_TYPE_TIMER_FIRED]
    assert len(fired) >= 8
    per_tick = {b - a for a, b in zip(fired[2:], fired[3:], strict=False)}
    assert per_tick == {11}, per_tick
