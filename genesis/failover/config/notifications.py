"""Notifications: who is told about checks and failovers, and through which channel."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from genesis.failover.config.base import EnvVarName, StrictModel


class EmailSettings(StrictModel):
    smtp_host: str
    smtp_port: int = 587
    security: Literal["none", "starttls", "tls"] = "starttls"
    username_env: EnvVarName | None = None
    password_env: EnvVarName | None = None
    sender: str
    recipients: list[str] = Field(min_length=1)


class SlackSettings(StrictModel):
    webhook_url_env: EnvVarName


class PagerDutySettings(StrictModel):
    routing_key_env: EnvVarName
    events_url: str = "https://events.pagerduty.com/v2/enqueue"


class NotificationsSettings(StrictModel):
    channels: list[Literal["email", "slack", "pagerduty"]] = Field(default_factory=list)
    email: EmailSettings | None = None
    slack: SlackSettings | None = None
    pagerduty: PagerDutySettings | None = None
