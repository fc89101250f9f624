"""Data that crosses a boundary: probe results, record changes, failover requests and results.

Plain pydantic models, carried through Temporal by ``pydantic_data_converter``. None of them holds
a secret: they are written to workflow history, which every operator with UI access can read.

By meaning: ``base`` (the strict base model and the closed sets of words), ``operation`` (one
failover or failback: its identity, request, input and result), ``records`` (DNS records and
what happened to them), ``steps`` (probes, gates, hooks and progress), ``notifications`` and
``events`` (what people are told).
"""

from genesis.failover.domain.models.base import Direction, Model, MonitorState, Outcome, Trigger
from genesis.failover.domain.models.events import NotificationEvent
from genesis.failover.domain.models.notifications import NotificationOutcome, NotificationRoutes
from genesis.failover.domain.models.operation import (
    FailoverInput,
    FailoverPlan,
    FailoverResult,
    Operation,
    OperationRequest,
    operation_request,
)
from genesis.failover.domain.models.records import RecordAction, RecordRef, RecordSwitch, TtlOutcome
from genesis.failover.domain.models.steps import (
    Confirmation,
    GateKind,
    GateResult,
    HookContext,
    HookOutcome,
    HookPhase,
    HookSpec,
    ProbeResult,
    ProgressStep,
    StepKind,
)

__all__ = [
    "Confirmation",
    "Direction",
    "FailoverInput",
    "FailoverPlan",
    "FailoverResult",
    "GateKind",
    "GateResult",
    "HookContext",
    "HookOutcome",
    "HookPhase",
    "HookSpec",
    "Model",
    "MonitorState",
    "NotificationEvent",
    "NotificationOutcome",
    "NotificationRoutes",
    "Operation",
    "OperationRequest",
    "Outcome",
    "ProbeResult",
    "ProgressStep",
    "RecordAction",
    "RecordRef",
    "RecordSwitch",
    "StepKind",
    "TtlOutcome",
    "Trigger",
    "operation_request",
]
