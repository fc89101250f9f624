"""Reliability tests: crashes, restarts, provider faults, flapping, races, bad input, secrets.

They reuse the workflow lab (time-skipping and real dev server) and the integration fixtures
(BIND9, the HTTP primary, the production worker path).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from temporalio.client import Client

from genesis.lab.http_target import DemoService
from genesis.lab.temporal_dev import TemporalDevServer
from tests.dns.harness_digitalocean import DigitalOceanHarness
from tests.integration.conftest import backup_service, bind9, make_config, primary_service
from tests.reliability.crash_lab import CrashSite, crash_site
from tests.workflows.lab import lab, real_lab

__all__ = ["backup_service", "bind9", "lab", "make_config", "primary_service", "real_lab"]


@pytest.fixture
async def site_factory(
    dev_server: TemporalDevServer,
    dev_client: Client,
    digitalocean_harness: DigitalOceanHarness,
    primary_service: DemoService,
    task_queue: str,
    tmp_path: Path,
) -> Callable[..., contextlib.AbstractAsyncContextManager[CrashSite]]:
    """``site_factory(**options)``: a crash-lab site (tests/reliability/crash_lab.py) on the
    session's dev server, its own task queue and folder; options as ``crash_site`` takes them
    (``records=2``, ``workers=2``, ``temporal={"shutdown_grace_seconds": 1}``, ...)."""

    def make(**options: Any) -> contextlib.AbstractAsyncContextManager[CrashSite]:
        return crash_site(
            dev_server,
            dev_client,
            digitalocean_harness,
            primary_service.url,
            task_queue,
            tmp_path,
            **options,
        )

    return make
