"""The catalogue of our Prometheus metrics: names, help texts, label names and default buckets.

Plain data, so the activities and the monitor workflow (which record), the worker (which sets
the histogram buckets) and docs/metrics.md agree on one spelling. Recording happens through the
Temporal SDK's meters (``activity.metric_meter()``, ``workflow.metric_meter()``), so our metrics
come out of the same ``/metrics`` endpoint as the SDK's own.

Naming follows Prometheus conventions: the ``genesis_failover_`` prefix, base units (seconds) in
the name, and counters named without ``_total``: the worker's exporter appends it to every
counter, the SDK's included (``counters_total_suffix``). Label values are always bounded (check
names from the config, directions, triggers, outcomes) and never a secret or an error message.
The site is not a label here: the worker puts it on every metric as a global tag.

Counters are created at 0 for every label set they can have (the probes' ``result``, the
operations' direction x trigger x outcome): a series that first appears at 1 is invisible to
``increase()``, and an alert on "a failover failed" would miss the first one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal


@dataclass(frozen=True)
class Metric:
    name: str
    kind: Literal["counter", "gauge", "histogram"]
    help: str
    labels: tuple[str, ...] = ()

    @property
    def exported(self) -> str:
        """The name Prometheus shows: the exporter appends ``_total`` to counters."""
        return f"{self.name}_total" if self.kind == "counter" else self.name


# --- the probe activity (activities/probes.py) ---------------------------------------------------

PROBE_DURATION = Metric(
    "genesis_failover_probe_duration_seconds",
    "histogram",
    "How long one health probe took, failed probes included (a timeout shows as its timeout).",
    ("check", "check_type"),
)
PROBE_LATENESS = Metric(
    "genesis_failover_probe_lateness_seconds",
    "histogram",
    "How long after its due time a probe started. Rising: the worker cannot keep up (too many "
    "checks for one worker, or it lacks CPU), and failures are seen that much later.",
)
PROBES = Metric(
    "genesis_failover_probes",
    "counter",
    "Health probes run, by check and result (ok or fail).",
    ("check", "check_type", "result"),
)

# --- the monitor workflow (workflows/metrics.py) -------------------------------------------------

CHECK_HEALTHY = Metric(
    "genesis_failover_check_healthy",
    "gauge",
    "1 while the monitor counts the check healthy, 0 once it failed failure_threshold times "
    "in a row.",
    ("check", "critical"),
)
CHECK_CONSECUTIVE_FAILURES = Metric(
    "genesis_failover_check_consecutive_failures",
    "gauge",
    "Failed probes in a row for the check (it turns unhealthy at failure_threshold).",
    ("check", "critical"),
)
STATE = Metric(
    "genesis_failover_state",
    "gauge",
    "1 for the monitor's current state (normal, failing_over, failed_over, failing_back), "
    "0 for the others.",
    ("state",),
)
MONITOR_LOOP_TIMESTAMP = Metric(
    "genesis_failover_monitor_last_loop_timestamp_seconds",
    "gauge",
    "Unix time of the monitor's latest loop (it loops at every probe): the series whose value "
    "is recent come from the worker that runs the monitor now.",
)
LAST_FAILOVER_TIMESTAMP = Metric(
    "genesis_failover_last_failover_timestamp_seconds",
    "gauge",
    "Unix time the last failover (not a dry run) started; absent before the first one.",
)
TIME_SINCE_LAST_FAILOVER = Metric(
    "genesis_failover_time_since_last_failover_seconds",
    "gauge",
    "Seconds from the last failover's start to the monitor's latest loop; absent before the "
    "first failover.",
)
FAILOVERS_LAST_24H = Metric(
    "genesis_failover_failovers_last_24h",
    "gauge",
    "Failovers in the rolling 24 hours that max_failovers_per_day limits.",
)
FAILOVERS_LEFT_TODAY = Metric(
    "genesis_failover_failovers_left_today",
    "gauge",
    "Automatic failovers the daily limit still allows (max_failovers_per_day minus the last "
    "24 hours').",
)
COOLDOWN_REMAINING = Metric(
    "genesis_failover_cooldown_remaining_seconds",
    "gauge",
    "Seconds before the cooldown lets an automatic failover happen again (0: none).",
)
OPERATIONS = Metric(
    "genesis_failover_operations",
    "counter",
    "Finished failovers and failbacks, by direction, trigger and outcome (dry runs have "
    "outcome dry_run).",
    ("direction", "trigger", "outcome"),
)
OPERATION_DURATION = Metric(
    "genesis_failover_operation_duration_seconds",
    "histogram",
    "How long a finished failover or failback took, from its start to its result.",
    ("direction", "outcome"),
)

# --- the propagation activity (activities/dns.py) ------------------------------------------------

PROPAGATION_DURATION = Metric(
    "genesis_failover_dns_propagation_seconds",
    "histogram",
    "Seconds from the start of a propagation check until every nameserver answered the new "
    "address (complete checks only).",
    ("provider",),
)

# Probes answer in milliseconds to their timeout (5 s by default).
PROBE_BUCKETS: tuple[float, ...] = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)
# A healthy worker starts probes within milliseconds; one that cannot keep up, seconds late.
LATENESS_BUCKETS: tuple[float, ...] = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)
# Our own BIND9 secondaries confirm in milliseconds; public resolvers and Route53 in up to ~60 s.
PROPAGATION_BUCKETS: tuple[float, ...] = (0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300)
# A dry run takes a second; a failover with hooks, gates and propagation up to minutes.
OPERATION_BUCKETS: tuple[float, ...] = (0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600)

OURS: tuple[Metric, ...] = (
    PROBE_DURATION,
    PROBE_LATENESS,
    PROBES,
    CHECK_HEALTHY,
    CHECK_CONSECUTIVE_FAILURES,
    STATE,
    MONITOR_LOOP_TIMESTAMP,
    LAST_FAILOVER_TIMESTAMP,
    TIME_SINCE_LAST_FAILOVER,
    FAILOVERS_LAST_24H,
    FAILOVERS_LEFT_TODAY,
    COOLDOWN_REMAINING,
    OPERATIONS,
    OPERATION_DURATION,
    PROPAGATION_DURATION,
)
