"""Commands that build or run the worker here: validate (builds what the worker builds, with its
secrets), dev, worker, codec-server; and the log they write."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
import sys
from pathlib import Path

from genesis.failover.app import render
from genesis.failover.app.cli.output import OperationFailed, _print
from genesis.failover.app.dev import run_dev
from genesis.failover.domain.config import FailoverConfig
from genesis.failover.temporal.codec_server import serve
from worker.main import build_site_clients, run_worker


def cmd_validate(args: argparse.Namespace, config: FailoverConfig) -> int:
    # Build what the worker builds: hooks, notification channels, providers, with their secrets.
    asyncio.run(build_site_clients(config, os.environ).aclose())
    _print(args, config.model_dump(mode="json"), lambda _: render.config_summary(config))
    return 0


def cmd_dev(args: argparse.Namespace, config: FailoverConfig) -> int:
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
    logging.basicConfig(
        level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr
    )


def cmd_worker(args: argparse.Namespace, config: FailoverConfig) -> int:
    _log_to_stderr(logging.INFO)

    log = logging.getLogger("genesis.failover.worker")

    async def run() -> int:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        main = asyncio.current_task()
        assert main is not None

        def on_signal(sig: signal.Signals) -> None:
            # The first signal drains (shutdown_grace_seconds); a second one means the operator
            # will not wait: what is in flight is cancelled (a command hook's process group is
            # killed) and reported failed before the process exits, so Temporal retries it
            # after the retry interval on whichever worker polls next (measured:
            # tests/reliability/test_drain.py). Only a report that never arrives (SIGKILL)
            # leaves it to the heartbeat or start-to-close timeout.
            if not stop.is_set():
                log.info("%s: draining (a second signal stops at once)", sig.name)
                stop.set()
            else:
                log.warning("%s again: stopping now, without waiting for activities", sig.name)
                main.cancel()

        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, on_signal, sig)
        try:
            await run_worker(config, stop=stop)
        except asyncio.CancelledError:
            return 130
        return 0

    return asyncio.run(run())


def cmd_codec_server(args: argparse.Namespace, config: FailoverConfig) -> int:
    """Decode (and encode) encrypted payloads for the Web UI and `temporal --codec-endpoint`."""
    try:
        return serve(config, args.host, args.port, origins=args.origin)
    except OSError as exc:  # the port is taken, the address is not this machine's
        raise OperationFailed(f"cannot listen on {args.host}:{args.port}: {exc}") from None
