"""Hooks: code that runs before and after a failover (stop trading, verify services, ...).

This release runs Python callables, registered through the facade or named by import path in the
config. The workflow only ever sees a hook's NAME (a ``HookSpec``); the worker resolves the name
here, so no code and no secret travels through workflow history. Command and webhook hooks plug
in beside ``PythonHook`` with the same ``run(context)`` shape.
"""

from __future__ import annotations

import asyncio
import importlib
import inspect
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from genesis.failover.config import HookConfig, HooksSettings
from genesis.failover.errors import ConfigError, HookError
from genesis.failover.models import HookContext, HookOutcome, HookSpec

HookFn = Callable[..., Any] | Callable[..., Awaitable[Any]]
__all__ = ["HookContext", "HookRegistry", "PythonHook", "import_hook"]

PHASES = ("pre_failover", "post_failover", "pre_failback", "post_failback", "on_failure")
_OUTPUT_LIMIT = 4000


@dataclass
class PythonHook:
    name: str
    fn: HookFn

    async def run(self, context: HookContext) -> str | None:
        # The seed's hooks take no argument (`async def stop_trading()`); ours may take the
        # context. Look at the signature rather than guess from a TypeError.
        takes_context = bool(inspect.signature(self.fn).parameters)
        args = (context,) if takes_context else ()
        if inspect.iscoroutinefunction(self.fn):
            out = await self.fn(*args)
        else:
            out = await asyncio.to_thread(self.fn, *args)
        return None if out is None else str(out)[:_OUTPUT_LIMIT]


@dataclass
class HookRegistry:
    """Name -> runnable hook, per phase, as the worker knows them."""

    hooks: dict[str, PythonHook] = field(default_factory=dict)
    specs: dict[str, list[HookSpec]] = field(default_factory=lambda: {p: [] for p in PHASES})

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
    ) -> HookSpec:
        if phase not in PHASES:
            raise ConfigError(f"unknown hook phase {phase!r}", field="phase", value=phase)
        hook_name = name or getattr(fn, "__name__", None) or repr(fn)
        if hook_name in self.hooks and self.hooks[hook_name].fn is not fn:
            raise ConfigError(
                f"two different hooks are named {hook_name!r}", field="hooks.name", value=hook_name
            )
        self.hooks[hook_name] = PythonHook(hook_name, fn)
        default_on_failure = "abort" if phase.startswith("pre_") else "continue"
        spec = HookSpec(
            name=hook_name,
            phase=phase,  # type: ignore[arg-type]
            timeout_seconds=timeout_seconds,
            max_attempts=max_attempts,
            on_failure=on_failure or default_on_failure,  # type: ignore[arg-type]
            dry_run_safe=dry_run_safe,
        )
        self.specs[phase].append(spec)
        return spec

    def add_config(self, hooks: HooksSettings) -> None:
        for phase in PHASES:
            for hc in getattr(hooks, phase):
                self.register(
                    phase,
                    import_hook(hc),
                    name=hc.name,
                    timeout_seconds=hc.timeout_seconds,
                    max_attempts=hc.max_attempts,
                    on_failure=hc.on_failure,
                )

    def for_direction(self, direction: str) -> list[HookSpec]:
        """Pre, post and on-failure hooks of one direction, in the order they run."""
        return [
            *self.specs[f"pre_{direction}"],
            *self.specs[f"post_{direction}"],
            *self.specs["on_failure"],
        ]

    async def run(self, spec: HookSpec, context: HookContext) -> HookOutcome:
        """Run one hook to completion or its timeout. Raises HookError on failure."""
        hook = self.hooks.get(spec.name)
        if hook is None:
            raise HookError(f"hook {spec.name!r} is not registered on this worker", retryable=False)
        started = time.perf_counter()
        try:
            async with asyncio.timeout(spec.timeout_seconds):
                output = await hook.run(context)
        except TimeoutError:
            raise HookError(
                f"hook {spec.name!r} timed out after {spec.timeout_seconds:g}s", retryable=True
            ) from None
        except HookError:
            raise
        except Exception as exc:  # a hook is user code: any exception is a hook failure
            raise HookError(
                f"hook {spec.name!r} failed: {type(exc).__name__}: {exc}", retryable=True
            ) from None
        return HookOutcome(
            name=spec.name,
            phase=spec.phase,
            ok=True,
            duration_seconds=time.perf_counter() - started,
            output=output,
        )


def import_hook(hc: HookConfig) -> HookFn:
    assert hc.python is not None
    module_name, _, attr = hc.python.partition(":")
    try:
        obj: Any = importlib.import_module(module_name)
        for part in attr.split("."):
            obj = getattr(obj, part)
    except (ImportError, AttributeError) as exc:
        raise ConfigError(
            f"hook {hc.name!r}: cannot import {hc.python!r}: {exc}",
            field=f"hooks.{hc.name}.python",
            value=hc.python,
        ) from None
    if not callable(obj):
        raise ConfigError(
            f"hook {hc.name!r}: {hc.python!r} is not callable",
            field=f"hooks.{hc.name}.python",
            value=hc.python,
        )
    return obj  # type: ignore[no-any-return]
