"""Python hooks: a callable registered through the facade or named by import path in the config.

A Python hook runs inside the worker, so it sees what the worker sees; its output and its
errors are still scrubbed of every known secret before they reach workflow history.
"""

from __future__ import annotations

import asyncio
import importlib
import inspect
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from genesis.failover.domain.config import HookConfig
from genesis.failover.domain.errors import ConfigError, HookError
from genesis.failover.domain.models import HookContext, HookSpec
from genesis.failover.domain.secrets import redact

__all__ = ["OUTPUT_LIMIT", "HookFn", "PythonHook", "import_hook"]

HookFn = Callable[..., Any] | Callable[..., Awaitable[Any]]
# What a hook's output may add to workflow history (every hook kind keeps to it).
OUTPUT_LIMIT = 4000


@dataclass(frozen=True)
class PythonHook:
    name: str
    fn: HookFn
    kind: ClassVar[str] = "python"
    # A callable holds no secret of its own; the registry's secrets still apply.
    secrets: ClassVar[tuple[str, ...]] = ()

    async def run(
        self, context: HookContext, spec: HookSpec, secrets: Sequence[str] = ()
    ) -> str | None:
        """Call the function with a timeout; its result (as text) is the hook's output.

        A synchronous function runs in a thread: the timeout returns control to the workflow,
        but Python cannot stop the thread, which finishes on its own.
        """
        # The seed's hooks take no argument (`async def stop_trading()`); ours may take the
        # context. Look at the signature rather than guess from a TypeError.
        takes_context = bool(inspect.signature(self.fn).parameters)
        args = (context,) if takes_context else ()
        try:
            async with asyncio.timeout(spec.timeout_seconds):
                if _is_async(self.fn):
                    out = await self.fn(*args)
                else:
                    out = await asyncio.to_thread(self.fn, *args)
                # A plain function that returns a coroutine (a lambda around an async call):
                # its work is that coroutine, and "success" must mean it ran.
                if inspect.isawaitable(out):
                    out = await out
        except TimeoutError:
            raise HookError(
                f"hook {self.name!r} timed out after {spec.timeout_seconds:g}s", retryable=True
            ) from None
        if out is None:
            return None
        # Redact before cutting: a secret cut in half at the limit would no longer match.
        return redact(str(out), secrets)[:OUTPUT_LIMIT]


def _is_async(fn: object) -> bool:
    """A coroutine function, or an object whose ``__call__`` is one (a hook class instance):
    ``inspect.iscoroutinefunction`` alone says False for the latter, and running it in a thread
    would make a coroutine nobody awaits, a hook that "succeeds" without running."""
    return inspect.iscoroutinefunction(fn) or inspect.iscoroutinefunction(
        getattr(fn, "__call__", None)  # noqa: B004 - the method itself, not callability
    )


def import_hook(hc: HookConfig) -> HookFn:
    """The callable a ``python = "module:function"`` hook names; ConfigError naming
    ``hooks.<name>.python`` when it cannot be imported or is not callable."""
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
