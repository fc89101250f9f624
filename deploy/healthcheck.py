#!/usr/bin/env python3
"""The worker container's health check: is the worker up and polling its task queue?

Healthy (exit 0) when the worker's Prometheus endpoint (the config's ``[metrics]
prometheus_address``) answers and reports pollers on the config's task queue. The endpoint
belongs to the worker process, so a hung or dead process fails the check; pollers appear only
once the worker has connected to Temporal and started, so a worker still waiting for its server
(``connect_wait_seconds``) is not reported healthy either.

Exit 1 with one line saying why otherwise (Docker keeps the last lines in ``docker inspect``).
Standard library only: it runs every few seconds, and importing the package (pydantic, the SDK)
would cost more than the check itself. The Dockerfile installs it as
``/usr/local/bin/genesis-failover-healthcheck``.

Usage: genesis-failover-healthcheck [CONFIG]   (default: $GENESIS_FAILOVER_CONFIG, else
/etc/genesis-failover/config.toml)
"""

from __future__ import annotations

import os
import re
import sys
import tomllib
import urllib.error
import urllib.request

DEFAULT_CONFIG = "/etc/genesis-failover/config.toml"
# TemporalSettings.task_queue's default (tests/deploy/test_dockerfile.py keeps them equal).
DEFAULT_TASK_QUEUE = "genesis-failover"
TIMEOUT_SECONDS = 3.0


def metrics_url(address: str) -> str:
    """``0.0.0.0:9464`` -> ``http://127.0.0.1:9464/metrics``: a wildcard bind is reached on the
    loopback of the same container; any other address as it is."""
    host, _, port = address.rpartition(":")
    if host in ("0.0.0.0", ""):
        host = "127.0.0.1"
    elif host in ("[::]", "::"):
        host = "[::1]"
    return f"http://{host}:{port}/metrics"


def pollers(text: str, task_queue: str) -> int:
    """The number of pollers the SDK reports on ``task_queue`` (all poller types)."""
    total = 0.0
    label = f'task_queue="{task_queue}"'
    for line in text.splitlines():
        if line.startswith("temporal_num_pollers{") and label in line:
            match = re.search(r"\}\s+(\S+)$", line)
            if match:
                total += float(match.group(1))
    return int(total)


def check(config_path: str) -> str | None:
    """None when healthy, else the reason."""
    try:
        with open(config_path, "rb") as f:
            config = tomllib.load(f)
    except (OSError, tomllib.TOMLDecodeError) as exc:
        return f"cannot read the config {config_path}: {exc}"
    address = config.get("metrics", {}).get("prometheus_address")
    if not address:
        return (
            f"{config_path} has no [metrics] prometheus_address: the health check reads the "
            "worker's metrics endpoint"
        )
    task_queue = config.get("temporal", {}).get("task_queue", DEFAULT_TASK_QUEUE)
    url = metrics_url(address)
    try:
        with urllib.request.urlopen(url, timeout=TIMEOUT_SECONDS) as response:
            text = response.read().decode("utf-8", "replace")
    except (OSError, urllib.error.URLError) as exc:
        return f"the worker's metrics endpoint {url} does not answer: {exc}"
    if pollers(text, task_queue) < 1:
        return f"the worker is up but not polling task queue {task_queue!r} yet"
    return None


def main(argv: list[str]) -> int:
    path = argv[1] if len(argv) > 1 else os.environ.get("GENESIS_FAILOVER_CONFIG", DEFAULT_CONFIG)
    reason = check(path)
    if reason is not None:
        print(f"unhealthy: {reason}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
