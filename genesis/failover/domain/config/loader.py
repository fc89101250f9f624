"""The root model and the loader: TOML file -> one validated ``FailoverConfig``.

Errors name the field path and the value given (never a value that may be a secret).
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any

from pydantic import Field, ValidationError, field_validator

from genesis.failover.domain.config.base import SECRET_ERROR, StrictModel
from genesis.failover.domain.config.checks import CheckConfig
from genesis.failover.domain.config.dns import DnsSettings, PropagationSettings
from genesis.failover.domain.config.gates import GatesSettings
from genesis.failover.domain.config.hooks import HooksSettings
from genesis.failover.domain.config.metrics import MetricsSettings
from genesis.failover.domain.config.notifications import NotificationsSettings
from genesis.failover.domain.config.site import PolicySettings, SiteSettings, TemporalSettings
from genesis.failover.domain.errors import ConfigError

# A site's monitor carries every check's config and state through continue-as-new in ONE
# Temporal payload, and Temporal refuses payloads over 2 MB: the monitor would stop there. At
# 1,000 checks the worst case (long names and targets, every check failing with a full-length
# error) is 1.1 MB; 5,000 ordinary checks are 2.9 MB (tests/unit/test_site_size.py).
MAX_CHECKS_PER_SITE = 1000


class FailoverConfig(StrictModel):
    temporal: TemporalSettings = Field(default_factory=lambda: TemporalSettings())
    site: SiteSettings
    policy: PolicySettings = Field(default_factory=lambda: PolicySettings())
    checks: list[CheckConfig] = Field(min_length=1)
    dns: DnsSettings
    propagation: PropagationSettings = Field(default_factory=lambda: PropagationSettings())
    hooks: HooksSettings = Field(default_factory=lambda: HooksSettings())
    gates: GatesSettings = Field(default_factory=lambda: GatesSettings())
    notifications: NotificationsSettings = Field(default_factory=lambda: NotificationsSettings())
    metrics: MetricsSettings = Field(default_factory=lambda: MetricsSettings())

    @field_validator("checks")
    @classmethod
    def _unique_checks(cls, checks: list[CheckConfig]) -> list[CheckConfig]:
        # A field validator, so the error names ``checks`` (a model validator's has no path).
        # No critical check at all is not an error: an operator may want reporting only;
        # automatic failover then never fires, which `validate` says out loud.
        if len(checks) > MAX_CHECKS_PER_SITE:
            raise ValueError(
                f"{len(checks)} checks; one site has at most {MAX_CHECKS_PER_SITE} (its monitor's"
                " state must fit one Temporal payload, 2 MB): split them across sites"
            )
        seen: dict[str, int] = {}
        for i, c in enumerate(checks):
            if c.name in seen:
                raise ValueError(f"two checks are named {c.name!r} (checks {seen[c.name]} and {i})")
            seen[c.name] = i
        return checks

    @property
    def monitor_workflow_id(self) -> str:
        return monitor_workflow_id(self.site.name)


def monitor_workflow_id(site: str) -> str:
    return f"failover-monitor-{site}"


def failover_workflow_id(site: str) -> str:
    # One id per site for every failover and failback: with the "fail if running" conflict
    # policy, Temporal itself guarantees that only one DNS change runs per site at a time.
    return f"failover-{site}-switch"


def check_from_seed_dict(data: dict[str, Any]) -> CheckConfig:
    """The seed's ``PRODUCTION_CHECKS`` entries (name/type/target/interval/timeout/threshold)."""
    try:
        return CheckConfig.model_validate(data)
    except ValidationError as exc:
        raise config_error_from(exc, prefix="check") from None


