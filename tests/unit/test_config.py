"""The config contract (DESIGN.md "Contracts"): the TOML file loads, and every mistake an operator
can make is a ConfigError that names the field and the value, never a secret."""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from genesis.failover.domain.config import (
    FailoverConfig,
    check_from_seed_dict,
    load_config,
    parse_config,
)
from genesis.failover.domain.errors import ConfigError
from genesis.failover.domain.hooks import import_hook
from genesis.failover.domain.plan import build_monitor_plan

# The contract from DESIGN.md, verbatim.
CONTRACT_TOML = """
[temporal]
address = "localhost:7233"
namespace = "default"
task_queue = "genesis-failover"

[site]
name = "genesis"
primary_ip = "1.2.3.4"
backup_ip = "5.6.7.8"

[policy]
auto_failover = true
cooldown_seconds = 300
max_failovers_per_day = 5

[[checks]]
name = "primary_database"
check_type = "database"
target = ".genesis/data/genesis.db"
interval_seconds = 10
timeout_seconds = 5
failure_threshold = 3

[dns]
provider = "rfc2136"
ttl = 60
[[dns.records]]
domain = "genesis.example.com"
record_type = "A"
[dns.rfc2136]
server = "127.0.0.1:5300"
zone = "example.com"
tsig_key_name = "ddns-key"
tsig_algorithm = "hmac-sha256"
tsig_secret_env = "GENESIS_TSIG_SECRET"

[propagation]
nameservers = ["8.8.8.8", "1.1.1.1", "9.9.9.9"]
timeout_seconds = 120

[[hooks.pre_failover]]
name = "stop_trading"
python = "genesis_hooks:stop_trading"
timeout_seconds = 30
on_failure = "abort"
[[hooks.post_failover]]
name = "verify_services"
command = ["/usr/local/bin/verify-services", "--site", "genesis"]   # argv, no shell
[[hooks.post_failover]]
name = "announce"
webhook_url_env = "ANNOUNCE_WEBHOOK_URL"

[notifications]
channels = ["email", "slack", "pagerduty"]
[notifications.email]
smtp_host = "smtp.example.com"
smtp_port = 587
security = "starttls"
username_env = "SMTP_USERNAME"
password_env = "SMTP_PASSWORD"
sender = "failover@example.com"
recipients = ["oncall@example.com"]
[notifications.slack]
webhook_url_env = "SLACK_WEBHOOK_URL"
[notifications.pagerduty]
routing_key_env = "PAGERDUTY_ROUTING_KEY"
events_url = "https://events.pagerduty.com/v2/enqueue"
"""

# The seed's PRODUCTION_CHECKS (seed/failover-procedures.md), verbatim.
PRODUCTION_CHECKS: list[dict[str, Any]] = [
    {
        "name": "primary_db",
        "type": "database",
        "target": "/var/genesis/data/genesis.db",
        "interval": 10,
        "timeout": 5,
        "threshold": 3,
    },
    {
        "name": "api_health",
        "type": "http",
        "target": "https://api.genesis.io/health",
        "interval": 10,
        "timeout": 5,
        "threshold": 3,
    },
    {
        "name": "binance_api",
        "type": "tcp",
        "target": "api.binance.com:443",
        "interval": 30,
        "timeout": 10,
        "threshold": 5,
    },
    {
        "name": "redis_cache",
        "type": "tcp",
        "target": "localhost:6379",
        "interval": 10,
        "timeout": 3,
        "threshold": 3,
    },
]

MINIMAL: dict[str, Any] = {
    "site": {"name": "genesis", "primary_ip": "192.0.2.10", "backup_ip": "192.0.2.20"},
    "checks": [{"name": "api", "check_type": "http", "target": "http://127.0.0.1:8080/health"}],
    "dns": {
        "provider": "rfc2136",
        "records": [{"domain": "genesis.example.test"}],
        "rfc2136": {"server": "127.0.0.1:5300", "zone": "example.test"},
    },
}


