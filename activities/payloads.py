"""Activity inputs and results: one model in, one model out per activity. No secrets."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import Field, field_serializer

from genesis.failover.domain.config import CheckConfig, GatesSettings
from genesis.failover.domain.models import (
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
    # When the batch was due (workflow time), for the lateness metric; None from older monitors.
    due_at: datetime | None = None

    @field_serializer("checks", when_used="json")
    def _without_defaults(self, checks: list[CheckConfig]) -> list[dict[str, Any]]:
        # Every batch's input stays in the monitor's history. A check's unset options (most of
        # its 15 fields) are its defaults again when the worker reads them back: 326 bytes a
        # check become about 110, a third of the history a large site writes per hour.
        return [c.model_dump(mode="json", exclude_defaults=True) for c in checks]


class ProbeBatchResult(Model):
    results: list[ProbeResult]

    @field_serializer("results", when_used="json")
    def _without_defaults(self, results: list[ProbeResult]) -> list[dict[str, Any]]:
        return [r.model_dump(mode="json", exclude_defaults=True) for r in results]


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


class ReadRecordInput(Model):
    record: RecordRef


class RecordReading(Model):
    """Where a record points now, as its provider holds it: the monitor learns it at start."""

    domain: str
    record_type: str
    provider: str
    # Sorted, addresses in canonical text; empty when the record could not be read.
    values: list[str] = Field(default_factory=list)
    ttl: int | None = None
    # Why it could not be read when retrying cannot help (not found, bad credentials, ...).
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
