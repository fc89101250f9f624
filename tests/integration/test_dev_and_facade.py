"""The README's first command (`dev --lab`) end to end, and the seed's Python API as written."""

from __future__ import annotations

import asyncio
import json
import os
import sqlite3
import subprocess
import time
import uuid
from pathlib import Path

import httpx
import pytest

from genesis.failover import DNSManager, FailoverCoordinator, HealthCheck, HealthChecker
from genesis.failover.domain.hooks import HookContext
from genesis.lab.bind9 import Bind9Lab, find_named
from genesis.lab.http_target import DemoService
from genesis.lab.ports import free_port
from genesis.lab.temporal_dev import TemporalDevServer
from tests.emulators.pagerduty import PagerDutyReceiver
from tests.emulators.slack import SlackReceiver
from tests.emulators.smtp import SMTPSink
from tests.integration.conftest import BACKUP, DOMAIN, PRIMARY, answers
from tests.support import CLI, dev_banner, interrupt, require, start_dev, write_toml

pytestmark = pytest.mark.integration


def dev_config(tmp: Path, http_port: int, dns_ports: list[int]) -> Path:
    config = {
        "site": {"name": "devtest", "primary_ip": PRIMARY, "backup_ip": BACKUP},
        "checks": [
            {
                "name": "primary_api",
                "check_type": "http",
                "target": f"http://127.0.0.1:{http_port}/health",
                "interval_seconds": 1,
                "timeout_seconds": 0.5,
                "failure_threshold": 2,
            }
        ],
        "dns": {
            "provider": "rfc2136",
            "records": [{"domain": DOMAIN}],
            "rfc2136": {
                "server": f"127.0.0.1:{dns_ports[0]}",
                "zone": "example.test",
                "tsig_key_name": "ddns-key",
                "tsig_secret_env": "GENESIS_DEVTEST_TSIG",
            },
        },
        "propagation": {
            "nameservers": [f"127.0.0.1:{p}" for p in dns_ports],
            "timeout_seconds": 10,
        },
    }
    return write_toml(config, tmp / "lab.toml")


def test_dev_lab_runs_a_real_failover_and_ctrl_c_stops_everything(tmp_path: Path) -> None:
    require(find_named(), "BIND9 (named, Debian package bind9)")
    http_port = free_port()
    dns_ports = [free_port(), free_port(), free_port()]
    config = dev_config(tmp_path, http_port, dns_ports)
    env = {k: v for k, v in os.environ.items() if k != "GENESIS_DEVTEST_TSIG"}
    proc = start_dev(config, tmp_path / "data", env, "--lab")
    try:
        address, ui = None, None
        lines = dev_banner(proc)
        for line in lines:
            if line.startswith("Temporal "):
                parts = line.split()
                address, ui = parts[1], parts[-1]
        assert address and ui, "".join(lines)
        assert httpx.get(ui, timeout=10).status_code == 200, "the Web UI answers"

        status_env = {**env, "TEMPORAL_ADDRESS": address}

        def status() -> dict:
            out = subprocess.run(
                [CLI, "-c", str(config), "status", "--json"],
                capture_output=True,
                text=True,
                env=status_env,
                timeout=30,
                check=False,
            )
            assert out.returncode == 0, out.stderr
            return json.loads(out.stdout)

        assert status()["state"] == "normal"
        httpx.post(f"http://127.0.0.1:{http_port}/down", timeout=5)
        deadline = time.monotonic() + 30
        while status()["state"] != "failed_over":
            assert time.monotonic() < deadline, "no failover within 30 s"
            time.sleep(0.5)
        lab = Bind9Lab(
            tmp_path / "unused",
            zone="example.test.",
            primary_port=dns_ports[0],
            secondary_ports=dns_ports[1:],
        )
        assert asyncio.run(answers(lab)) == [[BACKUP]] * 3
    finally:
        code = interrupt(proc)
    assert code == 0
    # Everything it started is gone: the dev server's port and every nameserver port are free.
    port = int(address.rsplit(":", 1)[1])
    for p in [port, *dns_ports, http_port]:
        with __import__("socket").socket() as s:
            assert s.connect_ex(("127.0.0.1", p)) != 0, f"port {p} still answers after Ctrl-C"


