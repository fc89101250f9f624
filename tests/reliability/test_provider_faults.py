"""A DNS provider misbehaving during a real failover: the real dev server, the production worker
path (config -> secrets from the environment -> providers -> activities) and the loopback API
emulators, told to fail the way the real APIs fail.

What can be waited out is retried (a burst of 429s after each Retry-After, a run of 5xx with
backoff, answers that never come) and ends in exactly one write: every switch is a
compare-and-set, so a retry after a write that landed finds the work done. What cannot (a token
revoked half-way) stops at once with a reason naming the record and the provider, and the
operator sees which records moved: the monitor's status, the CLI, the notification.

``tests/integration/test_providers.py`` has the provider-by-provider story (one 429, a bad
token from the start, four providers in one failover); these tests extend it. An API down for
longer than the switch's retry budget (``workflows/retries.py``: 5 minutes) is
``tests/workflows/test_failover_workflow.py::
test_an_api_down_past_the_retry_budget_fails_the_record_and_says_so`` (time-skipping).
"""

from __future__ import annotations

import asyncio
import json
import os
import time
from pathlib import Path
from typing import Any

import pytest
from temporalio.client import Client

from genesis.failover.domain.config import FailoverConfig, load_config, parse_config
from genesis.lab.temporal_dev import TemporalDevServer
from tests.dns.harness_cloudflare import CloudflareHarness
from tests.dns.harness_digitalocean import DigitalOceanHarness
from tests.emulators.slack import SlackReceiver
from tests.integration.conftest import BACKUP, PRIMARY, request, running_worker, wait_status
from tests.integration.test_providers import DOMAIN, one_record_site, record_for, site_config
from tests.support import CLI, write_toml
from tests.temporal_cli import run

pytestmark = pytest.mark.integration

SLACK_ENV = "GENESIS_TEST_SLACK_URL"
# Loose on purpose (a loaded machine): a scheduled wait is never shorter than asked, but the
# clocks of the server and of this process are read at slightly different moments.
SLACK_S = 0.1


def gaps(times: list[float]) -> list[float]:
    return [round(b - a, 2) for a, b in zip(times, times[1:], strict=False)]


