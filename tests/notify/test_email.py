"""The email channel through a real SMTP server (aiosmtpd) with a throwaway CA's certificate."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pytest

from genesis.failover.domain.config import EmailSettings, NotificationsSettings
from genesis.failover.domain.errors import NotificationError
from genesis.failover.domain.notify import EmailNotifier, build_notifiers
from genesis.failover.domain.notify.email import compose_email
from tests.emulators.notify_fixtures import SMTPServerFactory, free_port
from tests.notify.scenario import WORKFLOW_ID, Failover, failover

if TYPE_CHECKING:  # aiosmtpd is imported by the fixtures, which say when it is missing
    from tests.emulators.smtp import SMTPSink

USER, PASSWORD = "failover-bot", "correct horse battery staple"
RECIPIENTS = ["oncall@example.com", "dba@example.com"]


def settings(sink: SMTPSink | None = None, **overrides: Any) -> EmailSettings:
    fields: dict[str, Any] = {
        "smtp_host": "127.0.0.1",
        "smtp_port": sink.port if sink else free_port(),
        "security": "starttls",
        "ca_file": sink.ca_file if sink else None,
        "sender": "failover@example.com",
        "recipients": RECIPIENTS,
        "timeout_seconds": 5,
    }
    return EmailSettings(**{**fields, **overrides})


def notifier(email: EmailSettings, login: tuple[str, str] | None = None) -> EmailNotifier:
    if login is None:
        return EmailNotifier(email, local_hostname="test.localhost")
    return EmailNotifier(
        email, username=login[0], password=login[1], local_hostname="test.localhost"
    )


async def refused(email: EmailNotifier, one: Failover) -> NotificationError:
    with pytest.raises(NotificationError) as caught:
        await email.send(one.finished)
    return caught.value


async def test_starttls_and_login_deliver_a_readable_message_to_every_recipient(
    smtp_server_factory: SMTPServerFactory, one_failover: Failover
) -> None:
    sink = smtp_server_factory("starttls", auth=(USER, PASSWORD))
    config = NotificationsSettings(
        channels=["email"],
        email=settings(sink, username_env="SMTP_USERNAME", password_env="SMTP_PASSWORD"),
    )
    notifiers = build_notifiers(config, {"SMTP_USERNAME": USER, "SMTP_PASSWORD": PASSWORD})
    event = one_failover.finished

    note = await notifiers.send("email", event)
    await notifiers.aclose()

    assert note.startswith("250 2.0.0 Ok: queued as SINK0001"), note
    assert "queued to 2 recipient(s)" in note
    [received] = sink.messages
    assert received.tls and received.login == USER
    assert received.mail_from == "failover@example.com"
    assert received.rcpt_tos == RECIPIENTS
    assert received.subject == f"[genesis-failover] {event.summary}"
    message = received.message
    assert [a.strip() for a in str(message["To"]).split(",")] == RECIPIENTS
    assert message["X-Genesis-Failover-Event"] == "failover_succeeded"
    assert message["X-Genesis-Failover-Site"] == "genesis"
    assert message["Message-ID"] and message["Date"]
    body = received.body
    for expected in (
        "Site:",
        "genesis",
        "Direction:    failover",
        "Reason:       primary_database unhealthy 3 times",
        "From -> to:   192.0.2.10 -> 198.51.100.20",
        "Outcome:      succeeded",
        "Duration:     42.5 s",
        "genesis.example.com A: 192.0.2.10 -> 198.51.100.20 (switched)",
        "api.genesis.example.com A: 192.0.2.10 -> 198.51.100.20 (switched)",
        f"Workflow id:  {WORKFLOW_ID}",
        "2024-05-01T03:12:42Z",
    ):
        assert expected in body, f"{expected!r} missing from:\n{body}"


async def test_tls_on_connect_delivers(smtps_sink: SMTPSink, one_failover: Failover) -> None:
    note = await notifier(settings(smtps_sink, security="tls")).send(one_failover.started)
    assert note.startswith("250 ")
    [received] = smtps_sink.messages
    assert received.tls
    assert received.message["X-Genesis-Failover-Event"] == "failover_started"


async def test_a_wrong_password_is_not_retryable_and_never_shown(
    smtp_server_factory: SMTPServerFactory, one_failover: Failover
) -> None:
    sink = smtp_server_factory("starttls", auth=(USER, PASSWORD))
    wrong = "hunter2-not-the-password"
    error = await refused(notifier(settings(sink), (USER, wrong)), one_failover)
    assert not error.retryable
    assert "535" in str(error) and f"127.0.0.1:{sink.port}" in str(error)
    assert wrong not in str(error) and PASSWORD not in str(error)
    assert set(sink.logins) == {USER} and sink.messages == []  # smtplib tries PLAIN, LOGIN


async def test_a_server_that_is_down_is_retryable(one_failover: Failover) -> None:
    email = settings()  # a port nobody listens on
    error = await refused(notifier(email), one_failover)
    assert error.retryable
    assert f"127.0.0.1:{email.smtp_port}" in str(error)
    assert "refused" in str(error).lower()


@pytest.fixture
def mute_server() -> Iterator[int]:
    """Accepts connections (the kernel does) and never says a word: a hung relay."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as server:
        server.bind(("127.0.0.1", 0))
        server.listen(4)
        yield int(server.getsockname()[1])


