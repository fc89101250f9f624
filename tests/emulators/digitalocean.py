"""A loopback DigitalOcean API v2 (domains and domain records) for tests.

Speaks the wire format of https://docs.digitalocean.com/reference/api/ (OpenAPI spec in
github.com/digitalocean/openapi): ``Authorization: Bearer <token>``; ``GET /v2/domains/{name}``;
``GET|POST /v2/domains/{zone}/records`` with the ``name`` (fully qualified) and ``type`` filters
and ``page``/``per_page`` paging (default 20, at most 200; ``links.pages`` with absolute
first/prev/next/last URLs, only those that make sense; ``meta.total``); ``GET|PUT|PATCH|DELETE
/v2/domains/{zone}/records/{id}``. Errors are DigitalOcean's ``{"id": ..., "message": ...}``.

It refuses what the real API refuses, so code under test cannot lean on leniency (moto's lesson):
an A record whose data is not IPv4, AAAA not IPv6, a TTL under 30 s, an unknown type, a body
without ``type`` (the spec's domain_record schema requires it for POST, PUT and PATCH), a record
without name or data on create. It is stricter than DigitalOcean on one point: changing a record's
type in an update is refused (nothing here needs it).

Out of band (not counted as writes, not logged): ``add_domain``, ``set_rrset``, ``rrset``.
Counted: every record write the API accepted (``writes``). Logged: method, path and query of
every request (and when it arrived), never a header. ``inject`` makes the next requests fail the
ways ``tests/dns/harness.py`` lists. For the failure stories of a whole failover:
``revoke_token`` (the token stops working, as when someone revokes it in the control panel),
``hold_requests(match)`` (requests ``match`` accepts wait until the test releases them: one record's
switch arrives after something else happened) and ``lose_write_answers`` (a write is applied but
its answer never reaches the client, which times out).

    with DigitalOceanEmulator(domains=["example.test"]) as do:
        provider = DigitalOceanProvider(DigitalOceanSettings(base_url=do.base_url), do.token)
"""

from __future__ import annotations

import ipaddress
import json
import math
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

from tests.emulators.loopback import LoopbackHandler, LoopbackHTTPServer

__all__ = ["DigitalOceanEmulator", "Held", "LoggedRequest"]

RECORD_TYPES = frozenset({"A", "AAAA", "CAA", "CNAME", "MX", "NS", "TXT", "SRV", "SOA"})
MIN_TTL = 30
DEFAULT_TTL = 1800
FAULTS = frozenset(
    {
        "unauthorized",
        "not_found",
        "rate_limited",
        "server_error",
        "timeout",
        "malformed",  # 200 with an HTML page (a proxy's error page)
        "malformed_json",  # 200 with JSON missing the resource key
    }
)
#: How long a "timeout" request goes unanswered (harness providers time out after ~1 s).
TIMEOUT_SECONDS = 2.5

UNAUTHORIZED = {"id": "unauthorized", "message": "Unable to authenticate you."}
NOT_FOUND = {"id": "not_found", "message": "The resource you were accessing could not be found."}
RATE_LIMITED = {"id": "too_many_requests", "message": "API rate limit exceeded."}
SERVER_ERROR = {"id": "server_error", "message": "Unexpected server-side error"}
HTML_PAGE = (
    b"<html><head><title>502 Bad Gateway</title></head>"
    b"<body><center><h1>502 Bad Gateway</h1></center></body></html>"
)


@dataclass(frozen=True)
class LoggedRequest:
    method: str
    path: str
    query: dict[str, str] = field(default_factory=dict)
    #: When it arrived (``time.monotonic()``): the spacing of retries is visible.
    at: float = field(default_factory=time.monotonic, compare=False, repr=False)

    def __str__(self) -> str:
        return f"{self.method} {self.path}" + (f"?{urlencode(self.query)}" if self.query else "")


@dataclass
class _Answer:
    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    hang: bool = False  # the timeout fault: say nothing, then drop the connection


class Held:
    """Requests that ``DigitalOceanEmulator.hold_requests`` keeps waiting until ``release()``.

    ``arrived`` is set when the first one arrives; ``count`` is how many have arrived so far.
    A released (or never held again) request goes on as if it had just arrived: the token,
    the faults and the records it meets are those of that moment.
    """

    def __init__(self, match: Callable[[LoggedRequest], bool]) -> None:
        self.match = match
        self.arrived = threading.Event()
        self.released = threading.Event()
        self.count = 0

    def release(self) -> None:
        self.released.set()


