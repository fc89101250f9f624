"""`genesis-failover`: the operator's command line.

Exit codes: 0 success, 1 operation failed or refused (or Temporal unreachable), 2 bad input or
config, with a message naming the field and the value.

Output: stdout is the answer (a table, or JSON with ``--json``). ``failover``, ``failback`` and
``drill`` also show their progress while they run (steps as they complete, nameservers as they
confirm): on stdout before the summary, or on stderr with ``--json`` so stdout stays one JSON
document. Colour only on a terminal, never with NO_COLOR set. Ctrl-C while watching stops the
watching, not the operation (exit 130).

Modules: ``arguments`` (the parser and its validators), ``check`` (every probe once, without
Temporal), ``process`` (commands that build or run the worker here: validate, dev, worker,
codec-server), ``monitor`` (commands that talk to the monitor: status, history, failover,
failback, drill, replay), ``output`` (printing the answer; the exit-1 error).
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from genesis.failover.app.cli.arguments import DEFAULT_CONFIG, build_parser
from genesis.failover.app.cli.output import OperationFailed
from genesis.failover.domain.config import FailoverConfig, load_config
from genesis.failover.domain.errors import ConfigError, FailoverError

__all__ = [
    "COMMANDS",
    "DEFAULT_CONFIG",
    "OperationFailed",
    "build_parser",
    "entrypoint",
    "main",
]

Command = Callable[[argparse.Namespace, FailoverConfig], int]

# Each command's module and function, imported when the command runs: the one lazy import of
# the CLI, so that `check`, `--help` and a bad argument answer without loading the Temporal SDK.
COMMANDS: dict[str, tuple[str, str]] = {
    "validate": ("process", "cmd_validate"),
    "check": ("check", "cmd_check"),
    "dev": ("process", "cmd_dev"),
    "worker": ("process", "cmd_worker"),
    "status": ("monitor", "cmd_status"),
    "failover": ("monitor", "cmd_failover"),
    "failback": ("monitor", "cmd_failback"),
    "history": ("monitor", "cmd_history"),
    "drill": ("monitor", "cmd_drill"),
    "replay": ("monitor", "cmd_replay"),
    "codec-server": ("process", "cmd_codec_server"),
}


def command(name: str) -> Command:
    module, function = COMMANDS[name]
    found: Command = getattr(importlib.import_module(f"{__name__}.{module}"), function)
    return found


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
        return command(args.command)(args, config)
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
