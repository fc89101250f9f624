"""The hook keys of the config file, and the specs the registry builds from them."""

from __future__ import annotations

import copy
import os
import sys
from typing import Any

import pytest

from genesis.failover.domain.config import HookConfig, HooksSettings, parse_config
from genesis.failover.domain.errors import ConfigError
from genesis.failover.domain.hooks import PHASES, HookRegistry

MINIMAL: dict[str, Any] = {
    "site": {"name": "genesis", "primary_ip": "192.0.2.10", "backup_ip": "192.0.2.20"},
    "checks": [{"name": "api", "check_type": "http", "target": "http://127.0.0.1:8080/health"}],
    "dns": {
        "provider": "rfc2136",
        "records": [{"domain": "genesis.example.test"}],
        "rfc2136": {"server": "127.0.0.1:5300", "zone": "example.test"},
    },
}
ENV = {"PATH": os.environ.get("PATH", os.defpath), "ANNOUNCE_URL": "https://hooks.example.test/x"}


def with_hooks(**phases: list[dict[str, Any]]) -> dict[str, Any]:
    data = copy.deepcopy(MINIMAL)
    data["hooks"] = phases
    return data


def test_every_kind_loads_with_its_keys_and_defaults() -> None:
    config = parse_config(
        with_hooks(
            pre_failover=[{"name": "stop_trading", "python": "tests.sample_hooks:record"}],
            post_failover=[
                {
                    "name": "verify_services",
                    "command": [sys.executable, "-c", "pass"],
                    "pass_env": ["SERVICE_TOKEN"],
                    "working_dir": "/tmp",
                    "timeout_seconds": 10,
                    "max_attempts": 3,
                    "retry_interval_seconds": 5,
                },
                {
                    "name": "announce",
                    "webhook_url_env": "ANNOUNCE_URL",
                    "bearer_token_env": "ANNOUNCE_TOKEN",
                    "dry_run_safe": True,
                },
            ],
        )
    )
    stop, (verify, announce) = config.hooks.pre_failover[0], config.hooks.post_failover
    assert (stop.kind, verify.kind, announce.kind) == ("python", "command", "webhook")
    assert verify.pass_env == ["SERVICE_TOKEN"] and verify.working_dir == "/tmp"
    assert (verify.timeout_seconds, verify.max_attempts, verify.retry_interval_seconds) == (
        10,
        3,
        5,
    )
    assert announce.bearer_token_env == "ANNOUNCE_TOKEN" and announce.dry_run_safe
    assert (stop.timeout_seconds, stop.max_attempts, stop.on_failure) == (30, 1, None)


@pytest.mark.parametrize(
    ("hook", "message"),
    [
        ({"name": "h"}, "exactly one of python / command / webhook_url_env"),
        (
            {"name": "h", "command": ["/bin/true"], "webhook_url_env": "URL"},
            "exactly one of python / command / webhook_url_env",
        ),
        ({"name": "h", "python": "m:f", "pass_env": ["X"]}, "pass_env and working_dir are for"),
        ({"name": "h", "webhook_url_env": "URL", "pass_env": ["X"]}, "pass_env and working_dir"),
        ({"name": "h", "webhook_url_env": "URL", "working_dir": "/"}, "pass_env and working_dir"),
        ({"name": "h", "command": ["/bin/true"], "bearer_token_env": "T"}, "bearer_token_env is"),
        ({"name": "h", "python": "m:f", "bearer_token_env": "T"}, "bearer_token_env is for"),
        ({"name": "h", "command": []}, "at least 1 item"),
        ({"name": "h", "command": [" "]}, "command[0] (the program) is empty"),
        ({"name": "has space", "python": "m:f"}, "hook name must be letters"),
        ({"name": "h", "python": "m:f", "shell": True}, "unknown key"),
    ],
)
def test_keys_that_do_not_fit_the_kind_are_refused(hook: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError, match="hooks.post_failover.0") as info:
        parse_config(with_hooks(post_failover=[hook]))
    assert message in str(info.value)


@pytest.mark.parametrize("key", ["webhook_url_env", "bearer_token_env", "pass_env"])
def test_env_keys_take_variable_names_and_never_echo_a_value(key: str) -> None:
    secret = "https://hooks.example.test/T0KEN-secret"
    hook: dict[str, Any] = {"name": "h", "webhook_url_env": "URL"}
    if key == "pass_env":
        hook = {"name": "h", "command": ["/bin/true"], "pass_env": [secret]}
    else:
        hook[key] = secret
    with pytest.raises(ConfigError, match="NAME of an environment variable") as info:
        parse_config(with_hooks(post_failover=[hook]))
    assert "T0KEN" not in str(info.value)


def test_specs_carry_kind_limits_and_the_on_failure_default_of_their_phase() -> None:
    hook = {"name": "announce", "webhook_url_env": "ANNOUNCE_URL", "max_attempts": 4}
    reg = HookRegistry()
    reg.add_config(HooksSettings(**{p: [HookConfig(**hook)] for p in PHASES}), ENV)
    specs = {p: reg.specs[p][0] for p in PHASES}
    assert {p: s.on_failure for p, s in specs.items()} == {
        "pre_failover": "abort",
        "post_failover": "continue",
        "pre_failback": "abort",
        "post_failback": "continue",
        "on_failure": "continue",
    }
    assert all(s.kind == "webhook" and s.max_attempts == 4 for s in specs.values())
    assert len(reg.hooks) == 1, "one hook serving five phases"


def test_one_name_in_two_phases_must_run_the_same_thing() -> None:
    same = HookConfig(name="check", command=["true"], timeout_seconds=5)
    reg = HookRegistry()
    reg.add_config(
        HooksSettings(
            pre_failover=[same],
            # Limits may differ per phase: they travel in each phase's spec.
            post_failover=[same.model_copy(update={"timeout_seconds": 60})],
        ),
        ENV,
    )
    assert [reg.specs[p][0].timeout_seconds for p in ("pre_failover", "post_failover")] == [5, 60]
    for other in (
        HookConfig(name="check", command=["true", "--other"]),
        HookConfig(name="check", webhook_url_env="ANNOUNCE_URL"),
        HookConfig(name="check", python="tests.sample_hooks:record"),
    ):
        with pytest.raises(ConfigError, match="two different hooks are named 'check'") as info:
            reg.add_config(HooksSettings(post_failback=[other]), ENV)
        assert info.value.field == "hooks.post_failback.check"


def test_a_python_hook_registered_by_the_facade_keeps_its_options() -> None:
    reg = HookRegistry()
    spec = reg.register(
        "pre_failback",
        lambda: None,
        name="drain",
        timeout_seconds=7,
        max_attempts=2,
        retry_interval_seconds=3,
        dry_run_safe=True,
    )
    assert (spec.kind, spec.phase, spec.on_failure) == ("python", "pre_failback", "abort")
    assert (spec.timeout_seconds, spec.max_attempts, spec.retry_interval_seconds) == (7, 2, 3)
    assert spec.dry_run_safe and reg.for_direction("failback") == [spec]
    with pytest.raises(ConfigError, match="unknown hook phase"):
        reg.register("during_failover", lambda: None)
