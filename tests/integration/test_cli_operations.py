"""The operator's commands against a live site: the real `genesis-failover` script (a subprocess,
as an operator runs it) against the real dev server, a real BIND9 primary with two secondaries,
real HTTP primary and backup services and the production worker path.

`failover` and `failback` show each step as it completes and each nameserver as it confirms,
then the summary; `drill` reports both directions and exits 0 or 1; `status` and `history` say
what an on-call engineer needs, in text and in JSON.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import sys
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import dns.message
import dns.rrset
import pytest
from temporalio.client import Client

from genesis.failover.domain.config import FailoverConfig, failover_workflow_id, parse_config
from genesis.lab.bind9 import Bind9Lab
from genesis.lab.http_target import DemoService
from genesis.lab.ports import free_port
from genesis.lab.temporal_dev import TemporalDevServer
from tests.integration.conftest import (
    BACKUP,
    DOMAIN,
    PRIMARY,
    TSIG_ENV,
    answers,
    lab_config_data,
    running_worker,
    wait_status,
)
from tests.support import CLI, write_toml
from tests.temporal_cli import run

pytestmark = pytest.mark.integration
ANSI = "\033["


class LaggingNameserver(asyncio.DatagramProtocol):
    """A nameserver that is slow to see a change, like a distant secondary: after ``expect`` it
    answers ``old`` until the test calls ``catch_up`` (or at once if ``lagging`` is False)."""

    def __init__(self) -> None:
        self.old = self.new = PRIMARY
        self.caught_up = True
        self.transport: asyncio.DatagramTransport | None = None

    def expect(self, new: str, *, old: str, lagging: bool = True) -> None:
        self.old, self.new, self.caught_up = old, new, not lagging

    def catch_up(self) -> None:
        self.caught_up = True

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]  # a datagram transport

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        query = dns.message.from_wire(data)
        response = dns.message.make_response(query)
        value = self.new if self.caught_up else self.old
        response.answer.append(dns.rrset.from_text(query.question[0].name, 60, "IN", "A", value))
        if self.transport is not None:
            self.transport.sendto(response.to_wire(), addr)


@pytest.fixture
async def lagging() -> AsyncIterator[tuple[str, LaggingNameserver]]:
    port = free_port()
    transport, server = await asyncio.get_running_loop().create_datagram_endpoint(
        LaggingNameserver, local_addr=("127.0.0.1", port)
    )
    try:
        yield f"127.0.0.1:{port}", server
    finally:
        transport.close()


Site = Callable[..., tuple[FailoverConfig, Path]]


@pytest.fixture
def make_site(
    dev_server: TemporalDevServer,
    bind9: Bind9Lab,
    task_queue: str,
    primary_service: DemoService,
    backup_service: DemoService,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> Site:
    """A site with a readiness gate (the backup's API), a pre- and a post-failover hook, and
    BIND9's three nameservers (and any ``more``) to confirm each switch; its config and the
    operator's TOML file of it."""
    monkeypatch.setenv(TSIG_ENV, bind9.tsig_secret)  # the worker's environment

    def say(text: str) -> list[str]:
        return [sys.executable, "-c", f"print({text!r})"]

    def make(more_nameservers: tuple[str, ...] = ()) -> tuple[FailoverConfig, Path]:
        data = lab_config_data(
            dev_server,
            bind9,
            primary_service.url,
            task_queue,
            site_prefix="cli",
            failback_healthy_seconds=0,
        )
        data |= {
            "propagation": {
                "nameservers": [*bind9.servers, *more_nameservers],
                "timeout_seconds": 10,
                "poll_interval_seconds": 0.2,
            },
            "gates": {
                "backup_checks": [
                    {
                        "name": "backup_api",
                        "type": "http",
                        "target": backup_service.url,
                        "timeout": 1,
                    }
                ],
                "attempts": 1,
            },
            "hooks": {
                "pre_failover": [{"name": "stop_trading", "command": say("trading halted")}],
                "post_failover": [{"name": "verify_services", "command": say("services verified")}],
            },
        }
        config = parse_config(data)
        path = write_toml(
            config.model_dump(mode="json", exclude_defaults=True), tmp_path / "s.toml"
        )
        return config, path

    return make


async def cli(config_file: Path, bind9: Bind9Lab, *args: str) -> Any:
    # NO_COLOR unset and no terminal: the output must carry no colour codes all the same.
    env = {k: v for k, v in os.environ.items() if k != "NO_COLOR"}
    return await run([CLI, "-c", str(config_file), *args], env={**env, TSIG_ENV: bind9.tsig_secret})


def in_order(text: str, *parts: str) -> list[int]:
    """The positions of ``parts`` in ``text``, each found after the one before it."""
    positions, start = [], 0
    for part in parts:
        at = text.find(part, start)
        assert at >= 0, f"{part!r} not found after position {start} in:\n{text}"
        positions.append(at)
        start = at + len(part)
    return positions


def seconds_of(text: str, line_part: str) -> float:
    """The seconds a progress line was printed at ("   1.7s ✓ nameserver ...")."""
    line = next(line for line in text.splitlines() if line_part in line)
    match = re.match(r"\s*([0-9.]+)s ", line)
    assert match, line
    return float(match.group(1))


async def test_failover_and_failback_show_their_progress_then_status_and_history(
    dev_client: Client,
    bind9: Bind9Lab,
    make_site: Site,
    lagging: tuple[str, LaggingNameserver],
) -> None:
    slow_ns, slow = lagging
    config, config_file = make_site((slow_ns,))
    nameservers = [*bind9.servers, slow_ns]
    async with running_worker(config, dev_client) as handle:
        await wait_status(
            handle, lambda s: s["records"] and s["health"]["checks"]["primary_api"]["total_probes"]
        )

        # BIND9's nameservers have the change in milliseconds; the fourth lags behind them.
        slow.expect(BACKUP, old=PRIMARY)
        failing_over = asyncio.create_task(
            cli(config_file, bind9, "failover", "--reason", "cli progress test")
        )
        # Meanwhile `status` shows the operation running and the steps it has taken so far.
        await wait_status(handle, lambda s: s["current_operation"] is not None, within=5)
        during = await cli(config_file, bind9, "status")
        await asyncio.sleep(0.5)
        slow.catch_up()
        done = await failing_over
        assert during.returncode == 0, (during.stdout, during.stderr)
        in_order(
            during.stdout,
            "RUNNING: failover (manual: cli progress test) started",
            "  - gate backup_api: ok",
            "  - hook stop_trading: ok",
            f"  - {DOMAIN}: switched ({PRIMARY} -> {BACKUP})",
            "CHECK",
        )
        assert done.returncode == 0, (done.stdout, done.stderr)
        out = done.stdout
        assert ANSI not in out
        # Steps as they completed, each nameserver as it confirmed, then the summary.
        in_order(
            out,
            "failover of site",
            "gate backup_api: ok",
            "hook stop_trading: ok",
            f"{DOMAIN}: switched ({PRIMARY} -> {BACKUP})",
            *(f"nameserver {ns} answers {BACKUP} for {DOMAIN}" for ns in nameservers),
            "hook verify_services: ok",
            "succeeded",
            "failover succeeded in",
        )
        progress = out[: out.index("failover succeeded in")]
        assert progress.count("✓") == 9 and "propagation: " not in progress
        # The quick ones were shown while the slow one was still being asked (the running
        # activity's heartbeat), not all together at the end.
        quick = max(seconds_of(out, f"nameserver {ns} ") for ns in bind9.servers)
        assert seconds_of(out, f"nameserver {slow_ns} ") - quick >= 0.5, out
        assert await answers(bind9) == [[BACKUP]] * 3

        # With --json the progress goes to stderr and stdout is the result alone.
        slow.expect(PRIMARY, old=BACKUP, lagging=False)
        back = await cli(config_file, bind9, "failback", "--reason", "primary fixed", "--json")
        assert back.returncode == 0, (back.stdout, back.stderr)
        result = json.loads(back.stdout)
        assert result["direction"] == "failback" and result["outcome"] == "succeeded"
        assert result["propagation"] == dict.fromkeys(nameservers, True)
        in_order(
            back.stderr,
            "failback of site",
            "gate primary_api: ok",
            f"{DOMAIN}: switched ({BACKUP} -> {PRIMARY})",
            *(f"nameserver {ns} answers {PRIMARY} for {DOMAIN}" for ns in nameservers),
            "succeeded",
        )
        assert await answers(bind9) == [[PRIMARY]] * 3

        status_json, status, history, history_json = await asyncio.gather(
            cli(config_file, bind9, "status", "--json"),
            cli(config_file, bind9, "status"),
            cli(config_file, bind9, "history"),
            cli(config_file, bind9, "history", "--json", "--limit", "1"),
        )
    for shown in (status_json, status, history, history_json):
        assert shown.returncode == 0, (shown.stdout, shown.stderr)

    s = json.loads(status_json.stdout)
    # The seed's status shape, extended.
    assert s["state"] == "normal" and s["failover_count"] == 1 and s["last_failover"]
    assert s["cooldown_remaining_seconds"] > 0 and s["failovers_left_today"] == 4
    check = s["health"]["checks"]["primary_api"]
    assert check["is_healthy"] and check["last_error"] is None and check["last_checked"]
    assert s["records"] == {f"{DOMAIN}/A": "primary"}
    assert s["last_operation"]["direction"] == "failback"

    text = status.stdout
    assert ANSI not in text
    assert f"state NORMAL  traffic on the PRIMARY {PRIMARY}" in text
    assert re.search(r"cooldown: [45]m [0-9]+s left", text), text
    assert "failovers left today: 4 (1 in the last 24 h" in text
    assert "last operation: failback succeeded (manual: primary fixed)" in text
    row = next(line for line in text.splitlines() if line.startswith("primary_api"))
    assert row.split()[:4] == ["primary_api", "healthy", "yes", "0/3"] and " ago " in row

    # History: each operation with its trigger and outcome, and the run id to open it with.
    wid = failover_workflow_id(config.site.name)
    runs = {w.run_id async for w in dev_client.list_workflows(f"WorkflowId = '{wid}'")}
    rows = [line.split() for line in history.stdout.splitlines()[1:3]]
    assert [r[2:5] for r in rows] == [
        ["failover", "manual", "succeeded"],
        ["failback", "manual", "succeeded"],
    ]
    assert [r[6:8] for r in rows] == [["1", "switched"]] * 2
    assert {r[8] for r in rows} == runs and len(runs) == 2
    assert history.stdout.splitlines()[1].endswith("cli progress test")
    assert f"temporal workflow show --workflow-id {wid} --run-id RUN_ID" in history.stdout

    (last,) = json.loads(history_json.stdout)
    assert last["direction"] == "failback" and last["trigger"] == "manual"
    assert last["outcome"] == "succeeded" and last["records"] == {DOMAIN: "switched"}
    assert last["run_id"] in runs and last["duration_seconds"] > 0


async def test_drill_reports_both_directions_and_fails_when_a_gate_would_abort(
    dev_client: Client,
    bind9: Bind9Lab,
    backup_service: DemoService,
    make_site: Site,
) -> None:
    config, config_file = make_site()
    async with running_worker(config, dev_client) as handle:
        await wait_status(
            handle, lambda s: s["records"] and s["health"]["checks"]["primary_api"]["total_probes"]
        )

        drill = await cli(config_file, bind9, "drill")
        assert drill.returncode == 0, (drill.stdout, drill.stderr)
        out = drill.stdout
        in_order(
            out,
            # progress, both directions
            "drill failover of site",
            "gate backup_api: ok",
            "hook stop_trading: would run",
            f"{DOMAIN}: would_switch",
            "drill failback of site",
            "gate primary_api: ok",
            # the report
            f"FAILOVER  {PRIMARY} -> {BACKUP}  (trigger drill",
            "backup_api (backup_check): ok",
            "stop_trading (pre_failover): would run",
            "verify_services (post_failover): would run",
            f"{DOMAIN} A at rfc2136: now {PRIMARY}, would write {BACKUP}",
            "would verify on: " + ", ".join(bind9.servers),
            "verdict: would succeed",
            f"FAILBACK  {BACKUP} -> {PRIMARY}  (trigger drill",
            "primary_api (primary_check): ok",
            f"now {PRIMARY}, already on the primary; after a real failover it would read "
            f"{BACKUP} and write {PRIMARY}",
            "verdict: would succeed",
            "DRILL PASSED",
        )
        assert bind9.updates_applied() == 0 and await answers(bind9) == [[PRIMARY]] * 3

        # The backup goes away: the failover's readiness gate would abort, the drill says so.
        backup_service.stop()
        # One operation at a time per site: one drill after the other.
        failed = await cli(config_file, bind9, "drill", "--reason", "drill with the backup down")
        as_json = await cli(config_file, bind9, "drill", "--json")
        assert failed.returncode == 1, (failed.stdout, failed.stderr)
        assert "gate backup_api: FAILED" in failed.stdout
        verdict = failed.stdout.splitlines()[-1]
        assert (
            verdict.startswith("DRILL FAILED: failover would abort: ") and "backup_api" in verdict
        )

        assert as_json.returncode == 1, (as_json.stdout, as_json.stderr)
        report = json.loads(as_json.stdout)
        assert report["passed"] is False and report["verdict"] == "failed"
        assert report["failover"]["trigger"] == report["failback"]["trigger"] == "drill"
        assert report["failback"]["success"] is True
        assert "backup_api" in report["problems"][0] and len(report["problems"]) == 1
        assert "gate backup_api: FAILED" in as_json.stderr

        # Drills change nothing: no failover counted, no cooldown.
        status = await handle.query("status")
        assert status["failover_count"] == 0 and status["cooldown_remaining_seconds"] == 0
        history = await cli(config_file, bind9, "history", "--json")
        assert history.returncode == 0, history.stderr
        items = json.loads(history.stdout)
        assert {i["trigger"] for i in items} == {"drill"} and len(items) == 6
        assert {i["outcome"] for i in items} == {"dry_run"}
    assert bind9.updates_applied() == 0
