"""Email over SMTP with the standard library (smtplib in a thread: no new dependency).

``security`` says how the connection is protected, and "starttls" is a promise: a server that
does not offer STARTTLS (or a man in the middle stripping it from the EHLO answer) gets neither
the login nor the message; we stop before either leaves in clear. Certificates are verified
against the system trust store, or ``ca_file`` for an internal relay, hostname included.

The envelope is sent command by command rather than with ``send_message`` so that the server's
answer to DATA ("250 2.0.0 Ok: queued as 4F3A1C") becomes the delivery note: the queue id is
what finds the message in the relay's log.
"""

from __future__ import annotations

import asyncio
import smtplib
import socket
import ssl
from datetime import UTC, datetime
from email.message import EmailMessage
from email.policy import SMTP as SMTP_POLICY
from email.utils import format_datetime, make_msgid

from genesis.failover.domain.config import EmailSettings
from genesis.failover.domain.errors import ConfigError, NotificationError
from genesis.failover.domain.models import NotificationEvent
from genesis.failover.domain.notify.render import facts, one_line, utc_iso, what_happened
from genesis.failover.domain.secrets import redact

__all__ = ["EmailNotifier", "compose_email"]

# Long subjects are folded by mail clients into "…" anyway; the full summary is in the body.
SUBJECT_LIMIT = 200


def compose_email(settings: EmailSettings, event: NotificationEvent) -> EmailMessage:
    """The message for ``event``: a one-line subject, a plain-text body, headers a mail filter
    can route on (``X-Genesis-Failover-Event``, ``X-Genesis-Failover-Site``)."""
    message = EmailMessage()
    message["Subject"] = one_line(f"{settings.subject_prefix} {event.summary}", SUBJECT_LIMIT)
    message["From"] = settings.sender
    message["To"] = ", ".join(settings.recipients)
    message["Date"] = format_datetime(datetime.now(UTC))
    message["Message-ID"] = make_msgid("genesis-failover", domain=settings.sender.split("@")[-1])
    # RFC 3834: keeps vacation responders from answering a page at 3 a.m.
    message["Auto-Submitted"] = "auto-generated"
    message["X-Genesis-Failover-Event"] = event.kind
    message["X-Genesis-Failover-Site"] = one_line(event.site, 100)
    # Quoted-printable: 7-bit safe through any relay, still readable in a raw message.
    message.set_content(email_body(event), cte="quoted-printable")
    return message


def email_body(event: NotificationEvent) -> str:
    rows = facts(event)
    width = max(len(label) for label, _ in rows) + 2
    lines = [event.summary, "", what_happened(event.kind), ""]
    lines += [f"{label + ':':<{width}} {value}" for label, value in rows]
    if event.records:
        lines += ["", "Records:"] + [f"  {record}" for record in event.records]
    if event.error:
        lines += ["", "Error:"] + [f"  {line}" for line in event.error.splitlines()]
    if event.workflow_id:
        lines += [
            "",
            f"Find it in the Temporal Web UI or with: temporal workflow show --workflow-id "
            f"{event.workflow_id}" + (f" --run-id {event.run_id}" if event.run_id else ""),
        ]
    lines += [
        "",
        "-- ",
        f"genesis-failover, event {event.kind} ({event.severity}) at {utc_iso(event.occurred_at)}",
    ]
    return "\n".join(lines) + "\n"


def _code_retryable(code: int) -> bool:
    return 400 <= code < 500  # 4xx: transient (greylisting, mailbox busy, try later)


def _reply(code: int, text: bytes | str) -> str:
    said = text.decode("utf-8", "replace") if isinstance(text, bytes) else text
    return one_line(f"{code} {said}", 200)


