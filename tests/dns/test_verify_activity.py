"""The verify_propagation activity against real BIND9: when it heartbeats.

A heartbeat is a server round trip the activity's completion waits behind (~5 ms on the dev
server, most of a fast confirmation), so the activity heartbeats only before it sleeps for the
next poll: a poll that confirms everything returns at once, and a long poll still beats.
"""

from __future__ import annotations

import asyncio
from typing import Any

from temporalio.testing import ActivityEnvironment

from activities.dns import DnsActivities
from activities.payloads import PropagationInput
from genesis.failover.domain.dns import PropagationProgress, RFC2136Provider
from genesis.lab import Bind9Lab

NEW_IP = "192.0.2.99"


def verify_input(lab: Bind9Lab, expected_ip: str) -> PropagationInput:
    return PropagationInput(
        domain="www.example.test",
        expected_ip=expected_ip,
        nameservers=lab.servers,
        provider="rfc2136",
        deadline_seconds=10,
        poll_seconds=0.05,
    )


def environment() -> tuple[ActivityEnvironment, list[Any]]:
    env = ActivityEnvironment()
    beats: list[Any] = []
    env.on_heartbeat = lambda *details: beats.append(details)
    return env, beats


async def test_confirmed_on_the_first_poll_returns_without_a_heartbeat(
    bind9_lab: Bind9Lab, provider: RFC2136Provider
) -> None:
    env, beats = environment()
    acts = DnsActivities(provider)
    result = await env.run(acts.verify_propagation, verify_input(bind9_lab, "192.0.2.10"))
    assert result.complete and result.polls == 1
    assert result.nameservers == dict.fromkeys(bind9_lab.servers, True)
    assert beats == []


async def test_a_poll_that_must_wait_heartbeats_before_each_wait(
    bind9_lab: Bind9Lab, provider: RFC2136Provider
) -> None:
    env, beats = environment()
    acts = DnsActivities(provider)
    task = asyncio.create_task(env.run(acts.verify_propagation, verify_input(bind9_lab, NEW_IP)))
    while not beats:  # the first poll found the old address and is about to wait
        await asyncio.sleep(0.01)
    assert beats[0][0] == PropagationProgress(
        domain="www.example.test",
        record_type="A",
        expected_ip=NEW_IP,
        provider="rfc2136",
        provider_live=None,
        nameservers=dict.fromkeys(bind9_lab.servers, False),
    )
    bind9_lab.set_record("www", NEW_IP)
    result = await task
    assert result.complete and result.polls >= 2
    # One beat per wait: every poll but the last one, which confirmed.
    assert len(beats) == result.polls - 1
