"""What the provider contract suite needs from each provider's test server.

Every provider (RFC 2136 on BIND9, Route53 on moto's server, Cloudflare and DigitalOcean on the
loopback emulators in ``tests/emulators/``) comes with a harness: the server running, a way to
put records there and read them back *out of band* (not through the provider under test), a
count of the writes the server accepted, and faults it can be told to produce. The contract
suite (``test_contract.py``) and the fault suite (``test_faults.py``) run every test against
every harness, so a provider cannot pass by agreeing with itself.

Records are seeded in the harness's zone; names given to ``seed``/``current`` are FQDNs without
the trailing dot ("www.example.test").
"""

from __future__ import annotations

from typing import Any, Literal, Protocol

from genesis.failover.domain.dns import DNSProvider, RecordValues

Fault = Literal["unauthorized", "not_found", "rate_limited", "server_error", "timeout", "malformed"]
FAULTS: tuple[Fault, ...] = (
    "unauthorized",
    "not_found",
    "rate_limited",
    "server_error",
    "timeout",
    "malformed",
)


class ProviderHarness(Protocol):
    #: The provider's short name, as ``DNSProvider.name`` and ``[dns] provider`` spell it.
    name: str
    #: The zone records are seeded in, without the trailing dot ("example.test").
    zone: str
    #: The credential the provider authenticates with (scanned for in logs, errors, histories).
    secret: str

    def provider(self) -> DNSProvider:
        """A new provider with valid credentials, talking to this harness's server. Its
        timeout is short (about 1 s) so the timeout fault is quick."""
        ...

    def provider_with_bad_credentials(self) -> DNSProvider:
        """A provider whose credentials the server rejects (401/403, BADKEY, ...)."""
        ...

    async def seed(
        self, name: str, record_type: str, values: list[str], ttl: int = 300, **extra: Any
    ) -> None:
        """Create (or replace) the rrset out of band. ``extra``: provider-specific flags such
        as Cloudflare's ``proxied=True``."""
        ...

    async def current(self, name: str, record_type: str) -> RecordValues | None:
        """The rrset as the server holds it, out of band (None when absent)."""
        ...

    def writes(self) -> int:
        """How many record writes the server has accepted so far."""
        ...

    def inject(self, fault: Fault, *, count: int = 1, retry_after: float | None = None) -> None:
        """Make the next ``count`` API requests fail this way:

        - unauthorized: 401 (or the provider's equivalent: 403 InvalidClientTokenId on AWS)
        - not_found: 404 with the provider's error body
        - rate_limited: 429 with ``Retry-After: <retry_after>`` (AWS: its throttling error)
        - server_error: 500 (or 503) with the provider's error body
        - timeout: no answer for longer than the provider's timeout
        - malformed: 200 with a body that is not the API's answer (an HTML page; for
          Cloudflare an envelope with ``success: false``)
        """
        ...

    def config(self) -> tuple[dict[str, Any], dict[str, str]]:
        """``({"<provider>": {section}}, environ)``: the ``[dns.<provider>]`` config section
        pointing at this server and the environment holding its secret, for tests that go
        through the config, the worker and a real FailoverWorkflow."""
        ...
