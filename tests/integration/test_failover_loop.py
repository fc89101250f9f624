"""The failover loop end to end: real dev server, real BIND9 (primary + 2 secondaries), a real
HTTP primary, the production worker path, the real CLI and the real `temporal` command."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from temporalio.client import Client

from genesis.failover.domain.config import FailoverConfig, monitor_workflow_id
from genesis.lab.bind9 import Bind9Lab
from genesis.lab.http_target import DemoService
from genesis.lab.temporal_dev import TemporalDevServer
from tests.integration.conftest import (
    BACKUP,
    PRIMARY,
    TSIG_ENV,
    answers,
    running_worker,
    wait_status,
)
from tests.support import CLI, write_toml
from tests.temporal_cli import history_text, run, temporal

pytestmark = pytest.mark.integration


def write_config(config: FailoverConfig, path: Path) -> Path:
    """The config as a TOML file for the CLI."""
    return write_toml(config.model_dump(mode="json", exclude_defaults=True), path)


async def run_cli(*args: str, env_secret: str) -> subprocess.CompletedProcess[str]:
    return await run([CLI, *args], env={**os.environ, TSIG_ENV: env_secret})


async def test_primary_dies_dns_moves_on_every_nameserver_then_cooldown_failback_and_signal(
    dev_server: TemporalDevServer,
    dev_client: Client,
    bind9: Bind9Lab,
    primary_service: DemoService,
    make_config: Callable[..., FailoverConfig],
    tmp_path: Path,
) -> None:
    # No failback window: the operator's failback right after recovery is the point here (the
    # window has its own tests in tests/workflows/test_monitor_workflow.py).
    config = make_config(primary_service.url, failback_healthy_seconds=0)
    config_file = write_config(config, tmp_path / "site.toml")
    wid = monitor_workflow_id(config.site.name)
    async with running_worker(config, dev_client) as handle:
        await wait_status(
            handle, lambda s: s["health"]["checks"]["primary_api"]["total_probes"] >= 2
        )
        assert await answers(bind9) == [[PRIMARY]] * 3

        # 1. The primary dies: after three failed probes DNS moves, on all three nameservers.
        host, port = primary_service.host, primary_service.port
        primary_service.stop()
        status = await wait_status(handle, lambda s: s["state"] == "failed_over")
        assert await answers(bind9) == [[BACKUP]] * 3
        assert status["failover_count"] == 1
        assert status["records"] == {"genesis.example.test/A": "backup"}
        op = status["last_operation"]
        assert op["outcome"] == "succeeded" and op["trigger"] == "automatic"
        assert "primary_api unhealthy" in op["reason"]
        assert bind9.updates_applied() == 1

        # 2. The primary comes back; the operator fails back with the real CLI.
        revived = DemoService(host, port).start()
        try:
            await wait_status(handle, lambda s: s["health"]["checks"]["primary_api"]["is_healthy"])
            done = await run_cli(
                "-c", str(config_file), "failback", "--json", env_secret=bind9.tsig_secret
            )
            assert done.returncode == 0, done.stderr
            result = json.loads(done.stdout)
            assert result["success"] and result["direction"] == "failback"
            assert all(result["propagation"].values()) and len(result["propagation"]) == 3
            assert await answers(bind9) == [[PRIMARY]] * 3
        finally:
            revived.stop()

        # 3. A second outage inside the 5-minute cooldown does not fail over again.
        status = await wait_status(
            handle, lambda s: (s["last_refusal"] or {}).get("reason") == "cooldown"
        )
        assert status["state"] == "normal" and status["failover_count"] == 1
        assert not status["health"]["checks"]["primary_api"]["is_healthy"]
        assert await answers(bind9) == [[PRIMARY]] * 3
        refused = await run_cli(
            "-c", str(config_file), "failover", "--reason", "x", env_secret=bind9.tsig_secret
        )
        assert refused.returncode == 1 and "cooldown" in refused.stderr

        # 4. The operator overrides with `temporal workflow signal`, as the runbook says.
        payload = {"reason": "operator via temporal CLI", "dry_run": False, "force": True}
        signal = await temporal(
            dev_server,
            "workflow",
            "signal",
            "--workflow-id",
            wid,
            "--name",
            "manual_failover",
            "--input",
            json.dumps(payload),
        )
        assert signal.returncode == 0, signal.stderr
        status = await wait_status(handle, lambda s: s["failover_count"] == 2)
        status = await wait_status(handle, lambda s: s["state"] == "failed_over")
        assert status["last_operation"]["reason"] == "operator via temporal CLI"
        assert status["last_operation"]["trigger"] == "manual"
        assert await answers(bind9) == [[BACKUP]] * 3
        assert bind9.updates_applied() == 3, "each switch wrote exactly once"

        # The TSIG secret is nowhere in what Temporal stored or the CLI printed.
        for workflow_id in (wid, f"failover-{config.site.name}-switch"):
            shown = await temporal(
                dev_server, "workflow", "show", "--workflow-id", workflow_id, "-o", "json"
            )
            assert shown.returncode == 0, shown.stderr
            text = history_text(shown.stdout)
            assert "192.0.2.20" in text, "payloads were decoded"
            assert bind9.tsig_secret not in text
        assert bind9.tsig_secret not in done.stdout + done.stderr + refused.stderr

        history = await run_cli("-c", str(config_file), "history", "--json", env_secret="")
        assert history.returncode == 0, history.stderr
        assert [h["direction"] for h in json.loads(history.stdout)] == [
            "failover",
            "failback",
            "failover",
        ]


async def test_dry_run_through_the_cli_writes_nothing_and_shows_the_plan(
    dev_client: Client,
    bind9: Bind9Lab,
    primary_service: DemoService,
    make_config: Callable[..., FailoverConfig],
    tmp_path: Path,
) -> None:
    config = make_config(primary_service.url)
    config_file = write_config(config, tmp_path / "site.toml")
    async with running_worker(config, dev_client):
        done = await run_cli(
            "-c",
            str(config_file),
            "failover",
            "--reason",
            "rehearsal",
            "--dry-run",
            "--json",
            env_secret=bind9.tsig_secret,
        )
        assert done.returncode == 0, done.stderr
        result = json.loads(done.stdout)
        assert result["dry_run"] and result["outcome"] == "dry_run"
        plan = result["plan"]
        assert plan["records"][0]["before"] == [PRIMARY]
        assert plan["records"][0]["target"] == BACKUP
        assert plan["nameservers"] == bind9.servers
        assert bind9.updates_applied() == 0
        assert await answers(bind9) == [[PRIMARY]] * 3
        assert bind9.tsig_secret not in done.stdout + done.stderr