async def test_a_silent_server_times_out_retryably(
    mute_server: int, one_failover: Failover
) -> None:
    email = settings(smtp_port=mute_server, timeout_seconds=0.3)
    error = await refused(notifier(email), one_failover)
    assert error.retryable
    assert "timed out after 0.3 s" in str(error)


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS:UserWarning")
async def test_no_starttls_offered_means_nothing_is_sent_in_clear(
    smtp_server_factory: SMTPServerFactory, one_failover: Failover
) -> None:
    # A server (or a man in the middle) that would gladly take the password in clear.
    sink = smtp_server_factory("none", auth=(USER, PASSWORD), auth_require_tls=False)
    error = await refused(notifier(settings(sink), (USER, PASSWORD)), one_failover)
    assert not error.retryable
    assert "STARTTLS" in str(error)
    assert sink.logins == [] and sink.senders == [] and sink.messages == []


@pytest.mark.parametrize("security", ["starttls", "tls"])
async def test_an_untrusted_certificate_is_not_retryable(
    smtp_server_factory: SMTPServerFactory, security: str, one_failover: Failover
) -> None:
    sink = smtp_server_factory(security, auth=(USER, PASSWORD))  # type: ignore[arg-type]
    # No ca_file: the system trust store, which has never heard of the test CA.
    email = settings(sink, security=security, ca_file=None)
    error = await refused(notifier(email, (USER, PASSWORD)), one_failover)
    assert not error.retryable
    assert "not trusted" in str(error)
    assert sink.logins == [] and sink.messages == []


@pytest.mark.parametrize(
    ("reply", "retryable"),
    [("451 4.3.0 Try again later", True), ("554 5.7.1 Message rejected as spam", False)],
)
async def test_data_refused_is_retryable_only_when_temporary(
    smtp_sink: SMTPSink, one_failover: Failover, reply: str, retryable: bool
) -> None:
    smtp_sink.reject_next("DATA", reply)
    error = await refused(notifier(settings(smtp_sink)), one_failover)
    assert error.retryable is retryable
    assert reply.split()[0] in str(error)
    assert smtp_sink.messages == []


async def test_every_recipient_refused_is_not_retryable(
    smtp_sink: SMTPSink, one_failover: Failover
) -> None:
    for address in RECIPIENTS:
        smtp_sink.refuse_recipient(address)
    error = await refused(notifier(settings(smtp_sink)), one_failover)
    assert not error.retryable
    assert all(address in str(error) for address in RECIPIENTS)
    assert smtp_sink.messages == []


async def test_one_refused_recipient_does_not_fail_the_others(
    smtp_sink: SMTPSink, one_failover: Failover
) -> None:
    smtp_sink.refuse_recipient("dba@example.com")
    note = await notifier(settings(smtp_sink)).send(one_failover.finished)
    assert "queued to 1 recipient(s)" in note and "refused: dba@example.com (550" in note
    assert smtp_sink.messages[0].rcpt_tos == ["oncall@example.com"]


def test_the_subject_is_one_line_even_when_the_summary_is_not() -> None:
    one = failover("failed", error="pre-hook stop_trading exited 1:\r\nBcc: attacker@evil.test")
    message = compose_email(settings(), one.finished)
    subject = str(message["Subject"])
    assert "\n" not in subject and "\r" not in subject
    assert subject.startswith("[genesis-failover] Failover genesis FAILED")
    assert message["Bcc"] is None
    assert len(subject) <= 200
