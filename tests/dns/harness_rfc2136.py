"""The RFC 2136 provider's harness (``tests/dns/harness.py``) on a real BIND9 primary.

Seeds go to the primary as TSIG-signed updates (out of band: the lab's own code, not the
provider's); reads ask the primary directly. BIND adds one to the SOA serial per applied update,
so the writes the provider made are the serial's growth minus the harness's own seeds.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import dns.message
import dns.name
import dns.query
import dns.rdataclass
import dns.rdatatype
import pytest

from genesis.failover.domain.config import Rfc2136Settings
from genesis.failover.domain.dns import RecordValues, RFC2136Provider
from genesis.lab import Bind9Lab, find_named, free_port
from tests.dns.harness import Fault
from tests.support import require

__all__ = ["Rfc2136Harness", "rfc2136_harness"]

SECRET_ENV = "GENESIS_TEST_TSIG_SECRET"


class Rfc2136Harness:
    name = "rfc2136"
    zone = "example.test"

    def __init__(self, lab: Bind9Lab) -> None:
        self.lab = lab
        self.secret = lab.tsig_secret
        self._seeds = 0

    def settings(self) -> Rfc2136Settings:
        return self.lab.rfc2136_settings(SECRET_ENV).model_copy(update={"timeout_seconds": 1.0})

    def provider(self) -> RFC2136Provider:
        return RFC2136Provider(self.settings(), self.secret)

    def provider_with_bad_credentials(self) -> RFC2136Provider:
        # A well-formed key of the right name that the server does not know: BADSIG.
        import base64
        import secrets

        return RFC2136Provider(self.settings(), base64.b64encode(secrets.token_bytes(32)).decode())

    async def seed(
        self, name: str, record_type: str, values: list[str], ttl: int = 300, **extra: Any
    ) -> None:
        if any(extra.values()):
            raise TypeError(f"RFC 2136 records have no such flags: {sorted(extra)}")
        before = self.lab.updates_applied()
        self.lab.set_record(name + ".", *values, ttl=ttl)
        self._seeds += self.lab.updates_applied() - before

    async def current(self, name: str, record_type: str) -> RecordValues | None:
        qname = dns.name.from_text(name)
        rdtype = dns.rdatatype.from_text(record_type)
        response = dns.query.tcp(
            dns.message.make_query(qname, rdtype),
            "127.0.0.1",
            port=self.lab.primary_port,
            timeout=2.0,
        )
        rrset = response.get_rrset(response.answer, qname, dns.rdataclass.IN, rdtype)
        if rrset is None:
            return None
        return RecordValues(values=sorted(rd.to_text() for rd in rrset), ttl=rrset.ttl)

    def writes(self) -> int:
        return self.lab.updates_applied() - self._seeds

    def inject(self, fault: Fault, *, count: int = 1, retry_after: float | None = None) -> None:
        raise NotImplementedError("BIND9 is a real server: faults are not injected into it")

    def config(self) -> tuple[dict[str, Any], dict[str, str]]:
        return {"rfc2136": self.settings().model_dump()}, {SECRET_ENV: self.secret}


@pytest.fixture
def rfc2136_harness(tmp_path: Path) -> Iterator[Rfc2136Harness]:
    require(find_named(), "BIND9 (named, Debian package bind9)")
    lab = Bind9Lab(
        tmp_path / "bind9-contract",
        "example.test.",
        {},
        primary_port=free_port(),
        secondary_ports=[free_port()],
    )
    with lab:
        yield Rfc2136Harness(lab)
