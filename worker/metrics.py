"""The worker's Prometheus endpoint: one Temporal SDK ``Runtime`` per metrics address.

The endpoint belongs to the SDK's Runtime (its thread pool serves ``/metrics``), so the SDK's own
metrics (task slots, poll and request latencies, workflow and activity counts) and ours, recorded
through the same Runtime's meters, come out of one scrape.

What the SDK does, and why this module looks the way it does (measured with temporalio 1.35):
- the exporter binds its address when the Runtime is created, and a second Runtime on an address
  still bound fails with ``ValueError("... Address already in use")``;
- a Runtime has no close: the port is released when the Runtime is garbage-collected, which
  happens once no Client (and so no Worker) holds it any more.
So workers of one process (``dev``, tests, benchmarks) share the live Runtime of an address
instead of trying to bind it twice, and nothing here keeps a Runtime alive: this registry holds
weak references only, and when the last worker that used an address stops, its port is free.
"""

from __future__ import annotations

import gc
import logging
import weakref

from temporalio.runtime import PrometheusConfig, Runtime, TelemetryConfig

from genesis.failover.domain.config import MetricsSettings
from genesis.failover.domain.errors import ConfigError
from genesis.failover.domain.metrics import (
    LATENESS_BUCKETS,
    OPERATION_DURATION,
    PROBE_DURATION,
    PROBE_LATENESS,
    PROPAGATION_DURATION,
)

log = logging.getLogger("genesis.failover.worker")

FIELD = "metrics.prometheus_address"

# address -> (the Runtime serving it, the site its global tag names)
_serving: dict[str, tuple[weakref.ref[Runtime], str]] = {}


def metrics_runtime(settings: MetricsSettings, *, site: str) -> Runtime | None:
    """The Runtime that serves ``settings.prometheus_address`` with ``site`` on every metric;
    None when metrics are off (the SDK's default Runtime then serves the client, exporting
    nothing). Raises ConfigError naming the field and the address when it is already taken."""
    address = settings.prometheus_address
    if address is None:
        return None
    runtime = _live(address, site)
    if runtime is None:
        runtime = _bind(settings, address, site)
        _serving[address] = (weakref.ref(runtime), site)
        log.info("metrics on %s", settings.url)
    return runtime


def _live(address: str, site: str) -> Runtime | None:
    ref, serving_site = _serving.get(address, (None, ""))
    runtime = ref() if ref is not None else None
    if runtime is not None and serving_site != site:
        # The site is a global tag of the Runtime: a second site's metrics would carry the first
        # site's name. One process watches one site; two sites need two addresses.
        raise ConfigError(
            f"{FIELD}: {address} already serves the metrics of site {serving_site!r} in this "
            f"process; give site {site!r} its own address",
            field=FIELD,
            value=address,
        )
    return runtime


def _bind(settings: MetricsSettings, address: str, site: str) -> Runtime:
    try:
        return _new_runtime(settings, address, site)
    except ValueError as exc:
        if "in use" not in str(exc):
            raise ConfigError(f"{FIELD}: {address}: {exc}", field=FIELD, value=address) from None
    # Maybe a Runtime of this process that nothing uses any more, still waiting for the cycle
    # collector (a stopped worker's objects can hold each other): collect it and try once more.
    gc.collect()
    try:
        return _new_runtime(settings, address, site)
    except ValueError:
        raise ConfigError(
            f"{FIELD}: {address} is already in use (another process, or another worker of this "
            "one, serves it); choose a free port or stop the other one",
            field=FIELD,
            value=address,
        ) from None


def _new_runtime(settings: MetricsSettings, address: str, site: str) -> Runtime:
    return Runtime(
        telemetry=TelemetryConfig(
            metrics=PrometheusConfig(
                bind_address=address,
                # Prometheus conventions for the SDK's metrics as for ours: counters end in
                # _total, durations are float seconds named *_seconds.
                counters_total_suffix=True,
                unit_suffix=True,
                durations_as_seconds=True,
                histogram_bucket_overrides={
                    PROBE_DURATION.name: list(settings.probe_duration_buckets),
                    PROBE_LATENESS.name: list(LATENESS_BUCKETS),
                    PROPAGATION_DURATION.name: list(settings.propagation_buckets),
                    OPERATION_DURATION.name: list(settings.operation_duration_buckets),
                },
            ),
            global_tags={"site": site},
        )
    )
