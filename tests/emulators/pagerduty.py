"""A loopback PagerDuty Events API v2 (https://developer.pagerduty.com/docs/events-api-v2/) for
tests.

``POST /v2/enqueue`` with a JSON event. It checks what PagerDuty checks: ``routing_key`` a
non-empty string, ``event_action`` one of trigger|acknowledge|resolve, ``dedup_key`` (when given)
a string of at most 255 characters, and for a trigger a ``payload`` with ``summary`` (1..1024),
``source`` (non-empty) and ``severity`` (critical|error|warning|info). It answers as PagerDuty
does: ``202 {"status": "success", "message": "Event processed", "dedup_key": ...}`` (a new key
when the event had none) or ``400 {"status": "invalid event", "message": "Event object is
invalid", "errors": [...]}``. Another path gets 404.

It also keeps incidents the way PagerDuty does, by dedup key: a trigger opens one (or adds to the
open one), a resolve closes it (``open_incidents``).

    with PagerDutyReceiver() as pd:
        notifier = PagerDutyNotifier(PagerDutySettings(events_url=pd.url), routing_key)
        pd.fail_next(500)                  # scripted answers, as the Slack receiver's
        pd.events                          # events accepted (202), in order
        pd.requests                        # every body received, in order
"""

from __future__ import annotations

import uuid
from typing import Any

from tests.emulators.scripted import Answer, Fault, ScriptedReceiver

__all__ = ["Fault", "PagerDutyReceiver", "event_errors"]

PATH = "/v2/enqueue"
ACTIONS = frozenset({"trigger", "acknowledge", "resolve"})
SEVERITIES = frozenset({"critical", "error", "warning", "info"})
INVALID = {"status": "invalid event", "message": "Event object is invalid"}
DEFAULT_BODIES: dict[int, dict[str, Any] | str] = {
    400: {**INVALID, "errors": ["Event object is invalid"]},
    401: {"status": "unauthorized", "message": "Invalid routing key"},
    429: {"status": "throttle event", "message": "Requests for this service are arriving too fast"},
    500: "",
    502: "",
    503: "",
}


def event_errors(event: Any) -> list[str]:
    """PagerDuty's reasons to refuse ``event``, in its words where it has them."""
    if not isinstance(event, dict):
        return ["Event object must be a JSON object"]
    errors = []
    key = event.get("routing_key")
    if not isinstance(key, str) or not key:
        errors.append("'routing_key' is missing or blank")
    action = event.get("event_action")
    if action not in ACTIONS:
        errors.append("'event_action' must be one of trigger, acknowledge, resolve")
    dedup = event.get("dedup_key")
    if dedup is not None and (not isinstance(dedup, str) or not 0 < len(dedup) <= 255):
        errors.append("'dedup_key' must be a string of 1..255 characters")
    if action == "trigger":
        payload = event.get("payload")
        if not isinstance(payload, dict):
            return [*errors, "'payload' is missing or not an object"]
        summary = payload.get("summary")
        if not isinstance(summary, str) or not summary.strip():
            errors.append("'payload.summary' is missing or blank")
        elif len(summary) > 1024:
            errors.append("'payload.summary' is longer than 1024 characters")
        source = payload.get("source")
        if not isinstance(source, str) or not source.strip():
            errors.append("'payload.source' is missing or blank")
        if payload.get("severity") not in SEVERITIES:
            errors.append("'payload.severity' must be one of critical, error, warning, info")
    elif action in ("acknowledge", "resolve") and dedup is None:
        errors.append(f"'dedup_key' is required to {action}")
    return errors


class PagerDutyReceiver(ScriptedReceiver):
    default_bodies = DEFAULT_BODIES

    def __init__(self) -> None:
        super().__init__()
        self.events: list[dict[str, Any]] = []
        self._incidents: dict[str, str] = {}  # dedup_key -> "triggered" | "resolved"

    @property
    def url(self) -> str:
        """The events endpoint, for ``PagerDutySettings(events_url=...)``."""
        return f"{self.origin}{PATH}"

    @property
    def open_incidents(self) -> list[str]:
        """Dedup keys triggered and not resolved since."""
        with self._lock:
            return [key for key, state in self._incidents.items() if state == "triggered"]

    def accept(self, path: str, event: Any) -> Answer:
        if path != PATH:
            return 404, {"status": "not found", "message": "Not found"}, {}
        if isinstance(event, str):
            return 400, {**INVALID, "errors": ["Request body is not valid JSON"]}, {}
        errors = event_errors(event)
        if errors:
            return 400, {**INVALID, "errors": errors}, {}
        key = event.get("dedup_key") or uuid.uuid4().hex
        with self._lock:
            self.events.append(event)
            if event["event_action"] == "trigger":
                self._incidents[key] = "triggered"
            elif event["event_action"] == "resolve" and key in self._incidents:
                self._incidents[key] = "resolved"
        return 202, {"status": "success", "message": "Event processed", "dedup_key": key}, {}
