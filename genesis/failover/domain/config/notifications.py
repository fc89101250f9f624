"""Notifications: who is told about checks and failovers, and through which channel.

Every secret (SMTP password, Slack webhook URL, PagerDuty routing key) comes from the environment.
Each channel takes every event unless its ``events`` list says otherwise; PagerDuty, which pages a
human, takes only the events that need one by default.
"""

from __future__ import annotations

from typing import Literal, get_args

from pydantic import Field, field_validator, model_validator

from genesis.failover.domain.config.base import ApiUrl, EnvVarName, StrictModel

EventKind = Literal[
    "check_unhealthy",
    "check_recovered",
    "failover_started",
    "failover_succeeded",
    "failover_failed",
    "failover_degraded",
    "auto_failover_refused",
    "failback_started",
    "failback_done",
    "failback_failed",
]
ALL_EVENTS: tuple[EventKind, ...] = get_args(EventKind)
Channel = Literal["email", "slack", "pagerduty"]
# Trigger when a failover starts or goes wrong, resolve when it succeeds, and page when the
# policy refuses an automatic failover of an unhealthy site (a human has to decide).
PAGERDUTY_DEFAULT_EVENTS: tuple[EventKind, ...] = (
    "failover_started",
    "failover_succeeded",
    "failover_failed",
    "failover_degraded",
    "auto_failover_refused",
    "failback_failed",
)


def _no_duplicates(v: list[str] | None) -> list[str] | None:
    if v is not None:
        dupes = sorted({x for x in v if v.count(x) > 1})
        if dupes:
            raise ValueError(f"{dupes[0]!r} is listed twice")
    return v


class _ChannelSettings(StrictModel):
    # None: the channel's default events.
    events: list[EventKind] | None = None
    timeout_seconds: float = Field(10, gt=0, le=120)

    _events_once = field_validator("events")(_no_duplicates)


class EmailSettings(_ChannelSettings):
    smtp_host: str = Field(min_length=1)
    smtp_port: int = Field(587, ge=1, le=65535)
    # starttls: plain connection upgraded with STARTTLS (587); tls: TLS from the first byte
    # (465); none: a relay on localhost only.
    security: Literal["none", "starttls", "tls"] = "starttls"
    username_env: EnvVarName | None = None
    password_env: EnvVarName | None = None
    # A private CA for an internal relay; None: the system's trust store.
    ca_file: str | None = None
    sender: str = Field(min_length=3)
    recipients: list[str] = Field(min_length=1)
    subject_prefix: str = "[genesis-failover]"

    @field_validator("sender")
    @classmethod
    def _sender(cls, v: str) -> str:
        if "@" not in v or any(c in v for c in "\r\n,"):
            raise ValueError("sender must be one email address")
        return v

    @field_validator("recipients")
    @classmethod
    def _recipients(cls, v: list[str]) -> list[str]:
        for r in v:
            if "@" not in r or any(c in r for c in "\r\n,"):
                raise ValueError(f"not one email address: {r!r}")
        _no_duplicates(v)
        return v

    @model_validator(mode="after")
    def _auth_pair(self) -> EmailSettings:
        if (self.username_env is None) != (self.password_env is None):
            raise ValueError("username_env and password_env go together")
        if self.password_env is not None and self.security == "none":
            raise ValueError(
                "security = 'none' would send the SMTP password in clear; use starttls or tls"
            )
        return self


class SlackSettings(_ChannelSettings):
    # The URL is the secret: anyone holding it can post to the channel.
    webhook_url_env: EnvVarName = "SLACK_WEBHOOK_URL"


class PagerDutySettings(_ChannelSettings):
    routing_key_env: EnvVarName = "PAGERDUTY_ROUTING_KEY"
    # Overridable for the EU service region (events.eu.pagerduty.com) and for tests.
    events_url: ApiUrl = "https://events.pagerduty.com/v2/enqueue"


class NotificationsSettings(StrictModel):
    channels: list[Channel] = Field(default_factory=list)
    email: EmailSettings | None = None
    # Slack and PagerDuty work from their defaults (the environment variables above).
    slack: SlackSettings = Field(default_factory=lambda: SlackSettings())
    pagerduty: PagerDutySettings = Field(default_factory=lambda: PagerDutySettings())
    # How long one notification may keep retrying. Notifications never hold the DNS switch, but
    # a failover's result waits for them (up to this long) so that it can say what was sent.
    deadline_seconds: float = Field(60, gt=0, le=900)

    _channels_once = field_validator("channels")(_no_duplicates)

    @model_validator(mode="after")
    def _email_section(self) -> NotificationsSettings:
        if "email" in self.channels and self.email is None:
            raise ValueError(
                "channel 'email' needs a [notifications.email] section "
                "(smtp_host, sender, recipients)"
            )
        return self

    def events_for(self, channel: Channel) -> list[EventKind]:
        settings = {"email": self.email, "slack": self.slack, "pagerduty": self.pagerduty}[channel]
        if settings is not None and settings.events is not None:
            return list(settings.events)
        return list(PAGERDUTY_DEFAULT_EVENTS if channel == "pagerduty" else ALL_EVENTS)

    def routes(self) -> dict[str, list[EventKind]]:
        """channel -> the events it is sent (non-secret; carried in workflow input)."""
        return {c: self.events_for(c) for c in self.channels}
