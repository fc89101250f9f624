"""Health checks as data (the seed's ``HealthCheck``), validated at load time."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import AliasChoices, Field, ValidationInfo, field_validator, model_validator
from pydantic_core import PydanticCustomError

from genesis.failover.domain.config.base import NAME_PATTERN, SECRET_ERROR, EnvVarName, StrictModel

CheckType = Literal["http", "tcp", "database", "process"]


class CheckConfig(StrictModel):
    """One health check. The seed's short keys (type, interval, timeout, threshold) work too."""

    name: str
    check_type: CheckType = Field(validation_alias=AliasChoices("check_type", "type"))
    target: str = Field(min_length=1)
    interval_seconds: float = Field(
        10, gt=0, validation_alias=AliasChoices("interval_seconds", "interval")
    )
    timeout_seconds: float = Field(
        5, gt=0, validation_alias=AliasChoices("timeout_seconds", "timeout")
    )
    failure_threshold: int = Field(
        3, ge=1, validation_alias=AliasChoices("failure_threshold", "threshold")
    )
    # Consecutive successes before an unhealthy check counts as healthy again: one good probe
    # from a flapping service must not end an outage.
    success_threshold: int = Field(2, ge=1)
    # A non-critical check reports but never triggers a failover.
    critical: bool = True
    # http
    expected_status: list[int] | None = None  # None means any 2xx
    body_contains: str | None = None
    max_latency_ms: float | None = Field(None, gt=0)
    verify_tls: bool = True
    # database: a PostgreSQL password never sits in the DSN (it would land in workflow history)
    password_env: EnvVarName | None = None
    # process: target is a process name, or a pidfile path when it contains "/";
    # these add to it
    pidfile: str | None = None
    cmdline_contains: str | None = None

    @field_validator("name")
    @classmethod
    def _name(cls, v: str) -> str:
        if not NAME_PATTERN.match(v):
            raise ValueError(f"check name must be letters, digits, '-', '_' or '.', got {v!r}")
        return v

    @field_validator("expected_status")
    @classmethod
    def _statuses(cls, v: list[int] | None) -> list[int] | None:
        for code in v or []:
            if not 100 <= code <= 599:
                raise ValueError(f"not an HTTP status code: {code}")
        return v

    @field_validator("target")
    @classmethod
    def _target_by_type(cls, t: str, info: ValidationInfo) -> str:
        # A field validator, so the error names ``checks.N.target``; check_type is declared
        # before target and so already validated (absent from info.data if it failed).
        check_type = info.data.get("check_type")
        if check_type == "http" and re.match(r"^https?://[^/@]*:[^/@]*@", t):
            raise PydanticCustomError(
                SECRET_ERROR,
                "http check target must not contain a password (it would be stored in "
                "workflow history)",
            )
        if check_type == "http" and not re.match(r"^https?://", t):
            raise ValueError("http check target must start with http:// or https://")
        if check_type == "tcp":
            host, sep, port = t.rpartition(":")
            if not sep or not host or not re.fullmatch(r"[0-9]{1,5}", port):
                raise ValueError("tcp check target must be host:port")
            if not 0 < int(port) < 65536:
                raise ValueError("tcp check target port must be 1-65535")
        if check_type == "database" and re.match(r"^postgres(ql)?://", t):
            if re.match(r"^postgres(ql)?://[^/@]*:[^/@]*@", t) or re.search(r"[?&]password=", t):
                raise PydanticCustomError(
                    SECRET_ERROR,
                    "database DSN must not contain a password (it would be stored in workflow "
                    "history); name an environment variable with password_env",
                )
        return t

    @model_validator(mode="after")
    def _timeout_within_interval(self) -> CheckConfig:
        if self.timeout_seconds > self.interval_seconds * 10:
            raise ValueError(
                f"timeout_seconds {self.timeout_seconds} is more than 10x interval_seconds "
                f"{self.interval_seconds}"
            )
        return self
