"""Data that crosses a boundary: probe results, record changes, failover requests and results.

Plain pydantic models, carried through Temporal by ``pydantic_data_converter``. None of them holds
a secret: they are written to workflow history, which every operator with UI access can read.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

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
    domain: str
    record_type: Literal["A", "AAAA"] = "A"
    ttl: int | None = None


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

    @property
    def at_target(self) -> bool:
        return self.action in ("switched", "already_at_target")
