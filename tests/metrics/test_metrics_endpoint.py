"""One metrics endpoint per address: a taken port is refused with the field and the address,
the workers of one process share an address's Runtime, and a stopped one frees its port."""

from __future__ import annotations

import asyncio
import gc
import os
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from genesis.failover.domain.config import MetricsSettings
from genesis.failover.domain.errors import ConfigError
from genesis.lab.ports import free_port, port_is_free
from tests.metrics.scrape import scrape
from tests.metrics.test_metrics_config import config_with
from tests.support import CLI, write_toml
from worker.metrics import metrics_runtime


@pytest.fixture
def taken_port() -> Iterator[int]:
    """A loopback port somebody else listens on.

    The kernel picks it (port 0): a number from ``free_port`` is only known free to a bind with
    SO_REUSEADDR, and this plain bind fails on one a closed connection left in TIME_WAIT."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as other:
        other.bind(("127.0.0.1", 0))
        other.listen()
        yield other.getsockname()[1]


async def test_the_worker_refuses_a_taken_port_naming_the_field_and_the_address(
    taken_port: int, tmp_path: Path
) -> None:
    address = f"127.0.0.1:{taken_port}"
    data = config_with({"prometheus_address": address})
    # No Temporal listens here: the metrics address is checked before anything connects.
    data["temporal"] = {"address": f"127.0.0.1:{free_port()}"}
    config_file = write_toml(data, tmp_path / "site.toml")
    proc = await asyncio.create_subprocess_exec(
        CLI,
        "-c",
        str(config_file),
        "worker",
        env={**os.environ, "GENESIS_TSIG_SECRET": "c2VjcmV0LWtleS1mb3ItdGVzdHM="},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), timeout=30)
    assert proc.returncode == 2, err.decode()
    message = err.decode()
    assert f"metrics.prometheus_address: {address} is already in use" in message
    assert "Traceback" not in message


def test_a_taken_port_is_a_config_error_in_process_too(taken_port: int) -> None:
    settings = MetricsSettings(prometheus_address=f"127.0.0.1:{taken_port}")
    with pytest.raises(ConfigError) as caught:
        metrics_runtime(settings, site="genesis")
    assert caught.value.field == "metrics.prometheus_address"
    assert caught.value.value == f"127.0.0.1:{taken_port}"


def test_no_address_no_runtime() -> None:
    assert metrics_runtime(MetricsSettings(), site="genesis") is None


async def test_workers_of_one_process_share_an_address_and_the_last_one_frees_it() -> None:
    port = free_port()
    settings = MetricsSettings(prometheus_address=f"127.0.0.1:{port}")
    first = metrics_runtime(settings, site="genesis")
    second = metrics_runtime(settings, site="genesis")
    assert first is not None and second is first, "one Runtime per address, not a second bind"
    first.metric_meter.create_counter("genesis_failover_test_shared", "test").add(1)
    samples = await scrape(f"http://127.0.0.1:{port}/metrics")
    assert samples.value("genesis_failover_test_shared_total", site="genesis") == 1

    # The site is a global tag: another site cannot share the address (its metrics would lie).
    with pytest.raises(ConfigError, match="already serves the metrics of site 'genesis'") as c:
        metrics_runtime(settings, site="other")
    assert c.value.field == "metrics.prometheus_address"

    del first, second, c  # the error's traceback holds the Runtime too
    gc.collect()
    assert port_is_free(port), "nothing kept the Runtime alive once its users were gone"
    # And the address can be served again, for another site this time.
    again = metrics_runtime(settings, site="other")
    assert again is not None
    del again
    gc.collect()
    assert port_is_free(port)
