"""A real SMTP server for tests: aiosmtpd on a free loopback port, its TLS certificate issued by a
throwaway CA (trustme) for 127.0.0.1 and localhost.

    with SMTPSink(security="starttls", auth=("alice", "s3cret")) as sink:
        settings = EmailSettings(smtp_host=sink.host, smtp_port=sink.port, ca_file=sink.ca_file,
                                 security="starttls", ...)
        ...
        sink.messages[0].message["Subject"], sink.messages[0].rcpt_tos, sink.messages[0].body

``security``: "starttls" (plain, upgraded by STARTTLS, like port 587), "tls" (TLS from the first
byte, like 465), "none" (no TLS offered at all: what a STARTTLS-stripping attacker shows).
``auth``: (user, password) the server requires before MAIL; ``auth_require_tls`` (default True)
hides AUTH until the connection is encrypted, as real submission servers do. A "tls" server is
encrypted from the start, which aiosmtpd does not know (it only counts STARTTLS), so there AUTH is
offered at once. Without ``auth``, any login attempt is refused (535).

Out of band: ``reject_next("RCPT", "451 4.7.1 greylisted")`` scripts the server's next answer to
one command; ``refuse_recipient(address)`` refuses one mailbox for good. Recorded: ``messages``
(accepted ones), ``senders`` (every MAIL FROM), ``logins`` (every AUTH user name tried).
"""

from __future__ import annotations

import email
import ssl
import tempfile
import threading
import warnings
from collections import deque
from dataclasses import dataclass
from email.message import EmailMessage
from email.policy import default as default_policy
from functools import cache
from pathlib import Path
from typing import Any, Literal, Self

import trustme
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

from tests.emulators.notify_fixtures import free_port

__all__ = ["ReceivedMessage", "SMTPSink", "shared_ca"]

Security = Literal["starttls", "tls", "none"]
Command = Literal["MAIL", "RCPT", "DATA"]


@cache
def shared_ca() -> trustme.CA:
    """One throwaway CA per test process (issuing is cheap; making a CA is not free)."""
    return trustme.CA()


@dataclass(frozen=True)
class ReceivedMessage:
    """One message the server accepted: the envelope and the parsed message."""

    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage
    tls: bool  # arrived over an encrypted connection (STARTTLS or TLS on connect)
    login: str | None  # the user that authenticated first, None without AUTH

    @property
    def subject(self) -> str:
        return str(self.message["Subject"])

    @property
    def body(self) -> str:
        """The text/plain body, decoded."""
        part = self.message.get_body(("plain",))
        return part.get_content() if part is not None else ""


