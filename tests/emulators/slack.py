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

import json
import secrets
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from typing import Any

from tests.emulators.loopback import LoopbackHandler, LoopbackHTTPServer

__all__ = ["Fault", "SlackReceiver", "block_errors"]

# Slack's bodies for the statuses a test may script without giving one.
DEFAULT_BODIES = {
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


@dataclass(frozen=True)
class Fault:
    """A scripted answer: ``status`` with ``body`` (a str, or a dict sent as JSON), an optional
    ``Retry-After``; or, with ``hang`` seconds, no answer at all (a timeout)."""

    status: int = 500
    body: str | dict[str, Any] | None = None
    retry_after: float | None = None
    hang: float = 0.0


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


class SlackReceiver(LoopbackHTTPServer[Fault]):
    def __init__(self) -> None:
        super().__init__(_Handler)
        # Shaped like a real webhook path; the last part is the secret.
        self.path = f"/services/T{secrets.token_hex(4).upper()}/B{secrets.token_hex(4).upper()}/"
        self.path += secrets.token_urlsafe(18)
        self.requests: list[Any] = []
        self.accepted: list[dict[str, Any]] = []
        #: Why the last refused payload was refused (the validator's findings).
        self.last_errors: list[str] = []

    @property
    def url(self) -> str:
        """The webhook URL (a secret, as at Slack)."""
        return f"{self.origin}{self.path}"

    def fail_next(
        self,
        status: int = 500,
        *,
        body: str | dict[str, Any] | None = None,
        retry_after: float | None = None,
        count: int = 1,
    ) -> None:
        """Answer the next ``count`` requests with ``status`` (Slack's body for it unless
        ``body`` is given) and ``Retry-After`` when ``retry_after`` is given."""
        self._queue_fault(Fault(status, body, retry_after), count)

    def hang_next(self, seconds: float, count: int = 1) -> None:
        """Leave the next ``count`` requests unanswered for ``seconds``, then drop them."""
        self._queue_fault(Fault(hang=seconds), count)

    def answer(
        self, path: str, raw: bytes, fault: Fault | None
    ) -> tuple[int, str | dict[str, Any], dict[str, str]]:
        """Record the request, then the scripted answer if any, else Slack's."""
        body = _parsed(raw)
        with self._lock:
            self.requests.append(body)
        if fault is not None:
            headers = {}
            if fault.retry_after is not None:
                headers["Retry-After"] = format(fault.retry_after, "g")
            text = fault.body if fault.body is not None else DEFAULT_BODIES.get(fault.status, "")
            return fault.status, text, headers
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


class _Handler(LoopbackHandler):
    owner: SlackReceiver

    def do_POST(self) -> None:
        fault = self.owner.take_fault()
        status, body, headers = self.owner.answer(self.path, self.read_body(), fault)
        if fault is not None and fault.hang:
            self.hang(fault.hang)
            return
        if isinstance(body, dict):
            payload, kind = json.dumps(body).encode(), "application/json"
        else:
            payload, kind = body.encode(), "text/plain; charset=utf-8"
        self.send(status, payload, {"Content-Type": kind, **headers})


def _parsed(raw: bytes) -> Any:
    """The JSON body, or its text when it is not JSON."""
    try:
        return json.loads(raw)
    except ValueError:
        return raw.decode("utf-8", "replace")
