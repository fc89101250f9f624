"""What every command shares: printing the answer (a table, or JSON with ``--json``) and the
error that exits 1."""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from typing import Any


class OperationFailed(Exception):
    """Exit 1 with this message."""


def _print(args: argparse.Namespace, data: Any, text: Callable[[Any], str]) -> None:
    if args.json:
        print(json.dumps(data, indent=2, default=str))
    else:
        print(text(data))
