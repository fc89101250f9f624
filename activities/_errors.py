"""The ONE place where domain errors become Temporal errors.

A domain error already knows whether a retry can help (``FailoverError.retryable``); this module
only translates that into ``ApplicationError(non_retryable=...)`` and carries a provider's
Retry-After as the next retry delay. Workflows never match error names as strings.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio.exceptions import ApplicationError

from genesis.failover.errors import DNSRateLimitedError, FailoverError


def to_application_error(exc: FailoverError) -> ApplicationError:
    delay = None
    if isinstance(exc, DNSRateLimitedError) and exc.retry_after:
        delay = timedelta(seconds=exc.retry_after)
    return ApplicationError(
        str(exc), type=exc.kind, non_retryable=not exc.retryable, next_retry_delay=delay
    )
