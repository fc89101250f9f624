"""Hooks: code, commands and webhooks run before and after a failover or failback."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import Field, model_validator

from genesis.failover.config.base import EnvVarName, StrictModel


class HookConfig(StrictModel):
    name: str
    python: str | None = None  # "package.module:function"
    command: list[str] | None = None
    webhook_url_env: EnvVarName | None = None
    timeout_seconds: float = Field(30, gt=0)
    max_attempts: int = Field(1, ge=1)
    on_failure: Literal["abort", "continue"] | None = None

    @model_validator(mode="after")
    def _one_kind(self) -> HookConfig:
        kinds = [k for k in ("python", "command", "webhook_url_env") if getattr(self, k)]
        if len(kinds) != 1:
            raise ValueError(
                f"hook {self.name!r} needs exactly one of python / command / webhook_url_env, "
                f"got {kinds or 'none'}"
            )
        if self.python is not None and not re.match(r"^[\w.]+:[\w.]+$", self.python):
            raise ValueError(f"python hook must be 'module:function', got {self.python!r}")
        if self.command is not None or self.webhook_url_env is not None:
            raise ValueError(
                f"hook {self.name!r}: command and webhook hooks are not available in this "
                "release; use a python hook"
            )
        return self


class HooksSettings(StrictModel):
    pre_failover: list[HookConfig] = Field(default_factory=list)
    post_failover: list[HookConfig] = Field(default_factory=list)
    pre_failback: list[HookConfig] = Field(default_factory=list)
    post_failback: list[HookConfig] = Field(default_factory=list)
    on_failure: list[HookConfig] = Field(default_factory=list)
