"""A site for crash and restart tests: the production worker as a subprocess, the DigitalOcean
emulator (it counts writes) as the DNS API, command hooks that wait for a release file
(blocking_hook.py), and a fake nameserver the test can make lag.

    async with crash_site(dev_server, client, harness, health_url, task_queue, tmp_path) as site:
        site.release("verify_services")          # that hook will not wait
        await site.start_failover()              # the monitor's manual_failover signal
        await site.until("pre-hook running", lambda: site.count("start", PRE) == 1)
        killed = await site.kill_and_restart()
        await site.check_final_state(await site.result())

``temporal={...}`` adds settings to the site's [temporal] table (``shutdown_grace_seconds``);
``workers=2`` starts two worker processes on the same config and task queue at once
(``site.workers``); ``await site.add_worker()`` starts one more later.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
import time
import uuid
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from temporalio.client import Client, WorkflowHandle

from genesis.failover.domain.config import failover_workflow_id, monitor_workflow_id
from genesis.failover.domain.models import FailoverResult, OperationRequest
from genesis.lab.temporal_dev import TemporalDevServer
from tests.dns.harness_digitalocean import DigitalOceanHarness
from tests.emulators.nameserver import FakeNameserver, answering, fake_nameserver
from tests.integration.conftest import wait_status
from tests.reliability.worker_process import WorkerProcess
from tests.support import write_toml
from workflows.failover import FailoverWorkflow

PRIMARY, BACKUP = "192.0.2.10", "192.0.2.20"
HOOK = str(Path(__file__).with_name("blocking_hook.py"))
PRE, POST = "stop_trading", "verify_services"


@dataclass
class CrashSite:
    """One site on its own task queue: its worker process, DNS emulator, nameserver, hooks."""

    client: Client
    harness: DigitalOceanHarness
    nameserver: FakeNameserver
    worker: WorkerProcess
    site: str
    domains: list[str]
    hook_log: Path
    release_dir: Path
    # Workers started by add_worker(), beside ``worker``: same config, same task queue.
    more_workers: list[WorkerProcess] = field(default_factory=list)

    @property
    def workers(self) -> list[WorkerProcess]:
        return [self.worker, *self.more_workers]

    async def add_worker(self, *, start: bool = True) -> WorkerProcess:
        """One more production worker process for the site (its own log file); started and
        polling unless ``start`` is False. Stopped with the site."""
        first = self.worker
        n = len(self.workers) + 1
        other = WorkerProcess(
            first.config_file, first.env, first.log_file.with_name(f"worker-{n}.log")
        )
        self.more_workers.append(other)
        return await other.start() if start else other

    def logs(self) -> str:
        return "\n".join(f"=== {w.log_file.name}\n{w.log()}" for w in self.workers)

    @property
    def monitor(self) -> WorkflowHandle[Any, Any]:
        return self.client.get_workflow_handle(monitor_workflow_id(self.site))

    def release(self, hook: str) -> None:
        (self.release_dir / hook).touch()

    def hook_lines(self) -> list[tuple[str, str, int]]:
        if not self.hook_log.exists():
            return []
        out = []
        for line in self.hook_log.read_text().splitlines():
            word, name, pid = line.split()
            out.append((word, name, int(pid)))
        return out

    def pid_of(self, word: str, hook: str) -> int:
        """The process of the first ``word`` line of ``hook``."""
        return next(p for w, n, p in self.hook_lines() if (w, n) == (word, hook))

    def count(self, word: str, hook: str) -> int:
        return sum(1 for w, n, _ in self.hook_lines() if (w, n) == (word, hook))

    async def until(self, what: str, pred: Callable[[], bool], within: float = 30) -> None:
        deadline = time.monotonic() + within
        while not pred():
            if time.monotonic() > deadline:
                raise AssertionError(f"not seen in {within}s: {what}\n{self.logs()}")
            await asyncio.sleep(0.02)

    async def start_failover(self) -> None:
        await self.monitor.signal(
            "manual_failover", OperationRequest(reason="worker crash drill", dry_run=False)
        )

    async def result(self, within: float = 60) -> FailoverResult:
        handle = self.client.get_workflow_handle_for(
            FailoverWorkflow.run, failover_workflow_id(self.site)
        )
        return await asyncio.wait_for(handle.result(), within)

    async def kill_and_restart(self) -> float:
        """SIGKILL the worker, start a new one at once; the moment of the kill."""
        self.worker.kill()
        killed = time.monotonic()
        await self.worker.restart()
        return killed

    async def kill_during_hook(self, hook: str) -> float:
        """SIGKILL the worker while ``hook`` runs and start a new one; wait until the new worker
        has stopped the run the dead one left behind and started the hook again
        (at-least-once, never overlapping), then let it finish. When the worker was killed."""
        await self.until(f"{hook} running", lambda: self.count("start", hook) == 1)
        orphan = self.pid_of("start", hook)
        killed = await self.kill_and_restart()
        await self.until(f"{hook} run again", lambda: self.count("start", hook) == 2)
        await self.until("the orphan stopped", lambda: not alive(orphan), within=5)
        self.release(hook)
        return killed

    async def check_final_state(self, result: FailoverResult) -> None:
        assert result.outcome == "succeeded", result.error
        for domain in self.domains:
            current = await self.harness.current(domain, "A")
            assert current is not None and current.values == [BACKUP], (domain, current)
        assert self.harness.writes() == len(self.domains), (
            f"each record written exactly once, got {self.harness.writes()} writes for "
            f"{len(self.domains)} records"
        )
        status = await wait_status(
            self.monitor,
            lambda s: s["state"] == "failed_over" and s["last_operation"] is not None,
            within=30,
        )
        assert status["failover_count"] == 1
        assert status["last_operation"]["outcome"] == "succeeded"
        # One FailoverWorkflow run for the site: the restart did not start another failover.
        runs = [
            w
            async for w in self.client.list_workflows(
                f"WorkflowId = '{failover_workflow_id(self.site)}'"
            )
        ]
        assert len(runs) == 1, [r.run_id for r in runs]

    async def wait_hooks_gone(self, within: float = 10) -> None:
        """Every hook process that started has exited (the orphan of the dead worker too)."""
        pids = {pid for _, _, pid in self.hook_lines()}
        await self.until("hook processes exited", lambda: not any(alive(p) for p in pids), within)


def parent_of(pid: int) -> int | None:
    """The parent process of ``pid`` (None once it has exited): which worker runs a hook."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return int(stat.rpartition(")")[2].split()[1])


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie (exited, not yet reaped by its new parent) is gone for our purpose.
    with contextlib.suppress(OSError, IndexError):
        return Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0] != "Z"
    return True


