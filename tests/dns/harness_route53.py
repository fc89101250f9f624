"""The Route53 harness: ``Route53Provider`` -> fault proxy -> moto's server (a separate process).

One moto server serves the session (it takes about a second to start); each test resets it and
creates a fresh public hosted zone "example.test". The provider talks to moto through a
``FaultProxy`` that forwards requests unchanged unless a fault is injected, verifies each
request's SigV4 signature against the session's random dummy credentials (moto cannot check them for
Route53 reads; see ``SigV4Checker``), counts ChangeResourceRecordSets as writes and can make
GetChange say PENDING (moto says INSYNC at once; real Route53 says PENDING for up to ~60 s).
``seed`` and ``current`` use a separate boto3 client straight to moto, never the proxy.
"""

from __future__ import annotations

import asyncio
import functools
import re
import secrets
import string
import uuid
from collections.abc import AsyncIterator
from typing import Any

import boto3
import botocore.config
import pytest

from genesis.failover.domain.config import Route53Settings
from genesis.failover.domain.dns import RecordValues
from genesis.failover.domain.dns.route53 import Route53Provider
from tests.dns.harness import Fault
from tests.emulators.fault_proxy import FaultProxy, Request, SigV4Checker
from tests.emulators.moto_server import MotoServer, shared_moto_server

__all__ = ["PROVIDER_TIMEOUT", "REGION", "Route53Harness", "route53_harness"]

REGION = "us-east-1"
#: Short, so a timeout fault (the proxy stays silent for 2.5 s) costs about a second.
PROVIDER_TIMEOUT = 1.0


def _is_write(request: Request) -> bool:
    return request.method == "POST" and request.route.rstrip("/").endswith("/rrset")


def _is_get_change(request: Request) -> bool:
    return request.method == "GET" and "/change/" in request.route


# botocore sessions and clients are heavy (tens of ms and tens of thousands of objects each, left
# to the cyclic garbage collector): tests share one session per credentials and one out-of-band
# client per moto server. Isolation comes from moto's reset, not from new credentials.
@functools.cache
def _session(key_id: str, secret: str) -> boto3.session.Session:
    return boto3.session.Session(
        aws_access_key_id=key_id, aws_secret_access_key=secret, region_name=REGION
    )


@functools.cache
def _direct_client(moto_url: str) -> Any:
    return _session(*_credentials()).client(
        "route53",
        endpoint_url=moto_url,
        config=botocore.config.Config(retries={"total_max_attempts": 1}),
    )


@functools.cache
def _credentials() -> tuple[str, str]:
    """Random dummy credentials for this test session (never the machine's own)."""
    return _random_key_id(), secrets.token_urlsafe(30)


def _random_key_id() -> str:
    return "AKIA" + "".join(secrets.choice(string.ascii_uppercase + "234567") for _ in range(16))


