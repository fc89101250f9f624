"""A loopback Cloudflare API v4 for tests: zones and DNS records under ``/client/v4``.

It speaks the real wire format (the envelope ``{"success", "errors", "messages", "result",
"result_info"}``, Bearer tokens, page/per_page paging) and refuses what the real API refuses,
with the real error codes where they are known from the API's answers:

- missing or wrong token: 401, code 10000 "Authentication error";
- unknown zone id: 404, codes 7003 "Could not route to ..." and 7000 "No route for that URI";
  unknown record id: 404, code 81044 "Record does not exist.";
- A content not IPv4: 400, code 9005; AAAA content not IPv6: 400, code 9006;
- a TTL that is neither 1 (automatic) nor within 60..86400 (30.. on enterprise zones): 400,
  code 1004 "DNS Validation Error" with error_chain code 9021;
- ``proxied`` not a boolean: 1004/9003; proxied on a type that cannot be proxied: 1004/9004;
- a second record with the same name, type and content: 400, code 81058;
- PUT or POST without ``type``, ``name`` or ``content``: 1004 with 9020 / 9000 / 9005-9006.

One deliberate difference: the real API qualifies a name that does not end in the zone's name
as relative to it ("www.example.org" in zone example.test becomes
"www.example.org.example.test"). The emulator refuses such a name (1004/9000) instead, so a
provider that would write somewhere it did not mean to is caught rather than silently obeyed.

Every API request is logged as method, path and query (never headers, which carry the token);
accepted record writes are counted; ``inject`` makes the next requests fail (the faults of
``tests/dns/harness.py``, plus "html": a 200 HTML page).
"""

from __future__ import annotations

import ipaddress
import json
import math
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit

from tests.emulators.loopback import LoopbackHandler, LoopbackHTTPServer

__all__ = ["API_PREFIX", "CloudflareEmulator", "LoggedRequest"]

API_PREFIX = "/client/v4"
PROXIABLE = frozenset({"A", "AAAA", "CNAME"})
FAULT_KINDS = frozenset(
    {"unauthorized", "not_found", "rate_limited", "server_error", "timeout", "malformed", "html"}
)
_TTL_MESSAGE = "TTL must be between 60 and 86400 seconds, or 1 for Automatic."
_TTL_MESSAGE_ENTERPRISE = "TTL must be between 30 and 86400 seconds, or 1 for Automatic."


@dataclass(frozen=True)
class LoggedRequest:
    method: str
    path: str  # without the /client/v4 prefix: "/zones", "/zones/<id>/dns_records"
    query: dict[str, str]
    #: When it arrived (``time.monotonic()``): the spacing of retries is visible.
    at: float = field(default_factory=time.monotonic, compare=False, repr=False)


class ApiError(Exception):
    """An answer other than success: status and the envelope's errors."""

    def __init__(self, status: int, errors: list[dict[str, Any]]) -> None:
        super().__init__(status, errors)
        self.status = status
        self.errors = errors


def _error(code: int, message: str) -> dict[str, Any]:
    return {"code": code, "message": message}


def _validation(code: int, message: str) -> ApiError:
    # How the API reports most record validation failures: 1004 with the cause in error_chain.
    return ApiError(
        400, [{**_error(1004, "DNS Validation Error"), "error_chain": [_error(code, message)]}]
    )


@dataclass(frozen=True)
class _Fault:
    kind: str
    retry_after: float | None


@dataclass
class _Zone:
    id: str
    name: str
    status: str = "active"
    enterprise: bool = False
    records: dict[str, dict[str, Any]] = field(default_factory=dict)


def _now() -> str:
    return datetime.now(UTC).isoformat().replace("+00:00", "Z")


