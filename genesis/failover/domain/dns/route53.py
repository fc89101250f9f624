"""Amazon Route 53 over boto3: simple records found by name, switched with one UPSERT.

Credentials come from the usual AWS chain (environment, shared files, instance or task role):
nothing secret is in the config. boto3 is synchronous, so every call runs in a worker thread
(``asyncio.to_thread``) and never stalls the event loop a worker's other activities share.
botocore's own retries are off (one attempt): Temporal's retry policy owns retrying, and an SDK
retrying inside an activity would hide throttling from it and stretch a timeout past the
activity's own.

The client (``Route53Client``) makes the calls and maps botocore's errors to the domain error tree
in ONE place, ``call``; the provider translates between records and Route53's record sets.
Only simple records are moved: alias records and routing policies (weighted, latency, failover,
geolocation: a ``SetIdentifier``) are refused, because replacing one of them with a plain record
would silently drop the routing someone set up on purpose.
"""

from __future__ import annotations

import asyncio
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

import boto3
import botocore.config
import botocore.exceptions
import botocore.parsers

from genesis.failover.domain.config import Route53Settings
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
    DNSConflictError,
    DNSError,
    DNSNotFoundError,
    DNSRateLimitedError,
    DNSTransientError,
)

__all__ = ["Route53Client", "Route53Provider"]

T = TypeVar("T")

# RequestExpired is clock skew: fixing the clock, not retrying, is what helps.
_AUTH_CODES = frozenset(
    "InvalidClientTokenId SignatureDoesNotMatch AccessDenied AccessDeniedException "
    "UnrecognizedClientException ExpiredToken ExpiredTokenException IncompleteSignature "
    "MissingAuthenticationToken RequestExpired".split()
)
_NOT_FOUND_CODES = frozenset({"NoSuchHostedZone", "NoSuchChange"})
_THROTTLE_CODES = frozenset({"Throttling", "ThrottlingException", "PriorRequestNotComplete"})
_SERVER_CODES = frozenset({"ServiceUnavailable", "InternalFailure", "InternalError"})
# Timeouts (ReadTimeoutError, ConnectTimeoutError), refused or dropped connections
# (EndpointConnectionError, ConnectionClosedError) all derive from these two.
_TRANSPORT_ERRORS = (botocore.exceptions.ConnectionError, botocore.exceptions.HTTPClientError)
_OCTAL_ESCAPE = re.compile(r"\\([0-7]{3})")


