"""Where Temporal is, which site is protected, and the policy that limits automatic moves."""

from __future__ import annotations

import ipaddress

from pydantic import Field, field_validator, model_validator

from genesis.failover.config.base import NAME_PATTERN, StrictModel


class TemporalSettings(StrictModel):
    address: str = "localhost:7233"
    namespace: str = "default"
    task_queue: str = "genesis-failover"


class SiteSettings(StrictModel):
    name: str
    primary_ip: str
    backup_ip: str

    @field_validator("name")
    @classmethod
    def _name(cls, v: str) -> str:
        if not NAME_PATTERN.match(v):
            raise ValueError(f"site name must be letters, digits, '-', '_' or '.', got {v!r}")
        return v

    @field_validator("primary_ip", "backup_ip")
    @classmethod
    def _ip(cls, v: str) -> str:
        try:
            return str(ipaddress.ip_address(v))
        except ValueError:
            raise ValueError(f"not an IP address: {v!r}") from None

    @model_validator(mode="after")
    def _distinct(self) -> SiteSettings:
        if self.primary_ip == self.backup_ip:
            raise ValueError(f"primary_ip and backup_ip are both {self.primary_ip!r}")
        return self


class PolicySettings(StrictModel):
    auto_failover: bool = True
    # No automatic failover within this many seconds of the last DNS-changing operation: a
    # primary that flaps must not bounce traffic back and forth every few probes.
    cooldown_seconds: float = Field(300, ge=0)
    # Rolling 24 h cap on failovers: after this many, a human has to look.
    max_failovers_per_day: int = Field(5, ge=1)
    # Failback is never automatic by default: a primary that looks healthy for a minute may be
    # the same primary that just died. With auto_failback on, it needs this healthy window.
    auto_failback: bool = False
    failback_healthy_seconds: float = Field(300, ge=0)
