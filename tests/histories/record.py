"""Record the workflow histories that tests/histories/test_replay.py replays.

A change to a workflow must not break the workflows already running on a server: when a worker
restarts, Temporal replays each open workflow's history through the new code, and a command the
old code did not issue at that point wedges the workflow (a non-determinism error).

Until the first release there is one code path (docs/decisions.md): a workflow change replaces
the code and the ``current-*`` histories are recorded again from it, here and with
record_real.py:

    PYTHONPATH=. .venv/bin/python tests/histories/record.py tests/histories/current
    PYTHONPATH=. .venv/bin/python tests/histories/record_real.py tests/histories/current

From the first release on, the released version's histories are recorded from its checkout and
kept (``git worktree add /tmp/v0.1.0 v0.1.0``, then ``PYTHONPATH=/tmp/v0.1.0`` and the prefix
``tests/histories/v0.1.0``), and every later change must replay them.

The scenario (the time-skipping server, the scripted probes and in-memory zone of
tests/workflows/lab.py): the primary dies, the site fails over by itself with a
pre-failover hook, the primary recovers, an operator fails back. It writes
``<prefix>-monitor.json`` (MonitorWorkflow, still running) and ``<prefix>-failover.json`` (the
FailoverWorkflow of the failback), then ``<prefix>-large-monitor.json``: a site of 450 checks
probed for two intervals.
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import sys
import uuid
from pathlib import Path

from temporalio.client import WorkflowHandle
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from genesis.failover.domain.models import OperationRequest
from tests.workflows.lab import Lab, MonitorWorkflow, until


async def record(prefix: Path) -> None:
    env = await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=shutil.which("temporal-test-server")
        or str(Path(sys.executable).parent / "temporal-test-server"),
        data_converter=pydantic_data_converter,
    )
    try:
        with contextlib.suppress(ImportError):  # versions before issue 5 set no attributes
            from worker.attributes import register_search_attributes

            await register_search_attributes(env.client)
        lab = Lab(env.client, f"tq-{uuid.uuid4().hex[:8]}", env)

        async def stop_trading() -> str:
            return "trading stopped"

        lab.hooks.register("pre_failover", stop_trading)
        async with lab.worker():
            handle = await lab.start(lab.plan())
            await until(handle, env, lambda s: s["health"]["checks"]["api"]["total_probes"] >= 2)
            lab.probes.healthy["api"] = False
            await until(handle, env, lambda s: s["state"] == "failed_over")
            lab.probes.healthy["api"] = True
            await until(handle, env, lambda s: s["health"]["checks"]["api"]["is_healthy"])
            back = await handle.execute_update(
                MonitorWorkflow.request_failback, OperationRequest(reason="recorded", force=True)
            )
            assert back.success, back
            await save(handle, Path(f"{prefix}-monitor.json"))
            failover = env.client.get_workflow_handle(back.workflow_id)
            await save(failover, Path(f"{prefix}-failover.json"))
            await handle.terminate("recorded")
            await record_large_site(lab, prefix)
    finally:
        await env.shutdown()


async def record_large_site(lab: Lab, prefix: Path) -> None:
    """A site with more checks than one probe batch (450): its probes spread over the interval
    (issue 7), two intervals of them. Writes ``<prefix>-large-monitor.json``."""
    from genesis.failover.domain.config import CheckConfig

    checks = [
        CheckConfig(name=f"c{i}", check_type="tcp", target="127.0.0.1:9", interval_seconds=30)
        for i in range(450)
    ]
    handle = await lab.start(lab.plan().model_copy(update={"checks": checks}))
    await lab.env.sleep(65)
    await save(handle, Path(f"{prefix}-large-monitor.json"))
    await handle.terminate("recorded")


async def save(handle: WorkflowHandle[object, object], path: Path) -> None:
    history = await handle.fetch_history()
    await asyncio.to_thread(path.write_text, history.to_json())
    print(f"{path}: {len(history.events)} events")


if __name__ == "__main__":
    asyncio.run(record(Path(sys.argv[1])))
