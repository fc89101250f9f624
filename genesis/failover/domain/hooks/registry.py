"""The worker's hooks: name -> runnable hook, and the specs the workflows see, per phase.

The workflow only ever sees a hook's NAME and limits (a ``HookSpec``); the worker resolves the
name here, so no code, command line, URL or secret travels through workflow history. Every hook
is built and checked when the worker starts (``add_config``): a missing program, an unset
variable or a bad URL fails the deployment, not the failover that needed the hook.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Protocol

from genesis.failover.domain.config import HookConfig, HooksSettings
from genesis.failover.domain.errors import ConfigError, HookError
from genesis.failover.domain.hooks.command import CommandHook, ProcessId
from genesis.failover.domain.hooks.python import HookFn, PythonHook, import_hook
from genesis.failover.domain.hooks.webhook import WebhookHook
from genesis.failover.domain.models import HookContext, HookOutcome, HookSpec
from genesis.failover.domain.secrets import redact

__all__ = ["PHASES", "Hook", "HookRegistry", "build_hook"]

PHASES = ("pre_failover", "post_failover", "pre_failback", "post_failback", "on_failure")
# An error message carries a summary, not a log.
_ERROR_LIMIT = 1000


class Hook(Protocol):
    """What the registry runs. Each kind enforces ``spec.timeout_seconds`` itself (a command
    must kill its process group, not just stop waiting), redacts ``secrets`` and its own
    ``secrets`` from what it returns, and raises HookError saying whether a retry can help.
    Equality says whether two hooks run the same thing."""

    @property
    def name(self) -> str: ...

    @property
    def kind(self) -> str: ...

    @property
    def secrets(self) -> Sequence[str]: ...

    async def run(
        self, context: HookContext, spec: HookSpec, secrets: Sequence[str] = ()
    ) -> str | None: ...


def build_hook(hc: HookConfig, phase: str, environ: Mapping[str, str]) -> Hook:
    """The runnable hook one config entry describes, checked against ``environ``."""
    if hc.kind == "command":
        return CommandHook.from_config(hc, phase, environ)
    if hc.kind == "webhook":
        return WebhookHook.from_config(hc, phase, environ)
    return PythonHook(hc.name, import_hook(hc))


class HookRegistry:
    """Name -> runnable hook, per phase, as the worker knows them.

    ``secrets``: values scrubbed from every hook's output and error (the worker passes
    ``known_secrets(config, os.environ)``); each hook adds its own (pass_env values, a webhook's
    URL and token).
    """

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self.secrets: tuple[str, ...] = tuple(s for s in secrets if s)
        self.hooks: dict[str, Hook] = {}
        self.specs: dict[str, list[HookSpec]] = {p: [] for p in PHASES}

    def register(
        self,
        phase: str,
        fn: HookFn,
        *,
        name: str | None = None,
        timeout_seconds: float = 30,
        max_attempts: int = 1,
        on_failure: str | None = None,
        dry_run_safe: bool = False,
        retry_interval_seconds: float = 1,
    ) -> HookSpec:
        """A Python callable (the facade's ``register_*_hook``)."""
        hook_name = name or getattr(fn, "__name__", None) or repr(fn)
        return self._add(
            phase,
            PythonHook(hook_name, fn),
            timeout_seconds=timeout_seconds,
            max_attempts=max_attempts,
            retry_interval_seconds=retry_interval_seconds,
            on_failure=on_failure,
            dry_run_safe=dry_run_safe,
        )

    def add_config(self, hooks: HooksSettings, environ: Mapping[str, str] | None = None) -> None:
        """Every hook of the config, built and checked now; ``environ`` defaults to the
        worker's environment (where pass_env, webhook URLs and tokens are read)."""
        env = os.environ if environ is None else environ
        for phase in PHASES:
            for hc in getattr(hooks, phase):
                self._add(
                    phase,
                    build_hook(hc, phase, env),
                    timeout_seconds=hc.timeout_seconds,
                    max_attempts=hc.max_attempts,
                    retry_interval_seconds=hc.retry_interval_seconds,
                    on_failure=hc.on_failure,
                    dry_run_safe=hc.dry_run_safe,
                )

    def _add(
        self,
        phase: str,
        hook: Hook,
        *,
        timeout_seconds: float,
        max_attempts: int,
        retry_interval_seconds: float,
        on_failure: str | None,
        dry_run_safe: bool,
    ) -> HookSpec:
        if phase not in PHASES:
            raise ConfigError(f"unknown hook phase {phase!r}", field="phase", value=phase)
        # One name, one runnable: the workflow asks for a hook by name only. The same hook may
        # serve several phases (with limits of its own in each spec), never two different ones.
        known = self.hooks.get(hook.name)
        if known is not None and known != hook:
            raise ConfigError(
                f"two different hooks are named {hook.name!r} ({known.kind} and {hook.kind})",
                field=f"hooks.{phase}.{hook.name}",
                value=hook.name,
            )
        self.hooks[hook.name] = hook
        spec = HookSpec(
            name=hook.name,
            phase=phase,  # type: ignore[arg-type]
            kind=hook.kind,  # type: ignore[arg-type]
            timeout_seconds=timeout_seconds,
            max_attempts=max_attempts,
            retry_interval_seconds=retry_interval_seconds,
            # The switch must not happen after a failed pre-hook (stop_trading); once it has,
            # a failed post-hook must not stop the others.
            on_failure=on_failure or ("abort" if phase.startswith("pre_") else "continue"),  # type: ignore[arg-type]
            dry_run_safe=dry_run_safe,
        )
        self.specs[phase].append(spec)
        return spec

    def for_direction(self, direction: str) -> list[HookSpec]:
        """Pre, post and on-failure hooks of one direction, in the order they run."""
        return [
            *self.specs[f"pre_{direction}"],
            *self.specs[f"post_{direction}"],
            *self.specs["on_failure"],
        ]

    async def run(
        self,
        spec: HookSpec,
        context: HookContext,
        *,
        on_process: Callable[[ProcessId | None], None] | None = None,
    ) -> HookOutcome:
        """Run one hook to completion or its timeout. Raises HookError on failure (``retryable``
        says whether another attempt can help); output and errors are redacted and bounded.
        ``on_process``: told a command hook's process once it runs (the activity heartbeats it)."""
        hook = self.hooks.get(spec.name)
        if hook is None:
            raise HookError(f"hook {spec.name!r} is not registered on this worker", retryable=False)
        secrets = (*self.secrets, *hook.secrets)
        started = time.perf_counter()
        try:
            if isinstance(hook, CommandHook):
                output: str | None = await hook.run(context, spec, secrets, started=on_process)
            else:
                output = await hook.run(context, spec, secrets)
        except HookError as exc:
            raise HookError(_bounded(redact(str(exc), secrets)), retryable=exc.retryable) from None
        except Exception as exc:  # a Python hook is user code: any exception is a hook failure
            message = f"hook {spec.name!r} failed: {type(exc).__name__}: {exc}"
            raise HookError(_bounded(redact(message, secrets)), retryable=True) from None
        return HookOutcome(
            name=spec.name,
            phase=spec.phase,
            ok=True,
            duration_seconds=time.perf_counter() - started,
            # Each kind redacted before bounding; again here, so no kind can forget.
            output=None if output is None else redact(output, secrets),
        )


def _bounded(message: str) -> str:
    return message if len(message) <= _ERROR_LIMIT else message[: _ERROR_LIMIT - 3] + "..."
