"""`genesis-failover`: the operator's command line (being split into modules; see monitor.py)."""

from genesis.failover.cli.monitor import (
    COMMANDS,
    DEFAULT_CONFIG,
    OperationFailed,
    build_parser,
    entrypoint,
    main,
)

__all__ = ["COMMANDS", "DEFAULT_CONFIG", "OperationFailed", "build_parser", "entrypoint", "main"]
