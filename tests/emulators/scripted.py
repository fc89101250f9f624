"""What the loopback notification receivers (Slack, PagerDuty) share: scripted faults and the
POST handler that answers a str as text and a dict as JSON.

    class Receiver(ScriptedReceiver):
        default_bodies = {500: "internal_error"}       # the service's body for a bare status
        def accept(self, path, body) -> Answer: ...    # the service's own answer

    receiver.fail_next(500)                 # the next request gets HTTP 500
    receiver.fail_next(429, retry_after=1)
    receiver.hang_next(5)                   # the next request is never answered
"""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any, ClassVar

from tests.emulators.loopback import LoopbackHandler, LoopbackHTTPServer

__all__ = ["Answer", "Fault", "ScriptedReceiver"]

# (status, body: text or JSON object, headers)
Answer = tuple[int, str | dict[str, Any], dict[str, str]]


@dataclass(frozen=True)
class Fault:
    """A scripted answer: ``status`` with ``body`` (a str, or a dict sent as JSON), an optional
    ``Retry-After``; or, with ``hang`` seconds, no answer at all (a timeout)."""

    status: int = 500
    body: str | dict[str, Any] | None = None
    retry_after: float | None = None
    hang: float = 0.0


class ScriptedReceiver(LoopbackHTTPServer[Fault], ABC):
    """A receiver whose next answers can be scripted; ``accept`` is the service itself."""

    default_bodies: ClassVar[dict[int, str | dict[str, Any]]] = {}

    def __init__(self) -> None:
        super().__init__(_Handler)
        self.requests: list[Any] = []

    def fail_next(
        self,
        status: int = 500,
        *,
        body: str | dict[str, Any] | None = None,
        retry_after: float | None = None,
        count: int = 1,
    ) -> None:
        """Answer the next ``count`` requests with ``status`` (the service's body for it unless
        ``body`` is given) and ``Retry-After`` when ``retry_after`` is given."""
        self._queue_fault(Fault(status, body, retry_after), count)

    def hang_next(self, seconds: float, count: int = 1) -> None:
        """Leave the next ``count`` requests unanswered for ``seconds``, then drop them."""
        self._queue_fault(Fault(hang=seconds), count)

    def answer(self, path: str, raw: bytes, fault: Fault | None) -> Answer:
        """Record the request, then the scripted answer if any, else the service's."""
        try:
            body: Any = json.loads(raw)
        except ValueError:
            body = raw.decode("utf-8", "replace")
        with self._lock:
            self.requests.append(body)
        if fault is None:
            return self.accept(path, body)
        headers = {}
        if fault.retry_after is not None:
            headers["Retry-After"] = format(fault.retry_after, "g")
        text = fault.body if fault.body is not None else self.default_bodies.get(fault.status, "")
        return fault.status, text, headers

    @abstractmethod
    def accept(self, path: str, body: Any) -> Answer:
        """The service's answer to ``body`` (parsed JSON, or the text when it is not JSON)."""


class _Handler(LoopbackHandler):
    owner: ScriptedReceiver

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