class CloudflareEmulator(LoopbackHTTPServer[_Fault]):
    """``with CloudflareEmulator(token="...") as cf: cf.base_url`` -> ".../client/v4".

    ``max_per_page`` caps page sizes (the real API allows up to 5,000,000 records a page for DNS
    records) so that paging can be tested with a handful of records.
    """

    def __init__(
        self,
        token: str,
        *,
        zones: tuple[str, ...] = ("example.test",),
        max_per_page: int | None = None,
        timeout_delay: float = 2.5,
    ) -> None:
        super().__init__(_Handler)
        self.token = token
        self.max_per_page = max_per_page
        self.timeout_delay = timeout_delay
        self.requests: list[LoggedRequest] = []
        self.write_count = 0
        self._zones: dict[str, _Zone] = {}
        for name in zones:
            self.add_zone(name)

    @property
    def base_url(self) -> str:
        return self.origin + API_PREFIX

    # -- out-of-band state (tests and harness) -------------------------------------------------

    def add_zone(self, name: str, *, status: str = "active", enterprise: bool = False) -> str:
        zone = _Zone(uuid.uuid4().hex, name.rstrip(".").lower(), status, enterprise)
        with self._lock:
            self._zones[zone.id] = zone
        return zone.id

    def zone_id(self, name: str) -> str:
        wanted = name.rstrip(".").lower()
        with self._lock:
            return self._zone_for(wanted, exact=True).id

    def seed(
        self,
        name: str,
        record_type: str,
        values: list[str],
        ttl: int = 300,
        *,
        proxied: bool = False,
        comment: str | None = None,
        tags: list[str] | None = None,
    ) -> list[str]:
        """Replace the rrset without validation or counting a write; returns the record ids."""
        fqdn, rtype = name.rstrip(".").lower(), record_type.upper()
        with self._lock:
            zone = self._zone_for(fqdn)
            for rid in [r["id"] for r in self._rrset(zone, fqdn, rtype)]:
                del zone.records[rid]
            ids = []
            for value in values:
                if rtype in ("A", "AAAA"):  # stored canonical, as the API stores addresses
                    value = str(ipaddress.ip_address(value))
                record = self._new_record(zone, fqdn, rtype, value, ttl, proxied)
                record["comment"] = comment
                record["tags"] = list(tags or [])
                zone.records[record["id"]] = record
                ids.append(record["id"])
        return ids

    def records(self, name: str, record_type: str) -> list[dict[str, Any]]:
        """Copies of the records at ``name``/``record_type``, sorted by content."""
        fqdn = name.rstrip(".").lower()
        with self._lock:
            zone = self._zone_for(fqdn)
            found = self._rrset(zone, fqdn, record_type.upper())
            return sorted((dict(r) for r in found), key=lambda r: str(r["content"]))

    def inject(self, fault: str, *, count: int = 1, retry_after: float | None = None) -> None:
        if fault not in FAULT_KINDS:
            raise ValueError(f"unknown fault {fault!r} (known: {sorted(FAULT_KINDS)})")
        self._queue_fault(_Fault(fault, retry_after), count)

    def log_request(self, request: LoggedRequest) -> None:
        with self._lock:
            self.requests.append(request)

    # -- the API -------------------------------------------------------------------------------

    def handle(
        self, method: str, path: str, query: dict[str, str], body: Any
    ) -> tuple[Any, dict[str, Any] | None]:
        """(result, result_info) of one authenticated API request, or ``ApiError``."""
        parts = [p for p in path.split("/") if p]
        with self._lock:
            if parts == ["zones"] and method == "GET":
                return self._list_zones(query)
            if len(parts) >= 3 and parts[0] == "zones" and parts[2] == "dns_records":
                zone = self._zones.get(parts[1])
                if zone is None:
                    raise ApiError(
                        404,
                        [
                            _error(
                                7003,
                                f"Could not route to {API_PREFIX}{path}, perhaps your object "
                                "identifier is invalid?",
                            ),
                            _error(7000, "No route for that URI"),
                        ],
                    )
                if len(parts) == 3:
                    if method == "GET":
                        return self._list_records(zone, query)
                    if method == "POST":
                        return self._create(zone, body), None
                elif len(parts) == 4:
                    record = zone.records.get(parts[3])
                    if record is None:
                        raise ApiError(404, [_error(81044, "Record does not exist.")])
                    if method == "GET":
                        return dict(record), None
                    if method in ("PATCH", "PUT"):
                        return self._update(zone, record, body, replace=method == "PUT"), None
                    if method == "DELETE":
                        del zone.records[record["id"]]
                        self.write_count += 1
                        return {"id": record["id"]}, None
            raise ApiError(404, [_error(7000, "No route for that URI")])

    def _list_zones(self, query: dict[str, str]) -> tuple[Any, dict[str, Any]]:
        zones = sorted(self._zones.values(), key=lambda z: z.name)
        if "name" in query:
            zones = [z for z in zones if z.name == query["name"].rstrip(".").lower()]
        if "status" in query:
            zones = [z for z in zones if z.status == query["status"]]
        items = [
            {"id": z.id, "name": z.name, "status": z.status, "type": "full", "paused": False}
            for z in zones
        ]
        return self._page(items, query, default=20, maximum=50)

    def _list_records(self, zone: _Zone, query: dict[str, str]) -> tuple[Any, dict[str, Any]]:
        records = sorted(zone.records.values(), key=lambda r: (r["name"], r["type"], r["id"]))
        # "name" without an operator is the legacy exact match; the operators are case-insensitive.
        tests = {
            "name": lambda n, v: n == v,
            "name.exact": lambda n, v: n == v,
            "name.contains": lambda n, v: v in n,
            "name.startswith": lambda n, v: n.startswith(v),
            "name.endswith": lambda n, v: n.endswith(v),
        }
        for key, test in tests.items():
            if key in query:
                wanted = query[key].rstrip(".").lower()
                records = [r for r in records if test(r["name"], wanted)]
        if "type" in query:
            records = [r for r in records if r["type"] == query["type"].upper()]
        if "content" in query or "content.exact" in query:
            wanted = query.get("content", query.get("content.exact", ""))
            records = [r for r in records if r["content"] == wanted]
        if "proxied" in query:
            records = [r for r in records if r["proxied"] == (query["proxied"] == "true")]
        return self._page([dict(r) for r in records], query, default=100, maximum=5_000_000)

    def _page(
        self, items: list[Any], query: dict[str, str], *, default: int, maximum: int
    ) -> tuple[list[Any], dict[str, Any]]:
        try:
            page = max(1, int(query.get("page", 1)))
            per_page = int(query.get("per_page", default))
        except ValueError:
            raise ApiError(400, [_error(1001, "Invalid page or per_page")]) from None
        per_page = max(1, min(per_page, maximum))
        if self.max_per_page is not None:
            per_page = min(per_page, self.max_per_page)
        chunk = items[(page - 1) * per_page : page * per_page]
        info = {
            "page": page,
            "per_page": per_page,
            "count": len(chunk),
            "total_count": len(items),
            "total_pages": max(1, math.ceil(len(items) / per_page)),
        }
        return chunk, info

    def _create(self, zone: _Zone, body: Any) -> dict[str, Any]:
        record = self._new_record(zone, "", "", "", 1, False)
        return self._apply(zone, record, self._check_body(body), replace=True)

    def _update(
        self, zone: _Zone, record: dict[str, Any], body: Any, *, replace: bool
    ) -> dict[str, Any]:
        return self._apply(zone, record, self._check_body(body), replace=replace)

    @staticmethod
    def _check_body(body: Any) -> dict[str, Any]:
        if not isinstance(body, dict):
            raise ApiError(400, [_error(9207, "Request body is invalid.")])
        return body

    def _apply(
        self,
        zone: _Zone,
        record: dict[str, Any],
        fields: dict[str, Any],
        *,
        replace: bool,
    ) -> dict[str, Any]:
        """Validate the record as it would be after the write, then store it."""
        if replace:
            # PUT and POST need the whole record; content is checked below, per type.
            for required, code, message in (
                ("type", 9020, "Invalid DNS record type."),
                ("name", 9000, "DNS name is invalid."),
            ):
                if required not in fields:
                    raise _validation(code, message)
            # PUT overwrites: what is not sent goes back to its default (proxied false, ttl 1).
            merged = {**record, "proxied": False, "ttl": 1, "comment": None, "tags": []}
            merged.pop("content", None)
        else:
            merged = dict(record)
        merged.update({k: v for k, v in fields.items() if k in _WRITABLE})
        rtype = str(merged.get("type", "")).upper()
        merged["type"] = rtype
        if not rtype.isalnum():
            raise _validation(9020, "Invalid DNS record type.")
        name = str(merged.get("name", "")).rstrip(".").lower()
        if name == "@":
            name = zone.name
        if not name or not (name == zone.name or name.endswith("." + zone.name)):
            raise _validation(9000, "DNS name is invalid.")
        merged["name"] = name
        merged["content"] = self._check_content(rtype, merged.get("content"))
        merged["ttl"] = self._check_ttl(zone, merged.get("ttl", 1))
        proxied = merged.get("proxied", False)
        if not isinstance(proxied, bool):
            raise _validation(9003, "Invalid 'proxied' value, must be a boolean")
        if proxied and rtype not in PROXIABLE:
            raise _validation(9004, "This record type cannot be proxied.")
        merged["proxiable"] = rtype in PROXIABLE
        for other in zone.records.values():
            if other["id"] != merged["id"] and (other["name"], other["type"], other["content"]) == (
                name,
                rtype,
                merged["content"],
            ):
                raise ApiError(400, [_error(81058, "An identical record already exists.")])
        merged["modified_on"] = _now()
        zone.records[merged["id"]] = merged
        self.write_count += 1
        return dict(merged)

    @staticmethod
    def _check_content(rtype: str, content: Any) -> str:
        if rtype in ("A", "AAAA"):
            version, code = (4, 9005) if rtype == "A" else (6, 9006)
            message = f"Content for {rtype} record must be a valid IPv{version} address."
            try:
                ip = ipaddress.ip_address(str(content)) if isinstance(content, str) else None
            except ValueError:
                ip = None
            if ip is None or ip.version != version:
                # Reported on its own, not inside a 1004 chain (observed since 2023).
                raise ApiError(400, [_error(code, message)])
            return str(ip)
        if not isinstance(content, str) or not content:
            raise _validation(9007, f"Content for {rtype} record is invalid.")
        return content

    @staticmethod
    def _check_ttl(zone: _Zone, ttl: Any) -> int:
        minimum = 30 if zone.enterprise else 60
        if isinstance(ttl, bool) or not isinstance(ttl, int):
            raise _validation(9021, _TTL_MESSAGE)
        if ttl != 1 and not minimum <= ttl <= 86400:
            raise _validation(9021, _TTL_MESSAGE_ENTERPRISE if zone.enterprise else _TTL_MESSAGE)
        return ttl

    # -- helpers (lock held) -------------------------------------------------------------------

    def _zone_for(self, fqdn: str, *, exact: bool = False) -> _Zone:
        """The zone holding ``fqdn`` out of band: the longest, an active one before others."""
        matches = [
            z
            for z in self._zones.values()
            if fqdn == z.name or (not exact and fqdn.endswith("." + z.name))
        ]
        if not matches:
            raise KeyError(f"no emulated zone holds {fqdn}")
        return max(matches, key=lambda z: (len(z.name), z.status == "active"))

    @staticmethod
    def _rrset(zone: _Zone, fqdn: str, rtype: str) -> list[dict[str, Any]]:
        return [r for r in zone.records.values() if r["name"] == fqdn and r["type"] == rtype]

    @staticmethod
    def _new_record(
        zone: _Zone, fqdn: str, rtype: str, content: str, ttl: int, proxied: bool
    ) -> dict[str, Any]:
        now = _now()
        return {
            "id": uuid.uuid4().hex,
            "zone_id": zone.id,
            "zone_name": zone.name,
            "name": fqdn,
            "type": rtype,
            "content": content,
            "proxiable": rtype in PROXIABLE,
            "proxied": proxied,
            "ttl": ttl,
            "settings": {},
            "meta": {},
            "comment": None,
            "tags": [],
            "created_on": now,
            "modified_on": now,
        }


