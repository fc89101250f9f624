"""The [metrics] section: off unless an address is given, the address checked at load time
with an error naming the field and the value, the buckets checked too."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from genesis.failover.domain.config import MetricsSettings, load_config, parse_config
from genesis.failover.domain.errors import ConfigError
from genesis.failover.domain.metrics import PROBE_BUCKETS

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def config_with(metrics: dict[str, Any] | None) -> dict[str, Any]:
    data: dict[str, Any] = {
        "site": {"name": "genesis", "primary_ip": "1.2.3.4", "backup_ip": "5.6.7.8"},
        "checks": [{"name": "api", "type": "tcp", "target": "127.0.0.1:8080"}],
        "dns": {
            "provider": "rfc2136",
            "records": [{"domain": "genesis.example.com"}],
            "rfc2136": {
                "server": "127.0.0.1:53",
                "zone": "example.com",
                "tsig_key_name": "ddns-key",
                "tsig_secret_env": "GENESIS_TSIG_SECRET",
            },
        },
    }
    if metrics is not None:
        data["metrics"] = metrics
    return data


def test_metrics_are_off_unless_an_address_is_given() -> None:
    metrics = parse_config(config_with(None)).metrics
    assert metrics == MetricsSettings()
    assert metrics.prometheus_address is None and metrics.url is None and not metrics.enabled
    assert metrics.probe_duration_buckets == PROBE_BUCKETS


@pytest.mark.parametrize(
    "address", ["127.0.0.1:9464", "0.0.0.0:9464", "[::]:9464", "[::1]:65535", "10.0.0.7:1"]
)
def test_an_ip_and_port_is_accepted(address: str) -> None:
    metrics = parse_config(config_with({"prometheus_address": address})).metrics
    assert metrics.enabled and metrics.url == f"http://{address}/metrics"


@pytest.mark.parametrize(
    "address",
    [
        "localhost:9464",  # a host name: the exporter binds an address
        "127.0.0.1",  # no port
        "::1",  # no port either
        "127.0.0.1:0",  # a random port nobody could scrape
        "127.0.0.1:70000",
        "1.2.3.999:9464",
        "http://127.0.0.1:9464/metrics",  # the URL, not the address
        "",
    ],
)
def test_a_bad_address_names_the_field_and_the_value(address: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_config(config_with({"prometheus_address": address}))
    assert caught.value.field == "metrics.prometheus_address"
    assert caught.value.value == address
    assert "metrics.prometheus_address" in str(caught.value)
    assert repr(address) in str(caught.value)
    assert "IP:port" in str(caught.value)


def test_unknown_keys_are_rejected() -> None:
    with pytest.raises(ConfigError, match=r"metrics\.prometheus_port: unknown key"):
        parse_config(config_with({"prometheus_port": 9464}))


@pytest.mark.parametrize("buckets", [[1, 0.5], [0, 1], [1, 1], []])
def test_buckets_are_positive_and_increase(buckets: list[float]) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_config(config_with({"propagation_buckets": buckets}))
    assert caught.value.field == "metrics.propagation_buckets"


def test_the_production_example_serves_metrics() -> None:
    metrics = load_config(EXAMPLES / "production.toml").metrics
    assert metrics.prometheus_address == "0.0.0.0:9464"
    assert metrics.propagation_buckets[-1] == 300
