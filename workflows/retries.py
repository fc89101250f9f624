"""Timeouts and retry policies of the DNS steps, and how a failed activity is described.

In one place because the TTL steps and the switch share them: a TTL write is a DNS write.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError

# A DNS write is a few round trips; the retry policy (not the timeout) rides out a flaky API.
SWITCH_START_TO_CLOSE = timedelta(seconds=30)
SWITCH_SCHEDULE_TO_CLOSE = timedelta(minutes=5)
# The switch heartbeats every second (activities/dns.py): a worker killed mid-switch is
# noticed within this and the switch handed to another worker (it is compare-and-set: the
# retry finds the record moved or moves it), instead of after SWITCH_START_TO_CLOSE.
SWITCH_HEARTBEAT_TIMEOUT = timedelta(seconds=10)
SWITCH_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(seconds=30),
)


# A hook's activity heartbeats every second (activities/_heartbeat.py). A worker that dies
# mid-hook is noticed within this and the hook handed to another worker, instead of after the
# hook's whole timeout. (The SDK sends a heartbeat at most every 0.8 x this: keep it >= 5 s.)
HOOK_HEARTBEAT_TIMEOUT = timedelta(seconds=10)
# Attempts a hook may lose with its worker, beyond its own max_attempts (the activity counts the
# hook's failures itself, in its heartbeat details): a hook that kills its worker every time
# must not be retried forever.
HOOK_WORKER_LOSSES = 3


def hook_retry(max_attempts: int, retry_interval_seconds: float) -> RetryPolicy:
    """The retry policy of one hook's activity: the hook's own failures are limited by the
    activity (``max_attempts``); Temporal's limit adds the worker losses tolerated."""
    return RetryPolicy(
        maximum_attempts=max_attempts + HOOK_WORKER_LOSSES,
        initial_interval=timedelta(seconds=retry_interval_seconds),
    )


def cause(err: ActivityError) -> str:
    """What went wrong, as the activity's domain error said it (never a stack trace)."""
    inner = err.cause
    if isinstance(inner, ApplicationError):
        return inner.message
    return str(inner or err)
