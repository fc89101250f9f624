"""``[metrics]``: where the worker serves Prometheus metrics, and the histograms' buckets.

Off unless ``prometheus_address`` is set: an endpoint nobody asked for is a port some other
service on the host may have wanted.
"""

from __future__ import annotations

import ipaddress

from pydantic import Field, field_validator

from genesis.failover.domain.addresses import split_host_port
from genesis.failover.domain.config.base import StrictModel
from genesis.failover.domain.metrics import OPERATION_BUCKETS, PROBE_BUCKETS, PROPAGATION_BUCKETS

_ADDRESS_RULE = (
    "must be IP:port, e.g. 127.0.0.1:9464, 0.0.0.0:9464 or [::]:9464 (an IP address, not a "
    "host name, and a port 1-65535)"
)


def _check_bind_address(value: str) -> str:
    """The SDK's exporter parses a socket address: a host name or a missing port would only
    fail when the worker starts, with a message that names neither the field nor the key."""
    try:
        host, port = split_host_port(value, default_port=0)
        ipaddress.ip_address(host)
    except ValueError:
        raise ValueError(_ADDRESS_RULE) from None
    if port == 0:
        raise ValueError(_ADDRESS_RULE)
    return value


def _check_buckets(value: tuple[float, ...]) -> tuple[float, ...]:
    if any(b <= 0 for b in value):
        raise ValueError("bucket bounds must be positive seconds")
    if any(a >= b for a, b in zip(value, value[1:], strict=False)):
        raise ValueError("bucket bounds must increase")
    return value


class MetricsSettings(StrictModel):
    # e.g. "127.0.0.1:9464" (this host only) or "0.0.0.0:9464" (what Prometheus scrapes);
    # the worker then serves http://<address>/metrics. None: no metrics endpoint.
    prometheus_address: str | None = None
    # Upper bounds (seconds) of the histograms' buckets.
    probe_duration_buckets: tuple[float, ...] = Field(PROBE_BUCKETS, min_length=1)
    propagation_buckets: tuple[float, ...] = Field(PROPAGATION_BUCKETS, min_length=1)
    operation_duration_buckets: tuple[float, ...] = Field(OPERATION_BUCKETS, min_length=1)

    @field_validator("prometheus_address")
    @classmethod
    def _address(cls, v: str | None) -> str | None:
        return None if v is None else _check_bind_address(v)

    @field_validator("probe_duration_buckets", "propagation_buckets", "operation_duration_buckets")
    @classmethod
    def _buckets(cls, v: tuple[float, ...]) -> tuple[float, ...]:
        return _check_buckets(v)

    @property
    def enabled(self) -> bool:
        return self.prometheus_address is not None

    @property
    def url(self) -> str | None:
        return f"http://{self.prometheus_address}/metrics" if self.prometheus_address else None
