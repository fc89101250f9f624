"""Command hooks: a program run with an argv list, no shell, in its own process group.

Why each rule:
- no shell: the reason an operator types ("db down; rm -rf /") reaches the program as the
  literal text of GENESIS_REASON, never as shell syntax;
- a clean environment: the worker's environment holds the DNS provider tokens, and a hook
  script (or whatever it runs, or logs its environment to) has no business with them;
- its own process group: a timeout must stop the script AND what it started (a hung ``ssh``,
  a ``curl`` without a timeout), or they outlive the hook and hold the output pipe open;
- our own pipe: asyncio's ``Process.wait()`` waits for its pipes to close too, so a grandchild
  that keeps them open would hang the hook past its timeout. We read a pipe we can close.

A worker that dies (SIGKILL, OOM) cannot stop its hook: the hook's own session outlives it.
The process is named in the activity's heartbeat (``ProcessId``), and the attempt that runs the
hook again first stops what is left of it if it is still running on this host
(``stop_leftover``), so two runs of one hook never overlap here. The hook itself is run again
from the start: at-least-once.

Output: stdout and stderr share one pipe, so they arrive merged in the order the program wrote
them. The LAST ``OUTPUT_LIMIT`` characters are kept: the end of a script's output says why it
failed.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import socket
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import ClassVar

from genesis.failover.domain.config import HookConfig
from genesis.failover.domain.errors import ConfigError, HookError
from genesis.failover.domain.hooks.python import OUTPUT_LIMIT
from genesis.failover.domain.models import HookContext, HookSpec
from genesis.failover.domain.secrets import redact

__all__ = [
    "BASE_ENV",
    "KILL_GRACE_SECONDS",
    "CommandHook",
    "OutputTail",
    "ProcessId",
    "hook_environment",
    "passed_environment",
    "stop_leftover",
]

# Passed from the worker when set there: what a program needs to find its tools and speak the
# locale, nothing that authenticates anything.
BASE_ENV = ("PATH", "HOME", "LANG", "LC_ALL", "LC_CTYPE", "TZ", "USER", "LOGNAME", "TMPDIR")
# SIGTERM first, so a script can clean up (remove a lock, say why it stopped); SIGKILL after.
# Well inside the activity's margin over the hook's timeout (workflows/failover.py).
KILL_GRACE_SECONDS = 2.0
# Once the program has exited, how long a background process it left may keep the output pipe
# open before we stop reading (a successful hook must not wait on a daemon it started).
DRAIN_SECONDS = 0.5
# How much of the output's end an error message carries.
ERROR_OUTPUT_LIMIT = 500


def passed_environment(
    environ: Mapping[str, str], pass_env: Sequence[str], *, field: str
) -> dict[str, str]:
    """The worker variables a command hook sees: ``BASE_ENV`` (those set) and every name in
    ``pass_env``; ConfigError naming ``field`` and the variable when one of these is unset."""
    env = {k: environ[k] for k in BASE_ENV if k in environ}
    for name in pass_env:
        if name not in environ:
            raise ConfigError(
                f"environment variable {name} ({field}) is not set in the worker's environment",
                field=field,
                value=name,
            )
        env[name] = environ[name]
    return env


def hook_environment(
    context: HookContext, spec: HookSpec, pass_env: Mapping[str, str]
) -> dict[str, str]:
    """The whole environment of a command hook's process: ``pass_env`` (what
    :func:`passed_environment` read from the worker) plus the operation's context as
    ``GENESIS_*`` variables. The context comes last, so a passed variable cannot pose as it."""
    return {
        **pass_env,
        "GENESIS_SITE": context.site,
        "GENESIS_DIRECTION": context.direction,
        "GENESIS_TRIGGER": context.trigger,
        "GENESIS_REASON": context.reason,
        "GENESIS_FROM_IP": context.from_ip,
        "GENESIS_TO_IP": context.to_ip,
        "GENESIS_FAILOVER_ID": context.failover_id,
        "GENESIS_DRY_RUN": "true" if context.dry_run else "false",
        "GENESIS_HOOK_NAME": spec.name,
        "GENESIS_HOOK_PHASE": spec.phase,
    }


@dataclass(frozen=True)
class CommandHook:
    name: str
    argv: tuple[str, ...]
    # See passed_environment. Not in the repr: pass_env values may be secrets.
    env: Mapping[str, str] = field(default_factory=dict, repr=False)
    working_dir: str | None = None
    # Values of the pass_env variables: scrubbed from the output like the registry's secrets.
    secrets: tuple[str, ...] = field(default=(), compare=False, repr=False)
    kind: ClassVar[str] = "command"

    @classmethod
    def from_config(cls, hc: HookConfig, phase: str, environ: Mapping[str, str]) -> CommandHook:
        """Checked at worker start, so a typo fails the deployment, not the failover."""
        assert hc.command is not None
        prefix = f"hooks.{phase}.{hc.name}"
        env = passed_environment(environ, hc.pass_env, field=f"{prefix}.pass_env")
        if hc.working_dir is not None and not os.path.isdir(hc.working_dir):
            raise ConfigError(
                f"{prefix}.working_dir: {hc.working_dir!r} is not a directory",
                field=f"{prefix}.working_dir",
                value=hc.working_dir,
            )
        _check_program(hc.command[0], env, hc.working_dir, field=f"{prefix}.command", hook=hc.name)
        return cls(
            name=hc.name,
            argv=tuple(hc.command),
            env=env,
            working_dir=hc.working_dir,
            secrets=tuple(environ[n] for n in hc.pass_env if len(environ[n]) >= _MIN_SECRET_LEN),
        )

    async def run(
        self,
        context: HookContext,
        spec: HookSpec,
        secrets: Sequence[str] = (),
        started: Callable[[ProcessId | None], None] | None = None,
    ) -> str:
        """Run to exit or timeout; the redacted tail of the output, or HookError.
        ``started`` is told the process's identity once it runs."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + spec.timeout_seconds
        read_fd, write_fd = os.pipe()
        try:
            proc = await asyncio.create_subprocess_exec(
                *self.argv,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=write_fd,
                stderr=write_fd,
                env=hook_environment(context, spec, self.env),
                cwd=self.working_dir,
                start_new_session=True,
            )
        except (OSError, ValueError) as exc:
            os.close(read_fd)
            # Checked at worker start: it was there then, and retrying will not bring it back.
            # (ValueError: a NUL byte in an argument or in the reason; no process can take it.)
            why = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
            raise HookError(
                f"hook {self.name!r}: cannot start {self.argv[0]!r}: {why}", retryable=False
            ) from None
        finally:
            os.close(write_fd)  # ours closed, the pipe ends when the last child closes it
        tail = OutputTail(secrets=(*self.secrets, *secrets))
        transport, _ = await loop.connect_read_pipe(
            lambda: tail, os.fdopen(read_fd, "rb", buffering=0)
        )
        timed_out = finished = False
        try:
            if started is not None:
                started(ProcessId.of(proc.pid))
            try:
                async with asyncio.timeout_at(deadline):
                    await proc.wait()
            except TimeoutError:
                timed_out = True
                await _stop_group(proc, tail)
            await tail.wait_closed(DRAIN_SECONDS)
            output = tail.text()  # before closing: it says whether the pipe was still held
            finished = True
        finally:
            if not finished:  # cancelled (the activity was): leave nothing of it running
                _signal_group(proc.pid, signal.SIGKILL)
            transport.close()
        if timed_out:
            raise HookError(
                f"hook {self.name!r} timed out after {spec.timeout_seconds:g}s "
                f"(process group killed){_last(output)}",
                retryable=True,
            )
        status = proc.returncode
        assert status is not None  # waited for above
        if status != 0:
            how = f"exited with status {status}" if status > 0 else f"killed by {_signame(-status)}"
            # Retryable: a script failing on a transient (a host not up yet) may pass next time;
            # max_attempts in the config says how many times it is worth trying.
            raise HookError(f"hook {self.name!r} {how}{_last(output)}", retryable=True)
        return output


