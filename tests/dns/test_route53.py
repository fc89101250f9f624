"""What only Route53 does: hosted zones found by name, record listings that start AT a name,
change ids that go PENDING -> INSYNC, the AWS credential chain, and boto3 kept off the event loop.

The generic switch, conflict and fault behaviour is in the shared contract and fault suites.
Here: provider -> FaultProxy (SigV4 checked, faults on demand) -> moto's server.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from typing import Any
from urllib.parse import parse_qs, urlsplit

import boto3
import botocore.credentials
import botocore.session
import pytest

from genesis.failover.domain.dns.route53 import Route53Provider
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
from tests.dns import harness_route53
from tests.dns.harness_route53 import REGION, Route53Harness
from tests.emulators.fault_proxy import Answer, aws_error

route53_harness = harness_route53.route53_harness  # the fixture, for this module

WWW = "www.example.test"
OLD, NEW = "192.0.2.10", "198.51.100.10"


NEXT_ZONE_ANSWER = (
    b'<?xml version="1.0"?>\n<ListHostedZonesByNameResponse '
    b'xmlns="https://route53.amazonaws.com/doc/2013-04-01/"><HostedZones><HostedZone>'
    b"<Id>/hostedzone/Z0NEXTZONE0000</Id><Name>www2.example.test.</Name>"
    b"<CallerReference>x</CallerReference><Config><PrivateZone>false</PrivateZone></Config>"
    b"<ResourceRecordSetCount>2</ResourceRecordSetCount></HostedZone></HostedZones>"
    b"<DNSName>www.example.test.</DNSName><IsTruncated>false</IsTruncated>"
    b"<MaxItems>10</MaxItems></ListHostedZonesByNameResponse>"
)


def zone_lookups(harness: Route53Harness) -> list[str]:
    """The DNSName of every ListHostedZonesByName the provider sent, in order."""
    return [
        parse_qs(urlsplit(r.path).query)["dnsname"][0]
        for r in harness.requests_to("/hostedzonesbyname")
    ]


async def test_zone_is_found_among_parents_longest_first_and_cached(
    route53_harness: Route53Harness,
) -> None:
    await route53_harness.seed(WWW, "A", [OLD])
    await route53_harness.seed("api.example.test", "A", [NEW])
    provider = route53_harness.provider()
    # Asked for a name it has no zone for, Route53 lists the zones after it (moto lists none):
    # answer the first lookup the way Route53 does.
    route53_harness.proxy.respond(Answer(200, NEXT_ZONE_ANSWER, {"Content-Type": "text/xml"}))
    assert (await provider.read_record(WWW, "A")).values == [OLD]
    # www.example.test is tried first (www2.example.test is not it), then its parent. The
    # second read asks for no zone at all.
    assert zone_lookups(route53_harness) == ["www.example.test.", "example.test."]
    assert (await provider.read_record(WWW, "A")).values == [OLD]
    assert zone_lookups(route53_harness) == ["www.example.test.", "example.test."]
    # A sibling only checks its own name; example.test's id is already known.
    assert (await provider.read_record("api.example.test", "A")).values == [NEW]
    assert zone_lookups(route53_harness)[2:] == ["api.example.test."]
    assert provider.where.startswith("route53 hosted zone example.test (")


async def test_a_configured_zone_is_looked_up_once_for_two_reads(
    route53_harness: Route53Harness,
) -> None:
    await route53_harness.seed(WWW, "A", [OLD])
    provider = route53_harness.provider()
    provider.zones = ["example.test"]
    await provider.read_record(WWW, "A")
    await provider.read_record(WWW, "A")
    assert zone_lookups(route53_harness) == ["example.test."]


async def test_unknown_zone_is_not_found_naming_what_was_tried(
    route53_harness: Route53Harness,
) -> None:
    with pytest.raises(
        DNSNotFoundError, match=r"no public hosted zone.*www\.other\.test, other\.test"
    ):
        await route53_harness.provider().read_record("www.other.test", "A")


async def test_the_next_record_in_the_listing_is_not_taken_for_ours(
    route53_harness: Route53Harness,
) -> None:
    # ListResourceRecordSets starts AT www.example.test A; with no such rrset, Route53 returns
    # the one after it instead of nothing: another name, or the same name's next type.
    def first_listed() -> tuple[str, str]:
        listed = route53_harness.direct.list_resource_record_sets(
            HostedZoneId=route53_harness.zone_id,
            StartRecordName=WWW,
            StartRecordType="A",
            MaxItems="1",
        )["ResourceRecordSets"][0]
        return listed["Name"], listed["Type"]

    provider = route53_harness.provider()
    await route53_harness.seed("www2.example.test", "A", [OLD])
    assert first_listed() == ("www2.example.test.", "A")  # the trap is real
    with pytest.raises(DNSNotFoundError, match=r"www\.example\.test\. has no A record"):
        await provider.read_record(WWW, "A")
    await route53_harness.seed(WWW, "AAAA", ["2001:db8::1"])
    assert first_listed() == ("www.example.test.", "AAAA")
    with pytest.raises(DNSNotFoundError, match=r"www\.example\.test\. has no A record"):
        await provider.read_record(WWW, "A")
    assert (await provider.read_record(WWW, "AAAA")).values == ["2001:db8::1"]


async def test_wildcard_and_upper_case_names_are_read(route53_harness: Route53Harness) -> None:
    await route53_harness.seed("*.example.test", "A", [OLD])
    provider = route53_harness.provider()
    assert (await provider.read_record("*.Example.TEST.", "A")).values == [OLD]


async def test_change_id_is_returned_and_live_only_once_insync(
    route53_harness: Route53Harness,
) -> None:
    await route53_harness.seed(WWW, "A", [OLD])
    provider = route53_harness.provider()
    result = await provider.switch_record(WWW, "A", OLD, NEW)
    assert result.action == "switched" and result.change_id
    assert result.change_id.startswith("/change/")
    route53_harness.pending_changes(2)  # as real Route53 says for up to ~60 s
    assert await provider.change_is_live(result.change_id) is False
    assert await provider.change_is_live(result.change_id) is False
    assert await provider.change_is_live(result.change_id) is True
    assert len(route53_harness.requests_to("/change/")) == 3


async def test_the_write_is_one_upsert_batch_naming_genesis(
    route53_harness: Route53Harness,
) -> None:
    await route53_harness.seed(WWW, "A", [OLD, "192.0.2.11"], ttl=120)
    await route53_harness.provider().switch_record(WWW, "A", OLD, NEW, force=True)
    (write,) = route53_harness.proxy.seen(lambda r: r.method == "POST")
    body = write.body.decode()
    assert body.count("<Change>") == 1 and "<Action>UPSERT</Action>" in body
    assert "<Comment>genesis-failover: www.example.test. A" in body
    current = await route53_harness.current(WWW, "A")
    assert current is not None and (current.values, current.ttl) == ([NEW], 120)


async def test_a_record_changed_since_the_read_is_a_conflict_and_not_written(
    route53_harness: Route53Harness,
) -> None:
    await route53_harness.seed(WWW, "A", ["203.0.113.7"])
    with pytest.raises(DNSConflictError, match=r"changed to \['203\.0\.113\.7'\]") as caught:
        # The re-read right before the write: what the provider read before is stale now.
        await route53_harness.provider()._replace(WWW, "A", [OLD], NEW, 300)
    assert caught.value.current == ["203.0.113.7"]
    assert route53_harness.writes() == 0


async def test_endpoint_from_aws_endpoint_url_route_53(
    route53_harness: Route53Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    for var in ("AWS_ENDPOINT_URL", "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("AWS_ENDPOINT_URL_ROUTE_53", route53_harness.proxy.url)
    await route53_harness.seed(WWW, "A", [OLD])
    provider = route53_harness.provider(endpoint_url=None)
    assert (await provider.read_record(WWW, "A")).values == [OLD]
    assert route53_harness.requests_to("/rrset")  # it went through the proxy


@pytest.mark.parametrize(
    ("extra", "kind"),
    [
        (
            {
                "alias_target": {
                    "HostedZoneId": "Z2FDTNDATAQYW2",
                    "DNSName": "lb.example.net.",
                    "EvaluateTargetHealth": False,
                }
            },
            "an alias record",
        ),
        ({"set_identifier": "primary", "weight": 100}, "a routing-policy record"),
    ],
)
async def test_alias_and_routing_policy_records_are_refused(
    route53_harness: Route53Harness, extra: dict[str, Any], kind: str
) -> None:
    await route53_harness.seed(WWW, "A", [OLD], **extra)
    provider = route53_harness.provider()
    with pytest.raises(DNSError, match=f"{kind}.*only simple records") as caught:
        await provider.switch_record(WWW, "A", OLD, NEW)
    assert type(caught.value) is DNSError and not caught.value.retryable
    assert route53_harness.writes() == 0


async def test_two_public_zones_of_one_name_are_refused_naming_both(
    route53_harness: Route53Harness,
) -> None:
    twin = route53_harness.create_zone("example.test")
    with pytest.raises(DNSError, match="2 public hosted zones named example.test") as caught:
        await route53_harness.provider().read_record(WWW, "A")
    assert twin in str(caught.value) and route53_harness.zone_id in str(caught.value)
    assert not caught.value.retryable


async def test_a_private_twin_zone_is_skipped(route53_harness: Route53Harness) -> None:
    # Split horizon: the VPC-internal zone must never be the one a public failover edits.
    private = route53_harness.create_zone("example.test", private_vpc="vpc-12345678")
    route53_harness.direct.change_resource_record_sets(
        HostedZoneId=private,
        ChangeBatch={
            "Changes": [
                {
                    "Action": "UPSERT",
                    "ResourceRecordSet": {
                        "Name": WWW,
                        "Type": "A",
                        "TTL": 60,
                        "ResourceRecords": [{"Value": "10.0.0.1"}],
                    },
                }
            ]
        },
    )
    await route53_harness.seed(WWW, "A", [OLD])
    assert (await route53_harness.provider().read_record(WWW, "A")).values == [OLD]


async def test_no_credentials_anywhere_is_an_auth_error(route53_harness: Route53Harness) -> None:
    # An empty credential chain: not the environment, not ~/.aws, not an instance role.
    core = botocore.session.Session()
    core.register_component("credential_provider", botocore.credentials.CredentialResolver([]))
    session = boto3.session.Session(botocore_session=core, region_name=REGION)
    provider = route53_harness.provider(session=session)
    with pytest.raises(DNSAuthError, match="no AWS credentials found in the usual chain"):
        await provider.read_record(WWW, "A")
    assert route53_harness.proxy.requests == []  # nothing unsigned left the process


@pytest.mark.parametrize("wrong", ["key", "secret"])
async def test_rejected_credentials_are_an_auth_error(
    route53_harness: Route53Harness, wrong: str
) -> None:
    if wrong == "key":
        provider, code = route53_harness.provider_with_bad_credentials(), "InvalidClientTokenId"
    else:
        session = route53_harness.session(secret="not-" + route53_harness.secret[4:])
        provider, code = route53_harness.provider(session=session), "SignatureDoesNotMatch"
    with pytest.raises(
        DNSAuthError, match=f"route53 rejected the AWS credentials \\({code}, HTTP 403"
    ):
        await provider.read_record(WWW, "A")


@pytest.mark.parametrize(
    ("answer", "error", "text"),
    [
        (
            aws_error(
                400,
                "PriorRequestNotComplete",
                "The request was rejected because Route 53 was still processing a prior request.",
            ),
            DNSRateLimitedError,
            "throttling",
        ),
        (
            aws_error(
                400,
                "Throttling",
                "Rate exceeded",
                headers={"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"},
            ),
            DNSRateLimitedError,
            "Rate exceeded",
        ),
        (
            aws_error(503, "ServiceUnavailable", "Service Unavailable"),
            DNSTransientError,
            "HTTP 503",
        ),
        (
            aws_error(
                403,
                "AccessDenied",
                "User: x is not authorized to perform: route53:ListResourceRecordSets",
            ),
            DNSAuthError,
            "not authorized",
        ),
        (
            aws_error(
                400,
                "InvalidChangeBatch",
                "[Tried to delete resource record set "
                "[name='www.example.test.', type='A'] but the values provided do not match "
                "the current values]",
            ),
            DNSConflictError,
            "changed since it was read",
        ),
        (
            aws_error(
                400,
                "InvalidChangeBatch",
                "[Invalid Resource Record: 'FATAL problem: ARRDATAIllegalIPv4Address']",
            ),
            DNSError,
            "ARRDATAIllegalIPv4Address",
        ),
        (
            aws_error(400, "InvalidInput", "Invalid XML ; cvc-pattern-valid"),
            DNSError,
            "cvc-pattern-valid",
        ),
        (
            Answer(200, b"<?xml version='1.0'?><ListResourceRecordSetsResponse/>"),
            DNSBadResponseError,
            "without",
        ),
        (
            Answer(502, b"<html>bad gateway</html>", {"Content-Type": "text/html"}),
            DNSTransientError,
            "HTTP 502",
        ),
    ],
)
async def test_aws_errors_map_to_the_domain_tree(
    route53_harness: Route53Harness, answer: Answer, error: type[DNSError], text: str
) -> None:
    await route53_harness.seed(WWW, "A", [OLD])
    provider = route53_harness.provider()
    provider.zones = ["example.test"]
    await provider.read_record(WWW, "A")  # zone known: the next request is the record read
    route53_harness.proxy.respond(answer)
    with pytest.raises(DNSError, match=text) as caught:
        await provider.read_record(WWW, "A")
    assert type(caught.value) is error
    assert caught.value.retryable == (
        error in (DNSRateLimitedError, DNSTransientError, DNSBadResponseError)
    )
    if isinstance(caught.value, DNSRateLimitedError) and "Retry-After" in answer.headers:
        assert caught.value.retry_after == 0.0  # an HTTP-date in the past


async def test_boto3_calls_do_not_block_the_event_loop(route53_harness: Route53Harness) -> None:
    await route53_harness.seed(WWW, "A", [OLD])
    provider = route53_harness.provider()
    provider.zones = ["example.test"]
    await provider.read_record(WWW, "A")
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.01)
            ticks += 1

    task = asyncio.create_task(ticker())
    route53_harness.proxy.slow(0.5)
    started = time.monotonic()
    try:
        assert (await provider.read_record(WWW, "A")).values == [OLD]
    finally:
        task.cancel()
    assert time.monotonic() - started >= 0.5
    assert ticks >= 20  # ~50 expected; a blocked loop would tick once or not at all


async def test_the_secret_key_is_in_no_error_or_log_line(
    route53_harness: Route53Harness, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)  # botocore's own debug logging included
    secret = route53_harness.secret
    await route53_harness.seed(WWW, "A", [OLD])
    provider = route53_harness.provider()
    messages = [repr(await provider.switch_record(WWW, "A", OLD, NEW))]
    wrong_secret = route53_harness.session(secret=secret[::-1])
    failing: list[tuple[Route53Provider, str | None]] = [
        (route53_harness.provider_with_bad_credentials(), None),
        (route53_harness.provider(session=wrong_secret), None),
    ]
    failing += [(provider, fault) for fault in ("unauthorized", "rate_limited", "malformed")]
    for each, fault in failing:
        if fault:
            route53_harness.inject(fault)  # type: ignore[arg-type]
        with pytest.raises(DNSError) as caught:
            await each.switch_record(WWW, "A", NEW, OLD)
        messages += [str(caught.value), repr(caught.value), str(caught.value.__cause__)]
    for text in [*messages, caplog.text]:
        assert secret not in text and secret[::-1] not in text


async def test_the_session_token_aws_quotes_for_a_bad_signature_is_not_repeated(
    route53_harness: Route53Harness,
) -> None:
    # AWS's SignatureDoesNotMatch message quotes the canonical request, signed headers and
    # all: with temporary credentials that is the X-Amz-Security-Token.
    token = "FwoGZXIvYXdzE" + secrets.token_urlsafe(40)
    session = boto3.session.Session(
        aws_access_key_id=route53_harness.access_key_id,
        aws_secret_access_key="wrong-" + secrets.token_hex(8),
        aws_session_token=token,
        region_name=REGION,
    )
    provider = route53_harness.provider(session=session)
    with pytest.raises(DNSAuthError, match="SignatureDoesNotMatch") as caught:
        await provider.read_record(WWW, "A")
    (answer,) = route53_harness.requests_to("/hostedzonesbyname")
    assert answer.headers["X-Amz-Security-Token"] == token  # it was signed and sent
    assert caught.value.__cause__ is None  # Temporal would record a cause in history
    assert token not in str(caught.value) and token not in repr(caught.value)
    assert "Canonical String" not in str(caught.value)


async def test_from_settings_takes_credentials_from_the_environment_it_is_given(
    route53_harness: Route53Harness,
) -> None:
    sections, environ = route53_harness.config()
    await route53_harness.seed(WWW, "A", [OLD])
    settings = route53_harness.settings(**sections["route53"])
    provider = Route53Provider.from_settings(settings, environ)
    try:
        assert (await provider.read_record(WWW, "A")).values == [OLD]
    finally:
        await provider.aclose()
    half = {"AWS_ACCESS_KEY_ID": environ["AWS_ACCESS_KEY_ID"]}
    with pytest.raises(ConfigError, match="AWS_SECRET_ACCESS_KEY") as caught:
        Route53Provider.from_settings(settings, half)
    assert caught.value.value == "AWS_SECRET_ACCESS_KEY"
