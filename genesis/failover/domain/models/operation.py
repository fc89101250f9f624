"""One failover or failback: what it is (``Operation``), what asks for it (``OperationRequest``),
what its workflow is given (``FailoverInput``) and what it returns (``FailoverResult``).

The operation's identity is defined once, in ``Operation``; the input, the result and the
monitor's history record are built on it, and the hook context and notification events are made
from it. ``from_ip`` and ``to_ip`` are derived from the direction, never stored beside it: no two
of these can disagree about which way traffic moves.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import (
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    computed_field,
    field_validator,
    model_validator,
)

from genesis.failover.domain.config import (
    CheckConfig,
    GatesSettings,
    PropagationSettings,
    config_error_from,
)
from genesis.failover.domain.errors import ConfigError
from genesis.failover.domain.models.base import Direction, Model, Outcome, Trigger
from genesis.failover.domain.models.notifications import NotificationOutcome, NotificationRoutes
from genesis.failover.domain.models.records import RecordRef, RecordSwitch, TtlOutcome
from genesis.failover.domain.models.steps import GateResult, HookContext, HookOutcome, HookSpec


class Operation(Model):
    """Which operation: the site, which way, who or what asked and why, and the two addresses."""

    site: str
    direction: Direction
    trigger: Trigger
    reason: str
    dry_run: bool = False
    primary_ip: str
    backup_ip: str

    @model_validator(mode="before")
    @classmethod
    def _sides_from_either_pair(cls, data: Any) -> Any:
        """``from_ip``/``to_ip`` are in every dump (computed below); read back, they must agree
        with the direction and the two sides. Given alone, they name the two sides."""
        if not isinstance(data, dict) or not ({"from_ip", "to_ip"} & data.keys()):
            return data
        data = dict(data)
        moves = (data.pop("from_ip", None), data.pop("to_ip", None))
        failback = data.get("direction") == "failback"
        primary, backup = moves[::-1] if failback else moves
        data.setdefault("primary_ip", primary)
        data.setdefault("backup_ip", backup)
        for side, value in (("primary_ip", primary), ("backup_ip", backup)):
            if value is not None and data[side] != value:
                raise ValueError(
                    f"from_ip {moves[0]!r} -> to_ip {moves[1]!r} is not a "
                    f"{data.get('direction')} between primary_ip {data['primary_ip']!r} and "
                    f"backup_ip {data['backup_ip']!r}"
                )
        return data

    @computed_field  # type: ignore[prop-decorator]
    @property
    def from_ip(self) -> str:
        return self.primary_ip if self.direction == "failover" else self.backup_ip

    @computed_field  # type: ignore[prop-decorator]
    @property
    def to_ip(self) -> str:
        return self.backup_ip if self.direction == "failover" else self.primary_ip

    def identity(self) -> Operation:
        """The operation alone, without what a subclass adds (for events and records)."""
        return Operation(**self.identity_fields())

    def identity_fields(self) -> dict[str, Any]:
        """The operation's own fields, to build a model on it (an input, a result)."""
        return {name: getattr(self, name) for name in Operation.model_fields}

    def hook_context(self, failover_id: str) -> HookContext:
        """What every hook of this operation is told."""
        sides = {"primary_ip", "backup_ip"}
        told = {k: v for k, v in self.identity_fields().items() if k not in sides}
        return HookContext(**told, from_ip=self.from_ip, to_ip=self.to_ip, failover_id=failover_id)


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


class FailoverInput(Operation):
    """Everything a FailoverWorkflow needs, fixed when it starts. No secrets."""

    force: bool = False
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

    def hooks_of(self, phase: str) -> list[HookSpec]:
        return [h for h in self.hooks if h.phase == phase]

    def verification_for(self, record: RecordRef) -> tuple[list[str], bool]:
        """(nameservers to ask, whether to ask any) for ``record``: its own settings first."""
        p = self.propagation
        nameservers = p.nameservers if record.nameservers is None else record.nameservers
        query = (
            p.query_nameservers if record.query_nameservers is None else record.query_nameservers
        )
        return list(nameservers), query

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
        propagation, hooks, plan, gates, TTL changes)."""
        return FailoverResult(
            **self.identity_fields(),
            success=success,
            duration_seconds=(finished_at - started_at).total_seconds(),
            outcome=outcome,
            workflow_id=workflow_id,
            started_at=started_at,
            finished_at=finished_at,
            forced=self.force,
            error=error,
            **steps,
        )


class FailoverPlan(Model):
    """What a dry run found: each record's current value and target, hooks, nameservers."""

    records: list[RecordSwitch]
    hooks: list[str]
    skipped_hooks: list[str]
    nameservers: list[str]


class FailoverResult(Operation):
    success: bool
    duration_seconds: float
    outcome: Outcome
    workflow_id: str = ""
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
