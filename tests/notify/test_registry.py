"""build_notifiers: secrets read once from the environment, only the configured channels built;
Notifiers: a channel this worker does not have is a non-retryable error."""

from __future__ import annotations

import pytest

from genesis.failover.domain.config import EmailSettings, NotificationsSettings, PagerDutySettings
from genesis.failover.domain.errors import ConfigError, NotificationError
from genesis.failover.domain.models import NotificationEvent
from genesis.failover.domain.notify import Notifier, Notifiers, build_notifiers
from tests.emulators.pagerduty import PagerDutyReceiver
from tests.notify.scenario import Failover

SLACK_URL = "https://hooks.slack.com/services/T0001/B0001/abcdefghijklmnop"
EMAIL = EmailSettings(
    smtp_host="smtp.example.com",
    sender="failover@example.com",
    recipients=["oncall@example.com"],
    username_env="SMTP_USERNAME",
    password_env="SMTP_PASSWORD",
)
ALL = NotificationsSettings(channels=["email", "slack", "pagerduty"], email=EMAIL)
ENVIRON = {
    "SMTP_USERNAME": "failover-bot",
    "SMTP_PASSWORD": "pw-0123456789",
    "SLACK_WEBHOOK_URL": SLACK_URL,
    "PAGERDUTY_ROUTING_KEY": "routing-key-0123456789",
}


async def test_every_configured_channel_is_built() -> None:
    notifiers = build_notifiers(ALL, ENVIRON)
    try:
        assert notifiers.channels == ["email", "pagerduty", "slack"]
        assert all(isinstance(notifiers.notifier(c), Notifier) for c in notifiers.channels)
        assert [notifiers.notifier(c).channel for c in notifiers.channels] == notifiers.channels
    finally:
        await notifiers.aclose()


@pytest.mark.parametrize(
    ("missing", "field"),
    [
        ("SMTP_USERNAME", "notifications.email.username_env"),
        ("SMTP_PASSWORD", "notifications.email.password_env"),
        ("SLACK_WEBHOOK_URL", "notifications.slack.webhook_url_env"),
        ("PAGERDUTY_ROUTING_KEY", "notifications.pagerduty.routing_key_env"),
    ],
)
@pytest.mark.parametrize("how", ["unset", "blank"])
def test_a_missing_secret_names_its_variable_and_key(missing: str, field: str, how: str) -> None:
    environ = {k: v for k, v in ENVIRON.items() if k != missing}
    if how == "blank":
        environ[missing] = "  "
    with pytest.raises(ConfigError) as caught:
        build_notifiers(ALL, environ)
    assert caught.value.field == field
    assert missing in str(caught.value) and field in str(caught.value)
    assert not any(secret in str(caught.value) for secret in ENVIRON.values())


def test_only_the_listed_channels_are_built_and_asked_for_secrets() -> None:
    only = NotificationsSettings(channels=["pagerduty"], email=EMAIL)
    notifiers = build_notifiers(only, {"PAGERDUTY_ROUTING_KEY": "routing-key-0123456789"})
    assert notifiers.channels == ["pagerduty"]
    assert build_notifiers(NotificationsSettings(), {}).channels == []


async def test_a_channel_this_worker_lacks_is_not_retryable(one_failover: Failover) -> None:
    notifiers = build_notifiers(NotificationsSettings(channels=["pagerduty"]), ENVIRON)
    with pytest.raises(NotificationError) as caught:
        await notifiers.send("slack", one_failover.started)
    assert not caught.value.retryable
    assert "'slack'" in str(caught.value) and "configured: pagerduty" in str(caught.value)
    with pytest.raises(NotificationError):
        await Notifiers().send("email", one_failover.started)


def test_a_slack_variable_that_is_not_a_url_is_refused_without_echoing_it() -> None:
    pasted = "xoxb-this-is-a-bot-token-not-a-webhook"
    with pytest.raises(ConfigError) as caught:
        build_notifiers(NotificationsSettings(channels=["slack"]), {"SLACK_WEBHOOK_URL": pasted})
    assert "SLACK_WEBHOOK_URL" in str(caught.value) and pasted not in str(caught.value)


def test_an_unreadable_ca_file_is_a_config_error() -> None:
    email = EMAIL.model_copy(update={"ca_file": "/nonexistent/ca.pem"})
    settings = NotificationsSettings(channels=["email"], email=email)
    with pytest.raises(ConfigError) as caught:
        build_notifiers(settings, ENVIRON)
    assert caught.value.field == "notifications.email.ca_file"


async def test_secrets_are_read_once_when_built(
    pagerduty_receiver: PagerDutyReceiver, one_failover: Failover
) -> None:
    settings = NotificationsSettings(
        channels=["pagerduty"], pagerduty=PagerDutySettings(events_url=pagerduty_receiver.url)
    )
    environ = dict(ENVIRON)
    notifiers = build_notifiers(settings, environ)
    environ["PAGERDUTY_ROUTING_KEY"] = "changed-after-start"
    try:
        note = await notifiers.send("pagerduty", one_failover.started)
    finally:
        await notifiers.aclose()
    assert note.startswith("HTTP 202 trigger")
    assert pagerduty_receiver.events[0]["routing_key"] == "routing-key-0123456789"


class _Broken:
    """A notifier with a bug: what Notifiers does when one raises something unexpected."""

    channel = "email"

    async def send(self, event: NotificationEvent) -> str:
        raise KeyError("smtp-password-123")

    async def aclose(self) -> None:
        pass


async def test_a_notifier_bug_is_not_retried_forever(one_failover: Failover) -> None:
    with pytest.raises(NotificationError) as caught:
        await Notifiers({"email": _Broken()}).send("email", one_failover.started)
    assert not caught.value.retryable
    assert "KeyError" in str(caught.value) and "smtp-password-123" not in str(caught.value)
