"""A worker's own load must never read as "primary down": many probes at once against healthy
targets all come back healthy, and waiting for a probe slot does not count against a probe's
timeout. Real HTTP over loopback (an asyncio server that answers after a delay)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest

from genesis.failover.domain.config import CheckConfig
from genesis.failover.domain.probes import MAX_PROBES_IN_FLIGHT, batch_seconds, run_probes

ANSWER = b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nok\n"


@dataclass
class Origin:
    """One HTTP origin: counts how many requests it holds at once."""

    port: int
    delay: float = 0.0
    in_flight: int = 0
    most_in_flight: int = 0
    served: int = 0

    def checks(self, count: int, *, timeout: float = 5.0) -> list[CheckConfig]:
        return [
            CheckConfig(
                name=f"c{i}",
                check_type="http",
                target=f"http://127.0.0.1:{self.port}/c{i}",
                timeout_seconds=timeout,
            )
            for i in range(count)
        ]


@pytest.fixture
async def origin() -> AsyncIterator[Origin]:
    state = Origin(port=0)

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while await reader.readuntil(b"\r\n\r\n"):
                state.in_flight += 1
                state.most_in_flight = max(state.most_in_flight, state.in_flight)
                await asyncio.sleep(state.delay)
                state.in_flight -= 1
                state.served += 1
                writer.write(ANSWER)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0, backlog=4096)
    state.port = server.sockets[0].getsockname()[1]
    async with server:
        yield state


async def test_a_thousand_checks_on_one_healthy_origin_all_come_back_healthy(
    origin: Origin,
) -> None:
    # The failure story: the batch's HTTP pool had 100 connections; the other 900 requests
    # queued inside httpcore, whose pool rescans its queue on every change. The batch burned
    # 20 s of CPU and every probe timed out: a healthy site would have been failed over.
    results = await run_probes(origin.checks(1000, timeout=5.0))
    failed = [r for r in results if not r.healthy]
    assert not failed, f"{len(failed)} healthy targets reported down, e.g. {failed[0].error}"
    assert origin.served == 1000


async def test_no_more_probes_than_the_slots_are_in_flight_at_once(origin: Origin) -> None:
    origin.delay = 0.05
    results = await run_probes(origin.checks(40), slots=asyncio.Semaphore(4))
    assert all(r.healthy for r in results)
    assert origin.most_in_flight == 4


async def test_a_probe_waiting_for_a_slot_is_not_timed_out_for_the_wait(origin: Origin) -> None:
    # Each answer takes 0.3 s and each probe allows 0.5 s; with one slot the third probe starts
    # 0.6 s after the batch. It is healthy: its timeout measures the target, not the queue.
    origin.delay = 0.3
    results = await run_probes(origin.checks(3, timeout=0.5), slots=asyncio.Semaphore(1))
    assert [r.healthy for r in results] == [True, True, True]
    assert all(r.latency_ms < 500 for r in results)


def test_a_batch_larger_than_the_slots_gets_time_for_every_wave() -> None:
    # The failure story: 2,000 hanging targets run in 4 waves of 5 s; a batch cut off at
    # 5 s + margin was lost, and a lost batch counts as neither failure nor success.
    checks = [
        CheckConfig(name=f"c{i}", check_type="tcp", target="127.0.0.1:9", timeout_seconds=5)
        for i in range(4 * MAX_PROBES_IN_FLIGHT)
    ]
    assert batch_seconds(checks[:MAX_PROBES_IN_FLIGHT]) == 5
    assert batch_seconds(checks[: MAX_PROBES_IN_FLIGHT + 1]) == 10
    assert batch_seconds(checks) == 20
