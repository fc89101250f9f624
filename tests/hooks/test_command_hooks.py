"""Command hooks run for real: argv without a shell, a clean environment, the process group
killed at the timeout, output redacted and bounded."""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import re
import signal
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from genesis.failover.domain.config import HookConfig, HooksSettings
from genesis.failover.domain.errors import ConfigError, HookError
from genesis.failover.domain.hooks import (
    BASE_ENV,
    KILL_GRACE_SECONDS,
    OUTPUT_LIMIT,
    CommandHook,
    HookContext,
    HookRegistry,
)
from genesis.failover.domain.models import HookSpec
from tests.support import require, unavailable

CTX = HookContext(
    site="genesis",
    direction="failover",
    trigger="manual",
    reason="primary database down",
    from_ip="192.0.2.10",
    to_ip="192.0.2.20",
    failover_id="failover-genesis-switch",
)
DO_TOKEN = "dop_v1_" + "5e" * 32


@pytest.fixture(autouse=True)
def _posix_tools() -> None:
    require("/bin/sh", "a POSIX shell (/bin/sh)")
    require("sleep", "sleep")
    if not Path("/proc/self/stat").exists():
        unavailable("/proc (to tell a killed process from a live one)")


@pytest.fixture
def worker_env(tmp_path: Path) -> dict[str, str]:
    """The worker's environment as a hook could leak it: locale, PATH, and a DNS token."""
    return {
        "PATH": os.environ.get("PATH", os.defpath),
        "HOME": str(tmp_path),
        "LANG": "C.UTF-8",
        "DO_API_TOKEN": DO_TOKEN,
    }


@pytest.fixture
def pids() -> Iterator[list[int]]:
    """Processes a test started through a hook; whatever survives the test is killed."""
    started: list[int] = []
    yield started
    for pid in started:
        if alive(pid):
            os.kill(pid, signal.SIGKILL)


