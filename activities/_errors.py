"""The ONE place where domain errors become Temporal errors.

A domain error already knows whether a retry can help (``FailoverError.retryable``); this module
only translates that into ``ApplicationError(non_retryable=...)`` and carries a provider's
Retry-After as the next retry delay. Workflows never match error names as strings.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio.exceptions import ApplicationError

from genesis.failover.domain.errors import FailoverError


def to_application_error(exc: FailoverError) -> ApplicationError:
    delay = None
    # A DNS provider's or a notification channel's Retry-After becomes the next retry's delay.
    retry_after = getattr(exc, "retry_after", None)
    if retry_after:
        delay = timedelta(seconds=retry_after)
    return ApplicationError(
        str(exc), type=exc.kind, non_retryable=not exc.retryable, next_retry_delay=delay
    )
