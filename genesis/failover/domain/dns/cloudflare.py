"""Cloudflare DNS over the official ``cloudflare`` SDK (API v4).

Three things about the SDK shape this module:

- It unwraps ``result`` and does not look at ``success``: a 200 envelope saying
  ``success: false`` would come back as ``None``, i.e. a silent success. Every call here goes
  through ``.with_raw_response`` and the envelope is checked by ``CloudflareClient._call``, the
  one place where SDK exceptions and bad answers become the domain's typed errors.
- It retries twice by default; ``max_retries=0`` leaves retries to Temporal, which knows the
  backoff and the deadline of the whole failover.
- It prefers ``CLOUDFLARE_API_KEY``/``CLOUDFLARE_EMAIL`` from the environment over the token it
  is given; the client drops them so the token named by the config is the credential used.

Cloudflare keeps an rrset as separate records, each with an id. A switch updates one record in
place (PATCH), then deletes the extras: never delete-then-create, during a failover that gap is
an outage. TTL 1 means "automatic" (300 s): it is reported as 300 and written back as 1 when the
switch keeps the TTL, so an automatic TTL stays automatic.
"""

from __future__ import annotations

import os
from collections.abc import Awaitable, Mapping
from dataclasses import dataclass
from typing import Any, cast

import cloudflare
import httpx

from genesis.failover.domain.addresses import canonical_ip_or_value
from genesis.failover.domain.config import CloudflareSettings
from genesis.failover.domain.dns.base import (
    FreshRead,
    ReadCheckWriteProvider,
    RecordValues,
    canonical_values,
)
from genesis.failover.domain.dns.retry_after import retry_after_seconds
from genesis.failover.domain.errors import (
    ConfigError,
    DNSAuthError,
    DNSBadResponseError,
    DNSError,
    DNSNotFoundError,
    DNSRateLimitedError,
    DNSTransientError,
)
from genesis.failover.domain.secrets import secret_from_env

__all__ = ["AUTO_TTL", "AUTO_TTL_SECONDS", "CloudflareClient", "CloudflareProvider"]

#: Cloudflare's TTL value for "automatic", and what it means in seconds.
AUTO_TTL = 1
AUTO_TTL_SECONDS = 300
#: Records asked for per page (the API's default); an rrset larger than a page is still read.
PER_PAGE = 100
#: More pages than this for one name and type is not an rrset but a misbehaving server.
MAX_PAGES = 50


@dataclass(frozen=True)
class CloudflareRecord:
    id: str
    name: str
    type: str
    content: str
    ttl: int
    proxied: bool


