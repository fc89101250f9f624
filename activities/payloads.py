"""Activity inputs and results: one model in, one model out per activity. No secrets."""

from __future__ import annotations

from pydantic import Field

from genesis.failover.config import CheckConfig
from genesis.failover.models import HookContext, HookSpec, Model, ProbeResult, RecordRef


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


class PropagationInput(Model):
    domain: str
    record_type: str = "A"
    expected_ip: str
    nameservers: list[str]
    deadline_seconds: float
    poll_seconds: float = 0.5


class PropagationResult(Model):
    nameservers: dict[str, bool] = Field(default_factory=dict)
    complete: bool
    polls: int


class HookInput(Model):
    spec: HookSpec
    context: HookContext
