"""Data that crosses a boundary: probe results, record changes, failover requests and results.

Plain pydantic models, carried through Temporal by ``pydantic_data_converter``. None of them holds
a secret: they are written to workflow history, which every operator with UI access can read.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
)

from genesis.failover.domain.config import (
    CheckConfig,
    EventKind,
    GatesSettings,
    HookKind,
    PropagationSettings,
    config_error_from,
)
from genesis.failover.domain.errors import ConfigError, DNSConflictError, DNSError

Direction = Literal["failover", "failback"]
Trigger = Literal["automatic", "manual", "drill"]
Outcome = Literal["succeeded", "failed", "degraded", "aborted", "dry_run", "refused"]
MonitorState = Literal["normal", "failing_over", "failed_over", "failing_back"]


class Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ProbeResult(Model):
    """One probe's answer. A failed probe is data (healthy=False, error=...), never an exception."""

    check_name: str
    healthy: bool
    latency_ms: float
    error: str | None = None
    checked_at: datetime
    # Which worker / task queue ran the probe: the seam for several vantage points later.
    origin: str = ""


class RecordRef(Model):
    """One record a failover moves, and where its change is verified. No secrets."""

    domain: str
    record_type: Literal["A", "AAAA"] = "A"
    ttl: int | None = None
    # Which configured provider holds it ("" = the site's default provider).
    provider: str = ""
    # Where its change is verified, when not as the operation says (see FailoverInput).
    nameservers: list[str] | None = None
    query_nameservers: bool | None = None


RecordAction = Literal["switched", "already_at_target", "would_switch", "refused", "failed"]


class RecordSwitch(Model):
    """What happened (or, in a dry run, would happen) to one DNS record."""

    domain: str
    record_type: str
    provider: str
    before: list[str] = Field(default_factory=list)
    after: list[str] = Field(default_factory=list)
    target: str
    action: RecordAction
    error: str | None = None
    # The TTL the record had, and has after the switch (None if the provider did not say).
    ttl_before: int | None = None
    ttl_after: int | None = None
    # A provider's handle on the write, to ask whether it is live (Route53's change id).
    change_id: str | None = None
    # Served through the provider's proxy (Cloudflare): nameservers answer the proxy's
    # addresses, so only the provider can confirm the change.
    proxied: bool = False

    @property
    def at_target(self) -> bool:
        return self.action in ("switched", "already_at_target")

    @classmethod
    def not_moved(
        cls, exc: DNSError, *, domain: str, record_type: str, provider: str, target: str
    ) -> RecordSwitch:
        """A switch a provider would not or could not make, as data: "refused" (the record is at
        a third value, kept in ``before``) or "failed" (any other DNS error)."""
        refused = exc if isinstance(exc, DNSConflictError) else None
        return cls(
            domain=domain,
            record_type=record_type,
            provider=provider,
            target=target,
            before=(refused.current or []) if refused else [],
            action="refused" if refused else "failed",
            error=str(exc),
        )


class HookSpec(Model):
    """A hook as a workflow sees it: a name the worker resolves, never code or secrets."""

    name: str
    phase: Literal["pre_failover", "post_failover", "pre_failback", "post_failback", "on_failure"]
    kind: HookKind = "python"
    timeout_seconds: float = 30
    max_attempts: int = 1
    retry_interval_seconds: float = 1
    on_failure: Literal["abort", "continue"] = "abort"
    # A hook runs in a dry run only when it says it has no side effects.
    dry_run_safe: bool = False


class HookContext(Model):
    """What a hook is told about the operation it is part of (no secrets)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    site: str
    direction: Direction
    trigger: Trigger
    reason: str
    from_ip: str
    to_ip: str
    failover_id: str
    dry_run: bool = False


class HookOutcome(Model):
    name: str
    phase: str
    ok: bool
    skipped: bool = False
    duration_seconds: float = 0.0
    output: str | None = None
    error: str | None = None


GateKind = Literal["backup_check", "replication_lag", "primary_check", "healthy_window"]


class GateResult(Model):
    """One readiness gate's verdict before a DNS change (or why it was not asked)."""

    name: str
    kind: GateKind
    ok: bool
    # Not asked: the operator forced the operation. ``ok`` is then True and ``detail`` says so.
    skipped: bool = False
    detail: str = ""
    # replication_lag / healthy_window: the number measured and the ceiling (or floor) it met.
    value: float | None = None
    limit: float | None = None
    attempts: int = 1