@pytest.fixture(autouse=True)
def _no_temporal_env(monkeypatch: pytest.MonkeyPatch) -> None:
    # The override is part of the contract; an operator's shell must not leak into these tests.
    monkeypatch.delenv("TEMPORAL_ADDRESS", raising=False)
    monkeypatch.delenv("TEMPORAL_NAMESPACE", raising=False)


def with_(path: str, value: Any, base: dict[str, Any] | None = None) -> dict[str, Any]:
    """A deep copy of ``base`` (MINIMAL) with the dotted ``path`` set to ``value``."""
    import copy

    data = copy.deepcopy(base if base is not None else MINIMAL)
    node: Any = data
    parts = path.split(".")
    for part in parts[:-1]:
        node = node[int(part)] if isinstance(node, list) else node.setdefault(part, {})
    last = parts[-1]
    if isinstance(node, list):
        node[int(last)] = value
    else:
        node[last] = value
    return data


def config_error(data: dict[str, Any]) -> ConfigError:
    with pytest.raises(ConfigError) as caught:
        parse_config(data)
    return caught.value


def write(tmp_path: Path, text: str, name: str = "failover.toml") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return path


# --- the contract loads --------------------------------------------------------------------------


def test_the_design_contract_loads(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = load_config(write(tmp_path, CONTRACT_TOML))

    assert config.temporal.address == "localhost:7233"
    assert config.site.name == "genesis" and config.site.backup_ip == "5.6.7.8"
    assert config.policy.cooldown_seconds == 300 and config.policy.max_failovers_per_day == 5
    [check] = config.checks
    assert (check.check_type, check.interval_seconds, check.failure_threshold) == (
        "database",
        10,
        3,
    )
    assert config.dns.rfc2136 is not None and config.dns.rfc2136.tsig_secret_env == (
        "GENESIS_TSIG_SECRET"
    )
    assert config.propagation.nameservers == ["8.8.8.8", "1.1.1.1", "9.9.9.9"]
    assert config.hooks.pre_failover[0].on_failure == "abort"
    assert config.notifications.email is not None
    assert config.notifications.email.password_env == "SMTP_PASSWORD"
    assert config.monitor_workflow_id == "failover-monitor-genesis"

    # The python hook's import path resolves to something real (what `validate` and the worker do).
    (tmp_path / "genesis_hooks.py").write_text("async def stop_trading() -> None:\n    pass\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "genesis_hooks", raising=False)
    assert callable(import_hook(config.hooks.pre_failover[0]))
    monkeypatch.delitem(sys.modules, "genesis_hooks", raising=False)


def test_the_local_lab_example_loads() -> None:
    config = load_config(Path(__file__).resolve().parents[2] / "examples" / "local-lab.toml")
    assert config.site.name == "genesis" and len(config.propagation.nameservers) == 3


def test_the_multi_provider_example_loads_and_needs_each_providers_secret() -> None:
    from genesis.failover.domain.dns import build_providers

    config = load_config(Path(__file__).resolve().parents[2] / "examples" / "multi-provider.toml")
    assert config.dns.providers_used == ["cloudflare", "digitalocean", "rfc2136", "route53"]
    with pytest.raises(ConfigError, match="CLOUDFLARE_API_TOKEN"):
        build_providers(config.dns, {})


def test_the_production_example_loads_and_every_secret_and_program_is_checked_at_start() -> None:
    from genesis.failover.domain.hooks import HookRegistry
    from genesis.failover.domain.notify import build_notifiers
    from genesis.failover.domain.secrets import secret_env_names

    config = load_config(Path(__file__).resolve().parents[2] / "examples" / "production.toml")
    assert config.gates.configured == ["backup_api", "replication_lag"]
    assert [h.kind for h in config.hooks.post_failover] == ["command", "webhook"]
    assert config.notifications.channels == ["email", "slack", "pagerduty"]
    # Every secret it names is known, so hook output and errors are scrubbed of it.
    names = set(secret_env_names(config))
    assert {"GENESIS_TSIG_SECRET", "REPLICA_MONITOR_PASSWORD", "TRADING_API_TOKEN"} <= names
    assert {"ANNOUNCE_WEBHOOK_URL", "ANNOUNCE_TOKEN", "SMTP_PASSWORD", "SLACK_WEBHOOK_URL"} <= names
    assert "PAGERDUTY_ROUTING_KEY" in names and "SMTP_USERNAME" not in names
    with pytest.raises(ConfigError, match="SMTP_USERNAME"):
        build_notifiers(config.notifications, {})
    # The hook programs are not installed here: the worker would refuse to start, naming one.
    with pytest.raises(ConfigError) as caught:
        HookRegistry().add_config(config.hooks, {"TRADING_API_TOKEN": "t"})
    assert caught.value.field is not None and caught.value.field.startswith("hooks.")


def test_defaults_fill_what_is_left_out() -> None:
    config = parse_config(MINIMAL)
    assert config.temporal.address == "localhost:7233"
    assert config.temporal.task_queue == "genesis-failover"
    assert config.policy.auto_failback is False
    assert config.propagation.nameservers == []
    check = config.checks[0]
    assert (check.interval_seconds, check.timeout_seconds, check.failure_threshold) == (10, 5, 3)
    assert check.success_threshold == 2 and check.critical is True


def test_the_contract_hooks_load_with_their_kinds_and_defaults(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, CONTRACT_TOML))
    (pre,) = config.hooks.pre_failover
    verify, announce = config.hooks.post_failover
    assert (pre.kind, verify.kind, announce.kind) == ("python", "command", "webhook")
    assert verify.command == ["/usr/local/bin/verify-services", "--site", "genesis"]
    assert announce.webhook_url_env == "ANNOUNCE_WEBHOOK_URL"
    # on_failure left out: the registry applies the phase's default (post-hooks continue).
    assert verify.on_failure is None and pre.on_failure == "abort"


def test_notification_routes_default_per_channel(tmp_path: Path) -> None:
    routes = load_config(write(tmp_path, CONTRACT_TOML)).notifications.routes()
    assert list(routes) == ["email", "slack", "pagerduty"]
    assert "check_unhealthy" in routes["email"] and "check_unhealthy" in routes["slack"]
    # PagerDuty pages a human: not for a check blip, yes for a failover and a refused one.
    assert "check_unhealthy" not in routes["pagerduty"]
    assert {"failover_started", "failover_succeeded", "auto_failover_refused"} <= set(
        routes["pagerduty"]
    )


def test_email_channel_without_its_section_names_it() -> None:
    error = config_error(with_("notifications", {"channels": ["email"]}))
    assert "notifications" in str(error) and "[notifications.email]" in str(error)


def test_a_password_in_a_replication_lag_dsn_is_refused_and_not_echoed() -> None:
    dsn = "postgresql://replica:hunter2secret@db/genesis"
    error = config_error(
        with_(
            "gates",
            {"replication_lag": {"target": dsn, "query": "SELECT 1", "max_value": 30}},
        )
    )
    assert error.field == "gates.replication_lag.target"
    assert "hunter2secret" not in str(error) and "password_env" in str(error)


def test_a_hook_needs_exactly_one_kind() -> None:
    error = config_error(with_("hooks", {"pre_failover": [{"name": "nothing"}]}))
    assert "hooks.pre_failover.0" in str(error) and "exactly one" in str(error)


# --- the seed's short keys -----------------------------------------------------------------------


def test_the_seed_production_checks_load_with_short_keys() -> None:
    checks = [check_from_seed_dict(d) for d in PRODUCTION_CHECKS]

    assert [c.check_type for c in checks] == ["database", "http", "tcp", "tcp"]
    binance = checks[2]
    assert (binance.interval_seconds, binance.timeout_seconds, binance.failure_threshold) == (
        30,
        10,
        5,
    )
    for seed, check in zip(PRODUCTION_CHECKS, checks, strict=True):
        assert (check.name, check.target) == (seed["name"], seed["target"])
        assert check.interval_seconds == seed["interval"]
        assert check.timeout_seconds == seed["timeout"]
        assert check.failure_threshold == seed["threshold"]


def test_short_keys_work_in_the_file_too(tmp_path: Path) -> None:
    text = CONTRACT_TOML.replace('check_type = "database"', 'type = "database"').replace(
        "interval_seconds = 10\ntimeout_seconds = 5\nfailure_threshold = 3",
        "interval = 20\ntimeout = 4\nthreshold = 7",
    )
    check = load_config(write(tmp_path, text)).checks[0]
    assert (check.check_type, check.interval_seconds, check.timeout_seconds) == ("database", 20, 4)
    assert check.failure_threshold == 7


def test_a_bad_seed_check_names_the_field_and_value() -> None:
    bad = {**PRODUCTION_CHECKS[3], "threshold": 0}
    # The error names the key as the user wrote it (the short one).
    with pytest.raises(ConfigError, match=r"check\.threshold: .*\(got 0\)") as caught:
        check_from_seed_dict(bad)
    assert caught.value.field == "check.threshold" and caught.value.value == 0


# --- unknown keys --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("colour", "colour: unknown key"),
        ("policy.cooldown_second", "policy.cooldown_second: unknown key"),
        ("checks.0.failure_treshold", "checks.0.failure_treshold: unknown key"),
        ("dns.rfc2136.tsig_secret", "dns.rfc2136.tsig_secret: unknown key"),
        ("notifications.slack.webhook_url", "notifications.slack.webhook_url: unknown key"),
    ],
)
def test_unknown_keys_are_rejected_with_their_dotted_path(path: str, expected: str) -> None:
    data = with_(path, "x")
    if path.startswith("notifications.slack"):
        data["notifications"]["slack"]["webhook_url_env"] = "SLACK_WEBHOOK_URL"
    error = config_error(data)
    assert expected in str(error)
    assert error.field == expected.split(":")[0]


