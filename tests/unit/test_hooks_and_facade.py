"""Hooks resolved by import path and run with a timeout; the HealthChecker facade on its own."""

from __future__ import annotations

import socket

import pytest

from genesis.failover import HealthCheck, HealthChecker
from genesis.failover.domain.config import HookConfig, HooksSettings
from genesis.failover.domain.errors import ConfigError, HookError
from genesis.failover.domain.hooks import HookContext, HookRegistry
from tests import sample_hooks

CTX = HookContext(
    site="genesis",
    direction="failover",
    trigger="manual",
    reason="test",
    from_ip="192.0.2.10",
    to_ip="192.0.2.20",
    failover_id="failover-genesis-switch",
    dry_run=False,
)


async def test_config_hooks_by_import_path_run_with_the_context() -> None:
    reg = HookRegistry()
    reg.add_config(
        HooksSettings(
            pre_failover=[HookConfig(name="rec", python="tests.sample_hooks:record")],
            post_failover=[HookConfig(name="late", python="tests.sample_hooks:broken")],
        )
    )
    pre, post = reg.specs["pre_failover"][0], reg.specs["post_failover"][0]
    assert pre.on_failure == "abort" and post.on_failure == "continue"
    outcome = await reg.run(pre, CTX)
    assert outcome.ok and outcome.output == "recorded genesis"
    assert sample_hooks.CALLS[-1] == "failover:192.0.2.20"
    with pytest.raises(HookError, match="replication lag 45s"):
        await reg.run(post, CTX)


async def test_a_hook_that_hangs_is_stopped_at_its_timeout() -> None:
    reg = HookRegistry()
    spec = reg.register("pre_failover", sample_hooks.slow, timeout_seconds=0.2)
    with pytest.raises(HookError, match="timed out after 0.2s") as info:
        await reg.run(spec, CTX)
    assert info.value.retryable


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("tests.sample_hooks:missing", "cannot import"),
        ("no_such_module_xyz:fn", "cannot import"),
        ("tests.sample_hooks:NOT_CALLABLE", "not callable"),
    ],
)
def test_a_hook_that_cannot_be_imported_is_a_config_error(path: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message) as info:
        HookRegistry().add_config(HooksSettings(pre_failover=[HookConfig(name="h", python=path)]))
    assert info.value.field == "hooks.h.python" and info.value.value == path


def test_two_different_hooks_with_one_name_are_refused() -> None:
    reg = HookRegistry()
    reg.register("pre_failover", sample_hooks.record, name="x")
    with pytest.raises(ConfigError, match="two different hooks"):
        reg.register("post_failover", sample_hooks.broken, name="x")


async def test_health_checker_alone_applies_thresholds() -> None:
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    checker = HealthChecker()
    checker.add_check(HealthCheck(name="api", check_type="tcp", target=f"127.0.0.1:{port}"))
    checker.add_check(
        {
            "name": "redis_cache",
            "type": "tcp",
            "target": "127.0.0.1:1",
            "interval": 10,
            "timeout": 3,
            "threshold": 2,
        }
    )
    status = await checker.run_once()
    assert status["total_checks"] == 2 and status["healthy_checks"] == 2, "one failure is a blip"
    status = await checker.run_once()
    assert status["healthy_checks"] == 1 and not status["overall_health"]
    assert status["checks"]["redis_cache"]["last_error"] == "connection refused"
    assert status["checks"]["api"]["is_healthy"]
    listener.close()
    with pytest.raises(ConfigError, match="already exists"):
        checker.add_check(HealthCheck(name="api", check_type="tcp", target="h:1"))
