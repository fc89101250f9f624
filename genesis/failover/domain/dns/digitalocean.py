"""DigitalOcean DNS over its REST API v2, with httpx (no pydo).

pydo pulls ~112 MB of Azure packages and refuses plain-http endpoints (so it could not talk to a
loopback emulator); what a failover needs is four calls: look a domain up, list an rrset, update
a record, delete a record.

DigitalOcean has no rrsets, only records, and no conditional writes (no ETag, no If-Match). So
the compare-and-set here is as close as the API allows: the rrset is read again right before the
write and the write is refused if it changed; a record is updated in place (PATCH), never deleted
and re-created, and when the rrset had several records the extras are deleted only after the
update succeeded, so the name always has an address.

Split as octoDNS splits its DigitalOcean provider: ``DigitalOceanClient`` makes the HTTP calls and
maps every status and transport failure to the domain's typed errors in one place (``_request``);
``DigitalOceanProvider`` translates between records and DigitalOcean's objects.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx

from genesis.failover.domain.addresses import canonical_ip
from genesis.failover.domain.config import DigitalOceanSettings
from genesis.failover.domain.dns.base import (
    FreshRead,
    ReadCheckWriteProvider,
    RecordValues,
    parent_zones,
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

__all__ = ["DigitalOceanClient", "DigitalOceanProvider", "rate_limit_wait"]

_TOKEN_FIELD = "dns.digitalocean.api_token_env"
# A list that keeps announcing a next page is a broken answer, not a zone this big: 200 pages of
# 200 records is far beyond DigitalOcean's per-domain record limits.
_MAX_PAGES = 200
_HOSTNAME = re.compile(r"(?:[a-z0-9_*](?:[a-z0-9_-]{0,61}[a-z0-9_])?\.)+[a-z0-9-]{1,63}")


def rate_limit_wait(headers: Mapping[str, str], now: float | None = None) -> float | None:
    """Seconds to wait after a 429: ``Retry-After``, else ``ratelimit-reset`` (epoch seconds at
    which DigitalOcean's oldest counted request expires; its hourly limit answers 429 with only
    that header), else None."""
    now = time.time() if now is None else now
    waited = retry_after_seconds(headers.get("retry-after"), now=now)
    if waited is not None:
        return waited
    reset = (headers.get("ratelimit-reset") or "").strip()
    if reset:
        try:
            return max(0.0, float(reset) - now)
        except ValueError:
            return None
    return None


class DigitalOceanClient:
    """The HTTP calls. Every answer is mapped to data or a typed error in ``_request``."""

    #: Records asked for per page (DigitalOcean's maximum is 200).
    page_size = 200

    def __init__(self, settings: DigitalOceanSettings, api_token: str) -> None:
        self.base_url = settings.base_url
        self.timeout = settings.timeout_seconds
        # The token lives only in the client's default headers: never in an attribute of ours,
        # a message or a log line (httpx does not log headers; its Headers repr masks it).
        self._http = httpx.AsyncClient(
            base_url=settings.base_url,
            timeout=settings.timeout_seconds,
            headers={"Authorization": f"Bearer {api_token}", "Accept": "application/json"},
        )

    async def aclose(self) -> None:
        await self._http.aclose()

    async def get_domain(self, name: str) -> dict[str, Any]:
        """``{"name": ..., "ttl": ..., "zone_file": ...}``; DNSNotFoundError if no such domain."""
        path = f"/v2/domains/{name}"
        body = await self._request("GET", path, f"looking up domain {name}", expect="domain")
        return dict(body["domain"]) if isinstance(body["domain"], dict) else {}

    async def list_records(self, zone: str, fqdn: str, record_type: str) -> list[Any]:
        """Every record of ``zone`` named ``fqdn`` (the API's ``name`` filter takes the fully
        qualified name) with ``record_type``, following ``links.pages.next`` to the end."""
        what = f"listing {fqdn} {record_type} records of zone {zone}"
        params = {"name": fqdn, "type": record_type, "per_page": str(self.page_size)}
        records: list[Any] = []
        seen: set[str] = set()
        while len(seen) < _MAX_PAGES:
            body = await self._request(
                "GET", f"/v2/domains/{zone}/records", what, params=params, expect="domain_records"
            )
            if not isinstance(body["domain_records"], list):
                raise DNSBadResponseError(f"digitalocean's answer while {what} has no record list")
            records.extend(body["domain_records"])
            links = body.get("links")
            pages = links.get("pages") if isinstance(links, dict) else None
            next_url = pages.get("next") if isinstance(pages, dict) else None
            if not next_url or not isinstance(next_url, str):
                return records
            if next_url in seen:
                raise DNSBadResponseError(f"digitalocean repeated page link {next_url} ({what})")
            seen.add(next_url)
            # Follow the link's query (page number, filters) against OUR base URL: the token is
            # sent only where the config points, whatever host a link names.
            params = dict(parse_qsl(urlsplit(next_url).query, keep_blank_values=True))
        raise DNSBadResponseError(f"digitalocean announced more than {_MAX_PAGES} pages ({what})")

    async def update_record(self, zone: str, record_id: int, fields: dict[str, Any]) -> Any:
        # PATCH, not PUT: both take the same body (with "type" required), but PATCH is defined
        # as changing only the attributes sent, so the record's name and any attribute we do not
        # know about stay as they are, whatever the server's PUT does with absent fields.
        path, what = f"/v2/domains/{zone}/records/{record_id}", f"updating record {record_id}"
        body = await self._request(
            "PATCH", path, f"{what} of zone {zone}", json=fields, expect="domain_record"
        )
        return body["domain_record"]

    async def delete_record(self, zone: str, record_id: int) -> None:
        path = f"/v2/domains/{zone}/records/{record_id}"
        await self._request("DELETE", path, f"deleting record {record_id} of zone {zone}")

    async def _request(
        self,
        method: str,
        path: str,
        what: str,
        *,
        params: Mapping[str, str] | None = None,
        json: Any = None,
        expect: str | None = None,
    ) -> dict[str, Any]:
        """Make one call; return its JSON object (``{}`` for 204), or raise the typed error.

        ``what`` says what we were doing, naming the zone and record (a 404 means that one is
        missing); ``expect`` is the key the answer must hold. Never a token in a message.
        """
        try:
            response = await self._http.request(method, path, params=params, json=json)
        except httpx.TimeoutException as exc:
            raise DNSTransientError(
                f"timed out after {self.timeout:g} s waiting for digitalocean ({self.base_url}) "
                f"while {what}"
            ) from exc
        except httpx.DecodingError as exc:  # a body that does not decode (bad gzip, charset)
            raise DNSBadResponseError(
                f"digitalocean's answer while {what} does not decode"
            ) from exc
        except httpx.RequestError as exc:  # refused, reset, DNS failure, protocol error
            raise DNSTransientError(
                f"cannot reach digitalocean at {self.base_url} while {what}: {type(exc).__name__}"
            ) from exc
        status = response.status_code
        if status in (401, 403):
            raise DNSAuthError(f"digitalocean rejected the API token (HTTP {status}) while {what}")
        if status == 404:
            raise DNSNotFoundError(f"digitalocean answered HTTP 404 (not found) while {what}")
        if status == 429:
            retry_after = rate_limit_wait(response.headers)
            later = f"; retry after {retry_after:.0f} s" if retry_after is not None else ""
            raise DNSRateLimitedError(
                f"digitalocean rate-limited the API token (HTTP 429) while {what}{later}",
                retry_after=retry_after,
            )
        if status >= 500:
            raise DNSTransientError(
                f"digitalocean answered HTTP {status} while {what}{_api_error(response)}"
            )
        if status >= 400:
            # Validation (422: TTL below 30 s, data not an address, ...): the same request will
            # be refused the same way, so it is not retryable.
            raise DNSError(
                f"digitalocean refused {what} (HTTP {status}){_api_error(response)}",
                retryable=False,
            )
        if status == 204 and expect is None:
            return {}
        if status >= 300 or status < 200:
            raise DNSBadResponseError(f"digitalocean answered HTTP {status} while {what}")
        try:
            body = response.json()
        except ValueError:
            kind = response.headers.get("content-type", "no content type")
            raise DNSBadResponseError(
                f"digitalocean's answer while {what} is not JSON ({kind})"
            ) from None
        if not isinstance(body, dict) or (expect is not None and expect not in body):
            raise DNSBadResponseError(
                f"digitalocean's answer while {what} lacks the {expect!r} field"
                if expect
                else f"digitalocean's answer while {what} is JSON but not an object"
            )
        return body


class DigitalOceanProvider(ReadCheckWriteProvider):
    name = "digitalocean"

    def __init__(self, settings: DigitalOceanSettings, api_token: str) -> None:
        super().__init__()
        token = (api_token or "").strip()
        if not token:
            raise ConfigError(
                "digitalocean needs an API token", field=_TOKEN_FIELD, value=settings.api_token_env
            )
        if not token.isascii() or not token.isprintable() or " " in token:
            # Caught here, before httpx builds a header from it and names it in an error.
            raise ConfigError(
                "the digitalocean API token holds characters no token has (spaces or "
                "non-printable characters)",
                field=_TOKEN_FIELD,
                value=settings.api_token_env,
            )
        self.base_url = settings.base_url
        self.client = DigitalOceanClient(settings, token)
        self._zone_of: dict[str, str] = {}  # record name -> zone found by discovery

    @classmethod
    def from_settings(
        cls, settings: DigitalOceanSettings, environ: Mapping[str, str] = os.environ
    ) -> DigitalOceanProvider:
        """Build from config, reading the token from the environment variable it names."""
        token = secret_from_env(
            environ, settings.api_token_env, field=_TOKEN_FIELD, holds="a DigitalOcean API token"
        )
        return cls(settings, token)

    @property
    def where(self) -> str:
        return f"digitalocean API {self.base_url}"

    def __repr__(self) -> str:
        return f"DigitalOceanProvider({self.base_url!r}, zones={self.zones!r})"

    async def aclose(self) -> None:
        await self.client.aclose()

    # -- the primitives ----------------------------------------------------------------------

    async def read_record(self, domain: str, record_type: str) -> RecordValues:
        fqdn, zone = await self._locate(domain)
        records = await self._records(zone, fqdn, record_type.upper())
        if not records:
            raise DNSNotFoundError(
                f"{fqdn} has no {record_type.upper()} record in zone {zone} ({self.where})"
            )
        return RecordValues(
            values=sorted(r["data"] for r in records), ttl=min(r["ttl"] for r in records)
        )

    async def _read_for_write(self, domain: str, record_type: str) -> FreshRead:
        fqdn, zone = await self._locate(domain)
        records = await self._records(zone, fqdn, record_type.upper())
        return FreshRead(values=sorted(r["data"] for r in records), records=records)

    async def _write(
        self, domain: str, record_type: str, new_value: str, ttl: int, fresh: FreshRead
    ) -> str | None:
        rtype = record_type.upper()
        fqdn, zone = await self._locate(domain)  # found by the read: no second lookup
        records: list[dict[str, Any]] = fresh.records
        if not records:
            raise DNSNotFoundError(f"{fqdn} has no {rtype} record in zone {zone} ({self.where})")
        # Keep the record already at the target if there is one (its address never leaves the
        # rrset), else the oldest; update it in place, and only then delete the others.
        keep = min(records, key=lambda r: (r["data"] != new_value, r["id"]))
        updated = await self.client.update_record(
            zone, keep["id"], {"type": rtype, "data": new_value, "ttl": ttl}
        )
        data = updated.get("data") if isinstance(updated, dict) else None
        if _canonical(rtype, data) != new_value:
            raise DNSBadResponseError(
                f"digitalocean accepted the update of {fqdn} {rtype} (record {keep['id']}) but "
                f"reports its data as {data!r}, not {new_value!r} ({self.where})"
            )
        for extra in records:
            if extra["id"] == keep["id"]:
                continue
            try:
                await self.client.delete_record(zone, extra["id"])
            except DNSNotFoundError:
                pass  # someone else removed it already: the rrset is still going where we want
        return None  # DigitalOcean applies writes at once; it has no change ids to poll

    # -- zones and records -------------------------------------------------------------------

    async def _locate(self, domain: str) -> tuple[str, str]:
        """The record's FQDN (no trailing dot, lower case) and the zone holding it: a configured
        zone, else one found by asking for each parent domain, longest first (then cached)."""
        fqdn = domain.strip().rstrip(".").lower()
        candidates = parent_zones(fqdn)
        # The name goes into URL paths and queries: a "/" or "?" in it must not reshape them.
        if not candidates or not _HOSTNAME.fullmatch(fqdn):
            raise ConfigError(
                f"record {domain!r} is not a fully qualified domain name ({self.where})",
                field="domain",
                value=domain,
            )
        zone = self.zone_hint(fqdn) or self._zone_of.get(fqdn)
        if zone is not None:
            return fqdn, zone
        for candidate in candidates:
            try:
                await self.client.get_domain(candidate)
            except DNSNotFoundError:
                continue  # not a domain of this account: try the parent
            self._zone_of[fqdn] = candidate
            return fqdn, candidate
        raise DNSNotFoundError(
            f"no domain at digitalocean holds {fqdn} (tried {', '.join(candidates)}; {self.where})"
        )

    async def _records(self, zone: str, fqdn: str, rtype: str) -> list[dict[str, Any]]:
        """The rrset's records, checked and with canonical ``data``. Filtered here as well as by
        the API: a server that ignored the filter must not hand us the whole zone."""
        try:
            listed = await self.client.list_records(zone, fqdn, rtype)
        except DNSNotFoundError:
            self._zone_of.pop(fqdn, None)  # the domain went away: find it afresh next time
            raise
        relative = "@" if fqdn == zone else fqdn.removesuffix(f".{zone}")
        records: list[dict[str, Any]] = []
        for record in listed:
            if not isinstance(record, dict):
                raise DNSBadResponseError(f"digitalocean listed {record!r} as a record of {zone}")
            name = str(record.get("name", "")).rstrip(".").lower()  # "@" is the apex
            if str(record.get("type", "")).upper() != rtype or name not in (relative, fqdn):
                continue
            record_id, ttl, data = record.get("id"), record.get("ttl"), record.get("data")
            canonical = _canonical(rtype, data)
            if canonical is None or not isinstance(record_id, int) or not isinstance(ttl, int):
                raise DNSBadResponseError(
                    f"digitalocean listed {fqdn} {rtype} record {record_id!r} with data "
                    f"{data!r} and ttl {ttl!r} ({self.where})"
                )
            records.append({"id": record_id, "data": canonical, "ttl": ttl})
        return records


def _canonical(rtype: str, data: object) -> str | None:
    """A/AAAA data in canonical text (so "2001:DB8::1" equals "2001:db8::1"); None if the data
    is not an address of the record's family. Other types are compared as they are."""
    if not isinstance(data, str):
        return None
    if rtype not in ("A", "AAAA"):
        return data
    try:
        ip = canonical_ip(data)
    except ValueError:
        return None
    return ip if (":" in ip) == (rtype == "AAAA") else None  # IPv6 text always has a colon


def _api_error(response: httpx.Response) -> str:
    """DigitalOcean's own ``{"id": ..., "message": ...}`` as ": message (id)", or ""."""
    try:
        body = response.json()
    except ValueError:
        return ""
    if not isinstance(body, dict) or not body.get("message"):
        return ""
    ident = f" ({body['id']})" if body.get("id") else ""
    return f": {str(body['message'])[:300]}{ident}"
