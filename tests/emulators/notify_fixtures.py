"""Fixtures for the notification channels' test servers (registered by tests/conftest.py), one
fresh server per test, stopped at teardown:

- ``smtp_sink``: an SMTP server offering STARTTLS (certificate from a throwaway CA: pass
  ``sink.ca_file`` as ``ca_file``), no AUTH until ``sink.require_auth(user, password)``.
- ``smtps_sink``: the same with TLS from the first byte (``security = "tls"``).
- ``smtp_server_factory(security="starttls"|"tls"|"none", auth=(user, pw) | None,
  auth_require_tls=True)``: any other combination, as many as a test needs.
- ``slack_receiver``: a Slack incoming webhook (``.url``, ``.requests``, ``.fail_next(...)``).
- ``pagerduty_receiver``: the PagerDuty Events API v2 (``.url``, ``.events``, ``.fail_next(...)``).

See tests/emulators/smtp.py, slack.py and pagerduty.py for what each checks and records.
aiosmtpd and trustme come with the ``test`` extra: without them the SMTP fixtures fail in CI and
skip elsewhere, saying so.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from typing import TYPE_CHECKING, Literal, Protocol

import pytest

from tests.emulators.pagerduty import PagerDutyReceiver
from tests.emulators.slack import SlackReceiver
from tests.support import unavailable

if TYPE_CHECKING:
    from tests.emulators.smtp import SMTPSink

__all__ = [
    "SMTPServerFactory",
    "free_port",
    "pagerduty_receiver",
    "slack_receiver",
    "smtp_server_factory",
    "smtp_sink",
    "smtps_sink",
]


def free_port() -> int:
    """A loopback TCP port nobody listens on right now: a port to find closed, or to give a
    server that cannot bind port 0 itself (aiosmtpd 1.4.6 probes the port it was given)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class SMTPServerFactory(Protocol):
    def __call__(
        self,
        security: Literal["starttls", "tls", "none"] = "starttls",
        auth: tuple[str, str] | None = None,
        *,
        auth_require_tls: bool = True,
    ) -> SMTPSink: ...


@pytest.fixture
def smtp_server_factory() -> Iterator[SMTPServerFactory]:
    """Starts SMTP sinks on free loopback ports; every one is stopped when the test ends."""
    try:
        from tests.emulators.smtp import SMTPSink
    except ImportError as exc:  # plugin modules load for every test: only these need it
        unavailable(f"aiosmtpd and trustme (the test extra) are needed: {exc}")
    started: list[SMTPSink] = []

    def start(
        security: Literal["starttls", "tls", "none"] = "starttls",
        auth: tuple[str, str] | None = None,
        *,
        auth_require_tls: bool = True,
    ) -> SMTPSink:
        sink = SMTPSink(security=security, auth=auth, auth_require_tls=auth_require_tls)
        started.append(sink.start())
        return sink

    try:
        yield start
    finally:
        for sink in started:
            sink.stop()


@pytest.fixture
def smtp_sink(smtp_server_factory: SMTPServerFactory) -> SMTPSink:
    """An SMTP server offering STARTTLS; ``.require_auth(user, pw)`` to demand a login."""
    return smtp_server_factory("starttls")


@pytest.fixture
def smtps_sink(smtp_server_factory: SMTPServerFactory) -> SMTPSink:
    """An SMTP server speaking TLS from the first byte (port-465 style)."""
    return smtp_server_factory("tls")


@pytest.fixture
def slack_receiver() -> Iterator[SlackReceiver]:
    with SlackReceiver() as receiver:
        yield receiver


@pytest.fixture
def pagerduty_receiver() -> Iterator[PagerDutyReceiver]:
    with PagerDutyReceiver() as receiver:
        yield receiver
