"""Hooks: code, commands and webhooks run before and after a failover or failback.

A hook is named in the config and resolved by the worker; workflows only ever see its name and
its limits (``HookSpec``). A command is an argv list run without a shell, so no reason text or IP
typed by an operator can become shell syntax. A webhook's URL is a secret (it often carries a
token), so it comes from the environment like every other secret.
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import Field, field_validator, model_validator

from genesis.failover.domain.config.base import NAME_PATTERN, EnvVarName, StrictModel

HookKind = Literal["python", "command", "webhook"]


class HookConfig(StrictModel):
    name: str
    python: str | None = None  # "package.module:function"
    command: list[str] | None = Field(None, min_length=1)  # argv, no shell
    webhook_url_env: EnvVarName | None = None
    # command: worker environment variables the command may see, beyond PATH, HOME and the
    # locale. Everything else is withheld: a hook script has no business with the DNS tokens.
    pass_env: list[EnvVarName] = Field(default_factory=list)
    working_dir: str | None = None
    # webhook: sent as "Authorization: Bearer <token>" when set.
    bearer_token_env: EnvVarName | None = None
    timeout_seconds: float = Field(30, gt=0, le=3600)
    max_attempts: int = Field(1, ge=1, le=20)
    retry_interval_seconds: float = Field(1, gt=0, le=600)
    # pre-hooks default to "abort" (no DNS change after a failed stop_trading), post-hooks and
    # on_failure hooks to "continue" (the switch is made; the rest still runs).
    on_failure: Literal["abort", "continue"] | None = None
    # Runs in a dry run too: only for a hook that changes nothing (a check, a read).
    dry_run_safe: bool = False

    @field_validator("name")
    @classmethod
    def _name(cls, v: str) -> str:
        if not NAME_PATTERN.match(v):
            raise ValueError(f"hook name must be letters, digits, '-', '_' or '.', got {v!r}")
        return v

    @field_validator("command")
    @classmethod
    def _argv(cls, v: list[str] | None) -> list[str] | None:
        if v is not None and not v[0].strip():
            raise ValueError("command[0] (the program) is empty")
        return v

    @property
    def kind(self) -> HookKind:
        if self.command is not None:
            return "command"
        if self.webhook_url_env is not None:
            return "webhook"
        return "python"

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
        if self.kind != "command" and (self.pass_env or self.working_dir is not None):
            raise ValueError(f"hook {self.name!r}: pass_env and working_dir are for command hooks")
        if self.kind != "webhook" and self.bearer_token_env is not None:
            raise ValueError(f"hook {self.name!r}: bearer_token_env is for webhook hooks")
        return self


class HooksSettings(StrictModel):
    pre_failover: list[HookConfig] = Field(default_factory=list)
    post_failover: list[HookConfig] = Field(default_factory=list)
    pre_failback: list[HookConfig] = Field(default_factory=list)
    post_failback: list[HookConfig] = Field(default_factory=list)
    on_failure: list[HookConfig] = Field(default_factory=list)