class CloudflareClient:
    """The API calls the provider needs; every failure leaves as a typed error from ``_call``."""

    def __init__(self, api_token: str, *, base_url: str | None, timeout: float) -> None:
        self.timeout = timeout
        # base_url None: the SDK reads CLOUDFLARE_BASE_URL itself, else the public API.
        self._sdk = cloudflare.AsyncCloudflare(
            api_token=api_token, base_url=base_url, max_retries=0, timeout=timeout
        )
        self._sdk.api_key = self._sdk.api_email = self._sdk.user_service_key = None

    @property
    def host(self) -> str:
        return str(self._sdk.base_url.host)

    async def find_zones(self, name: str) -> list[dict[str, Any]]:
        """The zones called exactly ``name`` that the token can see."""
        request = self._sdk.zones.with_raw_response.list(name=name, per_page=50)
        result, _ = await self._call(f"while looking up zone {name}", request, list)
        return [z for z in result if isinstance(z, dict) and z.get("name") == name and z.get("id")]

    async def list_records(
        self, zone_id: str, zone: str, name: str, rtype: str
    ) -> list[CloudflareRecord]:
        """Every ``rtype`` record named exactly ``name``, following the pages."""
        what = f"while listing {name} {rtype} records in zone {zone}"
        records: list[CloudflareRecord] = []
        for page in range(1, MAX_PAGES + 1):
            request = self._sdk.dns.records.with_raw_response.list(
                zone_id=zone_id,
                name={"exact": name},
                type=cast(Any, rtype),  # any type the API knows; the API checks it
                page=page,
                per_page=PER_PAGE,
            )
            result, info = await self._call(what, request, list)
            records.extend(_record(item, what) for item in result)
            total_pages = info.get("total_pages")
            if isinstance(total_pages, int):
                if page >= total_pages:
                    return records
            elif len(result) < PER_PAGE:  # no result_info: a short page is the last one
                return records
        raise DNSBadResponseError(f"cloudflare kept answering more pages after {MAX_PAGES} {what}")

    async def edit_record(
        self, zone_id: str, record: CloudflareRecord, content: str, ttl: int, what: str
    ) -> CloudflareRecord:
        # PATCH, not PUT: PUT overwrites the whole record, and whatever it does not carry goes
        # back to its default - proxied false (un-proxying the site, exposing the origin's
        # address), comment and tags gone. PATCH sends content and ttl; the SDK also insists on
        # name and type, sent unchanged.
        request = self._sdk.dns.records.with_raw_response.edit(
            record.id,
            zone_id=zone_id,
            name=record.name,
            type=cast(Any, record.type),
            content=content,
            ttl=ttl,
        )
        result, _ = await self._call(what, request, dict)
        return _record(result, what)

    async def delete_record(self, zone_id: str, record_id: str, what: str) -> None:
        request = self._sdk.dns.records.with_raw_response.delete(record_id, zone_id=zone_id)
        await self._call(what, request, dict)

    async def aclose(self) -> None:
        await self._sdk.close()

    async def _call(
        self, what: str, request: Awaitable[cloudflare.AsyncAPIResponse[Any]], expect: type
    ) -> tuple[Any, dict[str, Any]]:
        """Await one SDK call: ``(result, result_info)`` of a successful envelope whose result
        is an ``expect`` (list or dict), or the typed error. ``what`` ("while listing ... in
        zone ...") ends every message. SDK exceptions are never put into a message as text
        (their request carries the token): only status codes and the API's own messages."""
        try:
            response = await request
        except cloudflare.APITimeoutError as exc:
            raise DNSTransientError(
                f"timed out after {self.timeout:g} s waiting for cloudflare ({self.host}) {what}"
            ) from exc
        except cloudflare.APIConnectionError as exc:
            cause = type(exc.__cause__).__name__ if exc.__cause__ else "connection error"
            raise DNSTransientError(
                f"cannot reach cloudflare ({self.host}): {cause} {what}"
            ) from exc
        except (cloudflare.AuthenticationError, cloudflare.PermissionDeniedError) as exc:
            hint = "" if exc.status_code == 401 else " (does it have DNS edit permission here?)"
            raise DNSAuthError(
                f"cloudflare rejected the API token (HTTP {exc.status_code}{_said(exc.body)}) "
                f"{what}{hint}"
            ) from exc
        except cloudflare.NotFoundError as exc:
            raise DNSNotFoundError(
                f"cloudflare has no such zone or record (HTTP 404{_said(exc.body)}) {what}"
            ) from exc
        except cloudflare.RateLimitError as exc:
            retry_after = retry_after_seconds(exc.response.headers.get("retry-after"))
            after = f", retry after {retry_after:g} s" if retry_after is not None else ""
            raise DNSRateLimitedError(
                f"cloudflare rate-limited the request (HTTP 429{after}) {what}",
                retry_after=retry_after,
            ) from exc
        except cloudflare.APIStatusError as exc:
            if exc.status_code >= 500:
                raise DNSTransientError(
                    f"cloudflare failed (HTTP {exc.status_code}{_said(exc.body)}) {what}"
                ) from exc
            # Validation and other client errors: the same request will fail the same way.
            raise DNSError(
                f"cloudflare refused the request (HTTP {exc.status_code}{_said(exc.body)}) {what}",
                retryable=False,
            ) from exc
        except cloudflare.APIError as exc:  # APIResponseValidationError and kin
            raise DNSBadResponseError(
                f"cloudflare answered something unreadable ({type(exc).__name__}) {what}"
            ) from exc
        status = response.status_code
        try:
            body = await response.json()
        except ValueError:
            ctype = response.headers.get("content-type", "no content type")
            raise DNSBadResponseError(
                f"cloudflare answered HTTP {status} with a body that is not JSON ({ctype}) {what}"
            ) from None
        except httpx.HTTPError as exc:  # the body broke off after the status line
            raise DNSTransientError(
                f"cloudflare's answer broke off ({type(exc).__name__}) {what}"
            ) from exc
        if not isinstance(body, dict) or body.get("success") is not True:
            raise DNSBadResponseError(
                f"cloudflare answered HTTP {status} without success: true "
                f"({_said(body).removeprefix(', ') or 'no errors given'}) {what}"
            )
        if not isinstance(body.get("result"), expect):
            raise DNSBadResponseError(
                f"cloudflare answered HTTP {status} without a {expect.__name__} result {what}"
            )
        info = body.get("result_info")
        return body["result"], info if isinstance(info, dict) else {}


