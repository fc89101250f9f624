"""What a notification channel is, the set of them a worker holds, and the one HTTP poster the
webhook channels (Slack, PagerDuty) share.

Every failure leaves a channel as ``NotificationError``: retryable when another attempt can
succeed (timeouts, refused connections, 5xx, 429 with ``retry_after``), not when the same request
will be refused again (bad payload, revoked key or URL). No message holds a secret: they are
built here from what we know (the channel, the status, the service's own error code), never from
an exception's text (httpx puts the URL, which is Slack's secret, in its messages), and passed
through ``redact`` with the channel's secrets as a second guard.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any, Protocol, runtime_checkable

import httpx

from genesis.failover.domain.errors import NotificationError
from genesis.failover.domain.models import NotificationEvent
from genesis.failover.domain.secrets import HTTP_LOG_REDACTOR, redact

__all__ = ["JsonPoster", "Notifier", "Notifiers"]


@runtime_checkable
class Notifier(Protocol):
    """One channel. ``send`` returns a short delivery note for the failover's history."""

    channel: str

    async def send(self, event: NotificationEvent) -> str: ...

    async def aclose(self) -> None: ...


_NO_NOTIFIERS: Mapping[str, Notifier] = MappingProxyType({})


class Notifiers:
    """The channels this worker can send to, by name ("email", "slack", "pagerduty")."""

    def __init__(self, notifiers: Mapping[str, Notifier] = _NO_NOTIFIERS) -> None:
        self._notifiers = dict(notifiers)

    @property
    def channels(self) -> list[str]:
        return sorted(self._notifiers)

    def notifier(self, channel: str) -> Notifier:
        try:
            return self._notifiers[channel]
        except KeyError:
            # The workflow routes events by the config it started with; a worker built from
            # another config cannot send them. Retrying on this worker cannot help.
            configured = ", ".join(self.channels) or "none"
            raise NotificationError(
                f"notification channel {channel!r} is not configured on this worker "
                f"(configured: {configured})",
                retryable=False,
            ) from None

    async def send(self, channel: str, event: NotificationEvent) -> str:
        notifier = self.notifier(channel)
        try:
            return await notifier.send(event)
        except NotificationError:
            raise
        except Exception as exc:
            # A bug in a notifier must not be retried until the deadline, nor show its text
            # (which could hold what the notifier holds): the chained exception keeps the trace.
            raise NotificationError(
                f"{channel} notifier failed unexpectedly ({type(exc).__name__}) "
                f"sending {event.kind}",
                retryable=False,
            ) from exc

    async def aclose(self) -> None:
        for notifier in self._notifiers.values():
            await notifier.aclose()


class JsonPoster:
    """POSTs JSON to one URL with its own ``httpx.AsyncClient``; transport failures become
    ``NotificationError`` here, answers are the channel's to read (``describe`` names the
    destination in messages, e.g. "slack webhook (SLACK_WEBHOOK_URL)")."""

    def __init__(self, url: str, *, describe: str, timeout: float, secrets: list[str]) -> None:
        self._url = url
        self.describe = describe
        self.timeout = timeout
        self.secrets = [s for s in secrets if s]
        self._http: httpx.AsyncClient | None = None

    def _client(self) -> httpx.AsyncClient:
        # Opened on first use: a worker whose config is refused after this poster was built
        # leaves nothing open, and the secrets join the log filter only while a client exists.
        if self._http is None:
            HTTP_LOG_REDACTOR.hide(self.secrets)
            # No redirects: a webhook that answers 3xx is misconfigured, and following it would
            # send the payload (and a routing key) wherever it points.
            self._http = httpx.AsyncClient(timeout=self.timeout, follow_redirects=False)
        return self._http

    def redact(self, text: str) -> str:
        return redact(text, self.secrets)

    def error(
        self, message: str, *, retryable: bool, retry_after: float | None = None
    ) -> NotificationError:
        return NotificationError(self.redact(message), retryable=retryable, retry_after=retry_after)

    async def post(self, payload: dict[str, Any]) -> httpx.Response:
        try:
            return await self._client().post(self._url, json=payload)
        except httpx.TimeoutException:
            raise self.error(
                f"timed out after {self.timeout:g} s waiting for the {self.describe}",
                retryable=True,
            ) from None
        except (httpx.UnsupportedProtocol, httpx.InvalidURL):
            raise self.error(
                f"the {self.describe} is not a usable http(s) URL", retryable=False
            ) from None
        except httpx.RequestError as exc:  # refused, reset, name resolution, protocol error
            # ``from None``: the chained httpx exception's text holds the URL.
            raise self.error(
                f"cannot reach the {self.describe}: {type(exc).__name__}", retryable=True
            ) from None

    def body_text(self, response: httpx.Response, limit: int = 300) -> str:
        """The answer's body on one line, cut and redacted: what the service said was wrong."""
        text = " ".join(response.text.split())
        if len(text) > limit:
            text = text[: limit - 1] + "…"
        return self.redact(text)

    async def aclose(self) -> None:
        http, self._http = self._http, None
        if http is not None:
            await http.aclose()
            HTTP_LOG_REDACTOR.unhide(self.secrets)