def test_unknown_key_in_the_file_names_its_path(tmp_path: Path) -> None:
    text = CONTRACT_TOML.replace("cooldown_seconds = 300", "cooldown_second = 300")
    with pytest.raises(ConfigError, match=r"policy\.cooldown_second: unknown key"):
        load_config(write(tmp_path, text))


# --- bad values name the field and the value -----------------------------------------------------


@pytest.mark.parametrize(
    ("path", "value", "field", "shown"),
    [
        ("site.primary_ip", "1.2.3.999", "site.primary_ip", "'1.2.3.999'"),
        ("site.backup_ip", "backup", "site.backup_ip", "'backup'"),
        ("site.name", "my site!", "site.name", "'my site!'"),
        ("policy.cooldown_seconds", -5, "policy.cooldown_seconds", "-5"),
        ("policy.max_failovers_per_day", 0, "policy.max_failovers_per_day", "0"),
        ("checks.0.check_type", "ping", "checks.0.check_type", "'ping'"),
        ("checks.0.interval_seconds", 0, "checks.0.interval_seconds", "0"),
        ("checks.0.expected_status", [200, 999], "checks.0.expected_status", "999"),
        ("dns.provider", "bind", "dns.provider", "'bind'"),
        ("dns.ttl", 0, "dns.ttl", "0"),
        ("dns.records.0.record_type", "CNAME", "dns.records.0.record_type", "'CNAME'"),
    ],
)
def test_bad_values_name_the_field_and_the_value(
    path: str, value: Any, field: str, shown: str
) -> None:
    error = config_error(with_(path, value))
    assert f"{field}:" in str(error) and shown in str(error)
    assert error.field == field


