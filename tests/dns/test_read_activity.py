"""The read_record activity on every provider's real server: where a record points when the
monitor starts. It reads and never writes; what a retry cannot fix comes back as data (the
monitor then knows it could not tell), what a retry can fix is raised for Temporal to retry."""

from __future__ import annotations

import pytest
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from activities.dns import DnsActivities
from activities.payloads import ReadRecordInput, RecordReading
from genesis.failover.domain.models import RecordRef
from tests.dns.harness import ProviderHarness

pytestmark = pytest.mark.integration

PRIMARY, BACKUP = "192.0.2.10", "198.51.100.10"
WWW = "www.example.test"


async def read(activities: DnsActivities, domain: str, record_type: str = "A") -> RecordReading:
    record = RecordRef(domain=domain, record_type=record_type)  # type: ignore[arg-type]
    return await ActivityEnvironment().run(activities.read_record, ReadRecordInput(record=record))


async def test_a_record_on_the_primary_reads_the_primary_and_writes_nothing(
    harness: ProviderHarness,
) -> None:
    await harness.seed(WWW, "A", [PRIMARY], ttl=600)
    reading = await read(DnsActivities(harness.provider()), WWW)
    assert reading == RecordReading(
        domain=WWW, record_type="A", provider=harness.name, values=[PRIMARY], ttl=600
    )
    assert harness.writes() == 0


async def test_a_record_that_is_not_there_is_an_error_without_values(
    harness: ProviderHarness,
) -> None:
    await harness.seed(WWW, "A", [PRIMARY])
    reading = await read(DnsActivities(harness.provider()), "nope.example.test")
    assert reading.values == [] and reading.ttl is None
    assert reading.error is not None and "nope.example.test" in reading.error
    assert harness.writes() == 0


async def test_an_ipv6_record_reads_in_canonical_text(harness: ProviderHarness) -> None:
    await harness.seed("v6.example.test", "AAAA", ["2001:db8::20", "2001:db8::1f"])
    reading = await read(DnsActivities(harness.provider()), "v6.example.test", "AAAA")
    assert reading.values == ["2001:db8::1f", "2001:db8::20"] and reading.error is None


async def test_rejected_credentials_are_an_error_as_data_without_the_secret(
    harness: ProviderHarness,
) -> None:
    await harness.seed(WWW, "A", [BACKUP])
    bad = harness.provider_with_bad_credentials()
    reading = await read(DnsActivities(bad), WWW)
    assert reading.values == [] and reading.error is not None
    assert harness.name in reading.error and harness.secret not in reading.error
    await bad.aclose()


async def test_a_server_error_is_raised_for_temporal_to_retry(
    http_harness: ProviderHarness,
) -> None:
    await http_harness.seed(WWW, "A", [PRIMARY])
    activities = DnsActivities(http_harness.provider())
    http_harness.inject("server_error")
    with pytest.raises(ApplicationError) as caught:
        await read(activities, WWW)
    assert not caught.value.non_retryable
    assert (await read(activities, WWW)).values == [PRIMARY]  # what the retry reads
    assert http_harness.writes() == 0
