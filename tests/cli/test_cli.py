"""The real `genesis-failover` console script in a subprocess: exit codes, messages, secrets.

Exit codes are the contract (0 success, 1 operation failed or refused, 2 bad input or config), so
every test runs the installed script as an operator would, against real loopback targets on free
ports: a threaded HTTP server, a closed TCP port, a Temporal address nothing listens on.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
import socket
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

SCRIPT = Path(sys.executable).parent / "genesis-failover"
COMMAND = [str(SCRIPT)] if SCRIPT.exists() else [sys.executable, "-m", "genesis.failover.app.cli"]
TSIG_ENV = "GFO_CLI_TEST_TSIG"
# Variables that would change what the script reads; the tests set what they need themselves.
SCRUBBED = ("TEMPORAL_ADDRESS", "TEMPORAL_NAMESPACE", "GENESIS_FAILOVER_CONFIG", TSIG_ENV)


def free_port() -> int:
    """A loopback port nothing listens on (bound, read, released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def run(
    *args: str,
    cwd: Path,
    env: dict[str, str] | None = None,
    timeout: float = 30,
) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if k not in SCRUBBED}
    environ.update(env or {})
    return subprocess.run(
        [*COMMAND, *args],
        cwd=cwd,
        env=environ,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def config_text(
    *,
    checks: str,
    temporal_address: str = "127.0.0.1:7233",
    tsig: bool = True,
    extra: str = "",
) -> str:
    tsig_lines = f'tsig_key_name = "ddns-key"\ntsig_secret_env = "{TSIG_ENV}"' if tsig else ""
    return (
        textwrap.dedent(
            f"""
            [temporal]
            address = "{temporal_address}"

            [site]
            name = "cli-lab"
            primary_ip = "192.0.2.10"
            backup_ip = "192.0.2.20"

            [policy]
            cooldown_seconds = 120

            [dns]
            provider = "rfc2136"
            [[dns.records]]
            domain = "www.example.test"
            [dns.rfc2136]
            server = "127.0.0.1:5300"
            zone = "example.test"
            """
        )
        + tsig_lines
        + '\n\n[propagation]\nnameservers = ["127.0.0.1:5300", "[::1]:5301"]\n'
        + textwrap.dedent(checks)
        + textwrap.dedent(extra)
    )


CHECKS = """
[[checks]]
name = "api"
check_type = "http"
target = "http://127.0.0.1:18080/health"

[[checks]]
name = "redis"
type = "tcp"
target = "127.0.0.1:6379"
interval = 5
threshold = 4
"""


@pytest.fixture
def secret() -> str:
    return base64.b64encode(secrets.token_bytes(32)).decode()


@pytest.fixture
def good(tmp_path: Path) -> Path:
    path = tmp_path / "good.toml"
    path.write_text(config_text(checks=CHECKS))
    return path


def write(tmp_path: Path, text: str, name: str = "bad.toml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def assert_clean_error(result: subprocess.CompletedProcess[str], code: int) -> None:
    assert result.returncode == code, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr, result.stderr
    assert result.stderr.startswith("genesis-failover: ") or result.stderr.startswith("usage:")


# --- validate ------------------------------------------------------------------------------------


def test_validate_prints_the_site_and_checks(good: Path, secret: str) -> None:
    result = run("validate", "-c", str(good), cwd=good.parent, env={TSIG_ENV: secret})

    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "site cli-lab: primary 192.0.2.10, backup 192.0.2.20" in out
    assert "dns: rfc2136; records www.example.test A at rfc2136" in out
    assert "propagation: 127.0.0.1:5300, [::1]:5301" in out
    assert "payloads: stored as JSON (set [temporal.encryption]" in out
    assert "http://127.0.0.1:18080/health" in out and "127.0.0.1:6379" in out
    lines = {line.split()[0]: line.split() for line in out.splitlines() if line.strip()}
    assert lines["api"][1:2] == ["http"] and lines["redis"][1:2] == ["tcp"]
    assert "5s" in lines["redis"] and "4/2" in lines["redis"]  # the seed's short keys
    assert secret not in out + result.stderr


def test_validate_json_parses_and_never_holds_the_secret(good: Path, secret: str) -> None:
    result = run("-c", str(good), "validate", "--json", cwd=good.parent, env={TSIG_ENV: secret})

    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["site"]["name"] == "cli-lab"
    assert [c["name"] for c in data["checks"]] == ["api", "redis"]
    assert data["dns"]["rfc2136"]["tsig_secret_env"] == TSIG_ENV
    assert secret not in result.stdout + result.stderr


def test_validate_resolves_python_hooks(tmp_path: Path, secret: str) -> None:
    (tmp_path / "cli_lab_hooks.py").write_text("async def stop_trading() -> None:\n    pass\n")
    hook = (
        '\n[[hooks.pre_failover]]\nname = "stop_trading"\npython = "cli_lab_hooks:stop_trading"\n'
    )
    path = write(tmp_path, config_text(checks=CHECKS, extra=hook), "hooks.toml")
    env = {TSIG_ENV: secret}
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()

    # No PYTHONPATH: the hook module is found beside the config file.
    ok = run("-c", str(path), "validate", cwd=elsewhere, env=env)
    assert ok.returncode == 0, ok.stderr
    assert "hooks: pre_failover: stop_trading (python)" in ok.stdout

    missing = write(tmp_path, config_text(checks=CHECKS, extra=hook.replace("cli_lab", "no")))
    result = run("-c", str(missing), "validate", cwd=tmp_path, env=env)
    assert_clean_error(result, 2)
    assert "stop_trading" in result.stderr and "'no_hooks:stop_trading'" in result.stderr


ACTIONS = """
[[hooks.post_failover]]
name = "verify"
command = ["/bin/true", "--site", "cli-lab"]
[[hooks.post_failover]]
name = "announce"
webhook_url_env = "GFO_CLI_HOOK_URL"
[[gates.backup_checks]]
name = "backup_api"
check_type = "tcp"
target = "127.0.0.1:6380"
[notifications]
channels = ["slack"]
[notifications.slack]
webhook_url_env = "GFO_CLI_SLACK_URL"
"""


def test_validate_checks_hooks_gates_and_notification_secrets_as_the_worker_will(
    tmp_path: Path, secret: str
) -> None:
    slack_url = "https://hooks.slack.example/services/T0/B0/s3cr3tpath"
    env = {
        TSIG_ENV: secret,
        "GFO_CLI_HOOK_URL": "https://hooks.example/announce",
        "GFO_CLI_SLACK_URL": slack_url,
    }
    path = write(tmp_path, config_text(checks=CHECKS, extra=ACTIONS), "actions.toml")
    ok = run("-c", str(path), "validate", cwd=tmp_path, env=env)
    assert ok.returncode == 0, ok.stderr
    assert "post_failover: verify (command); post_failover: announce (webhook)" in ok.stdout
    assert "gates before failover: backup check backup_api (tcp 127.0.0.1:6380)" in ok.stdout
    assert "gate before failback: primary healthy for 300s" in ok.stdout
    assert "notifications: slack: 10 events" in ok.stdout
    assert slack_url not in ok.stdout + ok.stderr

    # A hook program that is not there fails now, not during the 3 a.m. failover.
    gone = write(
        tmp_path,
        config_text(checks=CHECKS, extra=ACTIONS.replace("/bin/true", "/nonexistent/verify")),
        "gone.toml",
    )
    result = run("-c", str(gone), "validate", cwd=tmp_path, env=env)
    assert_clean_error(result, 2)
    assert "hooks.post_failover.verify.command" in result.stderr
    assert "/nonexistent/verify" in result.stderr

    # A channel whose secret is unset: named, exit 2.
    unset = {k: v for k, v in env.items() if k != "GFO_CLI_SLACK_URL"}
    result = run("-c", str(path), "validate", cwd=tmp_path, env=unset)
    assert_clean_error(result, 2)
    assert "GFO_CLI_SLACK_URL" in result.stderr


def test_config_comes_from_the_environment_when_not_given(good: Path, secret: str) -> None:
    env = {TSIG_ENV: secret, "GENESIS_FAILOVER_CONFIG": str(good)}
    result = run("validate", "--json", cwd=good.parent, env=env)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["site"]["name"] == "cli-lab"


def test_temporal_env_overrides_the_file(good: Path, secret: str) -> None:
    env = {TSIG_ENV: secret, "TEMPORAL_ADDRESS": "10.9.8.7:7233", "TEMPORAL_NAMESPACE": "prod"}
    result = run("validate", "--json", "-c", str(good), cwd=good.parent, env=env)
    assert result.returncode == 0, result.stderr
    temporal = json.loads(result.stdout)["temporal"]
    assert (temporal["address"], temporal["namespace"]) == ("10.9.8.7:7233", "prod")


# Each case once; -c goes before the command in half of them and after it in the other half.
@pytest.mark.parametrize(
    ("where", "change", "expected"),
    [
        (
            "before",
            ("cooldown_seconds = 120", "cooldown_second = 120"),
            ["policy.cooldown_second: unknown key"],
        ),
        (
            "after",
            ("cooldown_seconds = 120", "cooldown_second = 120"),
            ["policy.cooldown_second: unknown key"],
        ),
        (
            "after",
            ('primary_ip = "192.0.2.10"', 'primary_ip = "192.0.2.300"'),
            ["site.primary_ip", "'192.0.2.300'"],
        ),
        ("before", ('backup_ip = "192.0.2.20"\n', ""), ["site.backup_ip: required"]),
        ("after", ('"[::1]:5301"', '"[::1]:0"'), ["propagation.nameservers.1", "'[::1]:0'"]),
        (
            "before",
            ('target = "127.0.0.1:6379"', 'target = "127.0.0.1"'),
            ["checks.1.target", "'127.0.0.1'"],
        ),
        ("after", ("interval = 5", "interval = -5"), ["checks.1.interval", "-5"]),
    ],
    ids=[
        "unknown-key-c-before",
        "unknown-key-c-after",
        "bad-ip",
        "missing-key",
        "bad-nameserver",
        "tcp-without-port",
        "negative",
    ],
)
def test_validate_a_bad_config_names_field_and_value(
    tmp_path: Path, secret: str, where: str, change: tuple[str, str], expected: list[str]
) -> None:
    text = config_text(checks=CHECKS)
    assert change[0] in text
    path = write(tmp_path, text.replace(change[0], change[1]))
    args = ["-c", str(path), "validate"] if where == "before" else ["validate", "-c", str(path)]

    result = run(*args, cwd=tmp_path, env={TSIG_ENV: secret})

    assert_clean_error(result, 2)
    for part in expected:
        assert part in result.stderr
    assert result.stdout == ""


def test_a_missing_config_file_is_named(tmp_path: Path) -> None:
    result = run("validate", "--config", "nowhere.toml", cwd=tmp_path)
    assert_clean_error(result, 2)
    assert "cannot read config file 'nowhere.toml'" in result.stderr


def test_bad_toml_is_named_with_its_line(tmp_path: Path) -> None:
    path = write(tmp_path, config_text(checks=CHECKS).replace('name = "api"', "name = api"))
    result = run("validate", "-c", str(path), cwd=tmp_path)
    assert_clean_error(result, 2)
    assert f"config file '{path}' is not valid TOML" in result.stderr and "line" in result.stderr


def test_a_password_in_a_target_is_refused_without_repeating_it(tmp_path: Path) -> None:
    checks = CHECKS.replace("http://127.0.0.1", "http://admin:s3cr3t-pw@127.0.0.1")
    path = write(tmp_path, config_text(checks=checks))
    result = run("validate", "-c", str(path), cwd=tmp_path)
    assert_clean_error(result, 2)
    assert "checks.0.target" in result.stderr and "password" in result.stderr
    assert "s3cr3t-pw" not in result.stderr + result.stdout


# --- the TSIG secret -----------------------------------------------------------------------------


def test_a_missing_tsig_secret_names_the_variable(good: Path) -> None:
    result = run("validate", "-c", str(good), cwd=good.parent)
    assert_clean_error(result, 2)
    assert TSIG_ENV in result.stderr and "dns.rfc2136.tsig_secret_env" in result.stderr


def test_a_bad_tsig_secret_names_the_variable_not_the_value(good: Path) -> None:
    bad = "n0t-base64-but-a-secret!!"
    result = run("validate", "-c", str(good), cwd=good.parent, env={TSIG_ENV: bad})
    assert_clean_error(result, 2)
    assert TSIG_ENV in result.stderr and "base64" in result.stderr
    assert bad not in result.stderr + result.stdout


# --- argument errors -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["failover"], "the following arguments are required: --reason"),
        (["failover", "--reason", ""], "--reason must not be empty"),
        (["failover", "--reason", "   "], "--reason must not be empty"),
        (["failover", "--reason", "x" * 501], "at most 500"),
        (["explode"], "invalid choice: 'explode'"),
        ([], "required"),
        (
            ["failover", "--reason", "m", "--lower-ttl", "0"],
            "--lower-ttl must be 1-86400 seconds, got 0",
        ),
        (
            ["failback", "--lower-ttl", "soon"],
            "--lower-ttl must be a whole number of seconds, got 'soon'",
        ),
        (["history", "--limit", "0"], "argument --limit: --limit must be 1 or more, got 0"),
        (["history", "--limit", "ten"], "--limit must be a whole number, got 'ten'"),
        (["drill", "--reason", " "], "argument --reason: --reason must not be empty"),
        (["drill", "--force"], "unrecognized arguments: --force"),
        (["status", "--watch"], "unrecognized arguments: --watch"),
    ],
    ids=[
        "no-reason",
        "empty-reason",
        "blank-reason",
        "long-reason",
        "unknown-command",
        "none",
        "zero-ttl",
        "word-ttl",
        "zero-limit",
        "word-limit",
        "blank-drill-reason",
        "drill-is-never-forced",
        "unknown-option",
    ],
)
def test_argument_errors_exit_2(tmp_path: Path, args: list[str], expected: str) -> None:
    result = run(*args, cwd=tmp_path)
    assert_clean_error(result, 2)
    assert expected in result.stderr


