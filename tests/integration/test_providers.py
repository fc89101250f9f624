"""A whole FailoverWorkflow against every DNS provider, on the real dev server and the production
worker path (config -> secrets from the environment -> providers -> activities).

Each provider runs on its server (BIND9, moto through the signature-checking proxy, the
Cloudflare and DigitalOcean emulators); the record is seeded and read back out of band.
"""

from __future__ import annotations

import contextlib
import logging
import secrets
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from temporalio.client import Client, WorkflowHandle

from genesis.failover.domain.config import FailoverConfig, parse_config
from genesis.lab.temporal_dev import TemporalDevServer
from tests.dns.harness import ProviderHarness
from tests.dns.harness_rfc2136 import Rfc2136Harness
from tests.integration.conftest import BACKUP, PRIMARY, request, running_worker, wait_status
from tests.temporal_cli import history_of

pytestmark = pytest.mark.integration

DOMAIN = "genesis.example.test"
OTHER = "203.0.113.77"


def record_for(harness: ProviderHarness, domain: str) -> dict[str, Any]:
    """A record at ``harness``, verified where that provider can be asked here: BIND's zone
    through its NS records (the authoritative-nameserver discovery), the others by the
    provider's own word (Route53 INSYNC; the emulators serve no DNS)."""
    record: dict[str, Any] = {"domain": domain, "provider": harness.name}
    if not isinstance(harness, Rfc2136Harness):
        record["query_nameservers"] = False
    return record


def site_config(
    dev_server: TemporalDevServer,
    task_queue: str,
    harnesses: list[ProviderHarness],
    records: list[dict[str, Any]],
    monkeypatch: pytest.MonkeyPatch,
    *,
    environ_override: dict[str, str] | None = None,
) -> FailoverConfig:
    sections: dict[str, Any] = {}
    propagation: dict[str, Any] = {"timeout_seconds": 10, "poll_interval_seconds": 0.1}
    for h in harnesses:
        section, environ = h.config()
        sections.update(section)
        for name, value in {**environ, **(environ_override or {})}.items():
            monkeypatch.setenv(name, value)
        if isinstance(h, Rfc2136Harness):
            # Nameservers left empty: the zone's own NS records say whom to ask.
            propagation.update(resolver=h.lab.primary, nameserver_port=h.lab.primary_port)
    return parse_config(
        {
            "temporal": {"address": dev_server.address, "task_queue": task_queue},
            "site": {
                "name": f"it-{uuid.uuid4().hex[:8]}",
                "primary_ip": PRIMARY,
                "backup_ip": BACKUP,
            },
            # A check that never runs during the test: failovers here are manual.
            "checks": [{"name": "api", "type": "tcp", "target": "127.0.0.1:9", "interval": 3600}],
            "dns": {"provider": harnesses[0].name, "ttl": 60, "records": records, **sections},
            "propagation": propagation,
        }
    )


@contextlib.asynccontextmanager
async def one_record_site(
    harness: ProviderHarness,
    dev_server: TemporalDevServer,
    dev_client: Client,
    task_queue: str,
    monkeypatch: pytest.MonkeyPatch,
) -> AsyncIterator[WorkflowHandle[Any, Any]]:
    """DOMAIN seeded at PRIMARY on ``harness``, a site with that one record and the production
    worker running; yields the monitor once it has read where the record points."""
    await harness.seed(DOMAIN, "A", [PRIMARY])
    config = site_config(
        dev_server, task_queue, [harness], [record_for(harness, DOMAIN)], monkeypatch
    )
    async with running_worker(config, dev_client) as handle:
        await wait_status(handle, lambda s: bool(s["records"]))
        yield handle


