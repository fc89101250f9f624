"""Activity inputs and results: one model in, one model out per activity. No secrets."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from genesis.failover.config import CheckConfig, GatesSettings
from genesis.failover.models import (
    Direction,
    GateResult,
    HookContext,
    HookSpec,
    Model,
    NotificationEvent,
    ProbeResult,
    RecordRef,
)


class ProbeBatchInput(Model):
    checks: list[CheckConfig]


class ProbeBatchResult(Model):
    results: list[ProbeResult]


class SwitchDnsInput(Model):
    record: RecordRef
    from_ip: str
    to_ip: str
    force: bool = False
    dry_run: bool = False


class SetTtlInput(Model):
    record: RecordRef
    ttl: int
    # The record must hold one of these (compare-and-set): a TTL change never carries a value
    # somebody else wrote along with it.
    expected: list[str]
    step: Literal["lower", "restore"]
    dry_run: bool = False


class PropagationInput(Model):
    domain: str
    record_type: str = "A"
    expected_ip: str
    # Asked directly; empty with query_nameservers = the zone's authoritative nameservers.
    nameservers: list[str] = Field(default_factory=list)
    query_nameservers: bool = True
    resolver: str | None = None
    nameserver_port: int = 53
    # The provider's own word on the change (Route53 INSYNC), when it gave a change id.
    provider: str = ""
    change_id: str | None = None
    deadline_seconds: float
    poll_seconds: float = 0.5


class PropagationResult(Model):
    nameservers: dict[str, bool] = Field(default_factory=dict)
    # None when the provider has nothing to say (no change id).
    provider_live: bool | None = None
    complete: bool
    polls: int
    # Why it is incomplete beyond "not yet" (no nameserver found, provider unreachable).
    error: str | None = None


class HookInput(Model):
    spec: HookSpec
    context: HookContext


class ReadinessInput(Model):
    direction: Direction
    # Failover: the config's gates. Failback: the primary's critical checks, probed now (with
    # the gates' attempts and retry interval).
    gates: GatesSettings
    primary_checks: list[CheckConfig] = Field(default_factory=list)


class ReadinessResult(Model):
    gates: list[GateResult]

    @property
    def failed(self) -> list[GateResult]:
        return [g for g in self.gates if not g.ok]


class NotifyInput(Model):
    # The worker maps the channel name to its client and secrets: no URL or key travels here.
    channel: str
    event: NotificationEvent
