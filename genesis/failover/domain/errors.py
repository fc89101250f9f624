"""Typed errors of the failover domain.

Every error says whether trying again can help, so the one place that maps domain errors to
Temporal (``genesis/failover/temporal/errors.py``) never has to guess from a name or a message::

    FailoverError                      base; .retryable tells the truth
    ├── ConfigError                    bad config or input (never retryable)
    ├── DNSError                       DNS provider trouble
    │   ├── DNSAuthError               401/403, bad TSIG key: a retry will fail the same way
    │   ├── DNSNotFoundError           unknown zone or record
    │   ├── DNSConflictError           record at neither the from nor the to value (compare-and-set)
    │   ├── DNSRateLimitedError        429; retry after .retry_after seconds
    │   └── DNSTransientError          5xx, timeout, connection refused: retry with backoff
    │       └── DNSBadResponseError    an answer that does not parse (HTML page, success:false,
    │                                  missing field): never a silent success
    ├── HookError                      a hook raised, exited non-zero or timed out
    ├── NotificationError              a channel refused or could not take a message;
    │                                  .retry_after when it said when to come back
    ├── PolicyRefusal                  the policy said no (cooldown, daily limit, ...)
    └── TemporalConnectionError        the worker or a command cannot talk to Temporal
        ├── TemporalUnreachable        nothing answers (yet): refused, no route, timeout
        ├── TemporalRefused            it answered no: TLS, credentials, unknown namespace
        └── MonitorUnavailable         Temporal answers, but the site's monitor does not

Messages name the zone, record, provider or field at fault, and never a secret.
"""

from __future__ import annotations


class FailoverError(Exception):
    """Base of every domain error. ``retryable`` says whether trying again can help."""

    retryable: bool = False

    def __init__(self, message: str, *, retryable: bool | None = None) -> None:
        super().__init__(message)
        if retryable is not None:
            self.retryable = retryable

    @property
    def kind(self) -> str:
        return type(self).__name__


class ConfigError(FailoverError):
    """The config or an input is invalid. ``field`` and ``value`` say which and what."""

    def __init__(self, message: str, *, field: str | None = None, value: object = None) -> None:
        super().__init__(message, retryable=False)
        self.field = field
        self.value = value


class DNSError(FailoverError):
    """A DNS provider could not do what was asked."""


class DNSAuthError(DNSError):
    retryable = False


class DNSNotFoundError(DNSError):
    retryable = False


class DNSConflictError(DNSError):
    """The record holds a value that is neither the one we move from nor the one we move to.

    Someone else changed it; writing over it could send traffic somewhere nobody intended.
    ``current`` holds the values found, when the provider knows them.
    """

    retryable = False

    def __init__(self, message: str, *, current: list[str] | None = None) -> None:
        super().__init__(message)
        self.current = current


class DNSRateLimitedError(DNSError):
    retryable = True

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class DNSTransientError(DNSError):
    retryable = True


class HookError(FailoverError):
    """A hook failed. Retrying helps only if the hook itself says so."""


class NotificationError(FailoverError):
    """A notification channel did not take a message. Retryable for timeouts, 5xx and 429
    (with ``retry_after`` when the channel said), not for a refused payload or a revoked key.
    Messages name the channel, never its URL or key."""

    def __init__(
        self, message: str, *, retryable: bool | None = None, retry_after: float | None = None
    ) -> None:
        super().__init__(message, retryable=retryable)
        self.retry_after = retry_after


class PolicyRefusal(FailoverError):
    """The failover policy refused an operation; ``reason`` is the machine-readable cause."""

    retryable = False

    def __init__(self, message: str, *, reason: str) -> None:
        super().__init__(message)
        self.reason = reason


class DNSBadResponseError(DNSTransientError):
    """The provider answered something we cannot read: an HTML error page from a proxy, a
    Cloudflare envelope with ``success: false``, a JSON body missing a field we need.

    Retryable: such answers usually come from an outage page or a proxy in trouble, and every
    write is compare-and-set, so asking again after an unreadable answer to a write is safe (the
    retry reads the record and finds the work done, or not).
    """


class TemporalConnectionError(FailoverError):
    """Temporal could not be reached or would not accept us. Messages name the address and
    namespace, never an API key."""


class TemporalUnreachable(TemporalConnectionError):
    """Nothing answered: the server may be starting or restarting, so waiting can help."""

    retryable = True


class TemporalRefused(TemporalConnectionError):
    """The server answered and said no (a certificate it or we do not trust, a refused API key,
    a namespace it does not have): the same attempt will get the same answer."""

    retryable = False


class MonitorUnavailable(TemporalConnectionError):
    """The site's monitor workflow did not answer (not started, no worker polling its task
    queue, a query that timed out): a worker coming up fixes it, so a retry can help."""

    retryable = True
