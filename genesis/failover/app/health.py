"""The seed's ``HealthCheck`` and ``HealthChecker``.

``HealthCheck`` IS the config model's check (one validated model, the seed's keyword names).
``HealthChecker`` holds the checks; under a running coordinator its status is the monitor
workflow's, and on its own it can probe here with ``run_once`` using the same thresholds.
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from genesis.failover.domain import policy
from genesis.failover.domain.config import CheckConfig, check_from_seed_dict, config_error_from
from genesis.failover.domain.errors import ConfigError
from genesis.failover.domain.probes import run_probes
from genesis.failover.domain.state import CheckHealth, SiteState
from genesis.failover.domain.status import build_health


class HealthCheck(CheckConfig):
    """The seed's ``HealthCheck(name=..., check_type=..., ...)``: the config model's check, whose
    bad values raise ``ConfigError`` naming the field (and never echoing a secret)."""

    def __init__(self, **data: Any) -> None:
        try:
            super().__init__(**data)
        except ValidationError as exc:
            raise config_error_from(exc, prefix="HealthCheck") from None


class HealthChecker:
    def __init__(self, checks: list[CheckConfig] | None = None) -> None:
        self._checks: dict[str, CheckConfig] = {}
        self._state = SiteState(site="local")
        self._remote_health: dict[str, Any] | None = None
        for c in checks or []:
            self.add_check(c)

    def add_check(self, check: CheckConfig | dict[str, Any]) -> CheckConfig:
        """Add a check; the seed's dict form (name/type/target/interval/timeout/threshold) works."""
        if isinstance(check, dict):
            check = check_from_seed_dict(check)
        if check.name in self._checks:
            raise ConfigError(
                f"a check named {check.name!r} already exists", field="name", value=check.name
            )
        self._checks[check.name] = check
        self._state.checks[check.name] = CheckHealth(name=check.name, critical=check.critical)
        return check

    @property
    def checks(self) -> list[CheckConfig]:
        return list(self._checks.values())

    async def run_once(self) -> dict[str, Any]:
        """Probe every check once, here, and count the results (thresholds apply)."""
        for result in await run_probes(self.checks, origin="local"):
            check = self._checks[result.check_name]
            self._state.checks[check.name] = policy.apply_probe(
                self._state.checks[check.name], check, result
            )
        self._remote_health = None
        return self.get_status()

    def update_from_monitor(self, health: dict[str, Any]) -> None:
        self._remote_health = health

    def get_status(self) -> dict[str, Any]:
        """``{"overall_health", "healthy_checks", "total_checks", "checks": {...}}``: the latest
        the facade knows (the monitor's, once a coordinator has asked it)."""
        if self._remote_health is not None:
            return self._remote_health
        return build_health(self._state)
