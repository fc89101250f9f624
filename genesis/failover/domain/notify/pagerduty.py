"""PagerDuty through the Events API v2 (https://developer.pagerduty.com/docs/events-api-v2/).

One incident per failover: ``failover_started`` triggers it under the operation's dedup key,
``failover_failed``/``failover_degraded`` trigger again under the same key (PagerDuty adds them
to the open incident instead of paging twice), ``failover_succeeded`` resolves it. A check's
incident is keyed by the check, so ``check_recovered`` resolves what ``check_unhealthy`` opened.

The routing key is the secret (it lets anyone open incidents on the service): it travels only in
the request body, and every message is redacted of it.
"""

from __future__ import annotations

from typing import Any

from genesis.failover.domain.config import EventKind, PagerDutySettings
from genesis.failover.domain.dns.retry_after import retry_after_seconds
from genesis.failover.domain.models import NotificationEvent
from genesis.failover.domain.notify.base import JsonPoster
from genesis.failover.domain.notify.render import utc_iso, what_happened

__all__ = ["RESOLVING_EVENTS", "PagerDutyNotifier", "pagerduty_event"]

# The kinds that close an incident; every other kind opens (or adds to) one.
RESOLVING_EVENTS: frozenset[EventKind] = frozenset(
    {"failover_succeeded", "check_recovered", "failback_done"}
)
SUMMARY_LIMIT = 1024
DEDUP_KEY_LIMIT = 255


def _custom_details(event: NotificationEvent) -> dict[str, Any]:
    details: dict[str, Any] = {"what_happened": what_happened(event.kind), "event": event.kind}
    op = event.operation
    said: dict[str, Any] = {
        "direction": op.direction if op else None,
        "trigger": op.trigger if op else None,
        "reason": op.reason if op else event.reason,
        "check_name": event.check_name,
        "from_ip": op.from_ip if op else None,
        "to_ip": op.to_ip if op else None,
        "outcome": event.outcome,
        "duration_seconds": event.duration_seconds,
        "workflow_id": event.workflow_id,
        "error": event.error,
    }
    details.update({name: value for name, value in said.items() if value is not None})
    if event.records:
        details["records"] = list(event.records)
    return details


def pagerduty_event(event: NotificationEvent, routing_key: str) -> dict[str, Any]:
    """The Events API v2 body for ``event``: a resolve for the kinds that end an incident,
    a trigger with a full payload for the others."""
    body: dict[str, Any] = {
        "routing_key": routing_key,
        "event_action": "resolve" if event.kind in RESOLVING_EVENTS else "trigger",
        "dedup_key": event.dedup_key[:DEDUP_KEY_LIMIT],
    }
    if body["event_action"] == "trigger":
        body["payload"] = {
            "summary": (event.summary.strip() or event.kind)[:SUMMARY_LIMIT],
            "source": f"genesis-failover/{event.site}",
            "severity": event.severity,
            "timestamp": utc_iso(event.occurred_at),
            # What broke, for PagerDuty's grouping: the check, else the site's DNS switch.
            "component": event.check_name or "dns-failover",
            "group": event.site,
            "class": event.kind,
            "custom_details": _custom_details(event),
        }
        body["client"] = "genesis-failover"
    return body


class PagerDutyNotifier:
    channel = "pagerduty"

    def __init__(self, settings: PagerDutySettings, routing_key: str) -> None:
        self.settings = settings
        self._routing_key = routing_key
        self._poster = JsonPoster(
            settings.events_url,
            describe=f"PagerDuty Events API at {settings.events_url}",
            timeout=settings.timeout_seconds,
            secrets=[routing_key],
        )

    async def send(self, event: NotificationEvent) -> str:
        poster = self._poster
        body = pagerduty_event(event, self._routing_key)
        action = body["event_action"]
        response = await poster.post(body)
        status = response.status_code
        answer = _json_object(response)
        if 200 <= status < 300:
            dedup_key = answer.get("dedup_key") or body["dedup_key"]
            return poster.redact(f"HTTP {status} {action}, dedup_key {dedup_key}")
        where = f"the {poster.describe} answered HTTP {status} to a {action} of {event.kind}"
        said = _pd_said(answer) or poster.body_text(response, 200)
        if said:
            where += f": {said}"
        if status == 429 or status >= 500:
            retry_after = retry_after_seconds(response.headers.get("retry-after"))
            raise poster.error(where, retryable=True, retry_after=retry_after)
        if status in (401, 403, 404):
            where += f" (check {self.settings.routing_key_env} and events_url)"
        raise poster.error(where, retryable=False)

    async def aclose(self) -> None:
        await self._poster.aclose()


def _json_object(response: Any) -> dict[str, Any]:
    try:
        value = response.json()
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _pd_said(answer: dict[str, Any]) -> str:
    """PagerDuty's ``message`` and ``errors`` list ("Event object is invalid: 'payload.summary'
    is missing or blank"): the only way an operator learns which field it refused."""
    message = str(answer.get("message") or "")
    errors = answer.get("errors")
    if isinstance(errors, list) and errors:
        listed = "; ".join(str(e) for e in errors[:5])
        message = f"{message}: {listed}" if message else listed
    return " ".join(message.split())[:500]