class NotificationEvent(Model):
    """Something people are told about. Built by pure functions (``notify.events``) so that a
    workflow can build it deterministically; rendered per channel by the notifiers. No secrets."""

    kind: EventKind
    site: str
    # One line: the email subject, the Slack headline, PagerDuty's payload.summary.
    summary: str
    severity: Literal["critical", "error", "warning", "info"]
    # PagerDuty's dedup_key: one per failover (trigger on start, resolve on success), one per
    # check incident, one per kind of refusal.
    dedup_key: str
    occurred_at: datetime
    direction: Direction | None = None
    trigger: Trigger | None = None
    reason: str | None = None
    from_ip: str | None = None
    to_ip: str | None = None
    outcome: Outcome | None = None
    workflow_id: str | None = None
    # Every failover of a site shares one workflow id; the run id names this one.
    run_id: str | None = None
    duration_seconds: float | None = None
    # One line per record: "genesis.example.com A: 1.2.3.4 -> 5.6.7.8 (switched)".
    records: list[str] = Field(default_factory=list)
    check_name: str | None = None
    error: str | None = None


class NotificationOutcome(Model):
    """Whether one channel took one event (after its retries)."""

    channel: str
    event: EventKind
    ok: bool
    detail: str | None = None
    error: str | None = None
    # When the channel took it, or gave up (workflow time).
    at: datetime | None = None


class NotificationRoutes(Model):
    """Which channel is sent which events, and how long a notification may retry (non-secret)."""

    routes: dict[str, list[EventKind]] = Field(default_factory=dict)
    deadline_seconds: float = 60

    def channels_for(self, kind: EventKind) -> list[str]:
        return [channel for channel, kinds in self.routes.items() if kind in kinds]


class ProgressStep(Model):
    """One step of a running failover, as its ``steps`` query reports it."""

    text: str
    # True good news, False bad news, None neither (a dry run's "would run", "forced").
    ok: bool | None = None


class OperationRequest(Model):
    """A manual failover or failback request (signal or update payload).

    Strict: a payload typed by hand (`temporal workflow signal --input`) gets no guessing;
    ``"lower_ttl_seconds": true`` is refused, not read as a TTL of 1 second."""

    model_config = ConfigDict(extra="forbid", strict=True)

    reason: str = Field("manual", max_length=500)
    dry_run: bool = False
    force: bool = False
    # Planned failover: lower the records' TTL to this, wait out the old TTL, switch, and put
    # the old TTL back, so resolvers drop the old address within seconds of the switch.
    lower_ttl_seconds: int | None = Field(None, ge=1, le=86400)
    # A drill (the seed's monthly failover drill): a dry run recorded with trigger "drill", so
    # drills can be told apart from an operator's one-off dry runs in history and in the UI.
    drill: bool = False

    @field_validator("drill")
    @classmethod
    def _drill_is_dry(cls, drill: bool, info: ValidationInfo) -> bool:
        # A field validator, so the refusal names ``drill``; dry_run is declared before it.
        if drill and info.data.get("dry_run") is not True:
            raise ValueError("a drill is a dry run; set dry_run to true")
        return drill


class FailoverInput(Model):
    """Everything a FailoverWorkflow needs, fixed when it starts. No secrets."""

    site: str
    direction: Direction
    trigger: Trigger
    reason: str
    dry_run: bool = False
    force: bool = False
    primary_ip: str
    backup_ip: str
    provider: str
    records: list[RecordRef]
    # How a switch is confirmed: the config's [propagation], as validated at load.
    propagation: PropagationSettings = Field(default_factory=lambda: PropagationSettings())
    hooks: list[HookSpec] = Field(default_factory=list)
    lower_ttl_seconds: int | None = None
    # Readiness gates. Failover: the config's [gates]. Failback: the primary's critical checks,
    # probed once more right before the switch.
    gates: GatesSettings = Field(default_factory=lambda: GatesSettings())
    primary_checks: list[CheckConfig] = Field(default_factory=list)
    # Gates the monitor already decided from its own record (the failback healthy window).
    prechecked_gates: list[GateResult] = Field(default_factory=list)
    notifications: NotificationRoutes = Field(default_factory=lambda: NotificationRoutes())

    def verification_for(self, record: RecordRef) -> tuple[list[str], bool]:
        """(nameservers to ask, whether to ask any) for ``record``: its own settings first."""
        p = self.propagation
        nameservers = p.nameservers if record.nameservers is None else record.nameservers
        query = (
            p.query_nameservers if record.query_nameservers is None else record.query_nameservers
        )
        return list(nameservers), query

    @property
    def from_ip(self) -> str:
        return self.primary_ip if self.direction == "failover" else self.backup_ip

    @property
    def to_ip(self) -> str:
        return self.backup_ip if self.direction == "failover" else self.primary_ip

    def hook_context(self, failover_id: str) -> HookContext:
        """What every hook of this operation is told."""
        return HookContext(
            site=self.site,
            direction=self.direction,
            trigger=self.trigger,
            reason=self.reason,
            from_ip=self.from_ip,
            to_ip=self.to_ip,
            failover_id=failover_id,
            dry_run=self.dry_run,
        )

    def result(
        self,
        *,
        workflow_id: str,
        outcome: Outcome,
        success: bool,
        started_at: datetime,
        finished_at: datetime,
        error: str | None = None,
        **steps: Any,
    ) -> FailoverResult:
        """The result of running this input; ``steps`` are what the steps found (records,
        propagation, hooks, plan)."""
        return FailoverResult(
            success=success,
            duration_seconds=(finished_at - started_at).total_seconds(),
            dry_run=self.dry_run,
            outcome=outcome,
            direction=self.direction,
            trigger=self.trigger,
            reason=self.reason,
            site=self.site,
            workflow_id=workflow_id,
            primary_ip=self.primary_ip,
            backup_ip=self.backup_ip,
            from_ip=self.from_ip,
            to_ip=self.to_ip,
            started_at=started_at,
            finished_at=finished_at,
            forced=self.force,
            error=error,
            **steps,
        )


