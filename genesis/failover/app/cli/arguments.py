"""The command line's grammar: commands, options, and the checks on their values (exit 2)."""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable
from typing import Any

from genesis.failover.domain.addresses import split_host_port

DEFAULT_CONFIG = "genesis-failover.toml"


def _positive_reason(text: str) -> str:
    if not text.strip():
        raise argparse.ArgumentTypeError("--reason must not be empty")
    if len(text) > 500:
        raise argparse.ArgumentTypeError(
            f"--reason is {len(text)} characters; at most 500 (got {text[:20]!r}...)"
        )
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


def _positive_count(name: str, least: int = 1) -> Callable[[str], int]:
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"{name} must be a whole number, got {text!r}"
            ) from None
        if value < least:
            raise argparse.ArgumentTypeError(f"{name} must be {least} or more, got {value}")
        return value

    return parse


def _count(name: str) -> Callable[[str], int]:
    return _positive_count(name, least=0)


def _port(name: str) -> Callable[[str], int]:
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"{name} must be a port number, got {text!r}"
            ) from None
        if not 0 <= value <= 65535:
            raise argparse.ArgumentTypeError(f"{name} must be 0-65535, got {value}")
        return value

    return parse


def _temporal_address(text: str) -> str:
    try:
        split_host_port(text, default_port=0)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"--temporal-address must be host:port, got {text!r}"
        ) from None
    if ":" not in text.rsplit("]", 1)[-1]:
        raise argparse.ArgumentTypeError(f"--temporal-address must be host:port, got {text!r}")
    return text


def _not_empty(name: str) -> Callable[[str], str]:
    def parse(text: str) -> str:
        if not text.strip():
            raise argparse.ArgumentTypeError(f"{name} must not be empty")
        return text

    return parse


class _Parser(argparse.ArgumentParser):
    """No abbreviated options: `failover --f` must not be read as `--force` (skip the policy
    gates) just because no other option starts with f."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("allow_abbrev", False)
        super().__init__(*args, **kwargs)


def _common(*, top: bool) -> _Parser:
    # -c and --json work before or after the command; a subcommand must not overwrite the value
    # given before it with its default, hence SUPPRESS below the top level.
    p = _Parser(add_help=False)
    p.add_argument(
        "-c",
        "--config",
        type=_not_empty("--config"),
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
    parser = _Parser(
        prog="genesis-failover",
        description="Automatic and manual failover between primary and backup, on Temporal.",
        parents=[_common(top=True)],
    )
    sub = parser.add_subparsers(
        dest="command", required=True, metavar="COMMAND", parser_class=_Parser
    )
    sub.add_parser("validate", parents=[common], help="check the config, show what is monitored")
    sub.add_parser("check", parents=[common], help="run every probe once, here, without Temporal")
    dev = sub.add_parser(
        "dev", parents=[common], help="dev server + worker + monitor in one process tree"
    )
    dev.add_argument(
        "--temporal-address",
        type=_temporal_address,
        help="use this Temporal (host:port) instead of starting one",
    )
    dev.add_argument(
        "--data-dir",
        type=_not_empty("--data-dir"),
        default=".genesis",
        help="SQLite file and lab state (.genesis)",
    )
    dev.add_argument(
        "--port",
        type=_port("--port"),
        default=7233,
        help="dev server gRPC port (taken if busy; 0: any free)",
    )
    dev.add_argument(
        "--ui-port",
        type=_port("--ui-port"),
        default=8233,
        help="Web UI port (taken if busy; 0: any free)",
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
    replay = sub.add_parser(
        "replay",
        parents=[common],
        help="before an upgrade: replay the site's workflows from the cluster through the "
        "installed code; exit 0 when every one replays",
        description="Fetches the history of every running workflow on the site's task queue "
        "and of the most recent closed ones, and replays each through the workflow code "
        "installed here. A failure means this version would wedge that workflow with a "
        "non-determinism error: do not roll it out (docs/deploy.md, upgrading).",
    )
    replay.add_argument(
        "--closed",
        type=_count("--closed"),
        default=20,
        metavar="N",
        help="also the N most recent closed workflows (20; 0: running ones only)",
    )
    codec = sub.add_parser(
        "codec-server",
        parents=[common],
        help="decode encrypted payloads for the Web UI and `temporal --codec-endpoint`",
        description="Serves POST /encode and /decode with the keys of [temporal.encryption] "
        "(docs/security.md). Loopback by default; Ctrl-C or SIGTERM stops it.",
    )
    codec.add_argument("--host", type=_not_empty("--host"), default="127.0.0.1")
    codec.add_argument("--port", type=_port("--port"), default=8081)
    codec.add_argument(
        "--origin",
        action="append",
        type=_not_empty("--origin"),
        help="a Web UI origin allowed to call it (repeatable; default: the config's "
        "codec_cors_origins)",
    )
    return parser