@pytest.mark.parametrize(
    ("target", "why"),
    [
        ("localhost", "host:port"),
        ("localhost:", "host:port"),
        (":6379", "host:port"),
        ("localhost:redis", "host:port"),
        ("localhost:70000", "1-65535"),
        ("localhost:0", "1-65535"),
    ],
)
def test_a_tcp_target_needs_host_and_port(target: str, why: str) -> None:
    check = {"name": "redis", "check_type": "tcp", "target": target}
    error = config_error(with_("checks", [check]))
    assert "checks.0.target:" in str(error) and repr(target) in str(error) and why in str(error)
    assert (error.field, error.value) == ("checks.0.target", target)


def test_an_http_target_needs_a_scheme() -> None:
    check = {"name": "api", "check_type": "http", "target": "api.example.com/health"}
    error = config_error(with_("checks", [check]))
    assert "checks.0.target:" in str(error) and "'api.example.com/health'" in str(error)


def test_the_first_of_several_problems_is_the_field_and_all_are_reported() -> None:
    data = with_("site.primary_ip", "nope", with_("policy.cooldown_seconds", -1))
    error = config_error(data)
    assert "site.primary_ip" in str(error) and "policy.cooldown_seconds" in str(error)


def test_required_keys_are_named() -> None:
    data = with_("site", {"name": "genesis", "primary_ip": "192.0.2.10"})
    error = config_error(data)
    assert "site.backup_ip: required" in str(error)
    no_checks = dict(MINIMAL)
    del no_checks["checks"]
    assert "checks: required" in str(config_error(no_checks))