class _Handler:
    def __init__(self, sink: SMTPSink) -> None:
        self.sink = sink

    async def handle_MAIL(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        with self.sink._lock:
            self.sink.senders.append(address)
        scripted = self.sink._take("MAIL")
        if scripted:
            return scripted
        envelope.mail_from = address
        envelope.mail_options.extend(options)
        return "250 OK"

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        scripted = self.sink._take("RCPT") or self.sink._refused.get(address.lower())
        if scripted:
            return scripted
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(options)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        scripted = self.sink._take("DATA")
        if scripted:
            return scripted
        raw = envelope.original_content or envelope.content or b""
        parsed = email.message_from_bytes(
            raw if isinstance(raw, bytes) else raw.encode(), policy=default_policy
        )
        transport = server.transport
        tls = session.ssl is not None or (
            transport is not None and transport.get_extra_info("ssl_object") is not None
        )
        auth = session.auth_data
        login = auth.login.decode() if isinstance(auth, LoginPassword) else None
        received = ReceivedMessage(
            mail_from=str(envelope.mail_from),
            rcpt_tos=list(envelope.rcpt_tos),
            message=parsed,
            tls=tls,
            login=login,
        )
        with self.sink._lock:
            self.sink.messages.append(received)
            queue_id = len(self.sink.messages)
        return f"250 2.0.0 Ok: queued as SINK{queue_id:04d}"


class _Controller(Controller):
    sink: SMTPSink

    def factory(self) -> SMTP:
        # Called per connection: credentials set with require_auth() apply from the next one.
        sink = self.sink
        with warnings.catch_warnings():
            if sink.security == "tls":
                # aiosmtpd warns about AUTH without TLS: it only counts STARTTLS as TLS.
                warnings.simplefilter("ignore", UserWarning)
            return SMTP(
                self.handler,
                hostname="sink.localhost",
                tls_context=sink._server_tls if sink.security == "starttls" else None,
                auth_required=sink.auth is not None,
                auth_require_tls=sink.auth_require_tls and sink.security != "tls",
                authenticator=sink._authenticate,
            )


class SMTPSink:
    host = "127.0.0.1"

    def __init__(
        self,
        *,
        security: Security = "starttls",
        auth: tuple[str, str] | None = None,
        auth_require_tls: bool = True,
        ca: trustme.CA | None = None,
    ) -> None:
        self.security = security
        self.auth = auth
        self.auth_require_tls = auth_require_tls
        self.ca = ca or shared_ca()
        self.messages: list[ReceivedMessage] = []
        self.senders: list[str] = []
        self.logins: list[str] = []
        self.port = 0
        self._lock = threading.Lock()
        self._scripted: deque[tuple[Command, str]] = deque()
        self._refused: dict[str, str] = {}
        self._controller: _Controller | None = None
        self._dir = tempfile.TemporaryDirectory(prefix="smtp-sink-")
        self.ca_file = str(Path(self._dir.name) / "ca.pem")
        self.ca.cert_pem.write_to_path(self.ca_file)
        self._server_tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self.ca.issue_cert("127.0.0.1", "localhost").configure_cert(self._server_tls)

    # -- out of band ---------------------------------------------------------------------------

    def require_auth(self, username: str, password: str) -> None:
        """From the next connection on, require AUTH with these credentials."""
        self.auth = (username, password)

    def reject_next(self, command: Command, reply: str, count: int = 1) -> None:
        """Answer the next ``count`` ``command``s with ``reply`` (e.g. "451 4.3.0 Try later",
        "554 5.7.1 Rejected"); the rest of the conversation goes on as usual."""
        with self._lock:
            self._scripted.extend([(command, reply)] * count)

    def refuse_recipient(self, address: str, reply: str = "550 5.1.1 No such user") -> None:
        self._refused[address.lower()] = reply

    def _take(self, command: Command) -> str | None:
        with self._lock:
            for i, (scripted, reply) in enumerate(self._scripted):
                if scripted == command:
                    del self._scripted[i]
                    return reply
        return None

    def _authenticate(
        self, server: SMTP, session: Session, envelope: Envelope, mechanism: str, data: Any
    ) -> AuthResult:
        if not isinstance(data, LoginPassword):
            return AuthResult(success=False, handled=False)
        with self._lock:
            self.logins.append(data.login.decode(errors="replace"))
        expected = self.auth
        ok = expected is not None and (data.login, data.password) == (
            expected[0].encode(),
            expected[1].encode(),
        )
        return AuthResult(success=ok, handled=False, auth_data=data if ok else None)

    # -- lifecycle -----------------------------------------------------------------------------

    def start(self) -> Self:
        last: Exception | None = None
        # A free port can be taken between choosing it and binding it: try a few.
        for _ in range(5):
            port = free_port()
            controller = _Controller(
                _Handler(self),
                hostname=self.host,
                port=port,
                ssl_context=self._server_tls if self.security == "tls" else None,
                ready_timeout=5,
            )
            controller.sink = self
            try:
                controller.start()
            except (OSError, RuntimeError) as exc:
                last = exc
                continue
            self._controller, self.port = controller, port
            return self
        raise RuntimeError(f"SMTP sink could not start on a free port: {last}")

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None
        self._dir.cleanup()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
