"""deploy/systemd/genesis-failover-worker.service: the worker beside the services, under systemd.

The unit is read as systemd reads it and checked for what keeps a failover safe: it runs the
worker with its config, it waits longer than the worker's drain before SIGKILL, its secrets come
from a root-only environment file, it restarts on failure but not on a bad config, and it is
sandboxed. `systemd-analyze verify` checks every key where systemd is installed.
"""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
import tomllib
from pathlib import Path

from genesis.failover.domain.config.site import TemporalSettings
from tests.support import CLI, require

REPO = Path(__file__).resolve().parents[2]
UNIT = REPO / "deploy" / "systemd" / "genesis-failover-worker.service"
ENV_EXAMPLE = REPO / "deploy" / "systemd" / "worker.env.example"
SECRET_NAME = re.compile(r"PASSWORD|PASSWD|PWD|TOKEN|SECRET|KEY|WEBHOOK|CREDENTIAL", re.I)


def unit(text: str | None = None) -> dict[str, dict[str, list[str]]]:
    """section -> key -> every value given (systemd keys may repeat)."""
    sections: dict[str, dict[str, list[str]]] = {}
    current: dict[str, list[str]] | None = None
    for raw in (text if text is not None else UNIT.read_text()).splitlines():
        line = raw.strip()
        if not line or line[0] in "#;":
            continue
        if line.startswith("[") and line.endswith("]"):
            current = sections.setdefault(line[1:-1], {})
            continue
        assert current is not None, f"{line!r} before any section"
        key, sep, value = line.partition("=")
        assert sep, f"not key=value: {line!r}"
        current.setdefault(key.strip(), []).append(value.strip())
    return sections


def service(key: str) -> str:
    values = unit()["Service"].get(key)
    assert values, f"[Service] {key} is not set"
    return values[-1]


def timespan(value: str) -> float:
    """systemd time spans: "45", "45s", "1min 30s", "2m", "500ms"."""
    units = {"ms": 0.001, "s": 1, "sec": 1, "m": 60, "min": 60, "h": 3600, "hr": 3600}
    if re.fullmatch(r"\d+(\.\d+)?", value):
        return float(value)
    parts = re.findall(r"(\d+(?:\.\d+)?)\s*(ms|sec|min|hr|s|m|h)", value)
    assert parts, f"not a time span: {value!r}"
    return sum(float(n) * units[u] for n, u in parts)


def test_it_runs_the_worker_with_its_config() -> None:
    argv = shlex.split(service("ExecStart"))
    assert argv[0].endswith("/genesis-failover") and argv[0].startswith("/")
    assert argv[1:] == ["-c", "/etc/genesis-failover/config.toml", "worker"]
    assert service("Type") == "exec", "started means the program runs, not just forked"


def test_systemd_waits_longer_than_the_drain_before_sigkill() -> None:
    grace = TemporalSettings.model_fields["shutdown_grace_seconds"].default
    assert timespan(service("TimeoutStopSec")) > grace
    assert service("KillSignal") == "SIGTERM", "what the worker drains on"
    # SIGTERM to the worker alone (it stops its hooks itself); SIGKILL to the whole cgroup
    # only when the timeout runs out.
    assert service("KillMode") == "mixed"


def test_secrets_come_from_an_environment_file_and_no_secret_is_in_the_unit() -> None:
    assert service("EnvironmentFile").startswith("/etc/genesis-failover/")
    for assignment in unit()["Service"].get("Environment", []):
        for name in re.findall(r"([A-Za-z_][A-Za-z0-9_]*)=", assignment):
            assert not SECRET_NAME.search(name), f"Environment={assignment}: a secret in the unit"


def test_it_restarts_on_failure_but_not_on_a_bad_config() -> None:
    assert service("Restart") in ("on-failure", "always")
    assert timespan(service("RestartSec")) >= 1
    # Exit 2: bad config or a missing secret; starting again cannot fix it.
    assert "2" in service("RestartPreventExitStatus").split()


def test_it_runs_unprivileged_in_a_read_only_system() -> None:
    assert service("User") not in ("", "root", "0")
    assert service("NoNewPrivileges") == "yes"
    assert service("ProtectSystem") == "strict"
    assert service("CapabilityBoundingSet") == ""
    config = shlex.split(service("ExecStart"))[2]
    read_only = service("ReadOnlyPaths").split()
    assert any(config.startswith(path.rstrip("/") + "/") for path in read_only)


def test_the_env_example_holds_names_only_and_covers_the_production_example() -> None:
    assignments = [
        line.lstrip("#").strip()
        for line in ENV_EXAMPLE.read_text().splitlines()
        if re.match(r"^#?[A-Z][A-Z0-9_]*=", line)
    ]
    values = dict(a.split("=", 1) for a in assignments)
    assert all(v == "" for v in values.values()), "the example holds a value"
    production = tomllib.loads((REPO / "examples" / "production.toml").read_text())

    def names(node: object) -> set[str]:
        if isinstance(node, dict):
            found = {v for k, v in node.items() if k.endswith("_env") and isinstance(v, str)}
            for k, v in node.items():
                if k == "pass_env" and isinstance(v, list):
                    found |= set(v)
                found |= names(v)
            return found
        if isinstance(node, list):
            return set().union(*(names(item) for item in node)) if node else set()
        return set()

    assert names(production) <= set(values)


def test_systemd_analyze_verifies_the_unit(tmp_path: Path) -> None:
    # Debian's systemd package (scripts/setup.sh installs it): fails in CI when missing.
    analyze = require(shutil.which("systemd-analyze"), "systemd-analyze (Debian package systemd)")
    # The unit as installed, its program pointing at this checkout's console script (verify
    # checks that the program exists and is executable).
    text = UNIT.read_text().replace("/opt/genesis-failover/bin/genesis-failover", CLI)
    copy = tmp_path / UNIT.name
    copy.write_text(text)
    done = subprocess.run(
        [analyze, "verify", str(copy)], capture_output=True, text=True, timeout=60, check=False
    )
    # verify exits 0 on unknown keys and bad values, but names them: both must be silent.
    assert done.returncode == 0 and done.stderr.strip() == "", done.stdout + done.stderr


def test_the_verify_above_can_fail(tmp_path: Path) -> None:
    """A misspelt key and a bad value in the same unit are reported (so a silent verify means
    something)."""
    analyze = require(shutil.which("systemd-analyze"), "systemd-analyze (Debian package systemd)")
    broken = (
        UNIT.read_text()
        .replace("/opt/genesis-failover/bin/genesis-failover", CLI)
        .replace("ProtectSystem=strict", "ProtectSistem=strict")
        .replace("KillMode=mixed", "KillMode=gently")
    )
    path = tmp_path / UNIT.name
    path.write_text(broken)
    done = subprocess.run(
        [analyze, "verify", str(path)], capture_output=True, text=True, timeout=60, check=False
    )
    assert "ProtectSistem" in done.stderr and "kill mode" in done.stderr, done.stderr
