"""Secrets never leave the worker's memory: a real failover (and a failed one) on the real dev
server, through the production worker path, with every kind of secret set to a random marker:
the Cloudflare and DigitalOcean API tokens, the TSIG secret, a webhook hook's URL and bearer
token, the Slack webhook URL, the PagerDuty routing key, the SMTP username and password.

Then every marker, its distinctive pieces and its encodings (base64, URL-quoted, SMTP AUTH
PLAIN) are looked for in everything an operator or Temporal keeps: every run's history of the
monitor and of the failover workflows (payloads decoded), their search attributes, memos and
User Metadata (describe), the worker's log at DEBUG (tracebacks included), the results and their
errors, and what the CLI prints (status, history, failover, failback, validate, check; text and
JSON). Each scanned text is first shown to hold the site's name or an IP, so an empty scan
cannot pass. The worker here is the one `genesis-failover worker` runs (``running_worker``).
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import secrets
import sys
import urllib.parse
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from temporalio.client import Client

from genesis.failover.domain.config import FailoverConfig, failover_workflow_id, parse_config
from genesis.failover.domain.secrets import known_secrets, redact, secret_env_names
from genesis.lab.bind9 import Bind9Lab
from genesis.lab.http_target import DemoService
from genesis.lab.temporal_dev import TemporalDevServer
from tests.dns.harness_cloudflare import TOKEN_ENV as CF_TOKEN_ENV
from tests.dns.harness_cloudflare import CloudflareHarness
from tests.dns.harness_digitalocean import TOKEN_ENV as DO_TOKEN_ENV
from tests.dns.harness_digitalocean import DigitalOceanHarness
from tests.emulators.notify_fixtures import SMTPServerFactory
from tests.emulators.pagerduty import PagerDutyReceiver
from tests.emulators.slack import SlackReceiver
from tests.emulators.webhook_receiver import WebhookReceiver
from tests.integration.conftest import (
    BACKUP,
    DOMAIN,
    PRIMARY,
    TSIG_ENV,
    lab_config_data,
    request,
    running_worker,
    wait_status,
)
from tests.support import CLI, write_toml
from tests.temporal_cli import history_text, run, temporal

pytestmark = pytest.mark.integration

CF_DOMAIN, DO_DOMAIN = "cf.example.test", "do.example.test"
HOOK_URL_ENV, HOOK_TOKEN_ENV = "GFO_SECRET_HOOK_URL", "GFO_SECRET_HOOK_TOKEN"
SLACK_ENV, PD_ENV = "GFO_SECRET_SLACK_URL", "GFO_SECRET_PD_KEY"
SMTP_USER_ENV, SMTP_PASSWORD_ENV = "GFO_SECRET_SMTP_USER", "GFO_SECRET_SMTP_PASSWORD"
# A command hook that is given the TSIG secret and prints it, as a `set -x` script would: its
# output reaches the failover's result and history only redacted.
LEAKY_HOOK = f"import os; print('tsig is', os.environ[{TSIG_ENV!r}])"
# Loggers of the test's own servers (aiosmtpd logs the AUTH exchange it receives): what the
# SMTP server logs is its business, what the worker logs is ours.
SERVER_LOGGERS = ("mail.log",)


def marker(kind: str) -> str:
    return f"{kind}-{secrets.token_hex(12)}"


def pieces(secret: str, *, cut: bool = True) -> set[str]:
    """The secret, distinctive pieces of it (a leak cut short is still a leak; not for a whole
    URL, whose start is anyone's "http://127.0") and the encodings it could travel in."""
    found = {
        secret,
        urllib.parse.quote(secret, safe=""),
        base64.b64encode(secret.encode()).decode(),
    }
    if cut and len(secret) >= 24:
        n = len(secret)
        found |= {secret[:12], secret[-12:], secret[n // 2 - 6 : n // 2 + 6]}
    return {p for p in found if len(p) >= 8}


@dataclass
class Site:
    config: FailoverConfig
    file: Path
    secrets: dict[str, str]  # what each marker is, for the failure message
    scanned: dict[str, str] = field(default_factory=dict)

    def scan(self, where: str, text: str, *, must_show: str) -> None:
        """Keep ``text`` to scan; it must show ``must_show`` (so it is not empty)."""
        assert must_show in text, f"{where} does not show {must_show!r}: an empty scan\n{text}"
        self.scanned[where] = text

    def leaks(self) -> list[str]:
        found = []
        for kind, secret in self.secrets.items():
            for piece in pieces(secret, cut=not kind.startswith("full URL")):
                found += [
                    f"{kind} ({piece[:4]}...) in {w}" for w, t in self.scanned.items() if piece in t
                ]
        return found


def test_the_scan_finds_a_secret_whole_cut_short_or_encoded_and_refuses_an_empty_text() -> None:
    secret = marker("token")
    site = Site(config=None, file=Path("."), secrets={"token": secret})  # type: ignore[arg-type]
    for i, text in enumerate(
        (
            f"Authorization: Bearer {secret}",
            f"token={secret[:12]}...",
            f"...{secret[-12:]}",
            base64.b64encode(secret.encode()).decode(),
        )
    ):
        site.scan(f"text {i}", f"site-x {text}", must_show="site-x")
    assert {leak.rsplit(" in ", 1)[1] for leak in site.leaks()} == set(site.scanned)
    with pytest.raises(AssertionError, match="empty scan"):
        site.scan("empty", "", must_show="site-x")


def test_payload_keys_and_the_codec_token_are_secrets_a_hook_output_never_shows() -> None:
    names = ("GFO_KEY", "GFO_OLD_KEY", "GFO_CODEC_TOKEN")
    config = parse_config(
        {
            "temporal": {
                "encryption": {
                    "key_env": names[0],
                    "previous_key_envs": [names[1]],
                    "codec_auth_env": names[2],
                }
            },
            "site": {"name": "s", "primary_ip": PRIMARY, "backup_ip": BACKUP},
            "checks": [{"name": "c", "type": "tcp", "target": "127.0.0.1:9"}],
            "dns": {"provider": "route53", "records": [{"domain": "a.example.test"}]},
        }
    )
    environ = {name: marker(name.lower()) for name in names}
    assert set(names) <= set(secret_env_names(config))
    assert sorted(known_secrets(config, environ)) == sorted(environ.values())
    printed = " ".join(environ.values())
    assert redact(printed, known_secrets(config, environ)) == "*** *** ***"


@pytest.fixture
def hook_receiver() -> Iterator[WebhookReceiver]:
    # Real webhook URLs carry their secret in the path.
    with WebhookReceiver(path=f"/hooks/{marker('hookpath')}") as receiver:
        yield receiver


@pytest.fixture
def make_site(
    dev_server: TemporalDevServer,
    bind9: Bind9Lab,
    primary_service: DemoService,
    cloudflare_harness: CloudflareHarness,
    digitalocean_harness: DigitalOceanHarness,
    smtp_server_factory: SMTPServerFactory,
    slack_receiver: SlackReceiver,
    pagerduty_receiver: PagerDutyReceiver,
    hook_receiver: WebhookReceiver,
    task_queue: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> Callable[..., Site]:
    """One site with a record at BIND9 (TSIG), at Cloudflare and at DigitalOcean, a command
    pre-hook that prints the TSIG secret, a webhook post-hook (and on-failure hook), and every
    notification channel; every secret a fresh random marker in the worker's environment."""

    def make(*, wrong_cloudflare_token: str | None = None, smtp_refuses: bool = False) -> Site:
        smtp_user, smtp_password = marker("smtpuser"), marker("smtppass")
        # Refusing: the relay expects another password than the one the worker holds.
        expected = marker("otherpass") if smtp_refuses else smtp_password
        smtp = smtp_server_factory("starttls", auth=(smtp_user, expected))
        environ = {
            TSIG_ENV: bind9.tsig_secret,
            CF_TOKEN_ENV: wrong_cloudflare_token or cloudflare_harness.secret,
            DO_TOKEN_ENV: digitalocean_harness.secret,
            HOOK_URL_ENV: hook_receiver.url,
            HOOK_TOKEN_ENV: marker("bearer"),
            SLACK_ENV: slack_receiver.url,
            PD_ENV: marker("routing"),
            SMTP_USER_ENV: smtp_user,
            SMTP_PASSWORD_ENV: smtp_password,
        }
        for name, value in environ.items():
            monkeypatch.setenv(name, value)
        data = lab_config_data(
            dev_server,
            bind9,
            primary_service.url,
            task_queue,
            site_prefix="sec",
            failback_healthy_seconds=0,
            cooldown_seconds=0,
        )
        webhook = {
            "webhook_url_env": HOOK_URL_ENV,
            "bearer_token_env": HOOK_TOKEN_ENV,
            "timeout_seconds": 5,
        }
        data["dns"] |= {
            "records": [
                {"domain": DOMAIN},
                {"domain": CF_DOMAIN, "provider": "cloudflare", "query_nameservers": False},
                {"domain": DO_DOMAIN, "provider": "digitalocean", "query_nameservers": False},
            ],
            **cloudflare_harness.config()[0],
            **digitalocean_harness.config()[0],
        }
        data["propagation"] |= {"poll_interval_seconds": 0.1}
        data["hooks"] = {
            "pre_failover": [
                {
                    "name": "leaky_script",
                    "command": [sys.executable, "-c", LEAKY_HOOK],
                    "pass_env": [TSIG_ENV],
                }
            ],
            "post_failover": [{"name": "announce", **webhook}],
            "post_failback": [{"name": "announce_back", **webhook}],
            "on_failure": [{"name": "page_humans", **webhook}],
        }
        data["notifications"] = {
            "channels": ["email", "slack", "pagerduty"],
            "email": {
                "smtp_host": smtp.host,
                "smtp_port": smtp.port,
                "security": "starttls",
                "ca_file": smtp.ca_file,
                "username_env": SMTP_USER_ENV,
                "password_env": SMTP_PASSWORD_ENV,
                "sender": "failover@example.test",
                "recipients": ["oncall@example.test"],
            },
            "slack": {"webhook_url_env": SLACK_ENV},
            "pagerduty": {"routing_key_env": PD_ENV, "events_url": pagerduty_receiver.url},
            "deadline_seconds": 5,
        }
        config = parse_config(data)
        file = write_toml(
            config.model_dump(mode="json", exclude_defaults=True), tmp_path / "s.toml"
        )
        kinds = {
            "TSIG secret": bind9.tsig_secret,
            "Cloudflare token": cloudflare_harness.secret,
            "DigitalOcean token": digitalocean_harness.secret,
            "webhook URL secret path": hook_receiver.path.rsplit("/", 1)[-1],
            "webhook bearer token": environ[HOOK_TOKEN_ENV],
            "Slack webhook URL secret": slack_receiver.url.rsplit("/", 1)[-1],
            "PagerDuty routing key": environ[PD_ENV],
            "SMTP username": smtp_user,
            "SMTP password": smtp_password,
            # What AUTH PLAIN sends: a log of the SMTP exchange would show this.
            "SMTP AUTH PLAIN": base64.b64encode(
                f"\0{smtp_user}\0{smtp_password}".encode()
            ).decode(),
        }
        if wrong_cloudflare_token:
            kinds["rejected Cloudflare token"] = wrong_cloudflare_token
        for url in (hook_receiver.url, slack_receiver.url):
            kinds[f"full URL {url.split('/')[3]}"] = url
        return Site(config, file, kinds)

    return make


async def cli(site: Site, *args: str, code: int = 0) -> str:
    done = await run([CLI, "-c", str(site.file), *args], env=dict(os.environ))
    assert done.returncode == code, (args, done.returncode, done.stdout, done.stderr)
    return done.stdout + done.stderr


async def scan_temporal(site: Site, dev_server: TemporalDevServer, operations: int) -> None:
    """Every run of the site's workflows (the monitor, each failover and failback), as the
    `temporal` CLI shows them: history events with payloads decoded, and describe (search
    attributes, memo, User Metadata)."""
    name = site.config.site.name
    query = (
        f"WorkflowId = 'failover-monitor-{name}' OR WorkflowId = '{failover_workflow_id(name)}'"
        f" OR FailoverSite = '{name}'"
    )
    runs: dict[str, str] = {}
    for _ in range(100):  # visibility lags behind the last close by a moment
        listed = await temporal(dev_server, "workflow", "list", "--query", query, "-o", "json")
        assert listed.returncode == 0, listed.stderr
        rows = json.loads(listed.stdout or "[]")
        runs = {r["execution"]["runId"]: r["execution"]["workflowId"] for r in rows}
        if sum(wid == failover_workflow_id(name) for wid in runs.values()) >= operations:
            break
        await asyncio.sleep(0.1)
    assert len(runs) >= operations + 1, runs
    for run_id, wid in runs.items():
        for verb in ("show", "describe"):
            shown = await temporal(
                dev_server, "workflow", verb, "-w", wid, "-r", run_id, "-o", "json"
            )
            assert shown.returncode == 0, shown.stderr
            site.scan(f"{verb} {wid} {run_id}", history_text(shown.stdout), must_show=name)
    listed_text = await temporal(dev_server, "workflow", "list", "--query", query)
    site.scan("workflow list", listed_text.stdout, must_show=name)


def scan_log(site: Site, caplog: pytest.LogCaptureFixture) -> None:
    ours = [r for r in caplog.records if not r.name.startswith(SERVER_LOGGERS)]
    formatter = caplog.handler.formatter
    assert formatter is not None
    text = "\n".join(formatter.format(r) for r in ours)
    site.scan("worker log", text, must_show=site.config.site.name)


async def test_a_real_failover_and_failback_leave_no_secret_in_history_logs_results_or_cli(
    dev_server: TemporalDevServer,
    dev_client: Client,
    bind9: Bind9Lab,
    cloudflare_harness: CloudflareHarness,
    digitalocean_harness: DigitalOceanHarness,
    make_site: Callable[..., Site],
    hook_receiver: WebhookReceiver,
    slack_receiver: SlackReceiver,
    pagerduty_receiver: PagerDutyReceiver,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level("DEBUG")
    await cloudflare_harness.seed(CF_DOMAIN, "A", [PRIMARY])
    await digitalocean_harness.seed(DO_DOMAIN, "A", [PRIMARY])
    site = make_site()
    name = site.config.site.name

    site.scan("validate", await cli(site, "validate"), must_show=name)
    site.scan("validate --json", await cli(site, "validate", "--json"), must_show=PRIMARY)
    site.scan("check", await cli(site, "check"), must_show="primary_api")
    site.scan("check --json", await cli(site, "check", "--json"), must_show="primary_api")

    async with running_worker(site.config, dev_client) as handle:
        await wait_status(handle, lambda s: bool(s["records"]))
        out = await cli(site, "failover", "--reason", "secrets scan")
        site.scan("failover", out, must_show=BACKUP)
        # Everything was really used: each provider written, each channel and hook reached.
        assert (await cloudflare_harness.current(CF_DOMAIN, "A")).values == [BACKUP]  # type: ignore[union-attr]
        assert (await digitalocean_harness.current(DO_DOMAIN, "A")).values == [BACKUP]  # type: ignore[union-attr]
        assert bind9.updates_applied() >= 1
        assert hook_receiver.requests and slack_receiver.requests and pagerduty_receiver.events
        site.scan("status", await cli(site, "status"), must_show=BACKUP)
        site.scan("status --json", await cli(site, "status", "--json"), must_show=BACKUP)
        site.scan("failback", await cli(site, "failback"), must_show=PRIMARY)
        failed_over = await cli(site, "failover", "--json", "--reason", "second round")
        site.scan("failover --json", failed_over, must_show=BACKUP)
        result = json.loads(failed_over[: failed_over.rindex("}") + 1])
        assert result["outcome"] == "succeeded", result
        # The leaky hook ran and printed; what it printed is kept redacted.
        (pre,) = [h for h in result["hooks"] if h["name"] == "leaky_script"]
        assert pre["ok"] and "tsig is ***" in pre["output"], pre
        site.scan("failback --json", await cli(site, "failback", "--json"), must_show=PRIMARY)
        site.scan("history", await cli(site, "history"), must_show="secrets scan")
        site.scan("history --json", await cli(site, "history", "--json"), must_show="second round")
        for query, shows in (
            ("status", "primary_api"),
            ("health", "primary_api"),
            ("history", name),
        ):
            answer = await handle.query(query)
            site.scan(f"query {query}", json.dumps(answer, default=str), must_show=shows)

    await scan_temporal(site, dev_server, operations=4)
    scan_log(site, caplog)
    assert not site.leaks(), site.leaks()


async def test_a_failover_a_provider_refuses_leaves_no_secret_in_its_errors_history_logs_or_cli(
    dev_server: TemporalDevServer,
    dev_client: Client,
    cloudflare_harness: CloudflareHarness,
    digitalocean_harness: DigitalOceanHarness,
    make_site: Callable[..., Site],
    hook_receiver: WebhookReceiver,
    slack_receiver: SlackReceiver,
    pagerduty_receiver: PagerDutyReceiver,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Cloudflare refuses the token (a revoked one: a random marker too), and every channel
    and the on-failure webhook refuse what they are sent: the error path, where a message
    built from an exception's text would carry a URL or a token."""
    caplog.set_level("DEBUG")
    await cloudflare_harness.seed(CF_DOMAIN, "A", [PRIMARY])
    await digitalocean_harness.seed(DO_DOMAIN, "A", [PRIMARY])
    site = make_site(wrong_cloudflare_token=marker("revoked"), smtp_refuses=True)
    slack_receiver.fail_next(403, count=50)  # invalid_token: the webhook was revoked
    pagerduty_receiver.fail_next(400, count=50)
    hook_receiver.answer(401, b"bad bearer", count=50)

    async with running_worker(site.config, dev_client) as handle:
        await wait_status(handle, lambda s: bool(s["records"]))
        result = await request(handle, "failover", reason="refused token")
        assert result.outcome == "failed", result
        refused = next(r for r in result.records if r.provider == "cloudflare")
        assert refused.action == "failed" and "401" in (refused.error or ""), refused
        assert cloudflare_harness.emulator.write_count == 0
        assert result.notifications and not any(n.ok for n in result.notifications)
        assert hook_receiver.requests, "the on-failure webhook was called"
        errors = [
            result.error,
            *(r.error for r in result.records),
            *(n.error for n in result.notifications),
            *(h.error for h in result.hooks),
        ]
        site.scan("result", result.model_dump_json(), must_show=name_of(site))
        site.scan("errors", "\n".join(e for e in errors if e), must_show="401")

        # The records that moved come back; Cloudflare's refuses again.
        out = await cli(site, "failback", code=1)
        site.scan("failback (failed)", out, must_show="cloudflare rejected the API token")
        out = await cli(site, "failback", "--json", code=1)
        site.scan("failback --json (failed)", out, must_show=name_of(site))
        out = await cli(site, "failover", "--reason", "refused again", code=1)
        site.scan("failover (failed)", out, must_show=name_of(site))
        out = await cli(site, "failover", "--json", "--reason", "refused thrice", code=1)
        site.scan("failover --json (failed)", out, must_show=name_of(site))
        site.scan("status", await cli(site, "status"), must_show=name_of(site))
        site.scan("status --json", await cli(site, "status", "--json"), must_show=PRIMARY)
        site.scan("history", await cli(site, "history"), must_show="refused token")
        site.scan("history --json", await cli(site, "history", "--json"), must_show="401")

    await scan_temporal(site, dev_server, operations=3)
    scan_log(site, caplog)
    assert not site.leaks(), site.leaks()


def name_of(site: Site) -> str:
    return site.config.site.name
