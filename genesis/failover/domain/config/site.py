"""Where Temporal is, which site is protected, and the policy that limits automatic moves."""

from __future__ import annotations

import re

from pydantic import Field, field_validator, model_validator

from genesis.failover.domain.addresses import canonical_ip, split_host_port
from genesis.failover.domain.config.base import NAME_PATTERN, EnvVarName, StrictModel

# The Web UI of `genesis-failover dev` and of `temporal server start-dev` (port 8233).
DEFAULT_UI_ORIGINS = ("http://localhost:8233", "http://127.0.0.1:8233")


class EncryptionSettings(StrictModel):
    """``[temporal.encryption]``: payloads (inputs, results, queries, memos, failure texts) are
    encrypted before they reach Temporal (genesis/failover/temporal/codec.py; docs/security.md).

    Keys are base64 of 32 random bytes, each in the environment variable named here: the
    current key encrypts; previous keys only decrypt, so a key can be rotated without losing
    the histories it wrote."""

    key_env: EnvVarName
    previous_key_envs: list[EnvVarName] = Field(default_factory=list)
    # The codec server (`genesis-failover codec-server`) answers only requests whose
    # Authorization header holds this variable's value (alone or after "Bearer "); unset: any
    # request from this machine (it binds to loopback by default).
    codec_auth_env: EnvVarName | None = None
    # Web UI origins the codec server allows (CORS): the UI calls it from the browser.
    codec_cors_origins: list[str] = Field(default_factory=lambda: list(DEFAULT_UI_ORIGINS))

    @field_validator("previous_key_envs")
    @classmethod
    def _distinct_names(cls, v: list[str]) -> list[str]:
        dupes = sorted({name for name in v if v.count(name) > 1})
        if dupes:
            raise ValueError(f"{dupes[0]!r} is listed twice")
        return v

    @model_validator(mode="after")
    def _current_not_previous(self) -> EncryptionSettings:
        if self.key_env in self.previous_key_envs:
            raise ValueError(f"{self.key_env!r} is both key_env and in previous_key_envs")
        return self

    @field_validator("codec_cors_origins")
    @classmethod
    def _origins(cls, v: list[str]) -> list[str]:
        for origin in v:
            if not re.fullmatch(r"https?://[^/\s]+", origin):
                raise ValueError(
                    f"an origin is scheme://host[:port] without a path, got {origin!r}"
                )
        return v


class TlsSettings(StrictModel):
    """``[temporal.tls]``: the table's presence turns TLS on; an empty table trusts the system's
    roots. Paths, not contents: the files are read (and their PEM checked) when the worker or a
    command starts (genesis/failover/temporal/connection.py), so ``validate`` names a missing
    or broken file before anything runs. The key names are the Temporal CLI's own ``tls.*``
    settings."""

    # The CA that signed the server's certificate; None: the system's trust store.
    server_ca_cert_path: str | None = None
    # Mutual TLS (a self-hosted frontend that requires client certificates, or Temporal Cloud's
    # certificate authentication): both or neither.
    client_cert_path: str | None = None
    client_key_path: str | None = None
    # The name the server's certificate is checked against (and sent as SNI) when the address's
    # host is not it: an IP address, a load balancer's name, an SSH tunnel on localhost.
    server_name: str | None = None

    @field_validator("server_ca_cert_path", "client_cert_path", "client_key_path", "server_name")
    @classmethod
    def _not_blank(cls, v: str | None) -> str | None:
        if v is not None and (not v.strip() or v != v.strip()):
            raise ValueError(f"must be non-empty without surrounding spaces, got {v!r}")
        return v

    @model_validator(mode="after")
    def _cert_with_key(self) -> TlsSettings:
        if (self.client_cert_path is None) != (self.client_key_path is None):
            given, missing = (
                ("client_cert_path", "client_key_path")
                if self.client_key_path is None
                else ("client_key_path", "client_cert_path")
            )
            raise ValueError(f"{given} is set but {missing} is not: mutual TLS needs both")
        return self


class TemporalSettings(StrictModel):
    address: str = "localhost:7233"
    namespace: str = "default"
    task_queue: str = "genesis-failover"
    # None: payloads are stored as JSON, readable by anyone who can read the namespace.
    encryption: EncryptionSettings | None = None
    # None: plaintext, as the dev server and a cluster inside a private network speak.
    tls: TlsSettings | None = None
    # The NAME of the variable holding an API key (Temporal Cloud): sent as a bearer token, over
    # TLS only (with no [temporal.tls] table, TLS with the system's roots).
    api_key_env: EnvVarName | None = None
    # At start, how long an unreachable server is tried again (a cluster restarting beside the
    # worker, compose starting both) before the worker gives up with a message. 0: once.
    connect_wait_seconds: float = Field(default=60, ge=0)
    # SIGTERM: in-flight activities (a hook, a DNS switch) get this long to finish before they
    # are cancelled and handed back to Temporal for another worker. The process manager's stop
    # timeout (compose stop_grace_period, systemd TimeoutStopSec) must be longer.
    shutdown_grace_seconds: float = Field(default=30, ge=0)

    @property
    def uses_tls(self) -> bool:
        return self.tls is not None or self.api_key_env is not None

    # Checked here, not when the worker first connects: a typo must fail `validate`, not
    # leave a worker retrying an address that can never answer.
    @field_validator("address")
    @classmethod
    def _address(cls, v: str) -> str:
        try:
            split_host_port(v, default_port=0)
        except ValueError:
            raise ValueError(f"must be host:port, got {v!r}") from None
        if ":" not in v.rsplit("]", 1)[-1]:
            raise ValueError(f"must be host:port (the port is required), got {v!r}")
        return v

    @field_validator("namespace", "task_queue")
    @classmethod
    def _name(cls, v: str) -> str:
        if not v or v != v.strip() or any(ch.isspace() for ch in v):
            raise ValueError(f"must be a non-empty name without spaces, got {v!r}")
        return v


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
            return canonical_ip(v)
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
