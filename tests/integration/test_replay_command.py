"""`genesis-failover replay`: the check an operator runs with a new version installed, before
rolling it out, against the histories their own cluster holds.

The failure story: a release adds a step to FailoverWorkflow without ``workflow.patched``. Rolled
out while a monitor runs (always) or a failover waits out a TTL, every worker with the new code
fails that workflow's next task with a non-determinism error, and the site is unwatched until
someone rolls back. `replay` must find that before the rollout: exit 1 naming the workflow, and
exit 0 when the installed code replays everything.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest
from temporalio import workflow
from temporalio.client import Client
from temporalio.worker import UnsandboxedWorkflowRunner

from genesis.failover.domain.config import FailoverConfig, monitor_workflow_id
from genesis.failover.domain.models import FailoverInput, FailoverResult
from genesis.lab.bind9 import Bind9Lab
from genesis.lab.http_target import DemoService
from genesis.lab.temporal_dev import TemporalDevServer
from tests.integration.conftest import request, running_worker
from tests.integration.test_failover_loop import run_cli, write_config
from worker.replay import replay_site_histories
from workflows.failover import FailoverWorkflow
from workflows.monitor import MonitorWorkflow

pytestmark = pytest.mark.integration


@workflow.defn(name="FailoverWorkflow")
class FailoverWithAnUnguardedNewStep(FailoverWorkflow):
    """What a careless release would ship: one more command before the others, no patch."""

    @workflow.run
    async def run(self, inp: FailoverInput) -> FailoverResult:
        await workflow.sleep(timedelta(seconds=1))
        return await super().run(inp)


async def test_replay_passes_for_the_installed_code_and_names_a_workflow_it_would_break(
    dev_server: TemporalDevServer,
    dev_client: Client,
    bind9: Bind9Lab,
    primary_service: DemoService,
    make_config: Callable[..., FailoverConfig],
    tmp_path: Path,
) -> None:
    config: FailoverConfig = make_config(primary_service.url)
    async with running_worker(config, dev_client) as monitor:
        result = await request(monitor, "failover", reason="replay check", dry_run=True)
        assert result.success, result

        path = write_config(config, tmp_path / "site.toml")
        done = await run_cli("-c", str(path), "replay", "--json", env_secret=bind9.tsig_secret)
        assert done.returncode == 0, done.stderr
        report = json.loads(done.stdout)
        # The running monitor and the closed dry-run failover, at least.
        assert report["running"] >= 1 and report["replayed"] >= 2, report
        assert report["failures"] == []

        broken = await replay_site_histories(
            dev_client,
            config,
            workflows=[MonitorWorkflow, FailoverWithAnUnguardedNewStep],
            runner=UnsandboxedWorkflowRunner(),
        )
        assert not broken.ok
        failed = {f.workflow_id for f in broken.failures}
        assert monitor_workflow_id(config.site.name) not in failed  # the monitor did not change
        assert all(wid.startswith(f"failover-{config.site.name}-") for wid in failed), failed
        assert "nondetermin" in broken.failures[0].error.lower(), broken.failures[0].error
