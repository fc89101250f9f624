"""Heartbeating while an activity waits on something slow (a hook, a DNS API).

Why: a worker killed mid-activity says nothing to the server. Without heartbeats the activity is
handed to another worker only when its start-to-close timeout runs out (a hook's whole timeout);
with them, within the heartbeat timeout. A heartbeat also tells a live worker that the server has
given its attempt up (it gets cancelled), so a stalled attempt does not run on beside its retry.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from temporalio import activity

T = TypeVar("T")

# The SDK sends at most one heartbeat per 0.8 x the heartbeat timeout; beating more often than
# that costs nothing and keeps the newest details ready.
BEAT_SECONDS = 1.0


async def beating(
    work: Awaitable[T], details: Callable[[], Any], *, every: float = BEAT_SECONDS
) -> T:
    """Await ``work`` (as a task), heartbeating ``details()`` every ``every`` seconds.

    The first beat waits ``every`` too: the SDK sends the first heartbeat at once and holds the
    next ones back, so the first one should carry what ``work`` has to say at its start (a
    hook's process, heartbeated by the hook activity as soon as it is known).

    If the activity is cancelled, ``work`` is cancelled and awaited, so it can clean up (a command
    hook kills its process group) before the cancellation goes on.
    """
    task = asyncio.ensure_future(work)
    try:
        while True:
            done, _ = await asyncio.wait({task}, timeout=every)
            if done:
                return task.result()
            activity.heartbeat(details())
    finally:
        if not task.done():
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