class Route53Client:
    """A boto3 route53 client whose every call goes through ``call``."""

    def __init__(
        self, settings: Route53Settings, session: boto3.session.Session | None = None
    ) -> None:
        self.endpoint_url = settings.endpoint_url
        self.timeout = settings.timeout_seconds
        try:
            session = session if session is not None else boto3.session.Session()
            # Route53 is global and signed in us-east-1. Without an endpoint boto3 needs no
            # region; with one (LocalStack, moto, a proxy) and none in the chain every call
            # would fail with NoRegionError, so fall back to the region Route53 signs in.
            region = settings.region or session.region_name or "us-east-1"
            # endpoint_url=None lets boto3 honour AWS_ENDPOINT_URL_ROUTE_53 / AWS_ENDPOINT_URL.
            self._client = session.client(
                "route53",
                endpoint_url=settings.endpoint_url,
                region_name=region,
                config=botocore.config.Config(
                    connect_timeout=settings.timeout_seconds,
                    read_timeout=settings.timeout_seconds,
                    retries={"total_max_attempts": 1, "mode": "standard"},
                ),
            )
        except botocore.exceptions.BotoCoreError as exc:
            # AWS_PROFILE naming a missing profile, a bad endpoint: the deploy is wrong.
            raise ConfigError(
                f"route53: cannot build the AWS client ({type(exc).__name__}: {exc})",
                field="dns.route53",
            ) from None

    def close(self) -> None:
        self._client.close()

    async def call(
        self, operation: str, what: str, parse: Callable[[dict[str, Any]], T], **params: Any
    ) -> T:
        """Run ``operation`` off the event loop and ``parse`` its answer; map every failure.

        ``what`` says what the call was for ("reading www.example.com. A in hosted zone
        example.com (Z1)"), so each message names the zone or record at fault. botocore's
        exceptions are never str()-ed whole: only their codes, AWS's own message and the
        endpoint go into messages.
        """
        method = getattr(self._client, operation)
        try:
            response = await asyncio.to_thread(method, **params)
        except botocore.exceptions.ClientError as exc:
            # Never chained (from None): Temporal records an error's __cause__ in workflow
            # history, and AWS's raw message for a bad signature quotes the signed headers.
            raise self._client_error(exc, what) from None
        except (
            botocore.exceptions.NoCredentialsError,
            botocore.exceptions.PartialCredentialsError,
        ):
            raise DNSAuthError(
                f"route53: no AWS credentials found in the usual chain (environment, shared "
                f"credentials file, instance or task role) while {what}"
            ) from None
        except botocore.exceptions.ParamValidationError as exc:
            # Our request is invalid (a name too long for Route53, ...): asking again won't help.
            raise DNSError(
                f"route53: invalid request while {what}: {exc.kwargs.get('report', '')}",
                retryable=False,
            ) from None
        except _TRANSPORT_ERRORS as exc:
            kind = {
                botocore.exceptions.ReadTimeoutError: f"no answer within {self.timeout:g} s",
                botocore.exceptions.ConnectTimeoutError: f"no connection within {self.timeout:g} s",
            }.get(type(exc), f"cannot reach it ({type(exc).__name__})")
            raise DNSTransientError(f"route53 {self._endpoint}: {kind} while {what}") from None
        except botocore.parsers.ResponseParserError:
            raise DNSBadResponseError(
                f"route53 {self._endpoint} sent an answer that is not Route53's XML while {what}"
            ) from None
        try:
            return parse(response)
        except DNSError:
            raise  # parse() refused something on purpose (an alias record, ...)
        except (KeyError, TypeError, ValueError, AttributeError, IndexError) as exc:
            raise DNSBadResponseError(
                f"route53 {self._endpoint} sent an answer without {exc!s} while {what}"
            ) from exc

    def _client_error(self, exc: botocore.exceptions.ClientError, what: str) -> DNSError:
        error = exc.response.get("Error", {})
        meta = exc.response.get("ResponseMetadata", {})
        code = str(error.get("Code") or "")
        status = int(meta.get("HTTPStatusCode") or 0)
        # AWS's own words, but only their first line: for SignatureDoesNotMatch AWS goes on
        # with the canonical request, whose signed headers include any X-Amz-Security-Token.
        aws_said = str(error.get("Message") or "").strip().split("\n")[0]
        aws_said = aws_said.split("The Canonical String")[0].strip()[:300]
        said = f"{code or 'error'}, HTTP {status}" + (f": {aws_said}" if aws_said else "")
        if code in _AUTH_CODES or status in (401, 403):
            return DNSAuthError(f"route53 rejected the AWS credentials ({said}) while {what}")
        if code in _NOT_FOUND_CODES:
            return DNSNotFoundError(f"route53: not found ({said}) while {what}")
        if code in _THROTTLE_CODES or status == 429:
            headers = meta.get("HTTPHeaders") or {}
            return DNSRateLimitedError(
                f"route53 is throttling requests ({said}) while {what}",
                retry_after=retry_after_seconds(headers.get("retry-after")),
            )
        if status >= 500 or code in _SERVER_CODES:
            return DNSTransientError(f"route53 server error ({said}) while {what}")
        if code == "InvalidChangeBatch" and re.search(
            r"but it was not found|do not match", aws_said, re.I
        ):
            # What a DELETE of an rrset that changed (or vanished) since we read it gets.
            return DNSConflictError(
                f"route53 refused the change: the record changed since it was read ({said}) "
                f"while {what}; nothing was written"
            )
        if status == 200 or not code:
            return DNSBadResponseError(f"route53 sent an unreadable error ({said}) while {what}")
        return DNSError(f"route53 refused the request ({said}) while {what}", retryable=False)

    @property
    def _endpoint(self) -> str:
        return self.endpoint_url or str(self._client.meta.endpoint_url)


@dataclass(frozen=True)
class _Zone:
    id: str
    name: str  # without the trailing dot

    def __str__(self) -> str:
        return f"hosted zone {self.name} ({self.id.removeprefix('/hostedzone/')})"


