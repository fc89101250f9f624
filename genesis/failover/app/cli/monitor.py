"""Commands that talk to the monitor: status, history, failover and failback (printing their
progress as they run), drill, replay. All of them through ``MonitorClient``; its refusals and
"the monitor does not answer" are domain errors, which the CLI turns into exit 1."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time
from collections.abc import Callable
from typing import Any

from genesis.failover.app import drill, render
from genesis.failover.app.cli.output import OperationFailed, _print
from genesis.failover.domain.config import FailoverConfig
from genesis.failover.domain.errors import PolicyRefusal, TemporalConnectionError
from genesis.failover.domain.models import Direction, FailoverResult, OperationRequest
from genesis.failover.temporal.connection import connect_site
from genesis.failover.temporal.monitor_client import MonitorClient
from genesis.failover.temporal.progress import ProgressLine, current_steps, run_operation
from worker.replay import replay_site_histories


async def _connect(config: FailoverConfig) -> Any:
    # A missing payload key, TLS file or API key is a config error (exit 2), raised before
    # dialling. No waiting: an operator at a prompt wants the answer now, not after a minute.
    try:
        return await connect_site(config.temporal, os.environ)
    except TemporalConnectionError as exc:
        raise OperationFailed(str(exc)) from None


def cmd_status(args: argparse.Namespace, config: FailoverConfig) -> int:
    async def read() -> dict[str, Any]:
        client = await _connect(config)
        status = await MonitorClient(client, config.site.name).status()
        op = status.get("current_operation")
        if op:
            # Extends the status shape: the running operation's steps so far.
            op["progress"] = await current_steps(client, op["workflow_id"])
        return status

    status = asyncio.run(read())
    _print(args, status, lambda s: render.status_text(s, config))
    return 0


def cmd_history(args: argparse.Namespace, config: FailoverConfig) -> int:
    async def read() -> list[dict[str, Any]]:
        items = await MonitorClient(await _connect(config), config.site.name).history()
        return items[-args.limit :] if args.limit else items

    _print(args, asyncio.run(read()), render.history_text)
    return 0


def _progress_stream(args: argparse.Namespace) -> Any:
    # With --json, stdout is the result's JSON and nothing else: a script pipes it to jq.
    return sys.stderr if args.json else sys.stdout


def _printer(args: argparse.Namespace) -> Callable[[ProgressLine], None]:
    stream = _progress_stream(args)

    def emit(line: ProgressLine) -> None:
        print(render.progress_line(line.seconds, line.text, line.ok, stream=stream), file=stream)
        stream.flush()

    return emit


async def _watched(
    client: Any,
    config: FailoverConfig,
    direction: Direction,
    req: OperationRequest,
    args: argparse.Namespace,
    *,
    began: float | None = None,
) -> FailoverResult:
    """Run one operation through the monitor's update, printing its progress as it goes."""
    stream = _progress_stream(args)
    kind = "drill " if req.drill else ("dry-run " if req.dry_run else "")
    print(f"{kind}{direction} of site {config.site.name}: asking the monitor...", file=stream)
    stream.flush()
    try:
        return await run_operation(
            client, config.site.name, direction, req, _printer(args), began=began
        )
    except PolicyRefusal as refused:
        raise OperationFailed(f"{direction} {refused}") from None


def _still_running(direction: str) -> None:
    # Ctrl-C stops the watching, not the operation: it is durable in Temporal.
    print(
        f"\ngenesis-failover: stopped watching; the {direction} goes on "
        "(see `genesis-failover status`)",
        file=sys.stderr,
    )


def _operation(direction: Direction) -> Callable[[argparse.Namespace, FailoverConfig], int]:
    def run_command(args: argparse.Namespace, config: FailoverConfig) -> int:
        req = OperationRequest(
            reason=args.reason,
            dry_run=args.dry_run,
            force=args.force,
            lower_ttl_seconds=args.lower_ttl,
        )

        async def run() -> FailoverResult:
            return await _watched(await _connect(config), config, direction, req, args)

        try:
            result = asyncio.run(run()).model_dump(mode="json")
        except KeyboardInterrupt:
            _still_running(direction)
            return 130
        if not args.json:
            print()
        _print(args, result, render.result_text)
        return 0 if result.get("success") else 1

    return run_command


cmd_failover = _operation("failover")
cmd_failback = _operation("failback")


def cmd_drill(args: argparse.Namespace, config: FailoverConfig) -> int:
    req = OperationRequest(reason=args.reason, dry_run=True, drill=True)

    async def run() -> tuple[FailoverResult, FailoverResult]:
        client = await _connect(config)
        began = time.monotonic()
        failover = await _watched(client, config, "failover", req, args, began=began)
        failback = await _watched(client, config, "failback", req, args, began=began)
        return failover, failback

    try:
        failover, failback = asyncio.run(run())
    except KeyboardInterrupt:
        _still_running("drill")
        return 130
    if args.json:
        print(json.dumps(drill.report(failover, failback), indent=2, default=str))
    else:
        print()
        print(drill.report_text(failover, failback, verification=render.verification_text(config)))
    return 0 if not drill.problems(failover, failback) else 1


def cmd_replay(args: argparse.Namespace, config: FailoverConfig) -> int:
    async def run() -> Any:
        client = await _connect(config)
        return await replay_site_histories(client, config, closed_limit=args.closed)

    report = asyncio.run(run())
    data = {
        "replayed": report.replayed,
        "running": report.running,
        "failures": [vars(f) for f in report.failures],
    }
    _print(args, data, render.replay_text)
    return 0 if report.ok else 1
