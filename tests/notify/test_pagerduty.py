"""The PagerDuty channel through a loopback Events API v2 that checks PagerDuty's schema."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import pytest

from genesis.failover.domain.config import PagerDutySettings
from genesis.failover.domain.errors import NotificationError
from genesis.failover.domain.notify import PagerDutyNotifier, events
from genesis.failover.domain.state import CheckHealth
from tests.emulators.pagerduty import PagerDutyReceiver, event_errors
from tests.notify.scenario import STARTED, WORKFLOW_ID, Failover, failover

ROUTING_KEY = "R0UT1NGKEY0123456789abcdefABCDEF"


@pytest.fixture
async def pagerduty(pagerduty_receiver: PagerDutyReceiver) -> AsyncIterator[PagerDutyNotifier]:
    settings = PagerDutySettings(events_url=pagerduty_receiver.url, timeout_seconds=0.5)
    notifier = PagerDutyNotifier(settings, ROUTING_KEY)
    try:
        yield notifier
    finally:
        await notifier.aclose()


async def refused(pagerduty: PagerDutyNotifier, one: Failover) -> NotificationError:
    with pytest.raises(NotificationError) as caught:
        await pagerduty.send(one.started)
    assert ROUTING_KEY not in str(caught.value)
    return caught.value


async def test_one_failover_triggers_then_resolves_one_incident(
    pagerduty: PagerDutyNotifier, pagerduty_receiver: PagerDutyReceiver, one_failover: Failover
) -> None:
    key = one_failover.started.dedup_key
    assert one_failover.finished.dedup_key == key

    first = await pagerduty.send(one_failover.started)
    assert pagerduty_receiver.open_incidents == [key]
    second = await pagerduty.send(one_failover.finished)

    assert first == f"HTTP 202 trigger, dedup_key {key}"
    assert second == f"HTTP 202 resolve, dedup_key {key}"
    assert pagerduty_receiver.open_incidents == []
    trigger, resolve = pagerduty_receiver.events
    assert resolve == {"routing_key": ROUTING_KEY, "event_action": "resolve", "dedup_key": key}
    assert trigger["routing_key"] == ROUTING_KEY and trigger["client"] == "genesis-failover"
    payload = trigger["payload"]
    assert payload["summary"] == one_failover.started.summary
    assert payload["source"] == "genesis-failover/genesis"
    assert payload["severity"] == "critical"
    assert payload["timestamp"] == "2024-05-01T03:12:00Z"
    assert payload["group"] == "genesis" and payload["class"] == "failover_started"
    details = payload["custom_details"]
    assert details["workflow_id"] == WORKFLOW_ID
    assert details["reason"] == "primary_database unhealthy 3 times"
    assert details["records"] == ["genesis.example.com A", "api.genesis.example.com A"]


async def test_a_failed_failover_adds_to_the_open_incident(
    pagerduty: PagerDutyNotifier, pagerduty_receiver: PagerDutyReceiver
) -> None:
    one = failover("failed", error="DNS switch refused: record at 203.0.113.9")
    await pagerduty.send(one.started)
    await pagerduty.send(one.finished)
    assert [e["event_action"] for e in pagerduty_receiver.events] == ["trigger", "trigger"]
    assert pagerduty_receiver.open_incidents == [one.started.dedup_key]
    payload = pagerduty_receiver.events[1]["payload"]
    assert payload["class"] == "failover_failed" and payload["severity"] == "critical"
    assert payload["custom_details"]["error"] == "DNS switch refused: record at 203.0.113.9"


async def test_a_check_recovering_resolves_what_its_failure_opened(
    pagerduty: PagerDutyNotifier, pagerduty_receiver: PagerDutyReceiver
) -> None:
    sick = CheckHealth(name="primary_database", is_healthy=False, last_error="locked")
    well = CheckHealth(name="primary_database", is_healthy=True)
    await pagerduty.send(events.check_changed("genesis", sick, STARTED))
    await pagerduty.send(events.check_changed("genesis", well, STARTED + timedelta(minutes=5)))
    trigger, resolve = pagerduty_receiver.events
    assert trigger["payload"]["component"] == "primary_database"
    assert resolve["event_action"] == "resolve" and resolve["dedup_key"] == trigger["dedup_key"]
    assert pagerduty_receiver.open_incidents == []


async def test_a_long_summary_is_cut_to_what_pagerduty_takes(
    pagerduty: PagerDutyNotifier, pagerduty_receiver: PagerDutyReceiver, one_failover: Failover
) -> None:
    long = one_failover.started.model_copy(update={"summary": "x" * 3000})
    await pagerduty.send(long)
    assert len(pagerduty_receiver.events[0]["payload"]["summary"]) == 1024


async def test_an_invalid_event_is_not_retryable_and_says_what_pagerduty_said(
    pagerduty: PagerDutyNotifier, pagerduty_receiver: PagerDutyReceiver, one_failover: Failover
) -> None:
    # PagerDuty's own words, echoing the key it was sent: the text keeps the words, not the key.
    pagerduty_receiver.fail_next(
        400,
        body={
            "status": "invalid event",
            "message": "Event object is invalid",
            "errors": ["'payload.summary' is missing or blank", f"key {ROUTING_KEY} unknown"],
        },
    )
    error = await refused(pagerduty, one_failover)
    assert not error.retryable
    assert "HTTP 400" in str(error)
    assert "Event object is invalid: 'payload.summary' is missing or blank; key *** unknown" in (
        str(error)
    )


@pytest.mark.parametrize("status", [500, 502, 503])
async def test_server_errors_are_retryable(
    pagerduty: PagerDutyNotifier,
    pagerduty_receiver: PagerDutyReceiver,
    one_failover: Failover,
    status: int,
) -> None:
    pagerduty_receiver.fail_next(status)
    error = await refused(pagerduty, one_failover)
    assert error.retryable and f"HTTP {status}" in str(error)
    assert await pagerduty.send(one_failover.started)  # the next attempt goes through


async def test_throttling_is_retryable_after_what_pagerduty_said(
    pagerduty: PagerDutyNotifier, pagerduty_receiver: PagerDutyReceiver, one_failover: Failover
) -> None:
    pagerduty_receiver.fail_next(429, retry_after=30)
    error = await refused(pagerduty, one_failover)
    assert error.retryable and error.retry_after == 30


@pytest.mark.parametrize("status", [401, 403, 404])
async def test_a_refused_key_or_url_is_not_retryable(
    pagerduty: PagerDutyNotifier,
    pagerduty_receiver: PagerDutyReceiver,
    one_failover: Failover,
    status: int,
) -> None:
    pagerduty_receiver.fail_next(status, body={"status": "error", "message": ROUTING_KEY})
    error = await refused(pagerduty, one_failover)
    assert not error.retryable
    assert f"HTTP {status}" in str(error) and "PAGERDUTY_ROUTING_KEY" in str(error)


async def test_a_wrong_events_url_gets_pagerdutys_404(
    pagerduty_receiver: PagerDutyReceiver, one_failover: Failover
) -> None:
    url = pagerduty_receiver.url.replace("/v2/enqueue", "/v1/enqueue")
    notifier = PagerDutyNotifier(PagerDutySettings(events_url=url), ROUTING_KEY)
    try:
        error = await refused(notifier, one_failover)
    finally:
        await notifier.aclose()
    assert not error.retryable and "HTTP 404" in str(error)


async def test_a_hung_api_times_out_retryably(
    pagerduty: PagerDutyNotifier, pagerduty_receiver: PagerDutyReceiver, one_failover: Failover
) -> None:
    pagerduty_receiver.hang_next(2)
    error = await refused(pagerduty, one_failover)
    assert error.retryable and "timed out after 0.5 s" in str(error)


def test_the_receiver_refuses_what_pagerduty_refuses(one_failover: Failover) -> None:
    # The notifier's events pass only because they are right: the receiver is not lenient.
    payload = {"summary": "s", "source": "x", "severity": "critical"}
    good = {"routing_key": "k", "event_action": "trigger", "payload": payload}
    assert event_errors(good) == []
    assert event_errors({**good, "routing_key": ""})
    assert event_errors({**good, "event_action": "open"})
    assert event_errors({**good, "dedup_key": "k" * 256})
    assert event_errors({**good, "payload": {**payload, "summary": ""}})
    assert event_errors({**good, "payload": {**payload, "summary": "s" * 1025}})
    assert event_errors({**good, "payload": {**payload, "severity": "high"}})
    assert event_errors({**good, "payload": {"summary": "s", "severity": "info"}})
    assert event_errors({"routing_key": "k", "event_action": "resolve"})