def _json(status: int, payload: Any, **headers: str) -> _Answer:
    return _Answer(
        status,
        json.dumps(payload).encode(),
        {"Content-Type": "application/json; charset=utf-8", **headers},
    )


def _unprocessable(message: str) -> _Answer:
    return _json(422, {"id": "unprocessable_entity", "message": message})


class DigitalOceanEmulator(LoopbackHTTPServer[tuple[str, float | None]]):
    def __init__(
        self, token: str | None = None, *, domains: list[str] | tuple[str, ...] = ("example.test",)
    ) -> None:
        super().__init__(_Handler)
        self.token = token or f"dop_v1_{secrets.token_hex(32)}"
        self._zones: dict[str, dict[int, dict[str, Any]]] = {}
        self._next_id = 3_352_000
        self._writes = 0
        self._holds: list[Held] = []
        self._answers_to_lose = 0
        self.requests: list[LoggedRequest] = []
        #: Base of the URLs in ``links.pages`` (default: this server). Set it to another host to
        #: check that a client does not send its token wherever a link points.
        self.link_base_url: str | None = None
        for name in domains:
            self.add_domain(name)

    @property
    def base_url(self) -> str:
        return self.origin

    # -- out of band -------------------------------------------------------------------------

    def add_domain(self, name: str) -> None:
        with self._lock:
            self._zones.setdefault(name.rstrip(".").lower(), {})

    def zone_of(self, fqdn: str) -> str:
        """The longest domain here that holds ``fqdn``."""
        name = fqdn.rstrip(".").lower()
        with self._lock:
            zones = [z for z in self._zones if name == z or name.endswith(f".{z}")]
        if not zones:
            raise KeyError(f"no domain in the emulator holds {fqdn}")
        return max(zones, key=len)

    def set_rrset(self, fqdn: str, record_type: str, values: list[str], ttl: int = 300) -> None:
        """Replace the records ``fqdn``/``record_type`` with one record per value."""
        zone = self.zone_of(fqdn)
        relative = _relative(fqdn.rstrip(".").lower(), zone)
        rtype = record_type.upper()
        with self._lock:
            records = self._zones[zone]
            for rid in [
                i for i, r in records.items() if (r["name"], r["type"]) == (relative, rtype)
            ]:
                del records[rid]
            for value in values:
                self._create(zone, {"type": rtype, "name": relative, "data": value, "ttl": ttl})

    def rrset(self, fqdn: str, record_type: str) -> list[dict[str, Any]]:
        """Copies of the records ``fqdn``/``record_type``, oldest first."""
        zone = self.zone_of(fqdn)
        relative = _relative(fqdn.rstrip(".").lower(), zone)
        with self._lock:
            return [
                dict(r)
                for _, r in sorted(self._zones[zone].items())
                if (r["name"], r["type"]) == (relative, record_type.upper())
            ]

    @property
    def writes(self) -> int:
        with self._lock:
            return self._writes

    def inject(self, fault: str, *, count: int = 1, retry_after: float | None = None) -> None:
        """The next ``count`` requests fail with ``fault``. ``rate_limited`` sends
        ``Retry-After: <retry_after>`` when it is given and, like DigitalOcean, always the
        ``ratelimit-*`` headers (``ratelimit-reset`` a few seconds ahead)."""
        if fault not in FAULTS:
            raise ValueError(f"unknown fault {fault!r} (known: {sorted(FAULTS)})")
        self._queue_fault((fault, retry_after), count)

    def revoke_token(self) -> str:
        """Revoke the token: from now on it gets 401 "Unable to authenticate you", as a token
        deleted in DigitalOcean's control panel does. Returns the new valid token."""
        with self._lock:
            self.token = f"dop_v1_{secrets.token_hex(32)}"
            return self.token

    def hold_requests(self, match: Callable[[LoggedRequest], bool]) -> Held:
        """Keep every request ``match`` accepts waiting (before its token is even looked at)
        until ``release()`` on the answer: what a slow path to the API looks like to the
        client, and a way to make one record's write arrive after something else happened.
        A client that times out meanwhile gets no answer; its retry is held as well."""
        held = Held(match)
        with self._lock:
            self._holds.append(held)
        return held

    def lose_write_answers(self, count: int = 1) -> None:
        """The next ``count`` record writes are applied (and counted) but their answers are
        lost: the connection stays silent past the client's timeout and is dropped. A client
        that retries must find the work done, not write twice."""
        with self._lock:
            self._answers_to_lose += count

    # -- the API -----------------------------------------------------------------------------

    def handle(self, method: str, target: str, body: bytes, authorization: str | None) -> _Answer:
        url = urlsplit(target)
        query = dict(parse_qsl(url.query, keep_blank_values=True))
        request = LoggedRequest(method, url.path, query)
        with self._lock:
            self.requests.append(request)
            holds = [h for h in self._holds if not h.released.is_set() and h.match(request)]
            for held in holds:
                held.count += 1
                held.arrived.set()
        for held in holds:
            while not held.released.wait(0.02) and not self._stopping.is_set():
                pass
        with self._lock:
            fault = self.take_fault()
            token = self.token
        if fault is not None:
            return self._fault(*fault)
        if authorization != f"Bearer {token}":
            return _json(401, UNAUTHORIZED)
        answer = self._api(method, url.path, query, body)
        if method in ("POST", "PUT", "PATCH", "DELETE") and answer.status < 300:
            with self._lock:
                if self._answers_to_lose > 0:
                    self._answers_to_lose -= 1
                    return _Answer(0, hang=True)
        return answer

    def _api(self, method: str, path: str, query: dict[str, str], body: bytes) -> _Answer:
        parts = path.rstrip("/").split("/")
        if parts[:3] != ["", "v2", "domains"] or len(parts) not in (4, 5, 6):
            return _json(404, NOT_FOUND)
        zone = parts[3].lower()
        with self._lock:
            if zone not in self._zones:
                return _json(404, NOT_FOUND)
            if len(parts) == 4:
                if method != "GET":
                    return _json(405, {"id": "method_not_allowed", "message": "Not allowed."})
                return _json(200, {"domain": {"name": zone, "ttl": DEFAULT_TTL, "zone_file": ""}})
            if parts[4] != "records":
                return _json(404, NOT_FOUND)
            fields: dict[str, Any] = {}
            if method in ("POST", "PUT", "PATCH"):
                try:
                    fields = json.loads(body or b"null")
                except ValueError:
                    fields = None  # type: ignore[assignment]
                if not isinstance(fields, dict):
                    return _json(400, {"id": "bad_request", "message": "Malformed JSON body."})
            if len(parts) == 5:
                if method == "GET":
                    return self._list(zone, path, query)
                if method == "POST":
                    return self._post(zone, fields)
                return _json(405, {"id": "method_not_allowed", "message": "Not allowed."})
            try:
                record = self._zones[zone][int(parts[5])]
            except (ValueError, KeyError):
                return _json(404, NOT_FOUND)
            if method == "GET":
                return _json(200, {"domain_record": dict(record)})
            if method in ("PUT", "PATCH"):
                return self._update(record, fields)
            if method == "DELETE":
                del self._zones[zone][record["id"]]
                self._writes += 1
                return _Answer(204)
            return _json(405, {"id": "method_not_allowed", "message": "Not allowed."})

    def _list(self, zone: str, path: str, query: dict[str, str]) -> _Answer:
        name = query.get("name", "").rstrip(".").lower()
        rtype = query.get("type", "").upper()
        try:
            per_page = min(max(int(query.get("per_page", 20)), 1), 200)
            page = max(int(query.get("page", 1)), 1)
        except ValueError:
            return _json(400, {"id": "bad_request", "message": "page and per_page are integers."})
        matching = [
            dict(r)
            for _, r in sorted(self._zones[zone].items())
            if (not rtype or r["type"] == rtype)
            # The filter is the fully qualified name: "www" matches nothing, as at DigitalOcean.
            and (not name or _fqdn(r["name"], zone) == name)
        ]
        last = max(1, math.ceil(len(matching) / per_page))
        base = self.link_base_url or self.base_url

        def link(number: int) -> str:
            return f"{base}{path}?{urlencode({**query, 'page': str(number)})}"

        pages: dict[str, str] = {}
        if page > 1:
            pages.update(first=link(1), prev=link(min(page - 1, last)))
        if page < last:
            pages.update(next=link(page + 1), last=link(last))
        payload = {
            "domain_records": matching[(page - 1) * per_page : page * per_page],
            "links": {"pages": pages} if pages else {},
            "meta": {"total": len(matching)},
        }
        return _json(200, payload)

    def _post(self, zone: str, fields: dict[str, Any]) -> _Answer:
        error = _invalid(fields, None)
        if error is None and not fields.get("name"):
            error = "Name can't be blank."
        if error is None and not fields.get("data"):
            error = "Data can't be blank."
        if error is not None:
            return _unprocessable(error)
        record = self._create(zone, fields)
        self._writes += 1
        return _json(201, {"domain_record": dict(record)})

    def _update(self, record: dict[str, Any], fields: dict[str, Any]) -> _Answer:
        error = _invalid(fields, record)
        if error is not None:
            return _unprocessable(error)
        for key in ("name", "data", "ttl", "priority", "port", "weight", "flags", "tag"):
            if key in fields:
                record[key] = fields[key].lower() if key == "name" else fields[key]
        self._writes += 1
        return _json(200, {"domain_record": dict(record)})

    def _create(self, zone: str, fields: dict[str, Any]) -> dict[str, Any]:
        self._next_id += 1
        record = {
            "id": self._next_id,
            "type": str(fields["type"]).upper(),
            "name": str(fields["name"]).rstrip(".").lower(),
            "data": fields["data"],
            "priority": fields.get("priority"),
            "port": fields.get("port"),
            "ttl": fields.get("ttl", DEFAULT_TTL),
            "weight": fields.get("weight"),
            "flags": fields.get("flags"),
            "tag": fields.get("tag"),
        }
        self._zones[zone][record["id"]] = record
        return record

    def _fault(self, fault: str, retry_after: float | None) -> _Answer:
        if fault == "timeout":
            return _Answer(0, hang=True)
        if fault == "unauthorized":
            return _json(401, UNAUTHORIZED)
        if fault == "not_found":
            return _json(404, NOT_FOUND)
        if fault == "server_error":
            return _json(500, SERVER_ERROR)
        if fault == "malformed":
            return _Answer(200, HTML_PAGE, {"Content-Type": "text/html"})
        if fault == "malformed_json":
            return _json(200, {"message": "ok"})
        wait = 6.0 if retry_after is None else retry_after
        headers = self._rate_headers(remaining=0, reset_in=wait)
        if retry_after is not None:
            headers["Retry-After"] = format(retry_after, "g")
        return _json(429, RATE_LIMITED, **headers)

    @staticmethod
    def _rate_headers(remaining: int = 4999, reset_in: float = 60) -> dict[str, str]:
        return {
            "ratelimit-limit": "5000",
            "ratelimit-remaining": str(remaining),
            "ratelimit-reset": str(math.ceil(time.time() + reset_in)),
        }


