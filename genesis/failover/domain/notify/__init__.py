"""Notifications: who is told, through which channel (email, Slack, PagerDuty).

``events`` builds what is said (pure, used inside workflows); the notifiers say it. Names are
imported on first use: a workflow importing ``notify.events`` inside Temporal's sandbox must not
drag in smtplib, ssl and httpx with this package.

    notifiers = build_notifiers(config.notifications, os.environ)   # secrets read once, here
    note = await notifiers.send("slack", event)                      # or NotificationError
    await notifiers.aclose()
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from genesis.failover.domain.notify.base import Notifier, Notifiers
    from genesis.failover.domain.notify.email import EmailNotifier
    from genesis.failover.domain.notify.pagerduty import PagerDutyNotifier
    from genesis.failover.domain.notify.registry import build_notifiers
    from genesis.failover.domain.notify.slack import SlackNotifier

__all__ = [
    "EmailNotifier",
    "Notifier",
    "Notifiers",
    "PagerDutyNotifier",
    "SlackNotifier",
    "build_notifiers",
]

_HOME = {
    "Notifier": "base",
    "Notifiers": "base",
    "EmailNotifier": "email",
    "PagerDutyNotifier": "pagerduty",
    "SlackNotifier": "slack",
    "build_notifiers": "registry",
}


def __getattr__(name: str) -> Any:
    module = _HOME.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{module}"), name)
