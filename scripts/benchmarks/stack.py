"""The servers most benchmarks share: a Temporal dev server and BIND9 with two secondaries.

A benchmark opens its own stack (about a second to start) so that it owns every server it
measures, and a slow or broken one cannot spoil the next benchmark's numbers.
"""

from __future__ import annotations

import os
from contextlib import AsyncExitStack
from pathlib import Path
from types import TracebackType
from typing import Any

from temporalio.client import Client

from genesis.failover.temporal.converter import data_converter
from genesis.lab.bind9 import Bind9Lab
from genesis.lab.ports import free_port
from genesis.lab.temporal_dev import TemporalDevServer

PRIMARY, BACKUP = "192.0.2.10", "192.0.2.20"
ZONE, DOMAIN = "example.test.", "genesis.example.test"
TSIG_ENV = "GENESIS_BENCH_TSIG"


class BenchStack:
    """``async with BenchStack(workdir, fast=True) as stack:`` ``stack.server``, ``stack.dns``
    (DOMAIN at PRIMARY on the primary and both secondaries), ``stack.client``; the TSIG secret
    is in ``TSIG_ENV`` for the RFC 2136 provider."""

    def __init__(self, workdir: Path, *, fast: bool = True) -> None:
        self.workdir = workdir
        self.fast = fast
        self.server = TemporalDevServer(
            workdir / ("temporal-fast.db" if fast else "temporal-default.db"),
            headless=True,
            fast=fast,
        )
        self.dns = Bind9Lab(
            workdir / ("bind9-fast" if fast else "bind9-default"),
            zone=ZONE,
            records={DOMAIN + ".": PRIMARY},
            secondary_ports=[free_port(), free_port()],
        )
        self._client: Client | None = None
        self._exit = AsyncExitStack()

    def site(self, name: str, task_queue: str, checks: list[dict[str, Any]]) -> dict[str, Any]:
        """A site's config (as parsed TOML) on this stack: one record, RFC 2136 on the BIND9
        primary, propagation checked on all three servers."""
        return {
            "temporal": {"address": self.server.address, "task_queue": task_queue},
            "site": {"name": name, "primary_ip": PRIMARY, "backup_ip": BACKUP},
            "checks": checks,
            "dns": {
                "provider": "rfc2136",
                "records": [{"domain": DOMAIN}],
                "rfc2136": self.dns.rfc2136_settings(TSIG_ENV).model_dump(),
            },
            "propagation": {"nameservers": self.dns.servers, "timeout_seconds": 10},
        }

    @property
    def client(self) -> Client:
        if self._client is None:
            raise RuntimeError("BenchStack is not open")
        return self._client

    async def __aenter__(self) -> BenchStack:
        self._exit.enter_context(self.server)
        self._exit.enter_context(self.dns)
        os.environ[TSIG_ENV] = self.dns.tsig_secret
        self._client = await Client.connect(
            self.server.address, data_converter=data_converter(None, os.environ)
        )
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._client = None
        await self._exit.aclose()