@dataclass(frozen=True)
class ProcessId:
    """A hook's process, named so that it is found again, and nothing else is ever taken for it:
    a pid is reused, a pid with its start time (clock ticks since boot) on one boot of one host
    is not. Linux only (``/proc``); elsewhere ``of`` gives None."""

    pid: int
    start_ticks: int
    boot_id: str
    host: str

    @classmethod
    def of(cls, pid: int) -> ProcessId | None:
        start, boot = _start_ticks(pid), _boot_id()
        if start is None or boot is None:
            return None
        return cls(pid=pid, start_ticks=start, boot_id=boot, host=socket.gethostname())

    def is_running_here(self) -> bool:
        return self == ProcessId.of(self.pid)


async def stop_leftover(process: ProcessId) -> bool:
    """Stop a hook's process group that a dead worker left running on this host (as a timeout
    does: SIGTERM, then SIGKILL after the grace). True if there was one."""
    if not process.is_running_here():
        return False
    _signal_group(process.pid, signal.SIGTERM)
    loop = asyncio.get_running_loop()
    until = loop.time() + KILL_GRACE_SECONDS
    while process.is_running_here() and loop.time() < until:
        await asyncio.sleep(0.05)
    # Not our child (its parent died): we cannot reap it, only make sure nobody in it is left.
    _signal_group(process.pid, signal.SIGKILL)
    return True