async def test_failover_and_failback_through_each_provider(
    dev_server: TemporalDevServer,
    dev_client: Client,
    task_queue: str,
    harness: ProviderHarness,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    await harness.seed(DOMAIN, "A", [PRIMARY], ttl=300)
    config = site_config(
        dev_server, task_queue, [harness], [record_for(harness, DOMAIN)], monkeypatch
    )
    async with running_worker(config, dev_client) as handle:
        await wait_status(handle, lambda s: bool(s["records"]))  # read at start, not assumed
        result = await request(handle, "failover", reason="provider integration")
        assert result.outcome == "succeeded", result.error
        (switch,) = result.records
        assert (switch.action, switch.provider, switch.before) == (
            "switched",
            harness.name,
            [PRIMARY],
        )
        if harness.name == "rfc2136":  # the zone's NS, found through its NS records
            assert result.propagation == {harness.lab.primary: True}  # type: ignore[attr-defined]
        elif harness.name == "route53":
            assert result.propagation == {f"{DOMAIN}@route53": True}  # GetChange said INSYNC
        else:  # the API's answer to the write is all these emulators can confirm
            assert result.propagation == {}
        current = await harness.current(DOMAIN, "A")
        # Written with [dns] ttl (60), the TTL the operator wants a switched record to have.
        assert current is not None and (current.values, current.ttl) == ([BACKUP], 60)
        status = await wait_status(handle, lambda s: s["state"] == "failed_over")
        assert status["records"] == {f"{DOMAIN}/A": "backup"}

        back = await request(handle, "failback", reason="primary repaired", force=True)
        assert back.outcome == "succeeded", back.error
        current = await harness.current(DOMAIN, "A")
        assert current is not None and current.values == [PRIMARY]
        assert harness.writes() == 2, "one write per direction"


async def test_one_failover_moves_records_at_four_providers_and_says_which_moved(
    dev_server: TemporalDevServer,
    dev_client: Client,
    task_queue: str,
    rfc2136_harness: ProviderHarness,
    cloudflare_harness: ProviderHarness,
    digitalocean_harness: ProviderHarness,
    route53_harness: ProviderHarness,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    harnesses = [rfc2136_harness, cloudflare_harness, digitalocean_harness, route53_harness]
    names = {h.name: f"{h.name}.example.test" for h in harnesses}
    for h in harnesses:
        # Somebody moved the DigitalOcean record by hand: it must be refused, not overwritten.
        await h.seed(names[h.name], "A", [OTHER if h.name == "digitalocean" else PRIMARY])
    config = site_config(
        dev_server,
        task_queue,
        harnesses,
        [record_for(h, names[h.name]) for h in harnesses],
        monkeypatch,
    )
    async with running_worker(config, dev_client) as handle:
        await wait_status(handle, lambda s: len(s["records"]) == 4)
        result = await request(handle, "failover", reason="multi-provider drill")
        assert result.outcome == "failed" and not result.success
        actions = {r.provider: r.action for r in result.records}
        assert actions == {
            "rfc2136": "switched",
            "cloudflare": "switched",
            "digitalocean": "refused",
            "route53": "switched",
        }
        assert names["digitalocean"] in (result.error or "") and OTHER in (result.error or "")
        for h in harnesses:
            current = await h.current(names[h.name], "A")
            expected = OTHER if h.name == "digitalocean" else BACKUP
            assert current is not None and current.values == [expected], h.name
        status = await wait_status(handle, lambda s: s["current_operation"] is None)
        assert status["partial"] is True
        assert status["records"][f"{names['digitalocean']}/A"] == "other"
        assert status["records"][f"{names['route53']}/A"] == "backup"


async def test_a_rate_limited_switch_waits_retry_after_then_succeeds(
    dev_server: TemporalDevServer,
    dev_client: Client,
    task_queue: str,
    digitalocean_harness: ProviderHarness,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    h = digitalocean_harness
    async with one_record_site(h, dev_server, dev_client, task_queue, monkeypatch) as handle:
        h.inject("rate_limited", retry_after=2)
        result = await request(handle, "failover", reason="429 then fine")
        assert result.outcome == "succeeded", result.error
        # Temporal waited the provider's Retry-After (2 s), not its own 1 s first backoff.
        assert result.duration_seconds >= 2
        assert h.writes() == 1


async def test_planned_failover_lowers_the_ttl_waits_it_out_and_restores_it(
    dev_server: TemporalDevServer,
    dev_client: Client,
    task_queue: str,
    rfc2136_harness: Rfc2136Harness,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    h = rfc2136_harness
    await h.seed(DOMAIN, "A", [PRIMARY], ttl=3)
    config = site_config(dev_server, task_queue, [h], [record_for(h, DOMAIN)], monkeypatch)
    async with running_worker(config, dev_client) as handle:
        await wait_status(handle, lambda s: bool(s["records"]))
        result = await request(handle, "failover", reason="maintenance", lower_ttl_seconds=1)
        assert result.outcome == "succeeded", result.error
        assert [(c.step, c.ttl_before, c.ttl_after, c.written) for c in result.ttl_changes] == [
            ("lower", 3, 1, True),
            ("restore", 1, 3, True),
        ]
        assert result.records[0].ttl_after == 1, "the switch kept the low TTL"
        assert result.duration_seconds >= 3, "the old TTL was waited out"
        current = await h.current(DOMAIN, "A")
        assert current is not None and (current.values, current.ttl) == ([BACKUP], 3)
        assert h.writes() == 3  # lower, switch, restore


async def test_a_bad_token_fails_the_failover_and_never_reaches_history_or_logs(
    dev_server: TemporalDevServer,
    dev_client: Client,
    task_queue: str,
    http_harness: ProviderHarness,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    h = http_harness
    await h.seed(DOMAIN, "A", [PRIMARY])
    _, environ = h.config()
    wrong = {name: f"wrong-{secrets.token_hex(16)}" for name in environ if "REGION" not in name}
    config = site_config(
        dev_server,
        task_queue,
        [h],
        [record_for(h, DOMAIN)],
        monkeypatch,
        environ_override=wrong,
    )
    async with running_worker(config, dev_client) as handle:
        result = await request(handle, "failover", reason="token revoked")
        assert result.outcome == "failed"
        (switch,) = result.records
        assert switch.action == "failed" and h.name in (switch.error or "")
        assert "401" in (switch.error or "") or "403" in (switch.error or "")
        assert h.writes() == 0
        # An AWS access key id is an identifier (botocore's debug log shows it in the signed
        # request's Credential=...); the secret key and the API tokens must appear nowhere.
        leaked = [v for k, v in wrong.items() if "ACCESS_KEY_ID" not in k] + [h.secret]
        for workflow_id in (handle.id, f"failover-{config.site.name}-switch"):
            text = await history_of(dev_server, workflow_id)
            assert PRIMARY in text, "payloads were decoded"
            assert not [s for s in leaked if s in text], f"a secret is in {workflow_id}"
        assert not [s for s in leaked if s in caplog.text]
