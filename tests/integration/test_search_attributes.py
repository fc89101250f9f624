"""Failovers can be found: the Failover* search attributes on the real dev server, queried with
the real `temporal workflow list --query`, and a namespace without them (the worker says the exact
commands, keeps protecting the site, and indexes once they exist)."""

from __future__ import annotations

import asyncio
import json
import logging
import shlex
from collections.abc import Callable
from pathlib import Path

import pytest
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter

from genesis.failover.app.dev import register_search_attributes_on
from genesis.failover.domain.config import FailoverConfig, monitor_workflow_id
from genesis.failover.temporal.attributes import SEARCH_ATTRIBUTES
from genesis.lab.http_target import DemoService
from genesis.lab.temporal_dev import TemporalDevServer, find_temporal_cli
from tests.integration.conftest import BACKUP, PRIMARY, request, running_worker, wait_status
from tests.temporal_cli import run, temporal
from worker.attributes import missing_search_attributes, register_search_attributes

pytestmark = pytest.mark.integration


async def listed(server: TemporalDevServer, query: str, *, expect: int) -> list[dict]:
    """`temporal workflow list --query` until it lists ``expect`` workflows (visibility trails
    the history by a moment)."""
    rows: list[dict] = []
    for _ in range(50):
        out = await temporal(server, "workflow", "list", "--query", query, "-o", "json")
        assert out.returncode == 0, out.stderr
        rows = json.loads(out.stdout.strip() or "[]")
        if len(rows) == expect:
            return rows
        await asyncio.sleep(0.1)
    raise AssertionError(f"{query!r} listed {len(rows)} workflows, expected {expect}: {rows}")


def ids(rows: list[dict]) -> set[str]:
    return {r["execution"]["workflowId"] + "/" + r["execution"]["runId"] for r in rows}


async def test_failovers_are_found_by_site_direction_trigger_and_outcome(
    dev_server: TemporalDevServer,
    dev_client: Client,
    primary_service: DemoService,
    make_config: Callable[..., FailoverConfig],
) -> None:
    config = make_config(primary_service.url, failback_healthy_seconds=0)
    site = config.site.name
    async with running_worker(config, dev_client) as handle:
        await wait_status(handle, lambda s: s["health"]["checks"]["primary_api"]["total_probes"])
        # The monitor's static summary and details, as the Web UI shows them.
        monitor = await handle.describe()
        assert (
            await monitor.static_summary() == f"Monitor {site}: primary {PRIMARY}, backup {BACKUP}"
        )
        assert "**Checks:** primary_api (http" in (await monitor.static_details() or "")
        drill = await request(handle, "failover", reason="monthly drill", dry_run=True, drill=True)
        failover = await request(handle, "failover", reason="maintenance")
        assert failover.outcome == "succeeded"
        # The monitor's own state is indexed: "which sites are on their backup?"
        await listed(dev_server, f"FailoverSite='{site}' AND FailoverState='failed_over'", expect=1)
        failback = await request(handle, "failback", reason="maintenance over")
        assert failback.outcome == "succeeded"

        by_site = await listed(
            dev_server, f"FailoverSite='{site}' AND WorkflowType='FailoverWorkflow'", expect=3
        )
        runs = {r.workflow_id for r in (drill, failover, failback)}
        assert {row["execution"]["workflowId"] for row in by_site} == runs
        succeeded = await listed(
            dev_server, f"FailoverSite='{site}' AND FailoverOutcome='succeeded'", expect=2
        )
        back = await listed(
            dev_server,
            f"FailoverSite='{site}' AND FailoverDirection='failback' AND FailoverTrigger='manual'",
            expect=1,
        )
        drills = await listed(
            dev_server,
            f"FailoverSite='{site}' AND FailoverTrigger='drill' AND FailoverOutcome='dry_run'",
            expect=1,
        )
        assert ids(back) <= ids(succeeded)
        assert drills[0]["execution"]["workflowId"] == drill.workflow_id
        assert drill.trigger == "drill"
        # The monitor's state follows the site back.
        await listed(dev_server, f"FailoverSite='{site}' AND FailoverState='normal'", expect=1)
        # Another site's failovers are not listed under this one.
        await listed(dev_server, "FailoverSite='no-such-site'", expect=0)


async def test_a_namespace_without_the_attributes_is_told_the_commands_and_still_fails_over(
    tmp_path: Path,
    primary_service: DemoService,
    make_config: Callable[..., FailoverConfig],
    caplog: pytest.LogCaptureFixture,
) -> None:
    # A bare server, as a production namespace is before its operator registers anything.
    bare = TemporalDevServer(tmp_path / "bare.db", headless=True, search_attributes=False).start()
    try:
        client = await Client.connect(bare.address, data_converter=pydantic_data_converter)
        config = make_config(primary_service.url)
        config = config.model_copy(
            update={"temporal": config.temporal.model_copy(update={"address": bare.address})}
        )
        site = config.site.name
        with caplog.at_level(logging.ERROR, logger="genesis.failover.worker"):
            async with running_worker(config, client) as handle:
                # Monitoring and failing over do not wait for a UI index.
                await wait_status(
                    handle, lambda s: s["health"]["checks"]["primary_api"]["total_probes"]
                )
                result = await request(handle, "failover", reason="unindexed")
                assert result.outcome == "succeeded"
        commands = [
            line.strip()
            for record in caplog.records
            for line in record.getMessage().splitlines()
            if line.strip().startswith("temporal operator search-attribute create")
        ]
        assert len(commands) == len(SEARCH_ATTRIBUTES), caplog.text
        for command in commands:
            argv = shlex.split(command)
            done = await run([find_temporal_cli(), *argv[1:]])
            assert done.returncode == 0, (command, done.stderr)
        assert await missing_search_attributes(client) == []

        # Restarted, the worker indexes the site again: the monitor says where traffic is.
        caplog.clear()
        async with running_worker(config, client) as handle:
            await listed(bare, f"FailoverSite='{site}' AND FailoverState='failed_over'", expect=1)
        assert "lacks the search attributes" not in caplog.text
        await handle.describe()  # the monitor ran on the registered namespace
        assert monitor_workflow_id(site) == handle.id
    finally:
        bare.stop()


async def test_dev_registers_the_attributes_on_a_server_it_did_not_start(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bare = TemporalDevServer(tmp_path / "bare.db", headless=True, search_attributes=False).start()
    try:
        client = await Client.connect(bare.address)
        assert sorted(await missing_search_attributes(client)) == sorted(SEARCH_ATTRIBUTES)
        await register_search_attributes_on(bare.address, "default")
        assert await missing_search_attributes(client) == []
        assert "registered search attributes" in capsys.readouterr().out
        assert await register_search_attributes(client) == []  # idempotent
    finally:
        bare.stop()