async def test_the_seed_python_api(
    dev_server: TemporalDevServer,
    bind9: Bind9Lab,
    primary_service: DemoService,
    task_queue: str,
    tmp_path: Path,
    smtp_sink: SMTPSink,
    slack_receiver: SlackReceiver,
    pagerduty_receiver: PagerDutyReceiver,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The seed's three channels, delivered: their settings and secrets as an operator gives them.
    monkeypatch.setenv("SLACK_WEBHOOK_URL", slack_receiver.url)
    monkeypatch.setenv("PAGERDUTY_ROUTING_KEY", "seedroutingkey0123456789abcdef01")
    db = tmp_path / "genesis.db"
    sqlite3.connect(db).execute("CREATE TABLE t (x)").connection.close()
    health_checker = HealthChecker()
    health_checker.add_check(
        HealthCheck(
            name="primary_api",
            check_type="http",
            target=primary_service.url,
            interval_seconds=1,
            timeout_seconds=1,
            failure_threshold=3,
        )
    )
    # The seed's dict form (PRODUCTION_CHECKS) works too.
    health_checker.add_check(
        {
            "name": "primary_db",
            "type": "database",
            "target": str(db),
            "interval": 1,
            "timeout": 1,
            "threshold": 3,
        }
    )
    dns_manager = DNSManager(
        provider="rfc2136",
        server=bind9.primary,
        zone="example.test",
        tsig_key_name=bind9.tsig_key_name,
        tsig_secret=bind9.tsig_secret,
    )
    coordinator = FailoverCoordinator(
        health_checker=health_checker,
        dns_manager=dns_manager,
        notification_channels=["email", "slack", "pagerduty"],
        site=f"seed-{uuid.uuid4().hex[:6]}",
        primary_ip=PRIMARY,
        backup_ip=BACKUP,
        records=[DOMAIN],
        nameservers=bind9.servers,
        temporal_address=dev_server.address,
        task_queue=task_queue,
        # The seed checks overall_health and fails back at once: no healthy window here.
        policy={"failback_healthy_seconds": 0},
        notifications={
            "email": {
                "smtp_host": smtp_sink.host,
                "smtp_port": smtp_sink.port,
                "ca_file": smtp_sink.ca_file,
                "sender": "failover@example.test",
                "recipients": ["oncall@example.test"],
            },
            "pagerduty": {"events_url": pagerduty_receiver.url},
        },
    )
    calls: list[object] = []

    async def stop_trading() -> None:
        calls.append("stop_trading")

    def verify_services(ctx: HookContext) -> str:
        calls.append(("verify_services", ctx.direction, ctx.to_ip))
        return "services verified"

    coordinator.register_pre_failover_hook(stop_trading)
    coordinator.register_post_failover_hook(verify_services)
    await coordinator.start_monitoring()
    try:
        result = await coordinator.execute_failover(reason="Planned maintenance", dry_run=True)
        assert result["success"] and result["dry_run"]
        assert calls == [] and await answers(bind9) == [[PRIMARY]] * 3

        result = await coordinator.execute_failover(reason="Planned maintenance", dry_run=False)
        assert result["success"], result
        assert result["duration_seconds"] > 0
        assert calls == ["stop_trading", ("verify_services", "failover", BACKUP)]
        assert result["hooks"][1]["output"] == "services verified"
        assert await answers(bind9) == [[BACKUP]] * 3
        # notification_channels=["email", "slack", "pagerduty"]: each was told, twice.
        assert {(n["channel"], n["event"], n["ok"]) for n in result["notifications"]} == {
            (c, e, True)
            for c in ("email", "slack", "pagerduty")
            for e in ("failover_started", "failover_succeeded")
        }
        assert len(smtp_sink.messages) == 2 and len(slack_receiver.requests) == 2
        assert [e["event_action"] for e in pagerduty_receiver.events] == ["trigger", "resolve"]
        status = coordinator.get_status()
        assert status["state"] == "failed_over" and status["failover_count"] == 1
        assert status["last_failover"] is not None

        health_status = coordinator.health_checker.get_status()
        assert health_status["total_checks"] == 2
        if health_status["overall_health"]:
            back = await coordinator.execute_failback(dry_run=False)
            assert back["success"], back
        assert await answers(bind9) == [[PRIMARY]] * 3
        again = await coordinator.execute_failback()
        assert again["success"] is False and again["reason"] == "not_failed_over"

        # DNSManager on its own, as the seed shows it.
        assert await dns_manager.failover_dns(
            domain=DOMAIN, from_ip=PRIMARY, to_ip=BACKUP, record_type="A"
        )
        writes = bind9.updates_applied()
        assert await dns_manager.failover_dns(domain=DOMAIN, from_ip=PRIMARY, to_ip=BACKUP)
        assert bind9.updates_applied() == writes, "a record at the target is not written again"
        propagation = await dns_manager.verify_dns_propagation(
            domain=DOMAIN, expected_ip=BACKUP, nameservers=bind9.servers
        )
        assert propagation == {ns: True for ns in bind9.servers}
        assert not await dns_manager.failover_dns(
            domain=DOMAIN, from_ip=PRIMARY, to_ip="198.51.100.9"
        ), "a record at neither value is refused"
        assert await answers(bind9) == [[BACKUP]] * 3
    finally:
        await coordinator.stop_monitoring()
        client = await coordinator.client()
        await client.get_workflow_handle(f"failover-monitor-{coordinator.site}").terminate()
