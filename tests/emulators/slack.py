"""A loopback Slack incoming webhook (https://api.slack.com/messaging/webhooks) for tests.

Speaks the webhook's wire format: ``POST <url>`` with a JSON body; ``200 ok`` (text/plain) when
the message is accepted; Slack's plain-text refusals otherwise (``400 invalid_payload``,
``403 invalid_token``, ``404 no_service``, ``410 channel_is_archived``, ``429`` with
``Retry-After``, 5xx). It checks what Slack checks, so a notifier cannot lean on leniency: a
missing or empty ``text``, or ``blocks`` outside the Block Kit limits (header plain_text 1..150,
section text 1..3000, 1..10 fields of 1..2000, context elements 1..10, at most 50 blocks) get
``400 invalid_payload``. A POST to any other path gets ``404 no_service``.

    with SlackReceiver() as slack:
        notifier = SlackNotifier(SlackSettings(), slack.url)
        slack.fail_next(500)                       # the next request gets HTTP 500
        slack.fail_next(429, retry_after=1)
        slack.requests                             # every JSON body received, in order
        slack.accepted                             # the ones answered 200 ok
"""

from __future__ import annotations

import secrets
from collections.abc import Set as AbstractSet
from typing import Any

from tests.emulators.scripted import Answer, Fault, ScriptedReceiver

__all__ = ["Fault", "SlackReceiver", "block_errors"]

# Slack's bodies for the statuses a test may script without giving one.
DEFAULT_BODIES: dict[int, str | dict[str, Any]] = {
    400: "invalid_payload",
    403: "invalid_token",
    404: "no_service",
    410: "channel_is_archived",
    429: "rate_limited",
    500: "internal_error",
    502: "bad gateway",
    503: "service unavailable",
}
TEXT_TYPES = frozenset({"plain_text", "mrkdwn"})


def _text_error(
    obj: Any, where: str, limit: int, types: AbstractSet[str] = TEXT_TYPES
) -> str | None:
    if not isinstance(obj, dict) or obj.get("type") not in types:
        return f"{where} must be a text object of type {'/'.join(sorted(types))}"
    text = obj.get("text")
    if not isinstance(text, str) or not text or len(text) > limit:
        return f"{where}.text must be 1..{limit} characters"
    return None


def block_errors(blocks: Any) -> list[str]:
    """What Slack would refuse in ``blocks`` (the block types a notification uses)."""
    if not isinstance(blocks, list) or len(blocks) > 50:
        return ["blocks must be a list of at most 50 blocks"]
    errors: list[str | None] = []
    for i, block in enumerate(blocks):
        where = f"blocks[{i}]"
        kind = block.get("type") if isinstance(block, dict) else None
        if kind == "header":
            errors.append(_text_error(block.get("text"), f"{where}.text", 150, {"plain_text"}))
        elif kind == "section":
            text, fields = block.get("text"), block.get("fields")
            if text is None and fields is None:
                errors.append(f"{where} needs text or fields")
            if text is not None:
                errors.append(_text_error(text, f"{where}.text", 3000))
            if fields is not None:
                if not isinstance(fields, list) or not 1 <= len(fields) <= 10:
                    errors.append(f"{where}.fields must hold 1..10 text objects")
                else:
                    errors += [
                        _text_error(f, f"{where}.fields[{j}]", 2000) for j, f in enumerate(fields)
                    ]
        elif kind == "context":
            elements = block.get("elements")
            if not isinstance(elements, list) or not 1 <= len(elements) <= 10:
                errors.append(f"{where}.elements must hold 1..10 elements")
            else:
                errors += [
                    _text_error(e, f"{where}.elements[{j}]", 3000) for j, e in enumerate(elements)
                ]
        elif kind != "divider":
            errors.append(f"{where} has an unknown type {kind!r}")
    return [e for e in errors if e]


class SlackReceiver(ScriptedReceiver):
    default_bodies = DEFAULT_BODIES

    def __init__(self) -> None:
        super().__init__()
        # Shaped like a real webhook path; the last part is the secret.
        self.path = f"/services/T{secrets.token_hex(4).upper()}/B{secrets.token_hex(4).upper()}/"
        self.path += secrets.token_urlsafe(18)
        self.accepted: list[dict[str, Any]] = []
        #: Why the last refused payload was refused (the validator's findings).
        self.last_errors: list[str] = []

    @property
    def url(self) -> str:
        """The webhook URL (a secret, as at Slack)."""
        return f"{self.origin}{self.path}"

    def accept(self, path: str, body: Any) -> Answer:
        if path != self.path:
            return 404, "no_service", {}
        errors: list[str] = []
        if not isinstance(body, dict):
            errors = ["the body is not a JSON object"]
        else:
            if not isinstance(body.get("text"), str) or not body["text"].strip():
                errors.append("text is missing or empty")
            if "blocks" in body:
                errors += block_errors(body["blocks"])
        if errors:
            with self._lock:
                self.last_errors = errors
            return 400, "invalid_payload", {}
        with self._lock:
            self.accepted.append(body)
        return 200, "ok", {}
