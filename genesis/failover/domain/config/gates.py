"""Readiness gates: what must be true before any DNS change (the seed's pre-failover checklist:
"verify backup infrastructure is ready", "check database replication lag").

A failed gate aborts the operation before anything is written; ``--force`` skips the gates and the
history says so. Failback's own gate (the primary healthy for ``policy.failback_healthy_seconds``
and passing its critical checks right now) needs no config beyond the policy.
"""

from __future__ import annotations

import re

from pydantic import Field, field_validator, model_validator
from pydantic_core import PydanticCustomError

from genesis.failover.domain.config.base import NAME_PATTERN, SECRET_ERROR, EnvVarName, StrictModel
from genesis.failover.domain.config.checks import CheckConfig

_POSTGRES = re.compile(r"^postgres(ql)?://")


class ReplicationLagGate(StrictModel):
    """A number read from the backup's database, compared with a ceiling.

    ``query`` returns one row with one number (seconds behind, bytes behind, ...): for a
    PostgreSQL streaming replica, ``SELECT COALESCE(EXTRACT(EPOCH FROM now() -
    pg_last_xact_replay_timestamp()), 0)``. It runs in a read-only transaction.
    """

    name: str = "replication_lag"
    target: str = Field(min_length=1)  # postgresql:// DSN without password, or a SQLite path
    query: str = Field(min_length=1)
    max_value: float = Field(ge=0)
    password_env: EnvVarName | None = None
    timeout_seconds: float = Field(5, gt=0, le=300)

    @field_validator("name")
    @classmethod
    def _name(cls, v: str) -> str:
        if not NAME_PATTERN.match(v):
            raise ValueError(f"gate name must be letters, digits, '-', '_' or '.', got {v!r}")
        return v

    @field_validator("target")
    @classmethod
    def _no_password(cls, v: str) -> str:
        if _POSTGRES.match(v) and (
            re.match(r"^postgres(ql)?://[^/@]*:[^/@]*@", v) or re.search(r"[?&]password=", v)
        ):
            raise PydanticCustomError(
                SECRET_ERROR,
                "database DSN must not contain a password (it would be stored in workflow "
                "history); name an environment variable with password_env",
            )
        return v

    @field_validator("query")
    @classmethod
    def _one_statement(cls, v: str) -> str:
        if ";" in v.strip().rstrip(";"):
            raise ValueError("query must be one statement")
        return v

    @property
    def is_postgres(self) -> bool:
        return bool(_POSTGRES.match(self.target))


class GatesSettings(StrictModel):
    # Probes pointed at the backup (any check type); each must pass now.
    backup_checks: list[CheckConfig] = Field(default_factory=list)
    replication_lag: ReplicationLagGate | None = None
    # A gate that fails is asked again this many times in all, this far apart: one lost packet
    # must not hold a failover back for a whole cooldown.
    attempts: int = Field(2, ge=1, le=10)
    retry_interval_seconds: float = Field(1, ge=0, le=60)

    @model_validator(mode="after")
    def _unique_names(self) -> GatesSettings:
        names = [c.name for c in self.backup_checks]
        if self.replication_lag is not None:
            names.append(self.replication_lag.name)
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"two gates are named {dupes[0]!r}")
        return self

    @property
    def configured(self) -> list[str]:
        """The failover gates' names, in the order they are checked."""
        names = [c.name for c in self.backup_checks]
        if self.replication_lag is not None:
            names.append(self.replication_lag.name)
        return names