async def test_a_burst_of_rate_limits_is_waited_out_as_each_retry_after_says_then_written_once(
    dev_server: TemporalDevServer,
    dev_client: Client,
    task_queue: str,
    digitalocean_harness: DigitalOceanHarness,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    h = digitalocean_harness
    async with one_record_site(h, dev_server, dev_client, task_queue, monkeypatch) as handle:
        seen = len(h.emulator.requests)
        # Three 429s in a row, each asking for 1.5 s: more than Temporal's own first backoff
        # (1 s), so waiting the provider's word is visible in the spacing of the attempts.
        h.inject("rate_limited", count=3, retry_after=1.5)
        result = await request(handle, "failover", reason="429 burst")
        assert result.outcome == "succeeded", result.error
        (switch,) = result.records
        assert (switch.action, switch.before, switch.after) == ("switched", [PRIMARY], [BACKUP])
        assert h.writes() == 1
        attempts = h.emulator.requests[seen : seen + 4]  # each attempt's first request
        assert all(r.method == "GET" for r in attempts)
        assert all(gap >= 1.5 - SLACK_S for gap in gaps([r.at for r in attempts])), attempts
        current = await h.current(DOMAIN, "A")
        assert current is not None and current.values == [BACKUP]


async def test_server_errors_for_a_while_are_retried_with_backoff_then_written_once(
    dev_server: TemporalDevServer,
    dev_client: Client,
    task_queue: str,
    cloudflare_harness: CloudflareHarness,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    h = cloudflare_harness
    async with one_record_site(h, dev_server, dev_client, task_queue, monkeypatch) as handle:
        seen = len(h.emulator.requests)
        h.inject("server_error", count=3)  # the API answers 500 for about 7 s
        result = await request(handle, "failover", reason="cloudflare 5xx for a while")
        assert result.outcome == "succeeded", result.error
        assert result.records[0].action == "switched"
        assert h.writes() == 1
        # Each failed attempt was its first request; the fourth went on to read and write.
        attempts = h.emulator.requests[seen:]
        failed = attempts[:4]
        assert [r.method for r in attempts].count("PATCH") == 1
        # Temporal's backoff (workflows/retries.py): 1 s, then 2 s, then 4 s.
        spacing = gaps([r.at for r in failed])
        assert [gap >= want - SLACK_S for gap, want in zip(spacing, (1, 2, 4), strict=True)] == [
            True
        ] * 3, spacing
        current = await h.current(DOMAIN, "A")
        assert current is not None and current.values == [BACKUP]


async def test_an_api_that_goes_silent_even_after_applying_the_write_ends_with_one_write(
    dev_server: TemporalDevServer,
    dev_client: Client,
    task_queue: str,
    digitalocean_harness: DigitalOceanHarness,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    h = digitalocean_harness
    async with one_record_site(h, dev_server, dev_client, task_queue, monkeypatch) as handle:
        seen = len(h.emulator.requests)
        # The first read gets no answer within the provider's timeout (1 s); on the next
        # attempt the write is applied but its answer is lost: the client times out again,
        # not knowing whether it landed. The third attempt must read, not write again.
        h.inject("timeout")
        h.emulator.lose_write_answers(1)
        result = await request(handle, "failover", reason="API silent twice")
        assert result.outcome == "succeeded", result.error
        assert h.writes() == 1, "compare-and-set: the retry found the write done"
        (switch,) = result.records
        assert (switch.action, switch.after) == ("already_at_target", [BACKUP])
        methods = [r.method for r in h.emulator.requests[seen:]]
        assert methods.count("PATCH") == 1 and methods[-1] == "GET", methods
        status = await wait_status(handle, lambda s: s["state"] == "failed_over")
        assert status["records"] == {f"{DOMAIN}/A": "backup"}


async def cli(config_file: Path, *args: str) -> Any:
    return await run([CLI, "-c", str(config_file), *args], env=dict(os.environ))


def with_slack(config: FailoverConfig, slack: SlackReceiver, tmp_path: Path) -> Path:
    """``config`` with Slack told about every operation, written as the operator's file."""
    data = config.model_dump(mode="json", exclude_defaults=True)
    data["notifications"] = {
        "channels": ["slack"],
        "slack": {"webhook_url_env": SLACK_ENV},
        "deadline_seconds": 5,
    }
    return write_toml(
        parse_config(data).model_dump(mode="json", exclude_defaults=True), tmp_path / "site.toml"
    )


async def test_a_token_revoked_between_two_switches_stops_at_once_and_says_which_records_moved(
    dev_server: TemporalDevServer,
    dev_client: Client,
    task_queue: str,
    digitalocean_harness: DigitalOceanHarness,
    slack_receiver: SlackReceiver,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    h = digitalocean_harness
    first, second = f"www.{h.zone}", f"api.{h.zone}"
    for name in (first, second):
        await h.seed(name, "A", [PRIMARY])
    monkeypatch.setenv(SLACK_ENV, slack_receiver.url)
    config_file = with_slack(
        site_config(
            dev_server,
            task_queue,
            [h],
            [record_for(h, first), record_for(h, second)],
            monkeypatch,
        ),
        slack_receiver,
        tmp_path,
    )
    config = load_config(config_file)
    async with running_worker(config, dev_client) as handle:
        await wait_status(handle, lambda s: len(s["records"]) == 2)
        # The two switches run concurrently: the second record's requests wait at the API
        # until the first record has moved and the token has been revoked.
        held = h.emulator.hold_requests(lambda r: r.query.get("name") == second)
        asked = time.monotonic()
        failing_over = asyncio.create_task(request(handle, "failover", reason="token revoked"))
        await wait_for(lambda: held.arrived.is_set(), "the second record's switch to start")
        await wait_for(lambda: h.emulator.rrset(first, "A")[0]["data"] == BACKUP, "record 1")
        h.emulator.revoke_token()
        released = len(h.emulator.requests)
        held.release()
        result = await failing_over
        took = time.monotonic() - asked

        # Stopped at once (no retry can bring a revoked token back), well inside the switch's
        # 5-minute retry budget, with the record and the provider named.
        assert result.outcome == "failed" and not result.success
        assert took < 15, f"took {took:.1f}s"
        actions = {r.domain: r.action for r in result.records}
        assert actions == {first: "switched", second: "failed"}
        error = result.error or ""
        assert second in error and "digitalocean" in error and "401" in error, error
        assert first not in error
        retried = [r for r in h.emulator.requests[released:] if r.query.get("name") == second]
        assert len(retried) <= held.count, "the 401 was not retried"
        assert h.writes() == 1
        assert [r["data"] for r in h.emulator.rrset(second, "A")] == [PRIMARY]

        # The monitor's status: record 1 on the backup, record 2 still on the primary.
        status = await wait_status(handle, lambda s: s["current_operation"] is None)
        assert status["records"] == {f"{first}/A": "backup", f"{second}/A": "primary"}
        assert status["partial"] is True
        assert status["last_operation"]["outcome"] == "failed"

        # The CLI says the same, in text and in JSON.
        text, as_json = await asyncio.gather(
            cli(config_file, "status"), cli(config_file, "status", "--json")
        )
    assert text.returncode == 0 and as_json.returncode == 0, (text.stderr, as_json.stderr)
    shown = json.loads(as_json.stdout)
    assert shown["records"] == {f"{first}/A": "backup", f"{second}/A": "primary"}
    assert shown["partial"] is True
    assert shown["last_operation"]["records"] == {first: "switched", second: "failed"}
    assert f"{first}/A -> backup, {second}/A -> primary  (SPLIT)" in text.stdout, text.stdout
    assert "traffic is SPLIT" in text.stdout
    assert "last operation: failover failed (manual: token revoked)" in text.stdout
    assert f"error: {second}: digitalocean rejected the API token (HTTP 401)" in text.stdout

    # People were told, with the reason.
    texts = [json.dumps(body) for body in slack_receiver.accepted]
    assert len(texts) == 2 and "Failing over" in texts[0]
    assert "FAILED" in texts[1] and second in texts[1] and "HTTP 401" in texts[1], texts[1]


async def wait_for(condition: Any, what: str, *, within: float = 10) -> None:
    deadline = time.monotonic() + within
    while not condition():
        assert time.monotonic() < deadline, f"waited {within}s for {what}"
        await asyncio.sleep(0.02)