class Route53Harness:
    name = "route53"
    zone = "example.test"

    def __init__(self, moto: MotoServer, proxy: FaultProxy, access_key_id: str, secret: str):
        self.moto = moto
        self.proxy = proxy
        self.access_key_id = access_key_id
        self.secret = secret  # the AWS secret access key: never in a message or a log line
        self._providers: list[Route53Provider] = []
        # Out of band: straight to moto, so seeding is never counted, faulted or proxied.
        self.direct = _direct_client(moto.url)
        self.zone_id = self.create_zone(self.zone)

    # -- the ProviderHarness protocol --------------------------------------------------------

    def session(
        self, *, secret: str | None = None, key_id: str | None = None
    ) -> boto3.session.Session:
        """A boto3 session holding these credentials: the machine's own are never used."""
        return _session(key_id or self.access_key_id, secret or self.secret)

    def settings(self, **changes: Any) -> Route53Settings:
        fields: dict[str, Any] = {
            "endpoint_url": self.proxy.url,
            "region": REGION,
            "timeout_seconds": PROVIDER_TIMEOUT,
        }
        return Route53Settings(**(fields | changes))

    def provider(
        self, session: boto3.session.Session | None = None, **changes: Any
    ) -> Route53Provider:
        return self._keep(
            Route53Provider(self.settings(**changes), session=session or self.session())
        )

    def provider_with_bad_credentials(self) -> Route53Provider:
        # An access key id AWS has never issued: Route53 answers 403 InvalidClientTokenId.
        session = self.session(key_id=_random_key_id(), secret=secrets.token_urlsafe(30))
        return self._keep(Route53Provider(self.settings(), session=session))

    async def seed(
        self, name: str, record_type: str, values: list[str], ttl: int = 300, **extra: Any
    ) -> None:
        """UPSERT the rrset straight into moto. ``extra``: ``alias_target`` (an AliasTarget
        dict, replacing values and TTL), ``set_identifier`` + ``weight`` (a weighted record);
        ``proxied=False`` is accepted (and means nothing here)."""
        rrset: dict[str, Any] = {"Name": _fqdn(name), "Type": record_type.upper()}
        if extra.get("proxied"):
            raise ValueError("Route53 has no proxied records")
        if "alias_target" in extra:
            rrset["AliasTarget"] = extra["alias_target"]
        else:
            rrset |= {"TTL": ttl, "ResourceRecords": [{"Value": v} for v in values]}
        if "set_identifier" in extra:
            rrset |= {"SetIdentifier": extra["set_identifier"], "Weight": extra.get("weight", 1)}
        unknown = set(extra) - {"alias_target", "set_identifier", "weight", "proxied"}
        if unknown:
            raise TypeError(f"route53 harness: unknown seed options {sorted(unknown)}")
        await asyncio.to_thread(
            self.direct.change_resource_record_sets,
            HostedZoneId=self.zone_id,
            ChangeBatch={"Changes": [{"Action": "UPSERT", "ResourceRecordSet": rrset}]},
        )

    async def current(self, name: str, record_type: str) -> RecordValues | None:
        fqdn, rtype = _fqdn(name), record_type.upper()
        response = await asyncio.to_thread(
            self.direct.list_resource_record_sets,
            HostedZoneId=self.zone_id,
            StartRecordName=fqdn,
            StartRecordType=rtype,
            MaxItems="1",
        )
        for rrset in response["ResourceRecordSets"]:
            name_found = re.sub(r"\\(\d{3})", lambda m: chr(int(m[1], 8)), rrset["Name"])
            if name_found.lower() == fqdn and rrset["Type"] == rtype:
                values = sorted(rr["Value"] for rr in rrset.get("ResourceRecords", []))
                return RecordValues(values=values, ttl=rrset.get("TTL"))
        return None

    def writes(self) -> int:
        return self.proxy.writes()

    def inject(self, fault: Fault, *, count: int = 1, retry_after: float | None = None) -> None:
        self.proxy.inject(fault, count=count, retry_after=retry_after)

    def config(self) -> tuple[dict[str, Any], dict[str, str]]:
        section = {
            "endpoint_url": self.proxy.url,
            "region": REGION,
            "timeout_seconds": PROVIDER_TIMEOUT,
        }
        environ = {
            "AWS_ACCESS_KEY_ID": self.access_key_id,
            "AWS_SECRET_ACCESS_KEY": self.secret,
            "AWS_DEFAULT_REGION": REGION,
        }
        return {"route53": section}, environ

    # -- Route53 specifics -------------------------------------------------------------------

    def pending_changes(self, count: int) -> None:
        """The next ``count`` GetChange answers say PENDING, as real Route53 does for a while."""
        self.proxy.rewrite(
            _is_get_change, lambda body: body.replace(b"INSYNC", b"PENDING"), count=count
        )

    def create_zone(self, name: str, *, private_vpc: str | None = None) -> str:
        """A hosted zone straight in moto (two of the same name are allowed, as on AWS)."""
        params: dict[str, Any] = {"Name": name, "CallerReference": str(uuid.uuid4())}
        if private_vpc:
            params |= {
                "VPC": {"VPCRegion": REGION, "VPCId": private_vpc},
                "HostedZoneConfig": {"PrivateZone": True, "Comment": "private twin"},
            }
        return str(self.direct.create_hosted_zone(**params)["HostedZone"]["Id"])

    def requests_to(self, operation_path: str) -> list[Request]:
        """Requests the proxy received whose path contains ``operation_path``."""
        return self.proxy.seen(lambda r: operation_path in r.route)

    async def aclose(self) -> None:
        for provider in self._providers:
            await provider.aclose()

    def _keep(self, provider: Route53Provider) -> Route53Provider:
        self._providers.append(provider)
        return provider


def _fqdn(name: str) -> str:
    return name.strip().rstrip(".").lower() + "."


@pytest.fixture
async def route53_harness(pytestconfig: pytest.Config) -> AsyncIterator[Route53Harness]:
    """moto reset, a fresh "example.test" hosted zone and a fresh proxy for each test."""
    moto = shared_moto_server(pytestconfig)
    await asyncio.to_thread(moto.reset)
    key_id, secret = _credentials()
    proxy = FaultProxy(
        moto.url,
        is_write=_is_write,
        check_auth=SigV4Checker(key_id, secret),
        hang_seconds=PROVIDER_TIMEOUT + 1.5,
    )
    with proxy:
        harness = await asyncio.to_thread(Route53Harness, moto, proxy, key_id, secret)
        try:
            yield harness
        finally:
            await harness.aclose()
