"""The one place where domain errors become Temporal errors, and come back.

A domain error already knows whether a retry can help (``FailoverError.retryable``); going out
(an activity's failure, a refused update) it becomes an ``ApplicationError`` whose type is the
error's class name, ``non_retryable`` its truth, a provider's Retry-After the next retry's delay,
and a refusal's reason its detail. Coming back (a client whose update was refused) it is the same
domain error again. Workflows and clients never match error names as strings elsewhere.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio.exceptions import ApplicationError

from genesis.failover.domain.errors import FailoverError, PolicyRefusal


def to_application_error(exc: FailoverError) -> ApplicationError:
    delay = None
    # A DNS provider's or a notification channel's Retry-After becomes the next retry's delay.
    retry_after = getattr(exc, "retry_after", None)
    if retry_after:
        delay = timedelta(seconds=retry_after)
    details = (exc.reason,) if isinstance(exc, PolicyRefusal) else ()
    return ApplicationError(
        str(exc), *details, type=exc.kind, non_retryable=not exc.retryable, next_retry_delay=delay
    )


def refusal_from(cause: BaseException | None) -> PolicyRefusal:
    """A refused update's cause as the refusal it was (any other failure: reason "refused")."""
    if isinstance(cause, ApplicationError) and cause.type == PolicyRefusal.__name__:
        reason = str(cause.details[0]) if cause.details else "refused"
        return PolicyRefusal(cause.message, reason=reason)
    return PolicyRefusal(str(cause or "the update failed"), reason="refused")