class TtlOutcome(Model):
    """One record's TTL lowered before a planned switch ("lower") or put back ("restore")."""

    domain: str
    record_type: str
    provider: str
    step: Literal["lower", "restore"]
    ttl_before: int | None = None
    ttl_after: int | None = None
    written: bool = False
    error: str | None = None


class FailoverPlan(Model):
    """What a dry run found: each record's current value and target, hooks, nameservers."""

    records: list[RecordSwitch]
    hooks: list[str]
    skipped_hooks: list[str]
    nameservers: list[str]


class FailoverResult(Model):
    success: bool
    duration_seconds: float
    dry_run: bool
    outcome: Outcome
    direction: Direction
    trigger: Trigger
    reason: str
    site: str
    workflow_id: str = ""
    primary_ip: str
    backup_ip: str
    from_ip: str
    to_ip: str
    started_at: datetime
    finished_at: datetime
    records: list[RecordSwitch] = Field(default_factory=list)
    propagation: dict[str, bool] = Field(default_factory=dict)
    hooks: list[HookOutcome] = Field(default_factory=list)
    plan: FailoverPlan | None = None
    # Planned failover: the TTLs lowered before the switch and put back after it.
    ttl_changes: list[TtlOutcome] = Field(default_factory=list)
    gates: list[GateResult] = Field(default_factory=list)
    notifications: list[NotificationOutcome] = Field(default_factory=list)
    forced: bool = False
    error: str | None = None

    @property
    def moved(self) -> list[str]:
        return [r.domain for r in self.records if r.action == "switched"]


def operation_request(payload: object, direction: Direction) -> OperationRequest:
    """A signal's or an update's payload as a request, or a ConfigError naming the field and
    the value (``invalid failover request: dry_run: Input should be a valid boolean (got
    'maybe')``). The monitor takes its payloads raw and calls this, so that a malformed one is
    refused where the operator can see it (status, the update's error) instead of being dropped
    by the SDK before any handler runs."""
    if isinstance(payload, OperationRequest):
        return payload
    if not isinstance(payload, dict):
        raise ConfigError(
            f"invalid {direction} request: payload must be an object such as "
            f'{{"reason": "maintenance", "dry_run": false}}, got {_shown(payload)}',
            field="payload",
            value=payload if isinstance(payload, str | int | float | bool) else None,
        )
    try:
        return OperationRequest.model_validate(payload)
    except ValidationError as exc:
        raise _shortened(
            config_error_from(exc, subject=f"{direction} request", root="payload")
        ) from None


def _shown(value: object) -> str:
    if value is None or isinstance(value, bool | int | float):
        return repr(value)
    if isinstance(value, str):
        return repr(value[:40] + ("..." if len(value) > 40 else ""))
    return f"a {type(value).__name__}"


def _shortened(error: ConfigError, limit: int = 600) -> ConfigError:
    """A 1 MB string in a payload must not come back as a 1 MB error (or a 1 MB status)."""
    text = str(error)
    if len(text) <= limit:
        return error
    return ConfigError(text[: limit - 3] + "...", field=error.field, value=None)