_WRITABLE = frozenset({"type", "name", "content", "ttl", "proxied", "comment", "tags", "settings"})


class _Handler(LoopbackHandler):
    owner: CloudflareEmulator

    def _serve(self) -> None:
        method, emulator = self.command, self.owner
        url = urlsplit(self.path)
        raw_body = self.read_body()
        if not url.path.startswith(API_PREFIX):
            self._send(404, _envelope(None, [_error(7000, "No route for that URI")]))
            return
        path = url.path[len(API_PREFIX) :] or "/"
        query = {k: v[-1] for k, v in parse_qs(url.query, keep_blank_values=True).items()}
        emulator.log_request(LoggedRequest(method, path, query))

        fault = emulator.take_fault()
        if fault is not None:
            self._fault(fault)
            return
        if self.headers.get("Authorization") != f"Bearer {emulator.token}":
            self._send(401, _envelope(None, [_error(10000, "Authentication error")]))
            return
        try:
            body = json.loads(raw_body) if raw_body else None
        except ValueError:
            self._send(400, _envelope(None, [_error(9207, "Request body is invalid.")]))
            return
        try:
            result, info = emulator.handle(method, path, query, body)
        except ApiError as exc:
            self._send(exc.status, _envelope(None, exc.errors))
            return
        self._send(200, _envelope(result, [], info, success=True))

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _serve

    def _fault(self, fault: _Fault) -> None:
        if fault.kind == "unauthorized":
            self._send(401, _envelope(None, [_error(10000, "Authentication error")]))
        elif fault.kind == "not_found":
            self._send(
                404,
                _envelope(
                    None,
                    [
                        _error(
                            7003,
                            "Could not route to the object, perhaps your object "
                            "identifier is invalid?",
                        ),
                        _error(7000, "No route for that URI"),
                    ],
                ),
            )
        elif fault.kind == "rate_limited":
            headers = {}
            if fault.retry_after is not None:
                value = fault.retry_after
                headers["Retry-After"] = str(int(value)) if value == int(value) else str(value)
            self._send(
                429,
                _envelope(
                    None, [_error(971, "Please wait and consider throttling your request speed")]
                ),
                headers,
            )
        elif fault.kind == "server_error":
            self._send(500, _envelope(None, [_error(10002, "Internal Server Error")]))
        elif fault.kind == "malformed":
            # A 200 whose envelope says it failed: the SDK alone would hand back result=None.
            self._send(200, _envelope(None, [_error(10001, "Service temporarily unavailable")]))
        elif fault.kind == "html":
            page = b"<html><body><h1>502 Bad Gateway</h1>cloudflare</body></html>"
            self._send_bytes(200, page, "text/html")
        elif fault.kind == "timeout":
            self.hang(self.owner.timeout_delay)  # longer than the client waits

    def _send(
        self, status: int, body: dict[str, Any], headers: dict[str, str] | None = None
    ) -> None:
        self._send_bytes(status, json.dumps(body).encode(), "application/json", headers)

    def _send_bytes(
        self, status: int, data: bytes, ctype: str, headers: dict[str, str] | None = None
    ) -> None:
        self.send(status, data, {"Content-Type": ctype, **(headers or {})})


def _envelope(
    result: Any,
    errors: list[dict[str, Any]],
    result_info: dict[str, Any] | None = None,
    *,
    success: bool = False,
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "result": result,
        "success": success,
        "errors": errors,
        "messages": [],
    }
    if result_info is not None:
        body["result_info"] = result_info
    return body
