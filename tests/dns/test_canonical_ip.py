"""One canonical text per IP address: what makes a record "already at target" whichever way the
config, the operator or the provider wrote the address."""

from __future__ import annotations

import pytest

from genesis.failover.domain.addresses import canonical_ip, canonical_ip_or_value
from genesis.failover.domain.dns.base import canonical_values, normalize_value
from genesis.failover.domain.errors import ConfigError


@pytest.mark.parametrize(
    ("written", "canonical"),
    [
        ("192.0.2.10", "192.0.2.10"),
        (" 192.0.2.10\n", "192.0.2.10"),
        ("2001:DB8:0:0::20", "2001:db8::20"),
        ("2001:0db8::0020", "2001:db8::20"),
        ("::ffff:192.0.2.1", "::ffff:c000:201"),
    ],
)
def test_one_address_written_many_ways_has_one_canonical_text(written: str, canonical: str) -> None:
    assert canonical_ip(written) == canonical
    assert canonical_ip_or_value(written) == canonical


@pytest.mark.parametrize("text", ["1.2.3", "192.0.2.256", "www.example.test", "", "01.2.3.4"])
def test_what_is_no_address_is_refused_or_left_as_it_is(text: str) -> None:
    with pytest.raises(ValueError):
        canonical_ip(text)
    assert canonical_ip_or_value(text) == text


def test_a_zone_reads_addresses_canonical_and_anything_else_as_it_is() -> None:
    assert canonical_values("AAAA", ["2001:DB8::2", "2001:db8::1"]) == [
        "2001:db8::1",
        "2001:db8::2",
    ]
    assert canonical_values("A", ["not-an-address", "192.0.2.1"]) == ["192.0.2.1", "not-an-address"]
    assert canonical_values("CNAME", ["B.example.test.", "a.example.test."]) == [
        "B.example.test.",
        "a.example.test.",
    ]


def test_a_value_to_write_must_be_an_address_of_the_record_family() -> None:
    assert normalize_value("AAAA", "2001:DB8::1") == "2001:db8::1"
    with pytest.raises(ConfigError, match="not an IP address"):
        normalize_value("A", "1.2.3", what="to_value")
    with pytest.raises(ConfigError, match="IPv6 address; a A record needs IPv4"):
        normalize_value("A", "2001:db8::1")
    assert normalize_value("TXT", " as is ") == " as is "