def test_same_primary_and_backup_is_rejected() -> None:
    error = config_error(with_("site.backup_ip", "192.0.2.10"))
    assert "'192.0.2.10'" in str(error) and "site" in str(error)


def test_two_checks_with_one_name_are_rejected() -> None:
    check = MINIMAL["checks"][0]
    assert "two checks are named 'api'" in str(config_error(with_("checks", [check, check])))


def test_a_timeout_far_beyond_the_interval_is_rejected() -> None:
    error = config_error(
        with_("checks.0.timeout_seconds", 100, with_("checks.0.interval_seconds", 1))
    )
    assert "checks.0" in str(error) and "more than 10x" in str(error)


def test_cloud_providers_load_with_default_token_variables() -> None:
    config = parse_config(with_("dns.provider", "cloudflare"))
    assert config.dns.cloudflare.api_token_env == "CLOUDFLARE_API_TOKEN"
    assert config.dns.digitalocean.api_token_env == "DO_API_TOKEN"  # the seed's name
    assert config.dns.route53.endpoint_url is None  # boto3 reads AWS_ENDPOINT_URL_ROUTE_53
    assert config.dns.providers_used == ["cloudflare"]


def test_records_at_several_providers_each_name_theirs() -> None:
    records = [
        {"domain": "genesis.example.test"},
        {"domain": "api.example.com", "provider": "cloudflare", "zone": "example.com"},
        {"domain": "www.example.net", "provider": "route53", "query_nameservers": False},
    ]
    config = parse_config(with_("dns.records", records))
    assert config.dns.providers_used == ["rfc2136", "cloudflare", "route53"]
    plan = build_monitor_plan(config)
    assert [(r.domain, r.provider, r.query_nameservers) for r in plan.records] == [
        ("genesis.example.test", "rfc2136", None),
        ("api.example.com", "cloudflare", None),
        ("www.example.net", "route53", False),
    ]
    inp = plan.operation_input("failover", "manual", "drill", dry_run=True, force=False)
    assert inp.verification_for(plan.records[0]) == ([], True)  # [] = authoritative servers
    assert inp.verification_for(plan.records[2]) == ([], False)


def test_an_unknown_provider_names_the_record_and_the_choices() -> None:
    error = config_error(with_("dns.records.0.provider", "godaddy"))
    assert "dns.records.0.provider" in str(error) and "'godaddy'" in str(error)