# --- check, against real loopback targets --------------------------------------------------------


class _Health(BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 - the stdlib's name
        body = b"ok"
        self.send_response(200 if self.path == "/health" else 404)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass


@pytest.fixture
def http_target() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Health)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/health"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def check_config(tmp_path: Path, http_url: str, *, tcp_critical: bool | None) -> Path:
    checks = f"""
    [[checks]]
    name = "api"
    check_type = "http"
    target = "{http_url}"
    timeout_seconds = 3
    """
    if tcp_critical is not None:
        checks += f"""
    [[checks]]
    name = "redis"
    check_type = "tcp"
    target = "127.0.0.1:{free_port()}"
    timeout_seconds = 3
    critical = {str(tcp_critical).lower()}
    """
    # No TSIG: `check` never builds a DNS provider, so it needs no DNS secret either.
    return write(tmp_path, config_text(checks=checks, tsig=False), "check.toml")


def test_check_fails_on_a_critical_unhealthy_probe(tmp_path: Path, http_target: str) -> None:
    path = check_config(tmp_path, http_target, tcp_critical=True)
    result = run("check", "-c", str(path), cwd=tmp_path)

    assert result.returncode == 1, (result.stdout, result.stderr)
    rows = {line.split()[0]: line for line in result.stdout.splitlines()}
    assert rows["CHECK"].split() == ["CHECK", "RESULT", "LATENCY", "ERROR"]
    assert rows["api"].split()[1] == "ok" and rows["api"].rstrip().endswith("-")
    assert rows["redis"].split()[1] == "FAIL" and "connection refused" in rows["redis"]
    assert "\033[" not in result.stdout  # no colour when not on a terminal


