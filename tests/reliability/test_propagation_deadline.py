"""Propagation that never completes: a real failover (real dev server, production worker path,
BIND9 primary and two secondaries) whose change one more nameserver never confirms.

The switch is written and BIND9's three nameservers have it in milliseconds; a fourth keeps
answering the old address, or does not answer at all (a closed port, datagrams dropped). The
failover must end at its propagation deadline as degraded (written, not confirmed everywhere),
never hang, and tell the operator which nameserver held it back: the result, the monitor's
status, the CLI (exit 1) and the notification all say so.
"""

from __future__ import annotations

import asyncio
import json
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from temporalio.client import Client

from genesis.failover.domain.config import FailoverConfig, parse_config
from genesis.lab.bind9 import Bind9Lab
from genesis.lab.http_target import DemoService
from genesis.lab.ports import free_port
from genesis.lab.temporal_dev import TemporalDevServer
from tests.emulators.nameserver import answering, fake_nameserver
from tests.emulators.slack import SlackReceiver
from tests.integration.conftest import (
    BACKUP,
    DOMAIN,
    PRIMARY,
    TSIG_ENV,
    answers,
    lab_config_data,
    request,
    running_worker,
    wait_status,
)
from tests.support import CLI, write_toml
from tests.temporal_cli import run

pytestmark = pytest.mark.integration

SLACK_ENV = "GENESIS_TEST_SLACK_URL"
DEADLINE = 3  # [propagation] timeout_seconds
POLL = 0.2  # [propagation] poll_interval_seconds: no poll starts that would end past DEADLINE
# Beyond the deadline: the last poll still running (a silent nameserver costs its 2 s query
# budget), the notifications (5 s deadline, Slack answers at once), a CLI process starting.
MARGIN = 12


@pytest.fixture
def make_site(
    dev_server: TemporalDevServer,
    bind9: Bind9Lab,
    primary_service: DemoService,
    task_queue: str,
    slack_receiver: SlackReceiver,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> Callable[..., tuple[FailoverConfig, Path]]:
    """``make_site(*more_nameservers)``: the lab site, its switch confirmed on BIND9's
    nameservers and ``more_nameservers`` within DEADLINE seconds, Slack told; its config and
    the operator's file of it."""
    monkeypatch.setenv(TSIG_ENV, bind9.tsig_secret)
    monkeypatch.setenv(SLACK_ENV, slack_receiver.url)

    def make(*more_nameservers: str) -> tuple[FailoverConfig, Path]:
        data = lab_config_data(dev_server, bind9, primary_service.url, task_queue, site_prefix="pd")
        data["propagation"] = {
            "nameservers": [*bind9.servers, *more_nameservers],
            "timeout_seconds": DEADLINE,
            "poll_interval_seconds": POLL,
        }
        data["notifications"] = {
            "channels": ["slack"],
            "slack": {"webhook_url_env": SLACK_ENV},
            "deadline_seconds": 5,
        }
        config = parse_config(data)
        dumped = config.model_dump(mode="json", exclude_defaults=True)
        return config, write_toml(dumped, tmp_path / "s.toml")

    return make


async def cli(config_file: Path, *args: str) -> Any:
    return await run([CLI, "-c", str(config_file), *args], env=dict(os.environ))


def told(slack: SlackReceiver) -> str:
    """The operation's outcome as Slack received it (the second message; the first said it
    started)."""
    assert len(slack.accepted) == 2, slack.accepted
    return json.dumps(slack.accepted[1])


async def test_a_nameserver_stuck_on_the_old_address_ends_the_failover_degraded_at_its_deadline(
    dev_client: Client,
    bind9: Bind9Lab,
    slack_receiver: SlackReceiver,
    make_site: Callable[..., tuple[FailoverConfig, Path]],
) -> None:
    async with fake_nameserver(answering(PRIMARY)) as (stuck, stuck_ns):
        config, config_file = make_site(stuck)
        async with running_worker(config, dev_client) as handle:
            await wait_status(handle, lambda s: bool(s["records"]))
            asked = time.monotonic()
            done = await cli(config_file, "failover", "--reason", "stuck nameserver")
            took = time.monotonic() - asked
            status = await wait_status(handle, lambda s: s["last_operation"] is not None)
            shown = await cli(config_file, "status")

    # Ended at the deadline, not before it and not long after it.
    assert DEADLINE - POLL <= took < DEADLINE + MARGIN, f"took {took:.1f}s"
    assert stuck_ns.queries >= 2, "asked again until the deadline"
    # The operator running the failover is told: exit 1, the outcome, the nameserver.
    assert done.returncode == 1, (done.stdout, done.stderr)
    out = done.stdout
    assert "failover degraded in" in out, out
    why = f"nameserver {stuck} answers {PRIMARY} for {DOMAIN} A"
    assert (
        f"error: DNS written but not confirmed everywhere within {DEADLINE}s: {DOMAIN} ({why})"
        in out
    ), out
    assert f"  {stuck}: ✗" in out
    assert all(f"  {ns}: ✓" in out for ns in bind9.servers), out
    # Written: BIND9 serves the backup; the stuck nameserver still the primary.
    assert await answers(bind9) == [[BACKUP]] * 3

    # The monitor's status: on the backup, the last operation degraded, naming the nameserver.
    assert status["state"] == "failed_over" and status["records"] == {f"{DOMAIN}/A": "backup"}
    last = status["last_operation"]
    assert (last["outcome"], last["success"]) == ("degraded", False)
    assert why in last["error"]
    assert shown.returncode == 0, shown.stderr
    assert "last operation: failover degraded (manual: stuck nameserver)" in shown.stdout
    assert why in shown.stdout, shown.stdout

    # People are told: degraded, and why.
    slack = told(slack_receiver)
    assert "DEGRADED" in slack and why in slack, slack


async def test_nameservers_that_never_answer_end_the_failover_degraded_at_its_deadline(
    dev_client: Client,
    bind9: Bind9Lab,
    slack_receiver: SlackReceiver,
    make_site: Callable[..., tuple[FailoverConfig, Path]],
) -> None:
    closed = f"127.0.0.1:{free_port()}"  # nothing listens: ICMP port unreachable
    async with fake_nameserver(answering(BACKUP, drop_first=10**6)) as (dropping, dropped):
        config, _ = make_site(closed, dropping)
        async with running_worker(config, dev_client) as handle:
            await wait_status(handle, lambda s: bool(s["records"]))
            asked = time.monotonic()
            result = await asyncio.wait_for(
                request(handle, "failover", reason="silent nameservers"), DEADLINE + MARGIN
            )
            took = time.monotonic() - asked
            status = await wait_status(handle, lambda s: s["last_operation"] is not None)

    assert DEADLINE - POLL <= took < DEADLINE + MARGIN, f"took {took:.1f}s"
    assert dropped.queries >= 3, "every datagram was dropped, not never sent"
    assert (result.outcome, result.success) == ("degraded", False)
    assert result.records[0].action == "switched"
    assert result.propagation == {
        **dict.fromkeys(bind9.servers, True),
        closed: False,
        dropping: False,
    }
    error = result.error or ""
    port = closed.rsplit(":", 1)[1]
    assert f"nameserver {closed} refused the query (nothing listens on port {port})" in error
    assert f"no answer from nameserver {dropping} after 3 tries" in error, error
    assert await answers(bind9) == [[BACKUP]] * 3

    assert status["last_operation"]["outcome"] == "degraded"
    assert closed in status["last_operation"]["error"]
    assert dropping in status["last_operation"]["error"]
    slack = told(slack_receiver)
    assert "DEGRADED" in slack and closed in slack and dropping in slack, slack
