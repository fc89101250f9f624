"""The vocabulary every model shares: the strict base model and the closed sets of words."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict

Direction = Literal["failover", "failback"]
Trigger = Literal["automatic", "manual", "drill"]
Outcome = Literal["succeeded", "failed", "degraded", "aborted", "dry_run", "refused"]
MonitorState = Literal["normal", "failing_over", "failed_over", "failing_back"]


class Model(BaseModel):
    """Unknown keys are refused: a typo in a payload is an error, never silently dropped."""

    model_config = ConfigDict(extra="forbid")
