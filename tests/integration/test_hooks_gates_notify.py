"""Hooks, readiness gates and notifications in a real failover: the real dev server, a real BIND9,
real HTTP primary and backup services, a real SMTP server (aiosmtpd, STARTTLS with its own CA and
AUTH), loopback Slack and PagerDuty receivers that check the documented payloads, a loopback
webhook receiver and real command hooks, all through the production worker path."""

from __future__ import annotations

import json
import sqlite3
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from temporalio.client import Client

from genesis.failover.domain.config import FailoverConfig, failover_workflow_id, parse_config
from genesis.lab.bind9 import Bind9Lab
from genesis.lab.http_target import DemoService
from genesis.lab.temporal_dev import TemporalDevServer
from tests.emulators.pagerduty import PagerDutyReceiver
from tests.emulators.slack import SlackReceiver
from tests.emulators.smtp import SMTPSink
from tests.emulators.webhook_receiver import WebhookReceiver
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
from tests.temporal_cli import history_text, temporal

pytestmark = pytest.mark.integration

SMTP_USER, SMTP_PASSWORD = "failover", "smtp-pa55word-never-shown"
ROUTING_KEY = "R0UT1NGKEYdeadbeefdeadbeefdeadbe"
BEARER = "bearer-token-never-shown-4c1d"
# A hook script that writes what it was told (its environment) where the test can read it.
RECORDER = """
import json, os, sys
out = sys.argv[1]
with open(out, "a") as f:
    f.write(json.dumps({k: v for k, v in os.environ.items()}) + "\\n")
print("hook saw", os.environ.get("GENESIS_DIRECTION"), os.environ.get("GENESIS_TO_IP"))
print("token in env:", os.environ.get("DO_API_TOKEN", "absent"))
"""


@pytest.fixture
def webhook() -> Iterator[WebhookReceiver]:
    # The path carries the receiver's own secret, as real webhook URLs do.
    with WebhookReceiver(path="/hooks/T0KEN-in-the-path-0123456789") as receiver:
        yield receiver


class Site:
    """One site's config and every outside party it talks to."""

    def __init__(self, config: FailoverConfig, tmp: Path, lag_db: Path) -> None:
        self.config = config
        self.tmp = tmp
        self.lag_db = lag_db

    def set_lag(self, seconds: float) -> None:
        with sqlite3.connect(self.lag_db) as db:
            db.execute("UPDATE replication SET lag_seconds = ?", (seconds,))

    def hook_runs(self, name: str) -> list[dict[str, str]]:
        path = self.tmp / f"{name}.jsonl"
        if not path.exists():
            return []
        return [json.loads(line) for line in path.read_text().splitlines()]