def test_a_record_at_rfc2136_needs_the_section_even_when_the_default_is_elsewhere() -> None:
    data = with_(
        "dns",
        {
            "provider": "cloudflare",
            "records": [{"domain": "a.example.test", "provider": "rfc2136"}],
        },
    )
    assert "[dns.rfc2136]" in str(config_error(data))


def test_a_record_zone_other_than_the_rfc2136_zone_is_rejected() -> None:
    error = config_error(with_("dns.records.0.zone", "example.org"))
    assert "'example.org'" in str(error) and "'example.test'" in str(error)


@pytest.mark.parametrize("url", ["ftp://api.example.com", "api.example.com", "http://"])
def test_a_provider_url_must_be_http(url: str) -> None:
    error = config_error(with_("dns.cloudflare", {"base_url": url}))
    assert "dns.cloudflare.base_url" in str(error) and repr(url) in str(error)


def test_a_provider_url_with_credentials_is_rejected_without_echoing_them() -> None:
    url = "https://user:s3cret-token@api.example.com"
    error = config_error(with_("dns.digitalocean", {"base_url": url}))
    assert "dns.digitalocean.base_url" in str(error) and "s3cret-token" not in str(error)
    assert error.value is None


def test_propagation_resolver_is_checked_at_load() -> None:
    error = config_error(with_("propagation.resolver", "127.0.0.1:notaport"))
    assert "propagation.resolver" in str(error)
    config = parse_config(with_("propagation.query_nameservers", False))
    assert build_monitor_plan(config).propagation.query_nameservers is False


def test_rfc2136_needs_its_section_and_tsig_pair() -> None:
    no_section = with_("dns", {"provider": "rfc2136", "records": [{"domain": "a.example.test"}]})
    assert "[dns.rfc2136]" in str(config_error(no_section))
    half = with_("dns.rfc2136.tsig_key_name", "ddns-key")
    assert "tsig_key_name and tsig_secret_env go together" in str(config_error(half))


# --- secrets never in the file, never in an error ------------------------------------------------


@pytest.mark.parametrize(
    ("check_type", "target"),
    [
        ("database", "postgresql://genesis:hunter2@db.internal:5432/genesis"),
        ("database", "postgres://genesis:hunter2@db.internal/genesis"),
        ("database", "postgresql://genesis@db.internal/genesis?sslmode=require&password=hunter2"),
        ("database", "postgresql://db.internal/genesis?password=hunter2"),
        ("http", "https://admin:hunter2@api.example.com/health"),
        ("http", "http://admin:hunter2@127.0.0.1:8080/"),
    ],
)
def test_a_password_in_a_target_is_rejected_and_not_repeated(check_type: str, target: str) -> None:
    error = config_error(
        with_("checks", [{"name": "c", "check_type": check_type, "target": target}])
    )
    assert "checks.0.target:" in str(error) and "must not contain a password" in str(error)
    assert "hunter2" not in str(error) and error.value is None


@pytest.mark.parametrize(
    ("check_type", "target"),
    [
        ("database", "postgresql://genesis@db.internal:5432/genesis?sslmode=require"),
        ("database", "/var/genesis/data/genesis.db"),
        ("http", "https://monitor@api.example.com/health"),  # a user without password
        ("http", "https://api.example.com/health?a=b:c@d"),  # not userinfo
    ],
)
def test_targets_without_a_password_are_fine(check_type: str, target: str) -> None:
    extra = {"password_env": "GENESIS_PG_PASSWORD"} if check_type == "database" else {}
    check = {"name": "c", "check_type": check_type, "target": target, **extra}
    config = parse_config(with_("checks", [check]))
    assert config.checks[0].target == target