def _relative(fqdn: str, zone: str) -> str:
    return "@" if fqdn == zone else fqdn.removesuffix(f".{zone}")


def _fqdn(name: str, zone: str) -> str:
    return zone if name == "@" else f"{name}.{zone}"


def _invalid(fields: dict[str, Any], existing: dict[str, Any] | None) -> str | None:
    """Why DigitalOcean would refuse this body (422), or None."""
    rtype = fields.get("type")
    if not isinstance(rtype, str) or not rtype:
        return "Type can't be blank."
    rtype = rtype.upper()
    if rtype not in RECORD_TYPES or (existing is None and rtype == "SOA"):
        return f"Type {fields['type']!r} is not a supported record type."
    if existing is not None and rtype != existing["type"]:
        return "Type can't be changed."
    if "name" in fields and not isinstance(fields["name"], str):
        return "Name must be a string."
    if "ttl" in fields:
        ttl = fields["ttl"]
        if isinstance(ttl, bool) or not isinstance(ttl, int) or ttl < MIN_TTL:
            return f"TTL must be an integer of at least {MIN_TTL} seconds."
    if "data" in fields and rtype in ("A", "AAAA"):
        family = ipaddress.IPv4Address if rtype == "A" else ipaddress.IPv6Address
        try:
            family(str(fields["data"]))
        except ValueError:
            return f"Data must be a valid IPv{4 if rtype == 'A' else 6} address."
    return None


class _Handler(LoopbackHandler):
    owner: DigitalOceanEmulator

    def _serve(self) -> None:
        emulator = self.owner
        answer = emulator.handle(
            self.command, self.path, self.read_body(), self.headers.get("Authorization")
        )
        if answer.hang:
            self.hang(TIMEOUT_SECONDS)
            return
        # DigitalOcean sends its rate-limit state with every answer.
        self.send(answer.status, answer.body, {**emulator._rate_headers(), **answer.headers})

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _serve
