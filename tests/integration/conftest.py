"""Integration fixtures: the real dev server (tests/conftest.py), a real BIND9 primary with two
secondaries, a real HTTP primary on loopback, and the production worker code path."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from temporalio.client import Client, WorkflowHandle

from genesis.failover.domain.config import FailoverConfig, monitor_workflow_id, parse_config
from genesis.failover.domain.dns import query_nameserver
from genesis.failover.domain.models import FailoverResult, OperationRequest
from genesis.lab.bind9 import Bind9Lab, find_named
from genesis.lab.http_target import DemoService
from genesis.lab.temporal_dev import TemporalDevServer
from tests.support import require
from worker.main import run_worker_in_background

PRIMARY, BACKUP = "192.0.2.10", "192.0.2.20"
ZONE = "example.test"
DOMAIN = "genesis.example.test"
TSIG_ENV = "GENESIS_TEST_TSIG_SECRET"


@pytest.fixture
def bind9(tmp_path: Path) -> Iterator[Bind9Lab]:
    require(find_named(), "BIND9 (named, Debian package bind9)")
    from genesis.lab.ports import free_port

    lab = Bind9Lab(
        tmp_path / "bind9",
        zone=ZONE + ".",
        records={DOMAIN + ".": PRIMARY},
        secondary_ports=[free_port(), free_port()],
    ).start()
    try:
        yield lab
    finally:
        lab.stop()


def _service() -> Iterator[DemoService]:
    svc = DemoService().start()
    try:
        yield svc
    finally:
        with contextlib.suppress(Exception):
            svc.stop()


@pytest.fixture
def primary_service() -> Iterator[DemoService]:
    yield from _service()


@pytest.fixture
def backup_service() -> Iterator[DemoService]:
    """A second service, for the readiness gates' backup checks."""
    yield from _service()


def lab_config(
    dev_server: TemporalDevServer,
    bind9: Bind9Lab,
    health_url: str,
    task_queue: str,
    **policy: Any,
) -> FailoverConfig:
    return parse_config(lab_config_data(dev_server, bind9, health_url, task_queue, **policy))


def lab_config_data(
    dev_server: TemporalDevServer,
    bind9: Bind9Lab,
    health_url: str,
    task_queue: str,
    *,
    site_prefix: str = "it",
    **policy: Any,
) -> dict[str, Any]:
    """The lab site as config data: one HTTP check of the primary, one record in BIND9, its
    three nameservers to confirm a switch. Tests add their gates, hooks and channels to it."""
    site = f"{site_prefix}-{uuid.uuid4().hex[:8]}"
    return {
        "temporal": {"address": dev_server.address, "task_queue": task_queue},
        "site": {"name": site, "primary_ip": PRIMARY, "backup_ip": BACKUP},
        "policy": policy,
        "checks": [
            {
                "name": "primary_api",
                "type": "http",
                "target": health_url,
                "interval": 1,
                "timeout": 0.5,
                "threshold": 3,
            }
        ],
        "dns": {
            "provider": "rfc2136",
            "ttl": 60,
            "records": [{"domain": DOMAIN}],
            "rfc2136": bind9.rfc2136_settings(TSIG_ENV).model_dump(),
        },
        "propagation": {"nameservers": bind9.servers, "timeout_seconds": 10},
    }


@pytest.fixture
def make_config(
    dev_server: TemporalDevServer,
    bind9: Bind9Lab,
    task_queue: str,
    monkeypatch: pytest.MonkeyPatch,
) -> Callable[..., FailoverConfig]:
    monkeypatch.setenv(TSIG_ENV, bind9.tsig_secret)

    def make(health_url: str, **policy: Any) -> FailoverConfig:
        return lab_config(dev_server, bind9, health_url, task_queue, **policy)

    return make


@contextlib.asynccontextmanager
async def running_worker(
    config: FailoverConfig, client: Client
) -> AsyncIterator[WorkflowHandle[Any, Any]]:
    """The production worker path (`genesis-failover worker`), in this process."""
    stop = asyncio.Event()
    task = await run_worker_in_background(config, stop=stop)
    handle = client.get_workflow_handle(monitor_workflow_id(config.site.name))
    try:
        yield handle
    finally:
        with contextlib.suppress(Exception):
            await handle.terminate("test over")
        stop.set()
        await task


async def request(handle: Any, direction: str, **options: Any) -> FailoverResult:
    """``request_failover`` / ``request_failback`` through the monitor's update, typed."""
    result = await handle.execute_update(
        f"request_{direction}", OperationRequest(**options), result_type=FailoverResult
    )
    assert isinstance(result, FailoverResult)
    return result


async def wait_status(
    handle: WorkflowHandle[Any, Any],
    pred: Callable[[dict[str, Any]], bool],
    *,
    within: float = 20,
) -> dict[str, Any]:
    deadline = asyncio.get_running_loop().time() + within
    status: dict[str, Any] = {}
    while asyncio.get_running_loop().time() < deadline:
        with contextlib.suppress(Exception):
            status = await handle.query("status")
            if pred(status):
                return status
        await asyncio.sleep(0.1)
    raise AssertionError(f"status condition not met in {within}s: {status}")


async def answers(bind9: Bind9Lab) -> list[list[str]]:
    """What each of the three nameservers answers for the record, asked directly."""
    return [await query_nameserver(ns, DOMAIN) for ns in bind9.servers]
