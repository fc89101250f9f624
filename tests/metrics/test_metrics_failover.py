"""The worker's /metrics end to end: the real dev server, BIND9, a real HTTP primary and the
production worker path (`run_worker_in_background`) with metrics on a free port.

One story, scraped at each step: the SDK's metrics and the probes' are there from the start; a
dry run is counted as a dry run; the primary dies and its health gauge drops to 0 at the
failure threshold; the automatic failover is counted once, with one propagation time, and the
time since it grows; when the worker stops, its port is free again.
"""

from __future__ import annotations

import asyncio
import gc
import time
from collections.abc import Callable
from typing import Any

import pytest
from temporalio.client import Client

from genesis.failover.domain.config import FailoverConfig, parse_config
from genesis.lab.bind9 import Bind9Lab
from genesis.lab.http_target import DemoService
from genesis.lab.ports import free_port, port_is_free
from tests.integration.conftest import BACKUP, answers, request, running_worker, wait_status
from tests.metrics.scrape import Samples, scrape

pytestmark = pytest.mark.integration

THRESHOLD = 2


def with_metrics(config: FailoverConfig, address: str) -> FailoverConfig:
    """The lab config with quick checks (the primary's, and one that always fails) and the
    worker's metrics on ``address``."""
    data: dict[str, Any] = config.model_dump(mode="json")
    primary = data["checks"][0]
    primary.update(interval_seconds=0.25, timeout_seconds=0.5, failure_threshold=THRESHOLD)
    closed_port = {
        "name": "closed_port",
        "check_type": "tcp",
        "target": f"127.0.0.1:{free_port()}",  # nothing listens: refused at once
        "interval_seconds": 0.25,
        "timeout_seconds": 0.5,
        "failure_threshold": THRESHOLD,
        "critical": False,  # reports, never fails the site over
    }
    data["checks"] = [primary, closed_port]
    data["metrics"] = {"prometheus_address": address}
    return parse_config(data)


async def scraped_until(
    url: str, pred: Callable[[Samples], bool], *, within: float = 15
) -> Samples:
    deadline = time.monotonic() + within
    samples = await scrape(url)
    while not pred(samples):
        if time.monotonic() > deadline:
            raise AssertionError(f"metrics condition not met in {within}s:\n{samples.text}")
        await asyncio.sleep(0.1)
        samples = await scrape(url)
    return samples