class CloudflareProvider(ReadCheckWriteProvider):
    name = "cloudflare"

    def __init__(self, settings: CloudflareSettings, api_token: str) -> None:
        super().__init__()
        if not api_token:
            raise ConfigError(
                "cloudflare: no API token given", field="dns.cloudflare.api_token_env"
            )
        self._client = CloudflareClient(
            api_token, base_url=settings.base_url, timeout=settings.timeout_seconds
        )
        self._zone_ids: dict[str, str] = {}  # zone name -> id, as found
        self._zone_of: dict[str, str] = {}  # record name -> zone name, as found

    @classmethod
    def from_settings(
        cls, settings: CloudflareSettings, environ: Mapping[str, str] = os.environ
    ) -> CloudflareProvider:
        """Build from config, reading the token from the env var it names."""
        token = secret_from_env(
            environ,
            settings.api_token_env,
            field="dns.cloudflare.api_token_env",
            holds="a Cloudflare API token with DNS edit permission for the zone",
        )
        return cls(settings, token)

    @property
    def where(self) -> str:
        zones = sorted(set(self._zone_of.values()) or {z.rstrip(".") for z in self.zones})
        return f"cloudflare zone {', '.join(zones)}" if zones else "cloudflare"

    async def aclose(self) -> None:
        await self._client.aclose()

    # -- the primitives ----------------------------------------------------------------------

    async def read_record(self, domain: str, record_type: str) -> RecordValues:
        name, rtype = _record_name(domain), record_type.upper()
        zone, zone_id = await self._zone(name)
        records = await self._client.list_records(zone_id, zone, name, rtype)
        if not records:
            raise DNSNotFoundError(f"{name} has no {rtype} record (cloudflare zone {zone})")
        return RecordValues(
            values=canonical_values(rtype, [r.content for r in records]),
            ttl=min(AUTO_TTL_SECONDS if r.ttl == AUTO_TTL else r.ttl for r in records),
            proxied=any(r.proxied for r in records),
        )

    async def _read_for_write(self, domain: str, record_type: str) -> FreshRead:
        name, rtype = _record_name(domain), record_type.upper()
        zone, zone_id = await self._zone(name)
        records = await self._client.list_records(zone_id, zone, name, rtype)
        return FreshRead(
            values=canonical_values(rtype, [r.content for r in records]), records=records
        )

    async def _write(
        self, domain: str, record_type: str, new_value: str, ttl: int, fresh: FreshRead
    ) -> str | None:
        name, rtype = _record_name(domain), record_type.upper()
        zone, zone_id = await self._zone(name)  # found by the read: no second lookup
        records: list[CloudflareRecord] = fresh.records
        # Keep the record already holding the new value if there is one: patching another
        # record to that value would collide with it (81058, identical record exists).
        keeper = next(
            (r for r in records if canonical_ip_or_value(r.content) == new_value),
            min(records, key=lambda r: r.id),
        )
        # The base class asks for the record's own TTL when it is not being changed, which for
        # an automatic TTL is the 300 we reported; writing 300 would quietly turn it manual.
        write_ttl = AUTO_TTL if (ttl == AUTO_TTL_SECONDS and keeper.ttl == AUTO_TTL) else ttl
        if canonical_ip_or_value(keeper.content) != new_value or keeper.ttl != write_ttl:
            await self._client.edit_record(
                zone_id,
                keeper,
                new_value,
                write_ttl,
                f"while updating {name} {rtype} record {keeper.id} in zone {zone}",
            )
        for extra in records:
            if extra.id != keeper.id:
                what = f"while deleting the extra {name} {rtype} record {extra.id} in zone {zone}"
                await self._client.delete_record(zone_id, extra.id, what)
        return None  # Cloudflare serves an accepted write at once: nothing to wait for

    # -- zones -------------------------------------------------------------------------------

    async def _zone(self, name: str) -> tuple[str, str]:
        """(zone name, zone id) for a record name: the configured zone, else the longest parent
        zone the token can see. Found ids are cached: one lookup per zone per provider."""
        known = self._zone_of.get(name)
        if known is not None:
            return known, self._zone_ids[known]
        candidates = self.zone_candidates(name)
        for candidate in candidates:
            zone_id = self._zone_ids.get(candidate)
            if zone_id is None:
                zones = await self._client.find_zones(candidate)
                if not zones:
                    continue
                # An account can hold the same name twice (a pending copy beside the live one).
                active = [z for z in zones if z.get("status") == "active"]
                zone_id = str((active or zones)[0]["id"])
                self._zone_ids[candidate] = zone_id
            self._zone_of[name] = candidate
            return candidate, zone_id
        tried = ", ".join(candidates) or "none"
        raise DNSNotFoundError(
            f"no cloudflare zone visible to the API token holds {name} (tried: {tried})"
        )