@pytest.mark.parametrize(
    ("path", "base_extra"),
    [
        ("checks.0.password_env", None),
        ("dns.rfc2136.tsig_secret_env", {"dns.rfc2136.tsig_key_name": "ddns-key"}),
        ("notifications.email.password_env", "email"),
        ("notifications.email.username_env", "email"),
        ("notifications.slack.webhook_url_env", None),
        ("notifications.pagerduty.routing_key_env", None),
        ("hooks.pre_failover.0.webhook_url_env", "hook"),
    ],
)
def test_env_fields_take_a_variable_name_not_the_secret(path: str, base_extra: Any) -> None:
    secret = "pA55w0rd/with=base64+"
    if base_extra == "hook":
        data = with_("hooks.pre_failover", [{"name": "announce", "webhook_url_env": secret}])
    else:
        data = with_(path, secret)
    if base_extra == "email":
        data["notifications"]["email"].update(
            smtp_host="smtp.example.com", sender="f@example.com", recipients=["o@example.com"]
        )
    elif isinstance(base_extra, dict):
        for p, v in base_extra.items():
            data = with_(p, v, data)
    error = config_error(data)
    assert f"{path}:" in str(error) and "NAME of an environment variable" in str(error)
    assert "pA55w0rd" not in str(error) and error.value is None


@pytest.mark.parametrize("name", ["GENESIS_TSIG_SECRET", "_X", "tsig_secret_2"])
def test_env_variable_names_are_accepted(name: str) -> None:
    data = with_("dns.rfc2136.tsig_secret_env", name, with_("dns.rfc2136.tsig_key_name", "k"))
    rfc = parse_config(data).dns.rfc2136
    assert rfc is not None and rfc.tsig_secret_env == name


# --- environment overrides -----------------------------------------------------------------------


def test_temporal_env_overrides_the_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write(tmp_path, CONTRACT_TOML)
    monkeypatch.setenv("TEMPORAL_ADDRESS", "temporal.internal:7233")
    monkeypatch.setenv("TEMPORAL_NAMESPACE", "failover-prod")
    config = load_config(path)
    assert (config.temporal.address, config.temporal.namespace) == (
        "temporal.internal:7233",
        "failover-prod",
    )
    assert config.temporal.task_queue == "genesis-failover"  # untouched


def test_temporal_env_applies_without_a_temporal_section(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TEMPORAL_ADDRESS", "10.0.0.5:7233")
    config = parse_config(MINIMAL)
    assert config.temporal.address == "10.0.0.5:7233" and config.temporal.namespace == "default"


def test_empty_temporal_env_is_ignored(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TEMPORAL_ADDRESS", "")
    assert parse_config(with_("temporal", {"address": "a:1"})).temporal.address == "a:1"


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("address", "junk"),  # no port: the worker would retry an address that never answers
        ("address", "temporal.internal"),
        ("address", "host:99999"),
        ("address", ""),
        ("namespace", ""),
        ("namespace", "prod ns"),
        ("task_queue", ""),
        ("task_queue", " genesis"),
    ],
)
def test_a_temporal_setting_that_could_never_connect_is_refused_at_load(
    field: str, value: str
) -> None:
    error = config_error(with_(f"temporal.{field}", value))
    assert f"temporal.{field}:" in str(error) and repr(value) in str(error)


@pytest.mark.parametrize("address", ["localhost:7233", "ns.acct.tmprl.cloud:7233", "[::1]:7233"])
def test_temporal_addresses_with_a_port_load(address: str) -> None:
    assert parse_config(with_("temporal.address", address)).temporal.address == address


# --- the file itself -----------------------------------------------------------------------------


def test_a_missing_file_is_a_config_error_naming_it(tmp_path: Path) -> None:
    path = tmp_path / "nope.toml"
    with pytest.raises(ConfigError, match="cannot read config file") as caught:
        load_config(path)
    assert str(path) in str(caught.value) and caught.value.field == "config"


