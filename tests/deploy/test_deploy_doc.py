"""docs/deploy.md is what an operator follows at 3 a.m.: every file it names must exist, every
`genesis-failover` command and `[temporal]` setting it shows must be real, so the page cannot
drift from the code it describes."""

from __future__ import annotations

import re
from pathlib import Path

from genesis.failover.app.cli import COMMANDS
from genesis.failover.domain.config import TemporalSettings, TlsSettings

ROOT = Path(__file__).resolve().parents[2]
PAGE = ROOT / "docs" / "deploy.md"
TEXT = PAGE.read_text()


def test_every_file_the_page_names_exists() -> None:
    named = set(re.findall(r"(?<![\w/])((?:deploy|tests|docs|examples|scripts)/[\w./-]*\w)", TEXT))
    assert len(named) >= 20, sorted(named)
    missing = sorted(p for p in named if not (ROOT / p).exists())
    assert not missing, f"{PAGE.name} names files that do not exist: {missing}"


def test_every_command_the_page_runs_is_a_command() -> None:
    shown = set(re.findall(r"genesis-failover(?: -c [^\s`]+)? ([a-z][a-z-]+)", TEXT))
    shown |= set(re.findall(r"run --rm --no-deps worker ([a-z][a-z-]+)", TEXT))
    assert {"worker", "validate", "replay", "status"} <= shown, sorted(shown)
    unknown = sorted(shown - set(COMMANDS) - {"healthcheck"})
    assert not unknown, f"{PAGE.name} runs commands that do not exist: {unknown}"


def test_every_temporal_setting_the_page_shows_is_a_setting() -> None:
    keys = set(re.findall(r"^#?\s*([a-z_]+) = ", TEXT, re.M))
    known = set(TemporalSettings.model_fields) | set(TlsSettings.model_fields)
    assert {"api_key_env", "client_cert_path", "server_ca_cert_path"} <= keys, sorted(keys)
    unknown = sorted(keys - known - {"address", "namespace", "task_queue"})
    assert not unknown, f"{PAGE.name} shows [temporal] keys that do not exist: {unknown}"
