"""Python hooks share the registry's guarantees: secrets scrubbed, errors typed."""

from __future__ import annotations

import pytest

from genesis.failover.domain.errors import HookError
from genesis.failover.domain.hooks import HookContext, HookRegistry
from genesis.failover.domain.models import HookSpec

CTX = HookContext(
    site="genesis",
    direction="failback",
    trigger="manual",
    reason="primary back",
    from_ip="192.0.2.20",
    to_ip="192.0.2.10",
    failover_id="failback-genesis-1",
)
SECRET = "dop_v1_0123456789abcdef"


async def test_output_and_errors_of_python_hooks_are_redacted() -> None:
    def leaky(ctx: HookContext) -> str:
        return f"connected with {SECRET} to {ctx.to_ip}"

    def broken() -> None:
        raise RuntimeError(f"auth failed for token {SECRET}")

    reg = HookRegistry([SECRET])
    ok = reg.register("post_failback", leaky)
    bad = reg.register("post_failback", broken)
    assert (await reg.run(ok, CTX)).output == "connected with *** to 192.0.2.10"
    with pytest.raises(HookError) as info:
        await reg.run(bad, CTX)
    assert str(info.value) == "hook 'broken' failed: RuntimeError: auth failed for token ***"
    assert info.value.retryable


async def test_a_hook_this_worker_does_not_know_is_not_retryable() -> None:
    spec = HookSpec(name="elsewhere", phase="pre_failover", kind="command")
    with pytest.raises(HookError, match="not registered on this worker") as info:
        await HookRegistry().run(spec, CTX)
    assert not info.value.retryable


async def test_a_hook_object_with_an_async_call_and_a_lambda_around_a_coroutine_really_run() -> (
    None
):
    """The story: a hook written as a class with ``async def __call__`` (or a lambda around an
    async call) was run in a thread; its coroutine was never awaited and the hook "succeeded"
    without stopping anything."""
    ran: list[str] = []

    class StopTrading:
        async def __call__(self, ctx: HookContext) -> str:
            ran.append("object")
            return f"stopped for {ctx.site}"

    async def drain() -> str:
        ran.append("lambda")
        return "drained"

    reg = HookRegistry()
    obj = reg.register("pre_failover", StopTrading(), name="stop_trading")
    lam = reg.register("pre_failover", lambda: drain(), name="drain")
    assert (await reg.run(obj, CTX)).output == "stopped for genesis"
    assert (await reg.run(lam, CTX)).output == "drained"
    assert ran == ["object", "lambda"]
