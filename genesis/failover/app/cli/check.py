"""`check`: every probe once, here, without Temporal (the operator's "is it up from this
host?"). It loads no Temporal code: it answers on a host whose Temporal is down."""

from __future__ import annotations

import argparse
import asyncio
from typing import Any

from genesis.failover.app import render
from genesis.failover.app.cli.output import _print
from genesis.failover.domain.config import FailoverConfig
from genesis.failover.domain.probes import run_probes


def cmd_check(args: argparse.Namespace, config: FailoverConfig) -> int:
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
