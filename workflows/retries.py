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
SWITCH_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(seconds=30),
)


def cause(err: ActivityError) -> str:
    """What went wrong, as the activity's domain error said it (never a stack trace)."""
    inner = err.cause
    if isinstance(inner, ApplicationError):
        return inner.message
    return str(inner or err)