def _start_ticks(pid: int) -> int | None:
    try:
        with open(f"/proc/{pid}/stat") as f:
            stat = f.read()
    except OSError:
        return None
    # After the command name (in parentheses, may hold anything): state is field 3, start 22.
    fields = stat.rpartition(")")[2].split()
    if len(fields) < 20 or fields[0] in ("Z", "X"):  # exited: a zombie is not running
        return None
    return int(fields[19])


def _boot_id() -> str | None:
    try:
        with open("/proc/sys/kernel/random/boot_id") as f:
            return f.read().strip()
    except OSError:
        return None


# Values shorter than this are not scrubbed (as in genesis.failover.domain.secrets): replacing "1"
# everywhere would hide the output and protect nothing.
_MIN_SECRET_LEN = 4


def _check_program(
    program: str, env: Mapping[str, str], working_dir: str | None, *, field: str, hook: str
) -> None:
    """Resolve ``program`` as the process will: a name without '/' through the hook's PATH, a
    relative path from ``working_dir``."""
    if "/" in program:
        path = os.path.join(working_dir or "", program)
        found = os.path.isfile(path) and os.access(path, os.X_OK)
    else:
        found = shutil.which(program, path=env.get("PATH", os.defpath)) is not None
    if not found:
        raise ConfigError(
            f"{field}: hook {hook!r}: program {program!r} is not an executable file"
            + ("" if "/" in program else " on the hook's PATH"),
            field=field,
            value=program,
        )


async def _stop_group(proc: asyncio.subprocess.Process, tail: OutputTail) -> None:
    """SIGTERM to the group; when the program has exited and the pipe is closed (everyone is
    gone), or after the grace, SIGKILL to the group for whatever remains; then reap."""
    _signal_group(proc.pid, signal.SIGTERM)
    loop = asyncio.get_running_loop()
    until = loop.time() + KILL_GRACE_SECONDS
    try:
        async with asyncio.timeout_at(until):
            await proc.wait()
    except TimeoutError:
        pass
    await tail.wait_closed(max(0.0, until - loop.time()))
    # The group id outlives the leader while any member lives, so this cannot reach a stranger.
    _signal_group(proc.pid, signal.SIGKILL)
    await proc.wait()


class OutputTail(asyncio.Protocol):
    """The read end of a hook's output pipe: keeps the last bytes, knows when the pipe closed."""

    # Enough bytes for OUTPUT_LIMIT characters of any UTF-8 text.
    KEEP_BYTES = OUTPUT_LIMIT * 4

    def __init__(self, secrets: Sequence[str]) -> None:
        self._secrets = [s for s in secrets if s]
        self._buf = bytearray()
        self._dropped = 0
        self._closed: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    def data_received(self, data: bytes) -> None:
        self._buf += data
        excess = len(self._buf) - self.KEEP_BYTES
        if excess > 0:
            del self._buf[:excess]
            self._dropped += excess

    def connection_lost(self, exc: Exception | None) -> None:
        if not self._closed.done():
            self._closed.set_result(None)

    async def wait_closed(self, seconds: float) -> None:
        """Until every writer has closed the pipe, for at most ``seconds``."""
        if seconds > 0 and not self._closed.done():
            await asyncio.wait({self._closed}, timeout=seconds)

    def text(self) -> str:
        """The output kept, decoded, redacted, then cut to its last OUTPUT_LIMIT characters."""
        text = redact(self._buf.decode("utf-8", errors="replace"), self._secrets)
        note = (
            ""
            if self._closed.done()
            else "\n[a background process still holds the output open; stopped reading]"
        )
        if not self._dropped and len(text) <= OUTPUT_LIMIT:
            return text + note
        # Redacted before cutting, so no secret is cut in half at the limit. The byte window may
        # still have begun inside a secret: always drop at least the longest secret's length.
        start = max(len(text) - OUTPUT_LIMIT, max(map(len, self._secrets), default=0))
        return f"[output cut to its last {OUTPUT_LIMIT} characters]\n{text[start:]}{note}"


def last_lines(output: str, limit: int = ERROR_OUTPUT_LIMIT) -> str:
    """The last non-blank lines of ``output`` that fit in ``limit`` characters, on one line
    (" | " between lines), for an error message."""
    kept: list[str] = []
    size = 0
    for line in reversed(output.splitlines()):
        line = line.rstrip()
        if not line.strip():
            continue
        if not kept and len(line) > limit:  # one huge last line: its end
            return "..." + line[-(limit - 3) :]
        size += len(line) + (3 if kept else 0)
        if size > limit:
            break
        kept.append(line)
    return " | ".join(reversed(kept))


def _signal_group(pgid: int, sig: signal.Signals) -> None:
    try:
        os.killpg(pgid, sig)
    except (ProcessLookupError, PermissionError):
        pass  # nobody left in the group


def _signame(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"


def _last(output: str) -> str:
    lines = last_lines(output)
    return f": {lines}" if lines else ""
