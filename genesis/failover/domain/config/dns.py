"""DNS: the providers holding the site's records, the records, and how a switch is verified."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator, model_validator

from genesis.failover.domain.config.base import (
    ApiUrl,
    DomainName,
    EnvVarName,
    ServerAddress,
    StrictModel,
)

# RFC 2181 section 8: a TTL is 31 bits; providers refuse more, but only when a failover writes it.
MAX_TTL = 2**31 - 1
# The TSIG algorithms dnspython signs with (RFC 8945), compared without case or trailing dot.
TSIG_ALGORITHMS = (
    "hmac-md5.sig-alg.reg.int",
    "hmac-sha1",
    "hmac-sha224",
    "hmac-sha256",
    "hmac-sha256-128",
    "hmac-sha384",
    "hmac-sha384-192",
    "hmac-sha512",
    "hmac-sha512-256",
)
ProviderName = Literal["digitalocean", "cloudflare", "route53", "rfc2136"]
IMPLEMENTED_PROVIDERS: frozenset[str] = frozenset(
    {"digitalocean", "cloudflare", "route53", "rfc2136"}
)


class DnsRecordConfig(StrictModel):
    domain: DomainName
    record_type: Literal["A", "AAAA"] = "A"
    ttl: int | None = Field(None, ge=1, le=MAX_TTL)
    # The provider holding this record when it is not [dns] provider: the seed advises more
    # than one DNS provider, and one failover may move records at several.
    provider: ProviderName | None = None
    # The zone holding the record at its provider; found from the name when left out.
    zone: DomainName | None = None
    # Where this record's change is verified, overriding [propagation] (a record at Cloudflare
    # is served by Cloudflare's nameservers, one on BIND by BIND's).
    nameservers: list[ServerAddress] | None = None
    query_nameservers: bool | None = None


class Rfc2136Settings(StrictModel):
    server: ServerAddress  # "host" or "host:port"; the primary that accepts updates
    zone: DomainName
    tsig_key_name: DomainName | None = None
    tsig_algorithm: str = "hmac-sha256"
    tsig_secret_env: EnvVarName | None = None
    timeout_seconds: float = Field(5, gt=0)

    @field_validator("tsig_algorithm")
    @classmethod
    def _known_algorithm(cls, v: str) -> str:
        # Otherwise a typo shows only when the worker builds its provider, as a KeyError.
        if v.lower().removesuffix(".") not in TSIG_ALGORITHMS:
            raise ValueError(f"must be one of {', '.join(TSIG_ALGORITHMS)}")
        return v

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
    ttl: int = Field(60, ge=1, le=MAX_TTL)
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