def config_error_from(
    exc: ValidationError, *, prefix: str = "", subject: str = "config", root: str = "config"
) -> ConfigError:
    """One readable line per problem, each naming the field path and the value given.

    ``subject`` names what was invalid ("invalid <subject>: ..."), ``root`` the field of a
    problem with the whole document (a list where an object belongs)."""
    lines = []
    first_field: str | None = None
    first_value: object = None
    for err in exc.errors():
        loc = ".".join(str(p) for p in err["loc"] if not str(p).startswith("function-"))
        loc = f"{prefix}.{loc}" if prefix and loc else (loc or prefix or root)
        value = err.get("input")
        msg = err["msg"].removeprefix("Value error, ")
        if err["type"] == "extra_forbidden":
            msg = "unknown key"
        # Anything given for a *_env key (a string where a list belongs, a pasted token) may be
        # the secret itself: never echoed, whatever the problem.
        if err["type"] == SECRET_ERROR or any(str(p).endswith("_env") for p in err["loc"]):
            value = None  # never echoed, not even in ConfigError.value
            lines.append(f"{loc}: {msg}")
        elif err["type"] == "missing":
            lines.append(f"{loc}: required")
        elif isinstance(value, dict | list):
            lines.append(f"{loc}: {msg}")
        else:
            lines.append(f"{loc}: {msg} (got {_shown(value)})")
        if first_field is None:
            first_field, first_value = loc, value
    return ConfigError(
        f"invalid {subject}: " + "; ".join(lines), field=first_field, value=first_value
    )


def _shown(value: object, limit: int = 80) -> str:
    """The value given, cut short: a 1 MB string must not come back as a 1 MB message."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 4] + "...'"


def _apply_env_overrides(data: dict[str, Any]) -> dict[str, Any]:
    given = data.get("temporal")
    if given is not None and not isinstance(given, dict):
        return data  # `temporal = true`: validation names it; there is nothing to override
    temporal = dict(given or {})
    if os.environ.get("TEMPORAL_ADDRESS"):
        temporal["address"] = os.environ["TEMPORAL_ADDRESS"]
    if os.environ.get("TEMPORAL_NAMESPACE"):
        temporal["namespace"] = os.environ["TEMPORAL_NAMESPACE"]
    temporal = _apply_tls_env(temporal)
    if temporal:
        data = {**data, "temporal": temporal}
    return data


# The Temporal CLI's variables for the same settings: one environment serves `temporal` and the
# worker. Paths only; the CLI's *_DATA variables (PEM in the environment) are not taken.
TLS_ENV = {
    "TEMPORAL_TLS_SERVER_CA_CERT_PATH": "server_ca_cert_path",
    "TEMPORAL_TLS_CLIENT_CERT_PATH": "client_cert_path",
    "TEMPORAL_TLS_CLIENT_KEY_PATH": "client_key_path",
    "TEMPORAL_TLS_SERVER_NAME": "server_name",
}


def _apply_tls_env(temporal: dict[str, Any]) -> dict[str, Any]:
    """TEMPORAL_TLS=true turns TLS on (the system's roots unless a CA path is given); false
    leaves the file's choice. Any TEMPORAL_TLS_*_PATH or _SERVER_NAME turns it on too."""
    given = temporal.get("tls")
    if given is not None and not isinstance(given, dict):
        return temporal  # `tls = true`: validation names it
    flag = os.environ.get("TEMPORAL_TLS", "").strip().lower()
    if flag not in ("", "true", "1", "false", "0"):
        raise ConfigError(
            f"TEMPORAL_TLS must be true or false, got {os.environ['TEMPORAL_TLS']!r}",
            field="TEMPORAL_TLS",
            value=os.environ["TEMPORAL_TLS"],
        )
    tls = dict(given or {})
    for variable, key in TLS_ENV.items():
        if os.environ.get(variable):
            tls[key] = os.environ[variable]
    if tls or given is not None or flag in ("true", "1"):
        temporal = {**temporal, "tls": tls}
    return temporal


def parse_config(data: dict[str, Any]) -> FailoverConfig:
    try:
        return FailoverConfig.model_validate(_apply_env_overrides(data))
    except ValidationError as exc:
        raise config_error_from(exc) from None


def load_config(path: str | Path) -> FailoverConfig:
    p = Path(path)
    try:
        raw = p.read_bytes()
    except OSError as exc:
        raise ConfigError(
            f"cannot read config file {str(p)!r}: {exc.strerror}", field="config", value=str(p)
        ) from None
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(
            f"config file {str(p)!r} is not valid TOML: {exc}", field="config", value=str(p)
        ) from None
    return parse_config(data)