async def test_worker_metrics_probes_health_failover_and_propagation(
    dev_client: Client,
    bind9: Bind9Lab,
    primary_service: DemoService,
    make_config: Callable[..., FailoverConfig],
) -> None:
    port = free_port()
    config = with_metrics(make_config(primary_service.url), f"127.0.0.1:{port}")
    url = f"http://127.0.0.1:{port}/metrics"
    site = config.site.name
    async with running_worker(config, dev_client) as handle:
        await wait_status(
            handle,
            lambda s: all(c["total_probes"] >= 2 for c in s["health"]["checks"].values()),
        )
        m = await scrape(url)

        # (a) The SDK's own metrics, Prometheus-style (counters *_total, durations in seconds).
        assert m.value("temporal_worker_task_slots_available", worker_type="ActivityWorker")
        assert m.value("temporal_request_total", operation="RespondActivityTaskCompleted")
        assert m.value("temporal_long_request_total", operation="PollActivityTaskQueue")
        assert m.matching("temporal_activity_execution_latency_seconds_count")

        # (b) Every probe timed and counted per check, with its type; the refused one as fail.
        for check, check_type in (("primary_api", "http"), ("closed_port", "tcp")):
            timed = m.value(
                "genesis_failover_probe_duration_seconds_count", check=check, check_type=check_type
            )
            assert timed is not None and timed >= 2, check
            assert m.matching(
                "genesis_failover_probe_duration_seconds_bucket", check=check, le="0.005"
            ), "the configured buckets, in seconds"
        # Every probe's start against the monitor's due time: one observation per probe, in
        # the configured buckets. How late probes are is a number for the scale
        # benchmark (p99 lateness, docs/benchmarks.md), not for a timed test: here, on a loaded
        # 2-core machine with 0.25 s intervals, a monitor loop takes most of a second, and
        # observations sat on either side of the 1 s bucket from run to run (before issue 17's
        # refactor as after it).
        late = m.value("genesis_failover_probe_lateness_seconds_count")
        probed = sum(s.value for s in m.matching("genesis_failover_probes_total"))
        assert late is not None and late == probed, (late, probed)
        buckets = {
            s.labels["le"] for s in m.matching("genesis_failover_probe_lateness_seconds_bucket")
        }
        assert {"0.01", "0.1", "1", "10", "30"} <= buckets, sorted(buckets)
        assert (
            m.value("genesis_failover_probes_total", check="primary_api", result="ok") or 0
        ) >= 2
        # The other result exists at 0, so the first failure shows in increase().
        assert m.value("genesis_failover_probes_total", check="primary_api", result="fail") == 0
        assert (
            m.value("genesis_failover_probes_total", check="closed_port", result="fail") or 0
        ) >= 2
        assert m.value("genesis_failover_probes_total", check="closed_port", result="ok") == 0
        # The site on every metric, ours and the SDK's (a global tag of the worker's Runtime).
        assert {s.labels.get("site") for s in m.samples} == {site}
        assert m.value("genesis_failover_check_healthy", check="primary_api", critical="true") == 1
        await scraped_until(
            url,
            lambda m: (
                m.value("genesis_failover_check_healthy", check="closed_port", critical="false")
                == 0
            ),
        )
        assert m.value("genesis_failover_state", state="normal") == 1
        assert m.value("genesis_failover_state", state="failed_over") == 0
        loop = m.value("genesis_failover_monitor_last_loop_timestamp_seconds")
        assert loop is not None and abs(time.time() - loop) < 5
        # Every direction x trigger x outcome at 0 before any operation.
        assert len(m.matching("genesis_failover_operations_total")) == 36
        assert m.value("genesis_failover_operations_total") == 0

        # A dry run is counted as one, and is not a failover.
        dry = await request(handle, "failover", reason="metrics drill", dry_run=True)
        assert dry.outcome == "dry_run"
        m = await scrape(url)
        assert (
            m.value(
                "genesis_failover_operations_total",
                direction="failover",
                trigger="manual",
                outcome="dry_run",
            )
            == 1
        )
        assert m.matching("genesis_failover_time_since_last_failover_seconds") == []
        assert m.value("genesis_failover_failovers_last_24h") == 0
        assert m.value("genesis_failover_failovers_left_today") == 5
        assert m.value("genesis_failover_cooldown_remaining_seconds") == 0

        # (c) The primary dies: its gauge drops to 0 once failure_threshold probes failed.
        primary_service.stop()
        await scraped_until(
            url, lambda m: m.value("genesis_failover_check_healthy", check="primary_api") == 0
        )
        status = await handle.query("status")
        assert status["health"]["checks"]["primary_api"]["consecutive_failures"] >= THRESHOLD

        # (d) The automatic failover: counted once, one propagation time, time since it grows.
        await wait_status(handle, lambda s: s["state"] == "failed_over")
        assert await answers(bind9) == [[BACKUP]] * 3
        m = await scraped_until(
            url, lambda m: m.value("genesis_failover_state", state="failed_over") == 1
        )
        succeeded = m.value(
            "genesis_failover_operations_total",
            direction="failover",
            trigger="automatic",
            outcome="succeeded",
        )
        assert succeeded == 1
        assert m.value("genesis_failover_operations_total", outcome="succeeded") == 1
        assert m.value("genesis_failover_operations_total") == 2, "the dry run and the failover"
        assert (
            m.value("genesis_failover_operation_duration_seconds_count", outcome="succeeded") == 1
        )
        assert m.value("genesis_failover_dns_propagation_seconds_count") == 1
        assert m.matching("genesis_failover_dns_propagation_seconds_count", provider="rfc2136")
        propagation = m.value("genesis_failover_dns_propagation_seconds_sum")
        assert propagation is not None and 0 <= propagation < 10
        assert m.value("genesis_failover_failovers_last_24h") == 1
        # Whether another automatic failover could happen now: not in the cooldown, 4 left today.
        assert m.value("genesis_failover_failovers_left_today") == 4
        assert (m.value("genesis_failover_cooldown_remaining_seconds") or 0) > 0
        last = m.value("genesis_failover_last_failover_timestamp_seconds")
        assert last is not None and abs(time.time() - last) < 30
        since = m.value("genesis_failover_time_since_last_failover_seconds")
        assert since is not None and 0 <= since < 10
        later = await scraped_until(
            url,
            lambda m: (
                (m.value("genesis_failover_time_since_last_failover_seconds") or 0) >= since + 0.5
            ),
        )
        assert later.value("genesis_failover_operations_total", outcome="succeeded") == 1

    # The worker stopped: nothing of ours holds its Runtime, so the port is free for the next.
    gc.collect()
    assert port_is_free(port)
