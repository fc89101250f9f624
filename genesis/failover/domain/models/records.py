"""DNS records as workflows see them: which record to move, and what happened to it."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from genesis.failover.domain.errors import DNSConflictError, DNSError
from genesis.failover.domain.models.base import Model

RecordAction = Literal["switched", "already_at_target", "would_switch", "refused", "failed"]


class RecordRef(Model):
    """One record a failover moves, and where its change is verified. No secrets."""

    domain: str
    record_type: Literal["A", "AAAA"] = "A"
    ttl: int | None = None
    # Which configured provider holds it ("" = the site's default provider).
    provider: str = ""
    # Where its change is verified, when not as the operation says (see FailoverInput).
    nameservers: list[str] | None = None
    query_nameservers: bool | None = None


class RecordSwitch(Model):
    """What happened (or, in a dry run, would happen) to one DNS record."""

    domain: str
    record_type: str
    provider: str
    before: list[str] = Field(default_factory=list)
    after: list[str] = Field(default_factory=list)
    target: str
    action: RecordAction
    error: str | None = None
    # The TTL the record had, and has after the switch (None if the provider did not say).
    ttl_before: int | None = None
    ttl_after: int | None = None
    # A provider's handle on the write, to ask whether it is live (Route53's change id).
    change_id: str | None = None
    # Served through the provider's proxy (Cloudflare): nameservers answer the proxy's
    # addresses, so only the provider can confirm the change.
    proxied: bool = False

    @property
    def at_target(self) -> bool:
        return self.action in ("switched", "already_at_target")

    @property
    def broken(self) -> bool:
        """Not moved, and the operation cannot count on it: refused or failed."""
        return self.action in ("refused", "failed")

    @classmethod
    def not_moved(
        cls, exc: DNSError, *, domain: str, record_type: str, provider: str, target: str
    ) -> RecordSwitch:
        """A switch a provider would not or could not make, as data: "refused" (the record is at
        a third value, kept in ``before``) or "failed" (any other DNS error)."""
        refused = exc if isinstance(exc, DNSConflictError) else None
        return cls(
            domain=domain,
            record_type=record_type,
            provider=provider,
            target=target,
            before=(refused.current or []) if refused else [],
            action="refused" if refused else "failed",
            error=str(exc),
        )


class TtlOutcome(Model):
    """One record's TTL lowered before a planned switch ("lower") or put back ("restore")."""

    domain: str
    record_type: str
    provider: str
    step: Literal["lower", "restore"]
    ttl_before: int | None = None
    ttl_after: int | None = None
    written: bool = False
    error: str | None = None
