"""Slack through an incoming webhook (https://api.slack.com/messaging/webhooks).

The webhook URL is the secret (whoever holds it posts to the channel), so it lives only in the
poster: messages name the environment variable it came from, never the URL.

Slack answers 200 ``ok``; its refusals are 4xx with a one-word body (``invalid_payload``,
``invalid_token``, ``no_service``, ``channel_is_archived``): the same request will be refused
again, so they are not retryable. 429 (with ``Retry-After``), 5xx and transport failures are.
"""

from __future__ import annotations

from typing import Any

from genesis.failover.domain.config import SlackSettings
from genesis.failover.domain.dns.retry_after import retry_after_seconds
from genesis.failover.domain.models import NotificationEvent
from genesis.failover.domain.notify.base import JsonPoster
from genesis.failover.domain.notify.render import facts, one_line, utc_iso, what_happened

__all__ = ["SlackNotifier", "slack_payload"]

# Slack's limits (Block Kit reference): header text 150, section text 3000, field text 2000,
# 10 fields per section. Past them Slack refuses the whole message with invalid_blocks.
HEADER_LIMIT = 150
SECTION_LIMIT = 3000
FIELD_LIMIT = 2000
MAX_FIELDS = 10
# Shown in the context line, not as fields.
_CONTEXT_FACTS = {"Severity", "Time (UTC)"}

_HINTS = {
    "invalid_payload": "Slack refused the message's shape",
    "invalid_token": "the webhook was revoked",
    "action_prohibited": "an admin restricted the webhook",
    "no_service": "the webhook was removed or its app uninstalled",
    "channel_not_found": "the webhook's channel no longer exists",
    "channel_is_archived": "the webhook's channel is archived",
}


def _escape(text: str) -> str:
    """Slack mrkdwn reserves &, < and > (``<url|label>`` links, ``<!channel>`` mentions): an
    error text holding ``<!channel>`` must not page the whole channel."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": _cut(text, SECTION_LIMIT)}}


def slack_payload(event: NotificationEvent) -> dict[str, Any]:
    """``text`` (the one line notifications and old clients show) and readable ``blocks``."""
    fields = [
        {"type": "mrkdwn", "text": _cut(f"*{_escape(label)}*\n{_escape(value)}", FIELD_LIMIT)}
        for label, value in facts(event)
        if label not in _CONTEXT_FACTS
    ][:MAX_FIELDS]
    blocks: list[dict[str, Any]] = [
        {
            "type": "header",
            "text": {"type": "plain_text", "text": one_line(event.summary, HEADER_LIMIT)},
        },
        _section(_escape(what_happened(event.kind))),
        {"type": "section", "fields": fields},
    ]
    if len(one_line(event.summary, 10_000)) > HEADER_LIMIT:
        blocks.insert(1, _section(_escape(event.summary)))
    if event.records:
        records = "\n".join(f"• {_escape(record)}" for record in event.records)
        blocks.append(_section(f"*Records*\n{records}"))
    if event.error:
        blocks.append(_section(f"*Error*\n```{_escape(event.error)}```"))
    context = f"{event.kind} · {event.severity} · {utc_iso(event.occurred_at)}"
    blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": context}]})
    return {"text": one_line(f"[{event.site}] {event.summary}", SECTION_LIMIT), "blocks": blocks}


class SlackNotifier:
    channel = "slack"

    def __init__(self, settings: SlackSettings, webhook_url: str) -> None:
        self.settings = settings
        self._poster = JsonPoster(
            webhook_url,
            describe=f"Slack webhook ({settings.webhook_url_env})",
            timeout=settings.timeout_seconds,
            secrets=[webhook_url],
        )

    async def send(self, event: NotificationEvent) -> str:
        poster = self._poster
        response = await poster.post(slack_payload(event))
        status = response.status_code
        said = poster.body_text(response, 100)
        if 200 <= status < 300:
            return f"HTTP {status} {said}".rstrip()
        where = f"the {poster.describe} answered HTTP {status} {said}".rstrip()
        if status == 429:
            retry_after = retry_after_seconds(response.headers.get("retry-after"))
            later = f"; retry after {retry_after:g} s" if retry_after is not None else ""
            raise poster.error(
                f"{where} (rate limited){later}", retryable=True, retry_after=retry_after
            )
        if status >= 500 or status == 408:
            raise poster.error(where, retryable=True)
        hint = _HINTS.get(said)
        if hint and said != "invalid_payload":
            hint += f": put a working webhook URL in {self.settings.webhook_url_env}"
        raise poster.error(f"{where}" + (f" ({hint})" if hint else ""), retryable=False)

    async def aclose(self) -> None:
        await self._poster.aclose()
