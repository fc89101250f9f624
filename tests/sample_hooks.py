"""Hooks named by import path in test configs (``tests.sample_hooks:record``)."""

from __future__ import annotations

import asyncio

from genesis.failover.domain.hooks import HookContext

CALLS: list[str] = []


def record(ctx: HookContext) -> str:
    CALLS.append(f"{ctx.direction}:{ctx.to_ip}")
    return f"recorded {ctx.site}"


async def slow() -> None:
    await asyncio.sleep(30)


def broken() -> None:
    raise RuntimeError("replication lag 45s")


NOT_CALLABLE = 3
