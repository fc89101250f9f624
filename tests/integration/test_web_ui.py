"""A failover as the on-call engineer sees it in the Temporal Web UI.

A real failover (the dev server, BIND9 with two secondaries, a readiness gate on a real backup
service, a command pre-hook, the production worker path), then a real browser (headless
Chromium) on the dev server's Web UI does what docs/operations.md tells an operator to do: type a
FailoverSite query into the workflow list, click the failover, read its steps on the timeline,
its summary and details under User Metadata, and follow the Parent Workflow link to the monitor.
"""

from __future__ import annotations

import asyncio
import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from temporalio.client import Client

from genesis.failover.domain.config import FailoverConfig, parse_config
from genesis.lab.bind9 import Bind9Lab
from genesis.lab.http_target import DemoService
from genesis.lab.temporal_dev import TemporalDevServer
from tests.browser import chromium_page, require_browser
from tests.integration.conftest import BACKUP, DOMAIN, PRIMARY, request, running_worker

if TYPE_CHECKING:
    from playwright.async_api import FrameLocator, Page

pytestmark = pytest.mark.integration

# How long the UI may take to show something (ms). It renders in well under a second here; the
# margin is for a loaded CI machine, not for anything the UI legitimately waits on.
SHOWN_WITHIN = 10_000


def with_gate_and_hook(config: FailoverConfig, backup: DemoService) -> FailoverConfig:
    """The lab config plus one readiness gate and one pre-hook, so the failover has every kind
    of step an operator reads about: gates, hooks, the DNS switch, propagation."""
    data = config.model_dump(mode="json", exclude_defaults=True)
    data["gates"] = {
        "backup_checks": [
            {"name": "backup_api", "type": "http", "target": backup.url, "timeout": 1}
        ]
    }
    stop_trading = [sys.executable, "-c", "print('trading stopped')"]
    data["hooks"] = {"pre_failover": [{"name": "stop_trading", "command": stop_trading}]}
    return parse_config(data)


def markdown_panel(page: Page, heading: str) -> FrameLocator:
    """A User Metadata panel: the UI renders each Markdown text in its own sandboxed iframe,
    right after the panel's heading."""
    iframe = page.get_by_role("heading", name=heading, exact=True).locator(
        "xpath=following::iframe[1]"
    )
    return iframe.content_frame


async def listed(client: Client, query: str, workflow_id: str) -> None:
    """Wait until visibility lists the workflow, so the UI's list (which does not refresh by
    itself) is asked once the answer is there."""
    for _ in range(100):
        if [wf.id async for wf in client.list_workflows(query)] == [workflow_id]:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"{query!r} never listed exactly {workflow_id}")


async def test_an_operator_finds_a_failover_in_the_web_ui_and_reads_its_steps(
    dev_server: TemporalDevServer,
    dev_client: Client,
    bind9: Bind9Lab,
    primary_service: DemoService,
    backup_service: DemoService,
    make_config: Callable[..., FailoverConfig],
    tmp_path: Path,
) -> None:
    require_browser()
    from playwright.async_api import expect

    assert dev_server.ui_url, "the session dev server runs with its Web UI"
    config = with_gate_and_hook(make_config(primary_service.url), backup_service)
    site = config.site.name
    async with running_worker(config, dev_client) as monitor:
        result = await request(monitor, "failover", reason="planned maintenance")
        assert result.outcome == "succeeded", result.error
        run_id = (await dev_client.get_workflow_handle(result.workflow_id).describe()).run_id
        query = f"FailoverSite = '{site}' AND WorkflowType = 'FailoverWorkflow'"
        await listed(dev_client, query, result.workflow_id)

        async with chromium_page(screenshot_on_failure=tmp_path / "web-ui.png") as page:
            # 1. The list: the operator types the query into the filter box.
            await page.goto(f"{dev_server.ui_url}/namespaces/default/workflows")
            await page.get_by_test_id("toggle-manual-query").click()
            box = page.get_by_test_id("workflow-manual-search-input")
            await box.fill(query)
            await box.press("Enter")
            # The URL to bookmark or paste into a ticket carries the query.
            await expect(page).to_have_url(re.compile(r"/namespaces/default/workflows\?query="))
            failover_link = page.get_by_role("link", name=result.workflow_id, exact=True)
            await expect(failover_link).to_be_visible(timeout=SHOWN_WITHIN)
            # Only this site's failover: not its monitor, not another test's failovers.
            await expect(page.get_by_role("link", name=re.compile("^failover-"))).to_have_count(1)

            # 2. The failover opens on its timeline: each step is an activity whose summary
            #    names the step and its target, and each one completed.
            await failover_link.click()
            await expect(page).to_have_url(
                re.compile(f"/namespaces/default/workflows/{result.workflow_id}/{run_id}/")
            )
            nameservers = len(bind9.servers)
            for activity, summary in [
                ("check_readiness", "gates: backup ready? backup_api"),
                ("run_hook", "pre_failover hook stop_trading (command)"),
                ("switch_dns", f"switch {DOMAIN} -> {BACKUP}"),
                ("verify_propagation", f"verify {DOMAIN} = {BACKUP} on {nameservers} nameservers"),
            ]:
                step = page.get_by_role("button", name=f"Event {activity}: Completed", exact=True)
                await expect(step).to_have_text(f"{activity} • {summary}", timeout=SHOWN_WITHIN)

            # 3. User Metadata: what it was asked to do (static summary and details) and what it
            #    did (current details: the steps, the outcome last).
            await page.get_by_role("tab", name="User Metadata").click()
            static_summary = markdown_panel(page, "Summary")
            await expect(static_summary.locator("body")).to_have_text(
                f"Failover {site}: {PRIMARY} -> {BACKUP} (planned maintenance)",
                timeout=SHOWN_WITHIN,
            )
            details = markdown_panel(page, "Details")
            await expect(details.get_by_text("Reason: planned maintenance")).to_be_visible()
            done = markdown_panel(page, "Current Details").get_by_role("listitem")
            await expect(done).to_have_text(
                [
                    re.compile(r"^gate backup_api: ok \(healthy"),
                    "hook stop_trading: ok",
                    f"{DOMAIN}: switched ({PRIMARY} -> {BACKUP})",
                    re.compile(rf"^propagation: (\S+ ok, ){{{nameservers - 1}}}\S+ ok$"),
                    "succeeded",
                ]
            )

            # 4. The Parent Workflow link leads to the site's monitor: now on its backup.
            await page.get_by_role("link", name=monitor.id, exact=True).click()
            await page.get_by_role("tab", name="User Metadata").click()
            state = markdown_panel(page, "Current Details").get_by_text("State: failed_over")
            await expect(state).to_be_visible(timeout=SHOWN_WITHIN)
