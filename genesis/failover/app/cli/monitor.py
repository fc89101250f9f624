"""Commands that talk to the monitor: status, history, failover and failback (printing their
progress as they run), drill."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from collections.abc import Callable
from typing import Any

from genesis.failover.app import render
from genesis.failover.app.cli.output import OperationFailed, _print
from genesis.failover.domain.config import FailoverConfig, monitor_workflow_id
from genesis.failover.domain.models import Direction


async def _connect(config: FailoverConfig) -> Any:
    import os

    from genesis.failover.domain.errors import TemporalConnectionError
    from genesis.failover.temporal.connection import connect_temporal, connection_options
    from genesis.failover.temporal.converter import data_converter

    # Outside the try: a missing payload key, TLS file or API key is a config error (exit 2).
    converter = data_converter(config.temporal.encryption)
    options = connection_options(config.temporal, os.environ)
    try:
        # No waiting: an operator at a prompt wants the answer now, not after a minute.
        return await connect_temporal(config.temporal, options, converter=converter)
    except TemporalConnectionError as exc:
        raise OperationFailed(str(exc)) from None


async def _query(client: Any, config: FailoverConfig, name: str) -> Any:
    from temporalio.service import RPCError

    handle = client.get_workflow_handle(monitor_workflow_id(config.site.name))
    try:
        return await handle.query(name)
    except RPCError as exc:
        raise OperationFailed(
            f"cannot query {handle.id}: {exc.message} (is `genesis-failover worker` running?)"
        ) from None


def cmd_status(args: argparse.Namespace, config: FailoverConfig) -> int:
    from genesis.failover.temporal.progress import current_steps

    async def read() -> dict[str, Any]:
        client = await _connect(config)
        status: dict[str, Any] = await _query(client, config, "status")
        op = status.get("current_operation")
        if op:
            # Extends the status shape: the running operation's steps so far.
            op["progress"] = await current_steps(client, op["workflow_id"])
        return status

    status = asyncio.run(read())
    _print(args, status, lambda s: render.status_text(s, config))
    return 0


def cmd_history(args: argparse.Namespace, config: FailoverConfig) -> int:
    from temporalio.service import RPCError

    from genesis.failover.temporal.progress import match_runs, run_ids

    async def read() -> list[dict[str, Any]]:
        client = await _connect(config)
        items: list[dict[str, Any]] = await _query(client, config, "history")
        if args.limit:
            items = items[-args.limit :]
        # Every operation of a site shares one workflow id; the run id (from the server's
        # visibility store) is what `temporal workflow show --run-id` needs to open one.
        # Operations recorded before the monitor kept run ids are matched by start time.
        ids = {i["workflow_id"] for i in items if not i.get("run_id")}
        try:
            for wid in ids:
                match_runs(
                    [i for i in items if i["workflow_id"] == wid], await run_ids(client, wid)
                )
        except (RPCError, TimeoutError):
            pass  # the list stands without run ids
        return items

    items = asyncio.run(read())
    _print(args, items, render.history_text)
    return 0


def _progress_stream(args: argparse.Namespace) -> Any:
    # With --json, stdout is the result's JSON and nothing else: a script pipes it to jq.
    return sys.stderr if args.json else sys.stdout


def _printer(args: argparse.Namespace) -> Callable[[Any], None]:
    stream = _progress_stream(args)

    def emit(line: Any) -> None:
        print(render.progress_line(line.seconds, line.text, line.ok, stream=stream), file=stream)
        stream.flush()

    return emit


async def _watched(
    client: Any,
    config: FailoverConfig,
    direction: Direction,
    req: Any,
    args: argparse.Namespace,
    *,
    began: float | None = None,
) -> Any:
    """Run one operation through the monitor's update, printing its progress as it goes."""
    from temporalio.client import WorkflowUpdateFailedError
    from temporalio.exceptions import ApplicationError
    from temporalio.service import RPCError

    from genesis.failover.temporal.progress import run_operation

    stream = _progress_stream(args)
    kind = "drill " if req.drill else ("dry-run " if req.dry_run else "")
    print(f"{kind}{direction} of site {config.site.name}: asking the monitor...", file=stream)
    stream.flush()
    try:
        return await run_operation(
            client, config.site.name, direction, req, _printer(args), began=began
        )
    except WorkflowUpdateFailedError as exc:
        cause = exc.cause
        msg = cause.message if isinstance(cause, ApplicationError) else str(cause or exc)
        raise OperationFailed(f"{direction} {msg}") from None
    except RPCError as exc:
        raise OperationFailed(
            f"cannot reach {monitor_workflow_id(config.site.name)}: {exc.message} "
            "(is `genesis-failover worker` running?)"
        ) from None


def _still_running(direction: str) -> None:
    # Ctrl-C stops the watching, not the operation: it is durable in Temporal.
    print(
        f"\ngenesis-failover: stopped watching; the {direction} goes on "
        "(see `genesis-failover status`)",
        file=sys.stderr,
    )


def _operation(direction: Direction) -> Callable[[argparse.Namespace, FailoverConfig], int]:
    def command(args: argparse.Namespace, config: FailoverConfig) -> int:
        from genesis.failover.domain.models import OperationRequest

        req = OperationRequest(
            reason=args.reason,
            dry_run=args.dry_run,
            force=args.force,
            lower_ttl_seconds=args.lower_ttl,
        )

        async def run() -> Any:
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

    return command


def cmd_drill(args: argparse.Namespace, config: FailoverConfig) -> int:
    from genesis.failover.app import drill
    from genesis.failover.domain.models import OperationRequest

    req = OperationRequest(reason=args.reason, dry_run=True, drill=True)

    async def run() -> tuple[Any, Any]:
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
    from worker.replay import replay_site_histories

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
