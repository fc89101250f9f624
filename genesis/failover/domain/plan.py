"""The monitor's plan: the non-secret part of the config that the workflows act on.

It is workflow input, so it is visible in the Web UI and replayable; secrets stay in the worker.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import Field

from genesis.failover.domain.config import (
    CheckConfig,
    FailoverConfig,
    GatesSettings,
    PolicySettings,
    PropagationSettings,
)
from genesis.failover.domain.hooks import HookRegistry
from genesis.failover.domain.models import (
    Direction,
    FailoverInput,
    FailoverResult,
    GateResult,
    HookSpec,
    Model,
    NotificationRoutes,
    Operation,
    RecordRef,
    Trigger,
)
from genesis.failover.domain.state import OperationRecord, SiteState


class MonitorPlan(Model):
    site: str
    primary_ip: str
    backup_ip: str
    policy: PolicySettings
    checks: list[CheckConfig]
    provider: str
    records: list[RecordRef]
    propagation: PropagationSettings = Field(default_factory=lambda: PropagationSettings())
    hooks: list[HookSpec] = Field(default_factory=list)
    gates: GatesSettings = Field(default_factory=lambda: GatesSettings())
    notifications: NotificationRoutes = Field(default_factory=lambda: NotificationRoutes())
    task_queue: str
    # Index this site's workflows under the Failover* search attributes. The worker turns it
    # off, loudly, when the namespace lacks them: monitoring must not stop over a UI index.
    search_attributes: bool = True
    # Continue-as-new once history passes this many events, to keep replay cheap.
    max_history_events: int = Field(4000, ge=100)

    def operation(
        self, direction: Direction, trigger: Trigger, reason: str, *, dry_run: bool = False
    ) -> Operation:
        """One operation of this site, with its two sides."""
        return Operation(
            site=self.site,
            direction=direction,
            trigger=trigger,
            reason=reason,
            dry_run=dry_run,
            primary_ip=self.primary_ip,
            backup_ip=self.backup_ip,
        )

    def operation_input(
        self,
        direction: Direction,
        trigger: Trigger,
        reason: str,
        *,
        dry_run: bool,
        force: bool,
        lower_ttl_seconds: int | None = None,
        prechecked_gates: list[GateResult] | None = None,
    ) -> FailoverInput:
        return FailoverInput(
            **self.operation(direction, trigger, reason, dry_run=dry_run).identity_fields(),
            force=force,
            provider=self.provider,
            records=self.records,
            propagation=self.propagation,
            hooks=[h for h in self.hooks if h.phase.endswith(direction) or h.phase == "on_failure"],
            lower_ttl_seconds=lower_ttl_seconds,
            gates=self.gates,
            # Failback's last look: the checks that decide a failover, probed once more.
            primary_checks=[c for c in self.checks if c.critical],
            prechecked_gates=prechecked_gates or [],
            notifications=self.notifications,
        )

    def lost_result(self, op: OperationRecord, now: datetime, error: str) -> FailoverResult:
        """The result of an operation whose workflow ended without one (terminated, timed out):
        failed, with no record listed as moved, because nobody knows which did."""
        inp = self.operation_input(
            op.direction, op.trigger, op.reason, dry_run=op.dry_run, force=False
        )
        return inp.result(
            workflow_id=op.workflow_id,
            outcome="failed",
            success=False,
            started_at=op.started_at,
            finished_at=now,
            error=error,
        )


class MonitorInput(Model):
    plan: MonitorPlan
    # Carried through continue-as-new; None on the very first run.
    state: SiteState | None = None


def build_monitor_plan(
    config: FailoverConfig, hooks: HookRegistry | None = None, **overrides: object
) -> MonitorPlan:
    registry = hooks or HookRegistry()
    specs = [s for phase_specs in registry.specs.values() for s in phase_specs]
    plan = MonitorPlan(
        site=config.site.name,
        primary_ip=config.site.primary_ip,
        backup_ip=config.site.backup_ip,
        policy=config.policy,
        checks=config.checks,
        provider=config.dns.provider,
        records=[
            RecordRef(
                domain=r.domain,
                record_type=r.record_type,
                ttl=r.ttl or config.dns.ttl,
                provider=config.dns.provider_of(r),
                nameservers=r.nameservers,
                query_nameservers=r.query_nameservers,
            )
            for r in config.dns.records
        ],
        propagation=config.propagation,
        hooks=specs,
        gates=config.gates,
        notifications=NotificationRoutes(
            routes=config.notifications.routes(),
            deadline_seconds=config.notifications.deadline_seconds,
        ),
        task_queue=config.temporal.task_queue,
    )
    return plan.model_copy(update=overrides) if overrides else plan