def alive(pid: int) -> bool:
    """Running. A zombie (dead, waiting for init to reap it) is not."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return False
    return stat.rsplit(")", 1)[1].split()[0] not in ("Z", "X")


async def gone(pid: int, within: float = 2.0) -> bool:
    until = time.monotonic() + within
    while alive(pid):
        if time.monotonic() > until:
            return False
        await asyncio.sleep(0.02)
    return True


def script(tmp_path: Path, body: str, name: str = "hook.sh") -> str:
    path = tmp_path / name
    path.write_text("#!/bin/sh\n" + body)
    path.chmod(0o755)
    return str(path)


def registry(
    argv: list[str],
    environ: dict[str, str],
    *,
    secrets: tuple[str, ...] = (),
    **options: Any,
) -> tuple[HookRegistry, HookSpec]:
    reg = HookRegistry(secrets)
    reg.add_config(
        HooksSettings(pre_failover=[HookConfig(name="h", command=argv, **options)]), environ
    )
    return reg, reg.specs["pre_failover"][0]


# --- environment ---------------------------------------------------------------------------------

ENV_DUMP = "import json, os; print(json.dumps(dict(os.environ)))"


async def test_the_context_arrives_as_variables_and_the_worker_secrets_do_not(
    worker_env: dict[str, str],
) -> None:
    reg, spec = registry([sys.executable, "-c", ENV_DUMP], worker_env)
    assert spec.kind == "command" and spec.on_failure == "abort"
    outcome = await reg.run(spec, CTX.model_copy(update={"dry_run": True}))
    env = json.loads(outcome.output or "")
    assert {k: v for k, v in env.items() if k.startswith("GENESIS_")} == {
        "GENESIS_SITE": "genesis",
        "GENESIS_DIRECTION": "failover",
        "GENESIS_TRIGGER": "manual",
        "GENESIS_REASON": "primary database down",
        "GENESIS_FROM_IP": "192.0.2.10",
        "GENESIS_TO_IP": "192.0.2.20",
        "GENESIS_FAILOVER_ID": "failover-genesis-switch",
        "GENESIS_DRY_RUN": "true",
        "GENESIS_HOOK_NAME": "h",
        "GENESIS_HOOK_PHASE": "pre_failover",
    }
    assert "DO_API_TOKEN" not in env and DO_TOKEN not in (outcome.output or "")
    assert env["PATH"] == worker_env["PATH"] and env["HOME"] == worker_env["HOME"]
    # Python may set LC_CTYPE itself (PEP 538); nothing else beyond the base list.
    assert set(env) - {"LC_CTYPE"} <= {*BASE_ENV, *(k for k in env if k.startswith("GENESIS_"))}


async def test_a_variable_named_in_pass_env_arrives_intact_and_is_redacted_from_output(
    worker_env: dict[str, str],
) -> None:
    code = (
        "import hashlib, os; v = os.environ['DO_API_TOKEN']; "
        "print(hashlib.sha256(v.encode()).hexdigest()); print('token is', v)"
    )
    reg, spec = registry([sys.executable, "-c", code], worker_env, pass_env=["DO_API_TOKEN"])
    outcome = await reg.run(spec, CTX)
    digest, said = (outcome.output or "").splitlines()
    assert digest == hashlib.sha256(DO_TOKEN.encode()).hexdigest()
    assert said == "token is ***"


async def test_secrets_are_redacted_from_output_and_errors(
    tmp_path: Path, worker_env: dict[str, str]
) -> None:
    worker_env["DB_PASSWORD"] = "s3cr3t-db-password"
    registry_secret = "reg-secret-0123456789"
    body = f'echo "password=$DB_PASSWORD token={registry_secret}"\nexit "$1"\n'
    path = script(tmp_path, body)
    reg = HookRegistry([registry_secret])
    reg.add_config(
        HooksSettings(
            post_failover=[
                HookConfig(name="ok", command=[path, "0"], pass_env=["DB_PASSWORD"]),
                HookConfig(name="fails", command=[path, "1"], pass_env=["DB_PASSWORD"]),
            ]
        ),
        worker_env,
    )
    ok, fails = reg.specs["post_failover"]
    outcome = await reg.run(ok, CTX)
    assert outcome.output == "password=*** token=***\n"
    with pytest.raises(HookError) as info:
        await reg.run(fails, CTX)
    assert "password=*** token=***" in str(info.value)
    for text in (outcome.output or "", str(info.value)):
        assert "s3cr3t" not in text and registry_secret not in text


async def test_shell_syntax_in_the_reason_and_argv_is_passed_literally(tmp_path: Path) -> None:
    reason = 'db down"; rm -rf "$HOME" x; echo $(touch pwned) `touch pwned2` | tee p3 > p4 &'
    args = ["; touch pwned5", "$(touch pwned6)", "*", "a b"]
    code = "import json, os, sys; print(json.dumps([os.environ['GENESIS_REASON'], *sys.argv[1:]]))"
    reg, spec = registry(
        [sys.executable, "-c", code, *args],
        {"PATH": os.environ.get("PATH", os.defpath)},
        working_dir=str(tmp_path),
    )
    outcome = await reg.run(spec, CTX.model_copy(update={"reason": reason}))
    assert json.loads(outcome.output or "") == [reason, *args]
    assert os.listdir(tmp_path) == [], "nothing ran as shell syntax"


# --- exit status and output ----------------------------------------------------------------------


async def test_a_non_zero_exit_is_a_retryable_error_with_status_and_last_output(
    tmp_path: Path, worker_env: dict[str, str]
) -> None:
    body = 'echo "checking replica"\necho "fatal: replica not ready" >&2\nexit 3\n'
    reg, spec = registry([script(tmp_path, body)], worker_env)
    with pytest.raises(HookError) as info:
        await reg.run(spec, CTX)
    # stdout and stderr share one pipe: the order they were written in.
    assert str(info.value) == (
        "hook 'h' exited with status 3: checking replica | fatal: replica not ready"
    )
    assert info.value.retryable


async def test_a_hook_killed_by_a_signal_says_which(
    tmp_path: Path, worker_env: dict[str, str]
) -> None:
    reg, spec = registry([script(tmp_path, "kill -KILL $$\n")], worker_env)
    with pytest.raises(HookError, match=r"^hook 'h' killed by SIGKILL$"):
        await reg.run(spec, CTX)


async def test_output_is_bounded_to_its_end_and_decoded_with_replacement(
    worker_env: dict[str, str],
) -> None:
    code = (
        "import sys\n"
        "for i in range(20000): print(f'line {i:05d}')\n"
        "sys.stdout.flush(); sys.stdout.buffer.write(b'bad \\xff\\xfe bytes\\n')\n"
        "print('LAST LINE'); sys.exit(sys.argv[1] == 'fail')\n"
    )
    reg, spec = registry([sys.executable, "-c", code, "ok"], worker_env)
    output = (await reg.run(spec, CTX)).output or ""
    assert output.startswith(f"[output cut to its last {OUTPUT_LIMIT} characters]\n")
    assert len(output) <= OUTPUT_LIMIT + 60
    assert output.endswith("bad \ufffd\ufffd bytes\nLAST LINE\n")
    assert "line 19999" in output and "line 00000" not in output

    reg, spec = registry([sys.executable, "-c", code, "fail"], worker_env)
    with pytest.raises(HookError) as info:
        await reg.run(spec, CTX)
    assert str(info.value).endswith("LAST LINE") and len(str(info.value)) <= 600


# --- timeouts and stray processes ----------------------------------------------------------------


async def test_a_hang_past_the_timeout_kills_the_process_group_children_included(
    tmp_path: Path, worker_env: dict[str, str], pids: list[int]
) -> None:
    # The child ignores SIGTERM and holds the output pipe: only SIGKILL to the group, after
    # the grace, stops it; and reading must not wait for the pipe it holds.
    body = (
        '(trap \'\' TERM; exec sleep 30) &\necho "$!" > "$1"\necho "waiting on the replica"\nwait\n'
    )
    pid_file = tmp_path / "child.pid"
    reg, spec = registry([script(tmp_path, body), str(pid_file)], worker_env, timeout_seconds=0.5)
    started = time.monotonic()
    with pytest.raises(HookError) as info:
        await reg.run(spec, CTX)
    elapsed = time.monotonic() - started
    child = int(pid_file.read_text())
    pids.append(child)
    assert str(info.value) == (
        "hook 'h' timed out after 0.5s (process group killed): waiting on the replica"
    )
    assert info.value.retryable
    assert 0.5 + KILL_GRACE_SECONDS - 0.1 <= elapsed < 0.5 + KILL_GRACE_SECONDS + 1.0
    assert await gone(child), "the child outlived the hook"


async def test_a_program_that_stops_on_sigterm_is_not_kept_for_the_grace(
    worker_env: dict[str, str],
) -> None:
    # A bare program name, resolved through the hook's PATH.
    reg, spec = registry(["sleep", "30"], worker_env, timeout_seconds=0.3)
    started = time.monotonic()
    with pytest.raises(HookError, match=r"timed out after 0.3s \(process group killed\)"):
        await reg.run(spec, CTX)
    assert time.monotonic() - started < 0.3 + KILL_GRACE_SECONDS / 2


async def test_a_background_process_holding_the_output_does_not_hold_a_successful_hook(
    tmp_path: Path, worker_env: dict[str, str], pids: list[int]
) -> None:
    body = 'sleep 30 &\necho "daemon $!"\necho done\n'
    reg, spec = registry([script(tmp_path, body)], worker_env)
    started = time.monotonic()
    outcome = await reg.run(spec, CTX)
    output = outcome.output or ""
    pids.append(int(re.findall(r"daemon (\d+)", output)[0]))
    assert time.monotonic() - started < 1.5
    assert outcome.ok and "done\n" in output
    assert output.endswith("[a background process still holds the output open; stopped reading]")


async def test_a_cancelled_run_kills_the_hook(
    tmp_path: Path, worker_env: dict[str, str], pids: list[int]
) -> None:
    # What happens when Temporal cancels the activity (heartbeat timeout, workflow cancelled).
    pid_file = tmp_path / "hook.pid"
    reg, spec = registry(
        [script(tmp_path, 'echo $$ > "$1"\nexec sleep 30\n'), str(pid_file)], worker_env
    )
    task = asyncio.create_task(reg.run(spec, CTX))
    for _ in range(250):
        if pid_file.exists() and pid_file.read_text().strip():
            break
        await asyncio.sleep(0.02)
    pid = int(pid_file.read_text())
    pids.append(pid)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert await gone(pid)


# --- checked at worker start ---------------------------------------------------------------------


@pytest.mark.parametrize("case", ["missing path", "not on PATH", "not executable", "a directory"])
def test_a_program_that_cannot_run_is_a_config_error_naming_the_field(
    tmp_path: Path, worker_env: dict[str, str], case: str
) -> None:
    plain = tmp_path / "plain.sh"
    plain.write_text("#!/bin/sh\n")
    program = {
        "missing path": str(tmp_path / "nope.sh"),
        "not on PATH": "no-such-program-xyz",
        "not executable": str(plain),
        "a directory": str(tmp_path),
    }[case]
    with pytest.raises(ConfigError, match="is not an executable file") as info:
        registry([program, "--flag"], worker_env)
    assert info.value.field == "hooks.pre_failover.h.command" and info.value.value == program


def test_a_relative_program_is_found_from_the_working_dir(
    tmp_path: Path, worker_env: dict[str, str]
) -> None:
    script(tmp_path, "pwd\n", name="check.sh")
    with pytest.raises(ConfigError, match="'./check.sh' is not an executable file"):
        registry(["./check.sh"], worker_env)  # the worker's own directory has none
    reg, _ = registry(["./check.sh"], worker_env, working_dir=str(tmp_path))
    assert isinstance(reg.hooks["h"], CommandHook)


async def test_the_working_dir_is_the_hook_cwd_and_must_exist(
    tmp_path: Path, worker_env: dict[str, str]
) -> None:
    reg, spec = registry(["pwd"], worker_env, working_dir=str(tmp_path))
    assert (await reg.run(spec, CTX)).output == f"{tmp_path}\n"
    missing = str(tmp_path / "gone")
    with pytest.raises(ConfigError, match="is not a directory") as info:
        registry(["pwd"], worker_env, working_dir=missing)
    assert info.value.field == "hooks.pre_failover.h.working_dir"


def test_an_unset_pass_env_variable_is_a_config_error(worker_env: dict[str, str]) -> None:
    with pytest.raises(ConfigError, match="DEPLOY_KEY") as info:
        registry(["true"], worker_env, pass_env=["DEPLOY_KEY"])
    assert info.value.field == "hooks.pre_failover.h.pass_env" and info.value.value == "DEPLOY_KEY"


async def test_a_nul_byte_in_the_reason_is_a_hook_error_not_a_crash(
    worker_env: dict[str, str],
) -> None:
    reg, spec = registry(["true"], worker_env)
    with pytest.raises(HookError, match="cannot start 'true': embedded null byte") as info:
        await reg.run(spec, CTX.model_copy(update={"reason": "bad\x00reason"}))
    assert not info.value.retryable


async def test_a_program_gone_at_run_time_is_not_retryable(
    tmp_path: Path, worker_env: dict[str, str]
) -> None:
    path = script(tmp_path, "exit 0\n")
    reg, spec = registry([path], worker_env)
    os.unlink(path)
    with pytest.raises(HookError, match="cannot start") as info:
        await reg.run(spec, CTX)
    assert not info.value.retryable
