"""The probe activity's payloads leave out defaults (they stay in the monitor's history every
tick) and come back exactly as they were sent, through the real data converter."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from temporalio.contrib.pydantic import pydantic_data_converter

from activities.payloads import ProbeBatchInput, ProbeBatchResult
from genesis.failover.domain.config import CheckConfig
from genesis.failover.domain.models import ProbeResult

CONVERTER = pydantic_data_converter.payload_converter


def round_trip(value: Any, kind: type[Any]) -> tuple[Any, int]:
    (payload,) = CONVERTER.to_payloads([value])
    (back,) = CONVERTER.from_payloads([payload], [kind])
    return back, len(payload.data)


def every_option_set() -> list[CheckConfig]:
    return [
        CheckConfig(
            name="api",
            check_type="http",
            target="https://api.example.com/health",
            interval_seconds=3,
            timeout_seconds=1.5,
            failure_threshold=5,
            success_threshold=4,
            critical=False,
            expected_status=[200, 204],
            body_contains="ok",
            max_latency_ms=250,
            verify_tls=False,
        ),
        CheckConfig(
            name="db",
            check_type="database",
            target="postgresql://app@db.internal/app",
            password_env="DB_PASSWORD",
        ),
        CheckConfig(
            name="daemon",
            check_type="process",
            target="/run/app.pid",
            pidfile="/run/app.pid",
            cmdline_contains="app --serve",
        ),
        CheckConfig(name="plain", check_type="tcp", target="127.0.0.1:5432"),
    ]


def test_checks_come_back_with_every_option_they_had_and_every_default() -> None:
    sent = ProbeBatchInput(checks=every_option_set())
    back, _ = round_trip(sent, ProbeBatchInput)
    assert back == sent
    assert back.checks[3].success_threshold == 2 and back.checks[3].verify_tls is True


def test_a_check_with_only_defaults_costs_a_third_of_its_full_form() -> None:
    checks = [
        CheckConfig(name=f"c{i}", check_type="http", target=f"http://10.0.0.{i % 250}/health")
        for i in range(500)
    ]
    _, size = round_trip(ProbeBatchInput(checks=checks), ProbeBatchInput)
    full = len(json.dumps({"checks": [c.model_dump(mode="json") for c in checks]}))
    assert size < full / 2.5, (size, full)


def test_results_come_back_as_sent_with_and_without_errors() -> None:
    now = datetime.now(UTC)
    sent = ProbeBatchResult(
        results=[
            ProbeResult(check_name="api", healthy=True, latency_ms=3.2, checked_at=now),
            ProbeResult(
                check_name="db",
                healthy=False,
                latency_ms=5000.0,
                error="timed out after 5.0s",
                checked_at=now,
                origin="host-a/genesis-failover",
            ),
        ]
    )
    back, _ = round_trip(sent, ProbeBatchResult)
    assert back == sent