def test_a_directory_is_a_config_error_naming_it(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read config file") as caught:
        load_config(tmp_path)
    assert str(tmp_path) in str(caught.value)


@pytest.mark.parametrize(
    "text",
    [
        "[site\nname = 'x'\n",
        "[site]\nname = genesis\n",
        "[site]\nname = 'a'\nname = 'b'\n",
    ],
)
def test_invalid_toml_is_a_config_error_naming_the_file(tmp_path: Path, text: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError, match="is not valid TOML") as caught:
        load_config(path)
    assert str(path) in str(caught.value) and "line" in str(caught.value)


def test_a_non_utf8_file_is_a_config_error(tmp_path: Path) -> None:
    path = tmp_path / "latin1.toml"
    path.write_bytes(b"[site]\nname = '\xe9'\n")
    with pytest.raises(ConfigError, match="is not valid TOML") as caught:
        load_config(path)
    assert str(path) in str(caught.value)


# --- nameservers ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "server",
    [
        "8.8.8.8",
        "127.0.0.1:5300",
        "ns1.example.com",
        "ns1.example.com.",
        "ns1.example.com:53",
        "localhost:1",
        "::1",
        "2001:db8::53",
        "[::1]",
        "[::1]:53",
        "[2001:db8::53]:65535",
    ],
)
def test_good_nameservers_load(server: str) -> None:
    config = parse_config(
        with_("propagation.nameservers", [server], with_("dns.rfc2136.server", server))
    )
    assert config.propagation.nameservers == [server]
    assert config.dns.rfc2136 is not None and config.dns.rfc2136.server == server


BAD_SERVERS = [
    "",
    "127.0.0.1:0",
    "127.0.0.1:65536",
    "127.0.0.1:",
    ":53",
    "127.0.0.1:dns",
    "1.2.3.999",
    "ns1 example com",
    "-ns1.example.com",
    "[::1]:",
    "[::1]53",
    "[::1",
    "[127.0.0.1]:53",
    "fe80:zz::1",
    "8.8.8.8\n",
]


@pytest.mark.parametrize("server", BAD_SERVERS)
def test_bad_nameservers_are_rejected_naming_index_and_value(server: str) -> None:
    data = with_("propagation.nameservers", ["1.1.1.1", server])
    error = config_error(data)
    assert "propagation.nameservers.1:" in str(error) and repr(server) in str(error)
    assert (error.field, error.value) == ("propagation.nameservers.1", server)


@pytest.mark.parametrize("server", BAD_SERVERS)
def test_a_bad_rfc2136_server_is_rejected(server: str) -> None:
    error = config_error(with_("dns.rfc2136.server", server))
    assert "dns.rfc2136.server:" in str(error) and repr(server) in str(error)


def test_good_nameservers_are_read_the_same_by_propagation() -> None:
    # What the config accepts, the propagation code must be able to read.
    from genesis.failover.domain.dns.propagation import split_host_port

    assert split_host_port("[::1]:5300") == ("::1", 5300)
    assert split_host_port("ns1.example.com") == ("ns1.example.com", 53)
    assert split_host_port("2001:db8::53") == ("2001:db8::53", 53)


# --- records -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "records",
    [
        [{"domain": "www.example.test"}, {"domain": "www.example.test"}],
        [{"domain": "www.example.test"}, {"domain": "WWW.Example.Test."}],
        [{"domain": "www.example.test"}, {"domain": "www.example.test", "record_type": "AAAA"}],
    ],
)
def test_a_record_domain_listed_twice_is_rejected(records: list[dict[str, str]]) -> None:
    error = config_error(with_("dns.records", records))
    assert "dns.records:" in str(error) and "listed twice" in str(error)
    assert repr(records[1]["domain"]) in str(error)


def test_several_distinct_records_load() -> None:
    records = [{"domain": "www.example.test"}, {"domain": "api.example.test", "ttl": 30}]
    config = parse_config(with_("dns.records", records))
    assert [r.domain for r in config.dns.records] == ["www.example.test", "api.example.test"]


def test_the_config_is_frozen() -> None:
    config: FailoverConfig = parse_config(MINIMAL)
    with pytest.raises(Exception, match="frozen"):
        config.site.name = "other"  # type: ignore[misc]