@pytest.fixture
def make_site(
    dev_server: TemporalDevServer,
    bind9: Bind9Lab,
    task_queue: str,
    primary_service: DemoService,
    backup_service: DemoService,
    smtp_sink: SMTPSink,
    slack_receiver: SlackReceiver,
    pagerduty_receiver: PagerDutyReceiver,
    webhook: WebhookReceiver,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> Callable[..., Site]:
    monkeypatch.setenv(TSIG_ENV, bind9.tsig_secret)
    monkeypatch.setenv("GFO_SMTP_USER", SMTP_USER)
    monkeypatch.setenv("GFO_SMTP_PASSWORD", SMTP_PASSWORD)
    monkeypatch.setenv("GFO_SLACK_URL", slack_receiver.url)
    monkeypatch.setenv("GFO_PD_KEY", ROUTING_KEY)
    monkeypatch.setenv("GFO_ANNOUNCE_URL", webhook.url)
    monkeypatch.setenv("GFO_ANNOUNCE_TOKEN", BEARER)
    # In the worker's environment, and never to be seen by a command hook.
    monkeypatch.setenv("DO_API_TOKEN", "do-token-the-hooks-must-not-see")
    smtp_sink.require_auth(SMTP_USER, SMTP_PASSWORD)
    recorder = tmp_path / "recorder.py"
    recorder.write_text(RECORDER)
    lag_db = tmp_path / "replica.db"
    with sqlite3.connect(lag_db) as db:
        db.execute("CREATE TABLE replication (lag_seconds REAL)")
        db.execute("INSERT INTO replication VALUES (2.5)")

    def command(name: str) -> list[str]:
        return [sys.executable, str(recorder), str(tmp_path / f"{name}.jsonl")]

    def make(*, hooks: dict[str, Any] | None = None, **policy: Any) -> Site:
        data = lab_config_data(
            dev_server,
            bind9,
            primary_service.url,
            task_queue,
            site_prefix="hg",
            **{"failback_healthy_seconds": 0, **policy},
        )
        data |= {
            "gates": {
                "backup_checks": [
                    {
                        "name": "backup_api",
                        "type": "http",
                        "target": backup_service.url,
                        "timeout": 1,
                    },
                ],
                "replication_lag": {
                    "target": str(lag_db),
                    "query": "SELECT lag_seconds FROM replication",
                    "max_value": 30,
                },
                "retry_interval_seconds": 0.2,
            },
            "hooks": hooks
            if hooks is not None
            else {
                "pre_failover": [{"name": "stop_trading", "command": command("stop_trading")}],
                "post_failover": [
                    {
                        "name": "announce",
                        "webhook_url_env": "GFO_ANNOUNCE_URL",
                        "bearer_token_env": "GFO_ANNOUNCE_TOKEN",
                        "max_attempts": 2,
                        "retry_interval_seconds": 0.2,
                    },
                ],
                "on_failure": [{"name": "page_humans", "command": command("page_humans")}],
            },
            "notifications": {
                "channels": ["email", "slack", "pagerduty"],
                "email": {
                    "smtp_host": smtp_sink.host,
                    "smtp_port": smtp_sink.port,
                    "security": "starttls",
                    "ca_file": smtp_sink.ca_file,
                    "username_env": "GFO_SMTP_USER",
                    "password_env": "GFO_SMTP_PASSWORD",
                    "sender": "failover@example.test",
                    "recipients": ["oncall@example.test", "sre@example.test"],
                },
                "slack": {"webhook_url_env": "GFO_SLACK_URL"},
                "pagerduty": {
                    "routing_key_env": "GFO_PD_KEY",
                    "events_url": pagerduty_receiver.url,
                },
                "deadline_seconds": 5,
            },
        }
        return Site(parse_config(data), tmp_path, lag_db)

    return make


SECRETS = (SMTP_PASSWORD, ROUTING_KEY, BEARER, "T0KEN-in-the-path-0123456789", "do-token-the-hooks")


async def histories(dev_server: TemporalDevServer, site: Site) -> str:
    texts = []
    for wid in (
        f"failover-monitor-{site.config.site.name}",
        failover_workflow_id(site.config.site.name),
    ):
        shown = await temporal(dev_server, "workflow", "show", "--workflow-id", wid, "-o", "json")
        assert shown.returncode == 0, shown.stderr
        texts.append(history_text(shown.stdout))
    return "\n".join(texts)


async def test_a_failover_runs_gates_hooks_and_tells_every_channel(
    dev_server: TemporalDevServer,
    dev_client: Client,
    bind9: Bind9Lab,
    make_site: Callable[..., Site],
    smtp_sink: SMTPSink,
    slack_receiver: SlackReceiver,
    pagerduty_receiver: PagerDutyReceiver,
    webhook: WebhookReceiver,
    caplog: pytest.LogCaptureFixture,
) -> None:
    site = make_site()
    webhook.answer(500, b"receiver busy")  # the webhook fails once, then takes it
    async with running_worker(site.config, dev_client) as handle:
        asked = time.monotonic()
        result = await request(handle, "failover", reason="planned maintenance")
        answered = time.monotonic() - asked
        assert result.outcome == "succeeded", result.error
        assert await answers(bind9) == [[BACKUP]] * 3
        # Numbers for the record (pytest -s): the failover itself, and until the update's
        # answer, which also waits for the notifications to be delivered.
        print(
            f"\nfailover with 2 gates, 2 hooks (one retried), 6 notifications: "
            f"{result.duration_seconds:.2f}s to the outcome, {answered:.2f}s to the answer"
        )

        # Gates asked first, with what they measured.
        assert [(g.name, g.kind, g.ok) for g in result.gates] == [
            ("backup_api", "backup_check", True),
            ("replication_lag", "replication_lag", True),
        ]
        assert result.gates[1].value == 2.5 and result.gates[1].limit == 30

        # The command hook got the context as environment, and nothing of the worker's secrets.
        (seen,) = site.hook_runs("stop_trading")
        assert seen["GENESIS_SITE"] == site.config.site.name
        assert (seen["GENESIS_DIRECTION"], seen["GENESIS_FROM_IP"], seen["GENESIS_TO_IP"]) == (
            "failover",
            PRIMARY,
            BACKUP,
        )
        assert seen["GENESIS_REASON"] == "planned maintenance"
        assert seen["GENESIS_FAILOVER_ID"] == result.workflow_id
        assert "DO_API_TOKEN" not in seen and TSIG_ENV not in seen
        pre = result.hooks[0]
        assert pre.ok and "hook saw failover " + BACKUP in (pre.output or "")

        # The webhook: a 500, then the retry delivered the documented JSON with its headers.
        assert [h.name for h in result.hooks] == ["stop_trading", "announce"] and result.hooks[1].ok
        assert len(webhook.requests) == 2
        delivered = webhook.requests[-1]
        body = delivered.json()
        assert (body["hook"], body["phase"], body["to_ip"]) == ("announce", "post_failover", BACKUP)
        assert delivered.headers["authorization"] == f"Bearer {BEARER}"
        assert (
            delivered.headers["idempotency-key"] == webhook.requests[0].headers["idempotency-key"]
        )

        # Every channel took both events (channels run side by side; each in its own order).
        assert sorted((n.channel, n.event, n.ok) for n in result.notifications) == sorted(
            (c, e, True)
            for e in ("failover_started", "failover_succeeded")
            for c in ("email", "slack", "pagerduty")
        )
        mails = smtp_sink.messages
        assert len(mails) == 2 and all(m.tls and m.login == SMTP_USER for m in mails)
        assert set(mails[0].rcpt_tos) == {"oncall@example.test", "sre@example.test"}
        assert "Failing over" in mails[0].subject and site.config.site.name in mails[0].subject
        done = mails[1]
        assert "done" in done.subject
        for text in (DOMAIN, PRIMARY, BACKUP, "planned maintenance", result.workflow_id):
            assert text in done.body
        # Every failover of a site shares its workflow id: the mail names this run.
        assert f"temporal workflow show --workflow-id {result.workflow_id} --run-id " in done.body
        texts = [r["text"] for r in slack_receiver.requests]
        assert len(texts) == 2 and "Failing over" in texts[0] and "done" in texts[1]
        trigger, resolve = pagerduty_receiver.events
        assert (trigger["event_action"], resolve["event_action"]) == ("trigger", "resolve")
        assert trigger["dedup_key"] == resolve["dedup_key"]
        assert trigger["payload"]["severity"] == "critical"
        assert site.config.site.name in trigger["payload"]["source"]
        assert pagerduty_receiver.open_incidents == []

        status = await wait_status(handle, lambda s: s["state"] == "failed_over")
        assert status["notifications"]["failed"] == 0

        # No secret in what Temporal stored, in the result, or in the worker's log.
        stored = await histories(dev_server, site) + result.model_dump_json() + caplog.text
        assert "planned maintenance" in stored
        for secret in SECRETS:
            assert secret not in stored, f"a secret leaked: {secret[:6]}..."


async def test_a_failed_gate_aborts_before_anything_changes_and_force_skips_it_on_record(
    dev_server: TemporalDevServer,
    dev_client: Client,
    bind9: Bind9Lab,
    make_site: Callable[..., Site],
    pagerduty_receiver: PagerDutyReceiver,
    smtp_sink: SMTPSink,
) -> None:
    site = make_site()
    site.set_lag(45)  # the replica is 45 s behind; the ceiling is 30
    async with running_worker(site.config, dev_client) as handle:
        aborted = await request(handle, "failover", reason="primary flaky")
        assert aborted.outcome == "aborted" and not aborted.success
        assert "replication_lag" in (aborted.error or "") and "45" in (aborted.error or "")
        lag = next(g for g in aborted.gates if g.kind == "replication_lag")
        assert not lag.ok and lag.value == 45 and lag.attempts == 2
        # Nothing changed: no DNS write, no pre-hook; the on-failure hook ran.
        assert await answers(bind9) == [[PRIMARY]] * 3 and bind9.updates_applied() == 0
        assert site.hook_runs("stop_trading") == [] and len(site.hook_runs("page_humans")) == 1
        assert [e["event_action"] for e in pagerduty_receiver.events] == ["trigger", "trigger"]
        assert pagerduty_receiver.open_incidents, "a failed failover keeps its incident open"
        assert "ABORTED" in smtp_sink.messages[-1].subject

        forced = await request(handle, "failover", reason="operator override", force=True)
        assert forced.outcome == "succeeded", forced.error
        assert all(g.skipped and "forced" in g.detail for g in forced.gates)
        assert {g.name for g in forced.gates} == {"backup_api", "replication_lag"}
        assert await answers(bind9) == [[BACKUP]] * 3
        # The history itself says the gates were skipped (a memo event), not only the result.
        shown = await temporal(
            dev_server, "workflow", "show", "--workflow-id", forced.workflow_id, "-o", "json"
        )
        assert "WorkflowPropertiesModified" in shown.stdout or "PROPERTIES_MODIFIED" in shown.stdout
        assert "skipped: forced by the operator" in history_text(shown.stdout)


async def test_a_broken_channel_and_a_hung_post_hook_never_undo_the_switch(
    dev_client: Client,
    bind9: Bind9Lab,
    make_site: Callable[..., Site],
    slack_receiver: SlackReceiver,
    tmp_path: Path,
) -> None:
    site = make_site(
        hooks={
            "post_failover": [
                {"name": "verify_services", "command": ["/bin/sleep", "30"], "timeout_seconds": 1},
            ],
            "on_failure": [
                {
                    "name": "page_humans",
                    "command": [sys.executable, "-c", f"open({str(tmp_path / 'paged')!r}, 'w')"],
                },
            ],
        }
    )
    slack_receiver.fail_next(404, body="no_service", count=10)  # the channel was deleted
    async with running_worker(site.config, dev_client) as handle:
        result = await request(handle, "failover", reason="drill the bad day")
        # The switch stands; the hung hook makes it degraded, and the humans were paged.
        assert await answers(bind9) == [[BACKUP]] * 3
        assert result.outcome == "degraded" and result.success
        verify = next(h for h in result.hooks if h.name == "verify_services")
        assert not verify.ok and "timed out after 1s" in (verify.error or "")
        assert (tmp_path / "paged").exists()
        slack = [n for n in result.notifications if n.channel == "slack"]
        assert slack and not any(n.ok for n in slack)
        assert "404" in (slack[0].error or "") or "no_service" in (slack[0].error or "")
        assert any(n.ok for n in result.notifications if n.channel == "email")
        assert {n.event for n in result.notifications} == {"failover_started", "failover_degraded"}
        status = await wait_status(handle, lambda s: s["notifications"]["failed"] >= 2)
        assert status["notifications"]["recent_failures"][-1]["channel"] == "slack"
        assert slack_receiver.url not in json.dumps(status)