class Route53Provider(ReadCheckWriteProvider):
    name = "route53"

    def __init__(
        self, settings: Route53Settings, *, session: boto3.session.Session | None = None
    ) -> None:
        super().__init__()
        self._client = Route53Client(settings, session)
        self._zones_by_name: dict[str, _Zone] = {}
        self._zone_of_domain: dict[str, _Zone] = {}
        self._last_zone: _Zone | None = None

    @classmethod
    def from_settings(
        cls, settings: Route53Settings, environ: Mapping[str, str] = os.environ
    ) -> Route53Provider:
        """Build from config. No secret is named there: credentials come from the AWS chain.

        Keys and region in ``environ`` (a worker started with its own environment) are used as
        boto3 would use them from the process environment, where they also come first.
        """
        key, secret = environ.get("AWS_ACCESS_KEY_ID"), environ.get("AWS_SECRET_ACCESS_KEY")
        if bool(key) != bool(secret):
            missing = "AWS_SECRET_ACCESS_KEY" if key else "AWS_ACCESS_KEY_ID"
            raise ConfigError(
                f"route53: {missing} is not set or empty but its partner is; set both or "
                "neither (then the shared files or the instance role are used)",
                field="dns.route53",
                value=missing,
            )
        try:
            session = boto3.session.Session(
                aws_access_key_id=key or None,
                aws_secret_access_key=secret or None,
                aws_session_token=(environ.get("AWS_SESSION_TOKEN") or None) if key else None,
                region_name=environ.get("AWS_REGION") or environ.get("AWS_DEFAULT_REGION"),
            )
        except botocore.exceptions.BotoCoreError as exc:  # AWS_PROFILE names no profile
            raise ConfigError(f"route53: {exc}", field="dns.route53") from None
        return cls(settings, session=session)

    @property
    def where(self) -> str:
        return f"route53 {self._last_zone}" if self._last_zone else "route53"

    async def aclose(self) -> None:
        self._client.close()

    # -- the primitives ----------------------------------------------------------------------

    async def read_record(self, domain: str, record_type: str) -> RecordValues:
        zone = await self._zone(domain)
        rrset = await self._record_set(zone, domain, record_type)
        if rrset is None:
            raise DNSNotFoundError(
                f"{_fqdn(domain)} has no {record_type.upper()} record (route53 {zone})"
            )
        return rrset

    async def _write(
        self, domain: str, record_type: str, new_value: str, ttl: int, fresh: FreshRead
    ) -> str | None:
        rtype = record_type.upper()
        zone = await self._zone(domain)  # found by the read: no second lookup
        # One UPSERT replaces the whole rrset atomically: Route53 applies a change batch all
        # or nothing, so no resolver ever sees the name without an address, and the several
        # values of a multi-value rrset go away in the same change. A DELETE(exact old) +
        # CREATE batch would make Route53 itself check the old values (a true compare-and-set),
        # but moto matches a DELETE against its change journal, not the current rrset, and
        # refuses re-creating a value written before (failover, failback, failover fails), so
        # that form cannot be tested here; the re-read before it is the guard we can prove.
        change = {
            "Action": "UPSERT",
            "ResourceRecordSet": {
                "Name": _fqdn(domain),
                "Type": rtype,
                "TTL": ttl,
                "ResourceRecords": [{"Value": new_value}],
            },
        }
        comment = f"genesis-failover: {_fqdn(domain)} {rtype} {fresh.values} -> {new_value}"[:256]
        return await self._client.call(
            "change_resource_record_sets",
            f"writing {_fqdn(domain)} {rtype} in {zone}",
            lambda r: str(r["ChangeInfo"]["Id"]),
            HostedZoneId=zone.id,
            ChangeBatch={"Comment": comment, "Changes": [change]},
        )

    async def change_is_live(self, change_id: str) -> bool:
        def status(response: dict[str, Any]) -> bool:
            value = response["ChangeInfo"]["Status"]
            if value not in ("PENDING", "INSYNC"):
                raise ValueError(f"a known change status (got {value!r})")
            return bool(value == "INSYNC")

        return await self._client.call(
            "get_change", f"asking for the status of change {change_id}", status, Id=change_id
        )

    # -- zones and record sets ---------------------------------------------------------------

    async def _zone(self, domain: str) -> _Zone:
        """The public hosted zone holding ``domain``: the configured one, else the longest
        parent that Route53 has. Cached per domain and per zone name."""
        key = _fqdn(domain)
        if key in self._zone_of_domain:
            self._last_zone = self._zone_of_domain[key]
            return self._last_zone
        candidates = self.zone_candidates(domain)
        skipped: list[str] = []
        for name in candidates:
            zone = self._zones_by_name.get(name) or await self._find_zone(name, skipped)
            if zone is not None:
                self._zones_by_name[name] = zone
                self._zone_of_domain[key] = self._last_zone = zone
                return zone
        private = f"; private zones skipped: {', '.join(skipped)}" if skipped else ""
        raise DNSNotFoundError(
            f"route53 has no public hosted zone for {key} (tried {', '.join(candidates) or '-'}"
            f"{private})"
        )

    async def _find_zone(self, name: str, skipped: list[str]) -> _Zone | None:
        # ListHostedZonesByName lists zones from DNSName on, in Route53's order: when ours does
        # not exist the next zone comes back, so match Name exactly. A page of 10 rather than 1
        # sees a public/private pair or duplicates of one name in the same call.
        fqdn = name + "."

        def same_name(r: dict[str, Any]) -> tuple[list[dict[str, Any]], bool]:
            zones = [z for z in r["HostedZones"] if str(z["Name"]).lower() == fqdn]
            more = bool(r.get("IsTruncated")) and str(r.get("NextDNSName")).lower() == fqdn
            return zones, more

        named, more = await self._client.call(
            "list_hosted_zones_by_name",
            f"looking for a hosted zone named {name}",
            same_name,
            DNSName=fqdn,
            MaxItems="10",
        )
        # Private zones answer only inside their VPCs: a failover is about what the world
        # resolves (and is verified against public nameservers), so a split-horizon private
        # twin of the public zone must never be the one we write.
        public = [z for z in named if not (z.get("Config") or {}).get("PrivateZone")]
        skipped += [f"{name} ({z['Id']})" for z in named if z not in public]
        if len(public) > 1 or more:
            ids = ", ".join(str(z["Id"]) for z in public) + (", ..." if more else "")
            raise DNSError(
                f"route53 has {len(public)}{'+' if more else ''} public hosted zones named "
                f"{name} ({ids}); refusing "
                "to guess which one the world is delegated to: delete the stray one",
                retryable=False,
            )
        return _Zone(id=str(public[0]["Id"]), name=name) if public else None

    async def _record_set(self, zone: _Zone, domain: str, record_type: str) -> RecordValues | None:
        fqdn, rtype = _fqdn(domain), record_type.upper()

        def parse(response: dict[str, Any]) -> RecordValues | None:
            for rrset in response["ResourceRecordSets"]:
                # Route53 starts the listing AT the name and type: when ours does not exist
                # the next record comes back instead (names lowercase, "*" as \052).
                if _unescape(rrset["Name"]) != fqdn or rrset["Type"] != rtype:
                    return None
                if "AliasTarget" in rrset or "SetIdentifier" in rrset:
                    kind = "an alias record"
                    if "SetIdentifier" in rrset:
                        kind = f"a routing-policy record (SetIdentifier {rrset['SetIdentifier']!r})"
                    raise DNSError(
                        f"{fqdn} {rtype} in route53 {zone} is {kind}; only simple records are "
                        "switched (replacing it would drop its routing)",
                        retryable=False,
                    )
                ttl = rrset.get("TTL")
                values = canonical_values(
                    rtype, [str(rr["Value"]) for rr in rrset["ResourceRecords"]]
                )
                return RecordValues(values=values, ttl=int(ttl) if ttl is not None else None)
            return None

        return await self._client.call(
            "list_resource_record_sets",
            f"reading {fqdn} {rtype} in {zone}",
            parse,
            HostedZoneId=zone.id,
            StartRecordName=fqdn,
            StartRecordType=rtype,
            MaxItems="1",
        )


def _fqdn(domain: str) -> str:
    return domain.strip().rstrip(".").lower() + "."


def _unescape(name: str) -> str:
    return _OCTAL_ESCAPE.sub(lambda m: chr(int(m.group(1), 8)), str(name)).lower()
