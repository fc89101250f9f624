"""The Slack channel through a loopback incoming webhook that checks Slack's payload rules."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

import pytest

from genesis.failover.domain.config import SlackSettings
from genesis.failover.domain.errors import NotificationError
from genesis.failover.domain.notify import SlackNotifier
from tests.emulators.notify_fixtures import free_port
from tests.emulators.slack import SlackReceiver, block_errors
from tests.notify.scenario import WORKFLOW_ID, Failover, failover


@pytest.fixture
async def slack(slack_receiver: SlackReceiver) -> AsyncIterator[SlackNotifier]:
    notifier = SlackNotifier(SlackSettings(timeout_seconds=2), slack_receiver.url)
    try:
        yield notifier
    finally:
        await notifier.aclose()


async def refused(slack: SlackNotifier, one: Failover, receiver: SlackReceiver) -> str:
    with pytest.raises(NotificationError) as caught:
        await slack.send(one.finished)
    text = str(caught.value)
    assert receiver.url not in text and receiver.path not in text
    return text


async def test_the_message_is_readable_text_and_blocks(
    slack: SlackNotifier, slack_receiver: SlackReceiver
) -> None:
    error = "post-hook verify_services exited 2: api not answering on :8443 <!channel>"
    one = failover("degraded", error=error)
    assert len(one.finished.summary) > 150
    note = await slack.send(one.finished)

    assert note == "HTTP 200 ok"
    [payload] = slack_receiver.accepted
    assert payload["text"] == f"[genesis] {one.finished.summary}"
    blocks = payload["blocks"]
    assert block_errors(blocks) == []
    assert blocks[0] == {
        "type": "header",
        "text": {"type": "plain_text", "text": one.finished.summary[:149] + "…"},
    }
    fields = {
        f["text"].split("\n", 1)[0]: f["text"].split("\n", 1)[1]
        for block in blocks
        for f in block.get("fields", [])
    }
    assert fields["*Site*"] == "genesis"
    assert fields["*Direction*"] == "failover"
    assert fields["*Reason*"] == "primary_database unhealthy 3 times"
    assert fields["*From -&gt; to*"] == "192.0.2.10 -&gt; 198.51.100.20"
    assert fields["*Outcome*"] == "degraded"
    assert fields["*Duration*"] == "42.5 s"
    assert fields["*Workflow id*"] == WORKFLOW_ID
    texts = "\n".join(b["text"]["text"] for b in blocks if b["type"] == "section" and "text" in b)
    assert "• genesis.example.com A: 192.0.2.10 -&gt; 198.51.100.20 (switched)" in texts
    # The header is cut at Slack's 150 characters: the whole summary follows it.
    assert blocks[1]["text"]["text"] == one.finished.summary.replace("<", "&lt;").replace(
        ">", "&gt;"
    )
    # Escaped: an error text cannot ping the whole channel.
    escaped = error.replace("<", "&lt;").replace(">", "&gt;")
    assert f"*Error*\n```{escaped}```" in texts and "<!channel>" not in str(blocks)


async def test_a_500_is_retryable_and_the_next_send_goes_through(
    slack: SlackNotifier, slack_receiver: SlackReceiver, one_failover: Failover
) -> None:
    slack_receiver.fail_next(500)
    text = await refused(slack, one_failover, slack_receiver)
    with pytest.raises(NotificationError) as caught:
        slack_receiver.fail_next(500)
        await slack.send(one_failover.finished)
    assert caught.value.retryable and "HTTP 500" in text

    assert await slack.send(one_failover.finished) == "HTTP 200 ok"
    assert len(slack_receiver.requests) == 3 and len(slack_receiver.accepted) == 1


async def test_429_is_retryable_after_what_slack_said(
    slack: SlackNotifier, slack_receiver: SlackReceiver, one_failover: Failover
) -> None:
    slack_receiver.fail_next(429, retry_after=7)
    with pytest.raises(NotificationError) as caught:
        await slack.send(one_failover.started)
    assert caught.value.retryable
    assert caught.value.retry_after == 7
    assert "rate limited" in str(caught.value)


@pytest.mark.parametrize(
    ("status", "said"),
    [
        (404, "no_service"),
        (403, "invalid_token"),
        (410, "channel_is_archived"),
        (400, "invalid_payload"),
    ],
)
async def test_slack_refusals_are_not_retryable(
    slack: SlackNotifier,
    slack_receiver: SlackReceiver,
    one_failover: Failover,
    status: int,
    said: str,
) -> None:
    slack_receiver.fail_next(status)
    with pytest.raises(NotificationError) as caught:
        await slack.send(one_failover.finished)
    assert not caught.value.retryable
    assert f"HTTP {status} {said}" in str(caught.value)
    assert "SLACK_WEBHOOK_URL" in str(caught.value)


async def test_the_url_appears_in_no_error_text(
    slack_receiver: SlackReceiver, one_failover: Failover, caplog: pytest.LogCaptureFixture
) -> None:
    notifier = SlackNotifier(SlackSettings(timeout_seconds=0.3), slack_receiver.url)
    texts = []
    try:
        with caplog.at_level(logging.INFO, logger="httpx"):
            # A proxy's error page that echoes the URL it was asked for.
            slack_receiver.fail_next(502, body=f"upstream failed for {slack_receiver.url}")
            texts.append(await refused(notifier, one_failover, slack_receiver))
            slack_receiver.hang_next(2)
            texts.append(await refused(notifier, one_failover, slack_receiver))
            assert await notifier.send(one_failover.finished) == "HTTP 200 ok"
    finally:
        await notifier.aclose()
    down = SlackNotifier(SlackSettings(), f"http://127.0.0.1:{free_port()}{slack_receiver.path}")
    try:
        with pytest.raises(NotificationError) as caught:
            await down.send(one_failover.finished)
    finally:
        await down.aclose()
    texts.append(str(caught.value))
    assert "***" in texts[0] and "timed out after 0.3 s" in texts[1]
    assert caught.value.retryable and "cannot reach" in texts[2] and "ConnectError" in texts[2]
    assert all(slack_receiver.path not in text for text in texts)
    # httpx logs every request's URL at INFO: the filter scrubs it.
    logged = [r.getMessage() for r in caplog.records if r.name == "httpx"]
    assert len(logged) == 2 and all(slack_receiver.path not in line for line in logged)
    assert all(line.startswith("HTTP Request: POST *** ") for line in logged)


async def test_a_wrong_url_path_is_refused_like_slack_does(
    slack_receiver: SlackReceiver, one_failover: Failover
) -> None:
    notifier = SlackNotifier(SlackSettings(), f"{slack_receiver.origin}/services/T0/B0/revoked")
    try:
        with pytest.raises(NotificationError) as caught:
            await notifier.send(one_failover.started)
    finally:
        await notifier.aclose()
    assert not caught.value.retryable and "no_service" in str(caught.value)
    assert "revoked" not in str(caught.value)


def test_the_receiver_refuses_what_slack_refuses(slack_receiver: SlackReceiver) -> None:
    # The notifier's payloads pass only because they are right: the receiver is not lenient.
    assert block_errors([{"type": "header", "text": {"type": "mrkdwn", "text": "x"}}])
    assert block_errors([{"type": "header", "text": {"type": "plain_text", "text": "x" * 151}}])
    assert block_errors([{"type": "section", "fields": [{"type": "mrkdwn", "text": "x"}] * 11}])
    assert block_errors([{"type": "section"}])
    assert slack_receiver.answer(slack_receiver.path, b'{"text": " "}', None)[:2] == (
        400,
        "invalid_payload",
    )
