"""docs/operations.md says its `temporal workflow` commands and queries are exact: run each, as
written (the site's name and the server's address filled in), against the real dev server,
BIND9 and the production worker, and check each did what the page says."""

from __future__ import annotations

import re
import shlex
from collections.abc import Callable
from pathlib import Path

import pytest
from temporalio.client import Client

from genesis.failover.domain.config import FailoverConfig
from genesis.lab.bind9 import Bind9Lab
from genesis.lab.http_target import DemoService
from genesis.lab.temporal_dev import TemporalDevServer, find_temporal_cli
from tests.integration.conftest import BACKUP, PRIMARY, answers, running_worker, wait_status
from tests.temporal_cli import run

pytestmark = pytest.mark.integration
DOC = Path(__file__).resolve().parents[2] / "docs" / "operations.md"


def documented_commands() -> list[str]:
    """Every `temporal workflow ...` line of the page's sh blocks."""
    blocks = re.findall(r"```sh\n(.*?)```", DOC.read_text(), flags=re.S)
    return [line for b in blocks for line in b.splitlines() if line.startswith("temporal workflow")]


def documented_queries() -> list[str]:
    """The list queries of the page's "Queries an operator uses" table."""
    table = DOC.read_text().split("Queries an operator uses", 1)[1].split("\n\n", 2)[1]
    return re.findall(r"\| `([^`]+)` \|$", table, flags=re.M)


def test_the_page_documents_every_message_the_monitor_takes() -> None:
    names = set(re.findall(r"--name (\w+)", "\n".join(documented_commands())))
    assert names >= {
        "status",
        "health",
        "history",
        "progress",
        "request_failover",
        "request_failback",
        "manual_failover",
        "manual_failback",
    }
    assert len(documented_queries()) >= 5


async def test_every_documented_temporal_command_works_as_written(
    dev_server: TemporalDevServer,
    dev_client: Client,
    bind9: Bind9Lab,
    primary_service: DemoService,
    make_config: Callable[..., FailoverConfig],
) -> None:
    # No cooldown or failback window: the page's commands run back to back.
    config = make_config(primary_service.url, failback_healthy_seconds=0, cooldown_seconds=0)
    site = config.site.name

    async def temporal_cmd(line: str) -> str:
        line = line.replace("failover-monitor-genesis", f"failover-monitor-{site}")
        line = line.replace("'genesis'", f"'{site}'")
        line = line.replace("failover-genesis-switch", f"failover-{site}-switch")
        argv = shlex.split(line)
        done = await run([find_temporal_cli(), *argv[1:], "--address", dev_server.address])
        assert done.returncode == 0, (line, done.stdout, done.stderr)
        return done.stdout

    def find(*words: str) -> str:
        [line] = [c for c in documented_commands() if all(w in c for w in words)]
        return line

    async with running_worker(config, dev_client) as handle:
        await wait_status(
            handle, lambda s: s["records"] and s["health"]["checks"]["primary_api"]["total_probes"]
        )
        status = await temporal_cmd(find("--name status"))
        assert '"state": "normal"' in status.replace("'", '"') or "normal" in status
        assert "overall_health" in await temporal_cmd(find("--name health"))
        await temporal_cmd(find("--name history"))

        dry = await temporal_cmd(find("request_failover", '"dry_run": true'))
        assert "dry_run" in dry
        assert await answers(bind9) == [[PRIMARY]] * 3  # a dry run writes nothing

        done = await temporal_cmd(
            [c for c in documented_commands() if "request_failover" in c and "dry_run" not in c][0]
        )
        assert "succeeded" in done, done
        assert await answers(bind9) == [[BACKUP]] * 3
        assert "succeeded" in await temporal_cmd(find("request_failback"))
        assert await answers(bind9) == [[PRIMARY]] * 3

        await temporal_cmd(find("signal", "manual_failover"))
        await wait_status(
            handle, lambda s: s["state"] == "failed_over" and not s["current_operation"]
        )
        await temporal_cmd(find("signal", "manual_failback"))
        await wait_status(handle, lambda s: s["state"] == "normal" and not s["current_operation"])
        assert await answers(bind9) == [[PRIMARY]] * 3

        # Watching a failover: the latest run (the signalled failback) and its history.
        progress = await temporal_cmd(find("--name progress"))
        assert "succeeded" in progress and "genesis.example.test" in progress, progress
        shown = await temporal_cmd(find("workflow show"))
        assert "COMPLETED" in shown and "UpsertWorkflowSearchAttributes" in shown, shown
        listed = await temporal_cmd(find("workflow list"))
        assert listed.count(f"failover-{site}-switch") == 5, listed  # 1 dry run + 4 switches
        # Each query of the page's table is valid for this server.
        for query in documented_queries():
            await temporal_cmd(f'temporal workflow list --query "{query}"')
