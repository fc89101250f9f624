"""The notifiers a worker holds, built once from config with secrets from the environment.

Secrets are read here and only here, when the worker starts: a missing SMTP password or Slack
URL stops the deploy with a message naming the variable, instead of surfacing as a failed
notification in the middle of a failover.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from genesis.failover.domain.config import NotificationsSettings
from genesis.failover.domain.errors import ConfigError
from genesis.failover.domain.notify.base import Notifier, Notifiers
from genesis.failover.domain.secrets import secret_from_env

__all__ = ["build_notifiers"]

_HTTP_URL = re.compile(r"^https?://[^/\s]+/\S*$")


def build_notifiers(settings: NotificationsSettings, environ: Mapping[str, str]) -> Notifiers:
    """One notifier per channel in ``settings.channels`` (and no other); ``ConfigError`` naming
    the environment variable and the config key for a secret that is unset or blank."""
    builders = {"email": _email, "slack": _slack, "pagerduty": _pagerduty}
    # No notifier opens a connection before its first send: a ConfigError for the second
    # channel leaves nothing open behind the first.
    return Notifiers({c: builders[c](settings, environ) for c in settings.channels})


def _email(settings: NotificationsSettings, environ: Mapping[str, str]) -> Notifier:
    from genesis.failover.domain.notify.email import EmailNotifier

    email = settings.email
    if email is None:  # the settings' own validator already refuses this
        raise ConfigError(
            "channel 'email' needs a [notifications.email] section", field="notifications.email"
        )
    username = password = None
    if email.username_env is not None and email.password_env is not None:
        username = secret_from_env(
            environ,
            email.username_env,
            field="notifications.email.username_env",
            holds="the SMTP user name",
        )
        password = secret_from_env(
            environ,
            email.password_env,
            field="notifications.email.password_env",
            holds="the SMTP password",
        )
    return EmailNotifier(email, username=username, password=password)


def _slack(settings: NotificationsSettings, environ: Mapping[str, str]) -> Notifier:
    from genesis.failover.domain.notify.slack import SlackNotifier

    var = settings.slack.webhook_url_env
    field = "notifications.slack.webhook_url_env"
    url = secret_from_env(
        environ,
        var,
        field=field,
        holds="a Slack incoming webhook URL (https://hooks.slack.com/services/...)",
    )
    if not _HTTP_URL.match(url):
        # Never echo the value: it is a secret even when it is malformed.
        raise ConfigError(
            f"environment variable {var} ({field}) does not hold an http(s) URL; it must hold "
            "a Slack incoming webhook URL (https://hooks.slack.com/services/...)",
            field=field,
            value=var,
        )
    return SlackNotifier(settings.slack, url)


def _pagerduty(settings: NotificationsSettings, environ: Mapping[str, str]) -> Notifier:
    from genesis.failover.domain.notify.pagerduty import PagerDutyNotifier

    routing_key = secret_from_env(
        environ,
        settings.pagerduty.routing_key_env,
        field="notifications.pagerduty.routing_key_env",
        holds="the integration (routing) key of a PagerDuty Events API v2 integration",
    )
    return PagerDutyNotifier(settings.pagerduty, routing_key)
