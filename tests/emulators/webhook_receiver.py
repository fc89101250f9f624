"""A loopback webhook receiver for tests: records every request (headers included) and answers
as scripted (status, body, headers, or no answer at all).

    with WebhookReceiver() as receiver:
        receiver.answer(500, b"busy")            # the next request gets a 500, then 200s again
        receiver.answer(302, headers={"Location": other.url})
        receiver.hang_next(5)                    # the next request is never answered
        ...
        receiver.requests[0].json()              # what the hook POSTed
        receiver.requests[0].headers["idempotency-key"]

Headers are recorded with lower-case names. Tokens stay in memory; nothing is logged.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from tests.emulators.loopback import LoopbackHandler, LoopbackHTTPServer

__all__ = ["Answer", "ReceivedRequest", "WebhookReceiver"]


@dataclass(frozen=True)
class ReceivedRequest:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass(frozen=True)
class Answer:
    status: int = 200
    body: bytes = b"ok"
    headers: dict[str, str] = field(default_factory=dict)
    # Seconds to keep the request unanswered before dropping the connection (a hung receiver).
    hang: float | None = None


class WebhookReceiver(LoopbackHTTPServer[Answer]):
    """Answers 200 "ok" unless told otherwise; ``path`` is where hooks should POST."""

    def __init__(self, path: str = "/hook") -> None:
        super().__init__(_Handler)
        self.path = path
        self.requests: list[ReceivedRequest] = []

    @property
    def url(self) -> str:
        return self.origin + self.path

    def answer(
        self,
        status: int,
        body: bytes = b"",
        *,
        headers: dict[str, str] | None = None,
        count: int = 1,
    ) -> None:
        """The next ``count`` requests get this answer."""
        self._queue_fault(Answer(status, body, dict(headers or {})), count)

    def hang_next(self, seconds: float, count: int = 1) -> None:
        self._queue_fault(Answer(hang=seconds), count)

    def _record(self, request: ReceivedRequest) -> None:
        with self._lock:
            self.requests.append(request)


class _Handler(LoopbackHandler):
    owner: WebhookReceiver

    def handle(self) -> None:
        try:
            super().handle()
        except ConnectionResetError:
            pass  # the client hung up mid-answer (it reads only the start of a long body)

    def _handle(self) -> None:
        self.owner._record(
            ReceivedRequest(
                method=self.command,
                path=self.path,
                headers={k.lower(): v for k, v in self.headers.items()},
                body=self.read_body(),
            )
        )
        answer = self.owner.take_fault() or Answer()
        if answer.hang is not None:
            self.hang(answer.hang)
            return
        self.send(answer.status, answer.body, {"Content-Type": "text/plain", **answer.headers})

    do_POST = do_GET = do_PUT = _handle