def _record_name(domain: str) -> str:
    """The name as Cloudflare writes it: absolute, no trailing dot, lower case, punycode."""
    name = domain.strip().rstrip(".").lower()
    if "." not in name:
        raise ConfigError(
            f"record {domain!r} is not a fully qualified name (cloudflare finds the zone from it)",
            field="domain",
            value=domain,
        )
    try:
        return name.encode("idna").decode("ascii")
    except UnicodeError:
        raise ConfigError(f"bad domain name {domain!r}", field="domain", value=domain) from None


def _record(item: Any, what: str) -> CloudflareRecord:
    try:
        ttl = item["ttl"]
        if not isinstance(ttl, int):
            raise TypeError("ttl")
        return CloudflareRecord(
            id=str(item["id"]),
            name=str(item["name"]),
            type=str(item["type"]),
            content=str(item["content"]),
            ttl=ttl,
            proxied=bool(item.get("proxied", False)),
        )
    except (KeyError, TypeError) as exc:
        raise DNSBadResponseError(
            f"cloudflare answered a DNS record without a usable {exc.args[0] if exc.args else ''}"
            f" field {what}"
        ) from None


def _said(body: object) -> str:
    """ ", 9021 TTL must be ..." from an error envelope: the API's own words, codes included."""
    if not isinstance(body, dict):
        return ""
    parts: list[str] = []
    for error in body.get("errors") or []:
        if not isinstance(error, dict):
            continue
        chain = [e for e in error.get("error_chain") or [] if isinstance(e, dict)]
        for e in chain or [error]:
            parts.append(f"{e.get('code', '?')} {e.get('message', '')}".strip())
    text = "; ".join(parts)
    return f", {text[:300]}" if text else ""