@contextlib.asynccontextmanager
async def crash_site(
    dev_server: TemporalDevServer,
    client: Client,
    harness: DigitalOceanHarness,
    health_url: str,
    task_queue: str,
    tmp_path: Path,
    *,
    records: int = 1,
    nameserver_answer: str = BACKUP,
    temporal: Mapping[str, Any] | None = None,
    workers: int = 1,
) -> AsyncIterator[CrashSite]:
    """A site whose worker runs as a subprocess; hooks wait for their release file.
    ``temporal``: more [temporal] settings (``shutdown_grace_seconds``...). ``workers``: how
    many worker processes (same config and task queue) start, all at once."""
    domains = [f"{chr(ord('a') + i)}.example.test" for i in range(records)]
    for domain in domains:
        await harness.seed(domain, "A", [PRIMARY], ttl=60)
    hook_log, release_dir = tmp_path / "hooks.log", tmp_path / "release"
    release_dir.mkdir()
    dns_section, secrets = harness.config()
    site = f"crash-{uuid.uuid4().hex[:8]}"

    def hook(name: str) -> dict[str, Any]:
        return {"name": name, "command": [sys.executable, HOOK, str(hook_log), str(release_dir)]}

    async with fake_nameserver(answering(nameserver_answer)) as (ns_address, ns):
        config = {
            "temporal": {
                "address": dev_server.address,
                "task_queue": task_queue,
                **(temporal or {}),
            },
            "site": {"name": site, "primary_ip": PRIMARY, "backup_ip": BACKUP},
            "policy": {"auto_failover": False},
            "checks": [
                {"name": "primary_api", "type": "http", "target": health_url, "interval": 1}
            ],
            "dns": {
                "provider": "digitalocean",
                "ttl": 60,
                "records": [{"domain": d} for d in domains],
                **dns_section,
            },
            "propagation": {
                "nameservers": [ns_address],
                "timeout_seconds": 30,
                "poll_interval_seconds": 0.2,
            },
            "hooks": {"pre_failover": [hook(PRE)], "post_failover": [hook(POST)]},
        }
        config_file = write_toml(config, tmp_path / "site.toml")
        worker = WorkerProcess(config_file, {**os.environ, **secrets}, tmp_path / "worker.log")
        crash = CrashSite(client, harness, ns, worker, site, domains, hook_log, release_dir)
        try:
            for _ in range(workers - 1):
                await crash.add_worker(start=False)
            await asyncio.gather(*(w.start() for w in crash.workers))
            # The monitor has read where the records point before the test starts anything.
            await wait_status(crash.monitor, lambda s: len(s["records"]) == records)
            yield crash
        finally:
            for name in (PRE, POST):
                crash.release(name)  # every blocking hook, orphans included, exits
            for each in crash.workers:
                each.stop()
            with contextlib.suppress(Exception):
                await crash.monitor.terminate("test over")
            with contextlib.suppress(Exception):
                await crash.client.get_workflow_handle(failover_workflow_id(site)).terminate(
                    "test over"
                )