def test_check_passes_when_only_healthy_checks(tmp_path: Path, http_target: str) -> None:
    path = check_config(tmp_path, http_target, tcp_critical=None)
    result = run("-c", str(path), "check", cwd=tmp_path)
    assert result.returncode == 0, (result.stdout, result.stderr)
    assert result.stdout.splitlines()[1].split()[:2] == ["api", "ok"]


def test_check_ignores_a_failing_non_critical_probe(tmp_path: Path, http_target: str) -> None:
    path = check_config(tmp_path, http_target, tcp_critical=False)
    result = run("check", "-c", str(path), cwd=tmp_path)
    assert result.returncode == 0, (result.stdout, result.stderr)
    assert "FAIL" in result.stdout and "connection refused" in result.stdout


def test_check_json_lists_results(tmp_path: Path, http_target: str) -> None:
    path = check_config(tmp_path, http_target, tcp_critical=True)
    result = run("check", "--json", "-c", str(path), cwd=tmp_path)

    assert result.returncode == 1, (result.stdout, result.stderr)
    data = json.loads(result.stdout)
    assert isinstance(data, list)
    by_name = {r["check_name"]: r for r in data}
    assert by_name["api"]["healthy"] is True and by_name["api"]["error"] is None
    assert by_name["redis"]["healthy"] is False
    assert "connection refused" in by_name["redis"]["error"]
    assert all(r["origin"] == "cli" for r in data)


# --- commands that need Temporal, when it is not there -------------------------------------------


@pytest.mark.parametrize(
    "args",
    [
        ["status"],
        ["history", "--json"],
        ["failover", "--reason", "drill", "--dry-run"],
        ["failback", "--json"],
        ["drill"],
    ],
    ids=["status", "history", "failover", "failback-json", "drill"],
)
def test_unreachable_temporal_exits_1_quickly(tmp_path: Path, args: list[str]) -> None:
    address = f"127.0.0.1:{free_port()}"
    path = write(tmp_path, config_text(checks=CHECKS, temporal_address=address), "t.toml")

    started = time.monotonic()
    result = run(*args, "-c", str(path), cwd=tmp_path, timeout=30)
    elapsed = time.monotonic() - started

    assert_clean_error(result, 1)
    assert f"cannot reach Temporal at {address}" in result.stderr
    assert result.stdout == ""
    assert elapsed < 10, f"took {elapsed:.1f} s to report an unreachable Temporal"
