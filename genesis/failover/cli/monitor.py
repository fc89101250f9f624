"""`genesis-failover`: the operator's command line.

Exit codes: 0 success, 1 operation failed or refused (or Temporal unreachable), 2 bad input or
config, with a message naming the field and the value.

Output: stdout is the answer (a table, or JSON with ``--json``). ``failover``, ``failback`` and
``drill`` also show their progress while they run (steps as they complete, nameservers as they
confirm): on stdout before the summary, or on stderr with ``--json`` so stdout stays one JSON
document. Colour only on a terminal, never with NO_COLOR set. Ctrl-C while watching stops the
watching, not the operation (exit 130).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from genesis.failover import render
from genesis.failover.config import FailoverConfig, load_config, monitor_workflow_id
from genesis.failover.errors import ConfigError, FailoverError
from genesis.failover.models import Direction

DEFAULT_CONFIG = "genesis-failover.toml"


class OperationFailed(Exception):
    """Exit 1 with this message."""


def _positive_reason(text: str) -> str:
    if not text.strip():
        raise argparse.ArgumentTypeError("--reason must not be empty")
    if len(text) > 500:
        raise argparse.ArgumentTypeError(f"--reason is {len(text)} characters; at most 500")
    return text


def _ttl_seconds(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"--lower-ttl must be a whole number of seconds, got {text!r}"
        ) from None
    if not 1 <= value <= 86400:
        raise argparse.ArgumentTypeError(f"--lower-ttl must be 1-86400 seconds, got {value}")
    return value


def _positive_count(name: str) -> Callable[[str], int]:
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"{name} must be a whole number, got {text!r}"
            ) from None
        if value < 1:
            raise argparse.ArgumentTypeError(f"{name} must be 1 or more, got {value}")
        return value

    return parse


def _common(*, top: bool) -> argparse.ArgumentParser:
    # -c and --json work before or after the command; a subcommand must not overwrite the value
    # given before it with its default, hence SUPPRESS below the top level.
    p = argparse.ArgumentParser(add_help=False)
    p.add_argument(
        "-c",
        "--config",
        default=os.environ.get("GENESIS_FAILOVER_CONFIG", DEFAULT_CONFIG)
        if top
        else argparse.SUPPRESS,
        help=f"config file (default: $GENESIS_FAILOVER_CONFIG or {DEFAULT_CONFIG})",
    )
    p.add_argument(
        "--json",
        action="store_true",
        default=False if top else argparse.SUPPRESS,
        help="machine-readable output",
    )
    return p


def build_parser() -> argparse.ArgumentParser:
    common = _common(top=False)
    parser = argparse.ArgumentParser(
        prog="genesis-failover",
        description="Automatic and manual failover between primary and backup, on Temporal.",
        parents=[_common(top=True)],
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    sub.add_parser("validate", parents=[common], help="check the config, show what is monitored")
    sub.add_parser("check", parents=[common], help="run every probe once, here, without Temporal")
    dev = sub.add_parser(
        "dev", parents=[common], help="dev server + worker + monitor in one process tree"
    )
    dev.add_argument("--temporal-address", help="use this Temporal instead of starting one")
    dev.add_argument("--data-dir", default=".genesis", help="SQLite file and lab state (.genesis)")
    dev.add_argument(
        "--port", type=int, default=7233, help="dev server gRPC port (taken if busy; 0: any free)"
    )
    dev.add_argument(
        "--ui-port", type=int, default=8233, help="Web UI port (taken if busy; 0: any free)"
    )
    dev.add_argument(
        "--lab",
        action="store_true",
        help="also start a local BIND9 and a demo primary service shaped by the config",
    )
    sub.add_parser(
        "worker", parents=[common], help="run the worker; make sure the monitor is running"
    )
    sub.add_parser(
        "status",
        parents=[common],
        help="where traffic is, each check's health, cooldown, failovers left, what is running",
    )
    fo = sub.add_parser(
        "failover",
        parents=[common],
        help="fail over to the backup, showing each step as it completes",
        description="Progress goes to stdout, or to stderr with --json (stdout is then the "
        "result's JSON only).",
    )
    fo.add_argument("--reason", required=True, type=_positive_reason)
    fo.add_argument("--dry-run", action="store_true", help="plan only: no writes, no hooks")
    fo.add_argument("--force", action="store_true", help="skip policy gates (cooldown, limit)")
    fb = sub.add_parser(
        "failback",
        parents=[common],
        help="return traffic to the primary, showing each step as it completes",
        description="Progress goes to stdout, or to stderr with --json (stdout is then the "
        "result's JSON only).",
    )
    fb.add_argument("--reason", default="manual failback", type=_positive_reason)
    fb.add_argument("--dry-run", action="store_true")
    fb.add_argument("--force", action="store_true", help="even if the primary is unhealthy")
    for planned in (fo, fb):
        planned.add_argument(
            "--lower-ttl",
            type=_ttl_seconds,
            metavar="SECONDS",
            help="planned switch: lower the records' TTL to SECONDS, wait out the old TTL, "
            "switch, then restore the TTL",
        )
    history = sub.add_parser(
        "history", parents=[common], help="past failovers and failbacks, oldest first"
    )
    history.add_argument(
        "--limit",
        type=_positive_count("--limit"),
        metavar="N",
        help="only the N most recent",
    )
    drill = sub.add_parser(
        "drill",
        parents=[common],
        help="the monthly drill: a dry-run failover and failback, and a report; exit 0 when "
        "both would succeed",
        description="Runs a dry-run failover, then a dry-run failback (trigger 'drill': no "
        "DNS write, no side-effecting hook, no notification, no cooldown) and reports what each "
        "would do. Exit 0 when both would succeed, 1 otherwise. Progress goes to stdout, or to "
        "stderr with --json.",
    )
    drill.add_argument("--reason", default="monthly drill", type=_positive_reason)
    return parser


def _print(args: argparse.Namespace, data: Any, text: Callable[[Any], str]) -> None:
    if args.json:
        print(json.dumps(data, indent=2, default=str))
    else:
        print(text(data))


# --- commands without Temporal -------------------------------------------------------------------


def cmd_validate(args: argparse.Namespace, config: FailoverConfig) -> int:
    from worker.main import build_site_clients

    # Build what the worker builds: hooks, notification channels, providers, with their secrets.
    asyncio.run(build_site_clients(config, os.environ).aclose())
    _print(args, config.model_dump(mode="json"), lambda _: render.config_summary(config))
    return 0


def cmd_check(args: argparse.Namespace, config: FailoverConfig) -> int:
    from genesis.failover.probes import run_probes

    results = asyncio.run(run_probes(list(config.checks), origin="cli"))
    critical = {c.name: c.critical for c in config.checks}
    data = [r.model_dump(mode="json") for r in results]

    def text(_: Any) -> str:
        return render.table(
            ["CHECK", "RESULT", "LATENCY", "ERROR"],
            [
                [
                    r.check_name,
                    render.paint("ok", "green") if r.healthy else render.paint("FAIL", "red"),
                    f"{r.latency_ms:.1f}ms",
                    r.error or "-",
                ]
                for r in results
            ],
        )

    _print(args, data, text)
    return 0 if all(r.healthy for r in results if critical[r.check_name]) else 1


def cmd_dev(args: argparse.Namespace, config: FailoverConfig) -> int:
    import logging

    from genesis.failover.dev import run_dev

    # Warnings and errors only: dev's own lines (addresses, commands) must stay readable.
    _log_to_stderr(logging.WARNING)

    return asyncio.run(
        run_dev(
            config,
            config_path=args.config,
            temporal_address=args.temporal_address,
            data_dir=Path(args.data_dir),
            lab=args.lab,
            port=args.port,
            ui_port=args.ui_port,
        )
    )


def _log_to_stderr(level: int) -> None:
    """The worker's log (a missing search attribute, a probe batch lost, each failover's
    outcome) with timestamps, for journald or a terminal."""
    import logging

    logging.basicConfig(
        level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr
    )


def cmd_worker(args: argparse.Namespace, config: FailoverConfig) -> int:
    import logging
    import signal

    from worker.main import run_worker

    _log_to_stderr(logging.INFO)

    async def run() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await run_worker(config, stop=stop)

    asyncio.run(run())
    return 0


# --- commands that talk to the monitor -----------------------------------------------------------


async def _connect(config: FailoverConfig) -> Any:
    from temporalio.client import Client
    from temporalio.contrib.pydantic import pydantic_data_converter

    try:
        return await Client.connect(
            config.temporal.address,
            namespace=config.temporal.namespace,
            data_converter=pydantic_data_converter,
        )
    except Exception as exc:
        raise OperationFailed(
            f"cannot reach Temporal at {config.temporal.address}: {exc}"
        ) from None


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
    from genesis.failover.progress import current_steps

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

    from genesis.failover.progress import match_runs, run_ids

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

    from genesis.failover.progress import run_operation

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
        from genesis.failover.models import OperationRequest

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
    from genesis.failover import drill
    from genesis.failover.models import OperationRequest

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


COMMANDS: dict[str, Callable[[argparse.Namespace, FailoverConfig], int]] = {
    "validate": cmd_validate,
    "check": cmd_check,
    "dev": cmd_dev,
    "worker": cmd_worker,
    "status": cmd_status,
    "failover": _operation("failover"),
    "failback": _operation("failback"),
    "history": cmd_history,
    "drill": cmd_drill,
}


def _hooks_importable_from(config_path: Path) -> None:
    """Python hooks named in the config (`module:function`) are found beside the config file
    and in the working directory, as `python -m worker` would find them."""
    for folder in (Path.cwd(), config_path.resolve().parent):
        if str(folder) not in sys.path:
            sys.path.insert(0, str(folder))


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        config = load_config(args.config)
        _hooks_importable_from(Path(args.config))
        return COMMANDS[args.command](args, config)
    except ConfigError as exc:
        print(f"genesis-failover: {exc}", file=sys.stderr)
        return 2
    except (OperationFailed, FailoverError) as exc:
        print(f"genesis-failover: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


def entrypoint() -> None:
    code = main()
    sys.stdout.flush()
    sys.stderr.flush()
    # The Temporal SDK's runtime can abort at interpreter exit right after a client call
    # (sdk-python issue 300); the exit code is the contract, so leave without teardown.
    os._exit(code)


if __name__ == "__main__":
    entrypoint()
