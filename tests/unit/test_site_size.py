"""How many checks one site may have, and why: the monitor's whole state crosses
continue-as-new in one Temporal payload, which the server refuses over 2 MB. A site over the
limit would be watched until its first continue-as-new and then not at all."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from temporalio.contrib.pydantic import pydantic_data_converter

from genesis.failover.domain.config import parse_config
from genesis.failover.domain.config.loader import MAX_CHECKS_PER_SITE
from genesis.failover.domain.hooks import HookRegistry
from genesis.failover.domain.plan import MonitorInput, build_monitor_plan
from genesis.failover.domain.probes._result import MAX_ERROR_CHARS
from genesis.failover.domain.state import SiteState
from tests.unit.test_config import MINIMAL, config_error, with_

TEMPORAL_PAYLOAD_LIMIT = 2 * 1024 * 1024  # the server's default limit.blobSize.error


def long_checks(count: int) -> list[dict[str, Any]]:
    return [
        {
            "name": f"a-long-and-descriptive-check-name-{i:05d}",
            "check_type": "http",
            "target": f"https://service-{i:05d}.internal.example.com:8443/healthz/deep?full=1",
            "body_contains": "status: ok",
            "max_latency_ms": 750,
        }
        for i in range(count)
    ]


def test_a_site_over_the_limit_is_refused_naming_the_field_and_the_count() -> None:
    error = config_error(with_("checks", long_checks(MAX_CHECKS_PER_SITE + 1)))
    text = str(error)
    assert "checks" in text
    assert f"{MAX_CHECKS_PER_SITE + 1} checks" in text
    assert f"at most {MAX_CHECKS_PER_SITE}" in text


def test_a_site_at_the_limit_loads() -> None:
    config = parse_config(with_("checks", long_checks(MAX_CHECKS_PER_SITE)))
    assert len(config.checks) == MAX_CHECKS_PER_SITE


def test_the_largest_site_in_its_worst_state_fits_one_temporal_payload() -> None:
    config = parse_config(with_("checks", long_checks(MAX_CHECKS_PER_SITE), base=MINIMAL))
    plan = build_monitor_plan(config, HookRegistry())
    state = SiteState(site=plan.site)
    state.sync_checks(plan.checks)
    now = datetime.now(UTC)
    for health in state.checks.values():  # every check failing with the longest error kept
        health.last_error = "e" * MAX_ERROR_CHARS
        health.origin = "worker-host-name.example.com/genesis-failover"
        health.last_checked = health.healthy_since = now
        health.last_latency_ms = 12.345
    (payload,) = pydantic_data_converter.payload_converter.to_payloads(
        [MonitorInput(plan=plan, state=state)]
    )
    assert payload.ByteSize() < TEMPORAL_PAYLOAD_LIMIT * 0.75, payload.ByteSize()
