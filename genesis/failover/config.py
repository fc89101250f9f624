"""The one validated config model (TOML file -> ``FailoverConfig``).

Checks are data validated at load time, so a typo in a threshold fails the deploy rather than the
3 a.m. failover. Unknown keys are rejected everywhere: a misspelt ``cooldown_second`` silently
falling back to a default is exactly the kind of surprise a safety system must not have.
Secrets never appear in the file: only the NAME of the environment variable that holds them
(``*_env`` keys), resolved by the worker process when it builds its clients.
"""

from __future__ import annotations

import ipaddress
import os
import re
import tomllib
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    AliasChoices,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from genesis.failover.addresses import split_host_port
from genesis.failover.errors import ConfigError

CheckType = Literal["http", "tcp", "database", "process"]
ProviderName = Literal["digitalocean", "cloudflare", "route53", "rfc2136"]
IMPLEMENTED_PROVIDERS: frozenset[str] = frozenset(
    {"digitalocean", "cloudflare", "route53", "rfc2136"}
)

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$")
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class StrictModel(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


# Errors of this type never echo the value: it may be a secret (a password in a URL, or a secret
# pasted where the NAME of its environment variable belongs).
SECRET_ERROR = "secret_value"


def _check_env_name(value: str) -> str:
    if not _ENV_NAME.fullmatch(value):
        raise PydanticCustomError(
            SECRET_ERROR,
            "must be the NAME of an environment variable (letters, digits, '_'), "
            "not the secret itself",
        )
    return value


EnvVarName = Annotated[str, AfterValidator(_check_env_name)]


def _check_server_address(value: str) -> str:
    """Checked at load time: a typo'd nameserver would otherwise only show during a failover's
    propagation check. config_error_from adds the field and "(got <value>)"."""
    split_host_port(value)
    return value


ServerAddress = Annotated[str, AfterValidator(_check_server_address)]


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
        if not _NAME.match(v):
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
        if not _NAME.match(v):
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


def _check_api_url(value: str) -> str:
    if not re.match(r"^https?://[^/\s]+", value):
        raise ValueError("must be an http:// or https:// URL")
    if re.match(r"^https?://[^/@]*@", value):
        raise PydanticCustomError(
            SECRET_ERROR, "must not contain credentials (they belong in the environment)"
        )
    return value.rstrip("/")


ApiUrl = Annotated[str, AfterValidator(_check_api_url)]


class DnsRecordConfig(StrictModel):
    domain: str = Field(min_length=1)
    record_type: Literal["A", "AAAA"] = "A"
    ttl: int | None = Field(None, ge=1)
    # The provider holding this record when it is not [dns] provider: the seed advises more
    # than one DNS provider, and one failover may move records at several.
    provider: ProviderName | None = None
    # The zone holding the record at its provider; found from the name when left out.
    zone: str | None = None
    # Where this record's change is verified, overriding [propagation] (a record at Cloudflare
    # is served by Cloudflare's nameservers, one on BIND by BIND's).
    nameservers: list[ServerAddress] | None = None
    query_nameservers: bool | None = None


class Rfc2136Settings(StrictModel):
    server: ServerAddress  # "host" or "host:port"; the primary that accepts updates
    zone: str
    tsig_key_name: str | None = None
    tsig_algorithm: str = "hmac-sha256"
    tsig_secret_env: EnvVarName | None = None
    timeout_seconds: float = Field(5, gt=0)

    @model_validator(mode="after")
    def _tsig_pair(self) -> Rfc2136Settings:
        if (self.tsig_key_name is None) != (self.tsig_secret_env is None):
            raise ValueError("tsig_key_name and tsig_secret_env go together")
        return self


class CloudflareSettings(StrictModel):
    # The SDK's own variable name by default.
    api_token_env: EnvVarName = "CLOUDFLARE_API_TOKEN"
    # None: CLOUDFLARE_BASE_URL if set, else the public API.
    base_url: ApiUrl | None = None
    timeout_seconds: float = Field(10, gt=0)


class DigitalOceanSettings(StrictModel):
    # The seed's variable name by default.
    api_token_env: EnvVarName = "DO_API_TOKEN"
    base_url: ApiUrl = "https://api.digitalocean.com"
    timeout_seconds: float = Field(10, gt=0)


class Route53Settings(StrictModel):
    # None: AWS_ENDPOINT_URL_ROUTE_53 / AWS_ENDPOINT_URL if set, else AWS. Credentials and
    # region come from the usual AWS chain (environment, shared files, instance role).
    endpoint_url: ApiUrl | None = None
    region: str | None = None
    timeout_seconds: float = Field(10, gt=0)


class DnsSettings(StrictModel):
    provider: ProviderName
    ttl: int = Field(60, ge=1)
    records: list[DnsRecordConfig] = Field(min_length=1)
    rfc2136: Rfc2136Settings | None = None
    # Cloud sections may be left out: their defaults name the usual environment variables.
    digitalocean: DigitalOceanSettings = Field(default_factory=lambda: DigitalOceanSettings())
    cloudflare: CloudflareSettings = Field(default_factory=lambda: CloudflareSettings())
    route53: Route53Settings = Field(default_factory=lambda: Route53Settings())

    @field_validator("records")
    @classmethod
    def _unique_domains(cls, v: list[DnsRecordConfig]) -> list[DnsRecordConfig]:
        # The same record twice would be switched twice in one failover; with different types the
        # site's one primary_ip could not be the value of both (an A and an AAAA record).
        seen: dict[str, int] = {}
        for i, r in enumerate(v):
            key = r.domain.lower().removesuffix(".")
            if key in seen:
                raise ValueError(
                    f"domain {r.domain!r} is listed twice (records {seen[key]} and {i})"
                )
            seen[key] = i
        return v

    def provider_of(self, record: DnsRecordConfig) -> str:
        return record.provider or self.provider

    @property
    def providers_used(self) -> list[str]:
        """Every provider some record lives at, the default first."""
        used = {self.provider_of(r) for r in self.records}
        return sorted(used, key=lambda p: (p != self.provider, p))

    @model_validator(mode="after")
    def _provider_section(self) -> DnsSettings:
        if "rfc2136" in self.providers_used:
            if self.rfc2136 is None:
                raise ValueError("provider 'rfc2136' needs a [dns.rfc2136] section")
            zone = self.rfc2136.zone.rstrip(".").lower()
            for r in self.records:
                if self.provider_of(r) == "rfc2136" and r.zone is not None:
                    if r.zone.rstrip(".").lower() != zone:
                        raise ValueError(
                            f"record {r.domain!r} names zone {r.zone!r}, but the rfc2136 "
                            f"server is configured for zone {self.rfc2136.zone!r}"
                        )
        return self


class PropagationSettings(StrictModel):
    # Asked directly after a switch. Empty: the authoritative nameservers of each record's zone
    # (its NS records, found through `resolver`).
    nameservers: list[ServerAddress] = Field(default_factory=list)
    # False: trust the provider's own word (Route53 INSYNC) and ask no nameserver, for a worker
    # that cannot reach the provider's nameservers.
    query_nameservers: bool = True
    # Used only to find a zone's nameservers and their addresses; None is the system resolver.
    resolver: ServerAddress | None = None
    # The port the discovered nameservers are asked on (53 everywhere but in a lab).
    nameserver_port: int = Field(53, ge=1, le=65535)
    timeout_seconds: float = Field(120, gt=0)
    poll_interval_seconds: float = Field(0.5, gt=0)


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


class EmailSettings(StrictModel):
    smtp_host: str
    smtp_port: int = 587
    security: Literal["none", "starttls", "tls"] = "starttls"
    username_env: EnvVarName | None = None
    password_env: EnvVarName | None = None
    sender: str
    recipients: list[str] = Field(min_length=1)


class SlackSettings(StrictModel):
    webhook_url_env: EnvVarName


class PagerDutySettings(StrictModel):
    routing_key_env: EnvVarName
    events_url: str = "https://events.pagerduty.com/v2/enqueue"


class NotificationsSettings(StrictModel):
    channels: list[Literal["email", "slack", "pagerduty"]] = Field(default_factory=list)
    email: EmailSettings | None = None
    slack: SlackSettings | None = None
    pagerduty: PagerDutySettings | None = None


class FailoverConfig(StrictModel):
    temporal: TemporalSettings = Field(default_factory=lambda: TemporalSettings())
    site: SiteSettings
    policy: PolicySettings = Field(default_factory=lambda: PolicySettings())
    checks: list[CheckConfig] = Field(min_length=1)
    dns: DnsSettings
    propagation: PropagationSettings = Field(default_factory=lambda: PropagationSettings())
    hooks: HooksSettings = Field(default_factory=lambda: HooksSettings())
    notifications: NotificationsSettings = Field(default_factory=lambda: NotificationsSettings())

    @model_validator(mode="after")
    def _unique_checks(self) -> FailoverConfig:
        seen: set[str] = set()
        for c in self.checks:
            if c.name in seen:
                raise ValueError(f"two checks are named {c.name!r}")
            seen.add(c.name)
        if not any(c.critical for c in self.checks) and self.policy.auto_failover:
            # Not an error: an operator may want reporting only. Automatic failover then
            # never fires, which `validate` says out loud.
            pass
        return self

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


def config_error_from(exc: ValidationError, *, prefix: str = "") -> ConfigError:
    """One readable line per problem, each naming the field path and the value given."""
    lines = []
    first_field: str | None = None
    first_value: object = None
    for err in exc.errors():
        loc = ".".join(str(p) for p in err["loc"] if not str(p).startswith("function-"))
        loc = f"{prefix}.{loc}" if prefix and loc else (loc or prefix)
        value = err.get("input")
        msg = err["msg"].removeprefix("Value error, ")
        if err["type"] == "extra_forbidden":
            msg = "unknown key"
        if err["type"] == SECRET_ERROR:
            value = None  # never echoed, not even in ConfigError.value
            lines.append(f"{loc}: {msg}")
        elif err["type"] == "missing":
            lines.append(f"{loc}: required")
        elif isinstance(value, dict | list):
            lines.append(f"{loc}: {msg}")
        else:
            lines.append(f"{loc}: {msg} (got {value!r})")
        if first_field is None:
            first_field, first_value = loc, value
    return ConfigError("invalid config: " + "; ".join(lines), field=first_field, value=first_value)


def _apply_env_overrides(data: dict[str, Any]) -> dict[str, Any]:
    temporal = dict(data.get("temporal") or {})
    if os.environ.get("TEMPORAL_ADDRESS"):
        temporal["address"] = os.environ["TEMPORAL_ADDRESS"]
    if os.environ.get("TEMPORAL_NAMESPACE"):
        temporal["namespace"] = os.environ["TEMPORAL_NAMESPACE"]
    if temporal:
        data = {**data, "temporal": temporal}
    return data


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
