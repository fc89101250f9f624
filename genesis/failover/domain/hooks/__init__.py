"""Hooks: code, commands and webhooks run before and after a failover (stop trading, verify
services, announce).

- :class:`PythonHook` - a callable, registered through the facade or named by import path;
- :class:`CommandHook` - an argv list run without a shell, in a clean environment
  (:func:`hook_environment`), its process group killed at its timeout;
- :class:`WebhookHook` - a JSON POST of the context to a URL held in the environment.

:class:`HookRegistry` builds them from the config at worker start and runs one by name for the
``run_hook`` activity.
"""

from genesis.failover.domain.hooks.command import (
    BASE_ENV,
    KILL_GRACE_SECONDS,
    CommandHook,
    ProcessId,
    hook_environment,
    passed_environment,
    stop_leftover,
)
from genesis.failover.domain.hooks.python import OUTPUT_LIMIT, HookFn, PythonHook, import_hook
from genesis.failover.domain.hooks.registry import PHASES, Hook, HookRegistry, build_hook
from genesis.failover.domain.hooks.webhook import USER_AGENT, WebhookHook, webhook_payload
from genesis.failover.domain.models import HookContext

__all__ = [
    "BASE_ENV",
    "KILL_GRACE_SECONDS",
    "OUTPUT_LIMIT",
    "PHASES",
    "USER_AGENT",
    "CommandHook",
    "Hook",
    "HookContext",
    "HookFn",
    "HookRegistry",
    "ProcessId",
    "PythonHook",
    "WebhookHook",
    "build_hook",
    "hook_environment",
    "import_hook",
    "passed_environment",
    "stop_leftover",
    "webhook_payload",
]