class EmailNotifier:
    channel = "email"

    def __init__(
        self,
        settings: EmailSettings,
        *,
        username: str | None = None,
        password: str | None = None,
        local_hostname: str | None = None,
    ) -> None:
        if (username is None) != (password is None):
            raise ValueError("username and password go together")
        self.settings = settings
        self._login = (username, password) if username is not None and password else None
        self._secrets = [s for s in (username, password) if s]
        self._where = f"SMTP server {settings.smtp_host}:{settings.smtp_port}"
        self._local_hostname = local_hostname
        self._tls: ssl.SSLContext | None = None
        if settings.security != "none":
            try:
                # Verifies the chain and the hostname (create_default_context's defaults).
                self._tls = ssl.create_default_context(cafile=settings.ca_file)
            except (OSError, ssl.SSLError) as exc:
                raise ConfigError(
                    f"notifications.email.ca_file {settings.ca_file!r} cannot be read as PEM "
                    f"certificates: {type(exc).__name__}",
                    field="notifications.email.ca_file",
                    value=settings.ca_file,
                ) from exc

    async def send(self, event: NotificationEvent) -> str:
        message = compose_email(self.settings, event)
        return await asyncio.to_thread(self._deliver, message)

    async def aclose(self) -> None:
        pass  # one connection per message: nothing stays open

    def _error(self, message: str, *, retryable: bool) -> NotificationError:
        return NotificationError(
            redact(f"email via {self._where}: {message}", self._secrets), retryable=retryable
        )

    def _deliver(self, message: EmailMessage) -> str:
        s = self.settings
        step = "connecting"
        client: smtplib.SMTP | None = None
        # Once per notifier, in this thread: getfqdn can wait on a broken resolver.
        self._local_hostname = self._local_hostname or socket.getfqdn()
        try:
            if s.security == "tls":
                client = smtplib.SMTP_SSL(
                    s.smtp_host,
                    s.smtp_port,
                    local_hostname=self._local_hostname,
                    timeout=s.timeout_seconds,
                    context=self._tls,
                )
            else:
                client = smtplib.SMTP(
                    s.smtp_host,
                    s.smtp_port,
                    local_hostname=self._local_hostname,
                    timeout=s.timeout_seconds,
                )
            step = "EHLO"
            client.ehlo()
            if s.security == "starttls":
                if not client.has_extn("starttls"):
                    raise self._error(
                        "the server does not offer STARTTLS, and security = 'starttls': "
                        "refusing to send the login or the message in clear",
                        retryable=False,
                    )
                step = "STARTTLS"
                client.starttls(context=self._tls)
                client.ehlo()  # the EHLO answer before TLS is forgotten, AUTH may appear now
            if self._login is not None:
                step = "login"
                client.login(*self._login)
            step = "sending"
            note = self._transfer(client, message)
        except Exception as exc:
            if client is not None:
                # No QUIT after a failure: a hung server would hold us another timeout.
                client.close()
            if isinstance(exc, NotificationError):
                raise
            raise self._map(exc, step) from exc
        try:
            client.quit()
        except (smtplib.SMTPException, OSError):
            client.close()  # the message is queued; a lost goodbye changes nothing
        return note

    def _transfer(self, client: smtplib.SMTP, message: EmailMessage) -> str:
        s = self.settings
        code, text = client.mail(s.sender)
        if code != 250:
            raise smtplib.SMTPSenderRefused(code, text, s.sender)
        refused: dict[str, tuple[int, bytes]] = {}
        for recipient in s.recipients:
            code, text = client.rcpt(recipient)
            if code not in (250, 251):
                refused[recipient] = (code, text)
        if len(refused) == len(s.recipients):
            client.rset()
            raise smtplib.SMTPRecipientsRefused(refused)
        code, text = client.data(message.as_bytes(policy=SMTP_POLICY))
        if code != 250:
            client.rset()
            raise smtplib.SMTPDataError(code, text)
        accepted = len(s.recipients) - len(refused)
        note = f"{_reply(code, text)}; queued to {accepted} recipient(s)"
        if refused:
            # Not an error: the others have it, and a retry would send it to them twice.
            note += "; refused: " + ", ".join(
                f"{rcpt} ({_reply(*reply)})" for rcpt, reply in refused.items()
            )
        return note

    def _map(self, exc: Exception, step: str) -> NotificationError:
        """One place where smtplib's, ssl's and socket's exceptions become ours. Only codes,
        the server's reply and exception type names go into messages, redacted."""
        if isinstance(exc, smtplib.SMTPRecipientsRefused):
            replies = exc.recipients.items()
            said = "; ".join(f"{rcpt}: {_reply(*reply)}" for rcpt, reply in replies)
            retryable = all(_code_retryable(code) for code, _ in exc.recipients.values())
            return self._error(f"every recipient was refused ({said})", retryable=retryable)
        if isinstance(exc, smtplib.SMTPAuthenticationError):
            s = self.settings
            check = f"; check {s.username_env} and {s.password_env}" if s.password_env else ""
            return self._error(
                f"login refused ({_reply(exc.smtp_code, exc.smtp_error)}){check}",
                retryable=_code_retryable(exc.smtp_code),
            )
        if isinstance(exc, smtplib.SMTPSenderRefused):
            reply = _reply(exc.smtp_code, exc.smtp_error)
            return self._error(
                f"sender {exc.sender} refused ({reply})", retryable=_code_retryable(exc.smtp_code)
            )
        if isinstance(exc, smtplib.SMTPServerDisconnected):
            # smtplib reports a read that timed out as a disconnection; say which it was.
            if isinstance(exc.__context__, TimeoutError):
                exc = exc.__context__
            else:
                return self._error(f"the server closed the connection ({step})", retryable=True)
        if isinstance(exc, smtplib.SMTPResponseException):  # DATA, EHLO, the greeting, ...
            reply = _reply(exc.smtp_code, exc.smtp_error)
            return self._error(f"{step}: {reply}", retryable=_code_retryable(exc.smtp_code))
        if isinstance(exc, smtplib.SMTPNotSupportedError) and step == "login":
            return self._error("the server does not offer AUTH", retryable=False)
        if isinstance(exc, smtplib.SMTPException):
            return self._error(f"{step}: {exc}", retryable=False)
        if isinstance(exc, ssl.SSLCertVerificationError):
            return self._error(
                f"TLS certificate not trusted ({exc.verify_message}); set "
                "notifications.email.ca_file for a private CA",
                retryable=False,
            )
        if isinstance(exc, ssl.SSLEOFError | ssl.SSLZeroReturnError):
            return self._error(f"TLS connection cut during {step}", retryable=True)
        if isinstance(exc, ssl.SSLError):
            return self._error(
                f"TLS failed during {step} ({exc.reason or type(exc).__name__}); does security "
                f"= {self.settings.security!r} match the port (465: tls, 587: starttls)?",
                retryable=False,
            )
        if isinstance(exc, TimeoutError):
            return self._error(
                f"timed out after {self.settings.timeout_seconds:g} s ({step})", retryable=True
            )
        if isinstance(exc, OSError):  # refused, reset, unreachable, name resolution
            detail = exc.strerror or type(exc).__name__
            return self._error(f"cannot reach the server ({step}): {detail}", retryable=True)
        return self._error(f"{step}: {type(exc).__name__}", retryable=False)
