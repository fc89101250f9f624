"""The pieces every view is built from: colour (on a terminal only), aligned tables, and how
long ago something was ("12s ago"; durations and one-line messages are in ``wording``, shared
with the Web UI's details)."""

from __future__ import annotations

import os
import re
import sys
from datetime import datetime
from typing import Any

from genesis.failover.domain.wording import duration  # re-exported: render.duration

_COLOURS = {"red": "31", "green": "32", "yellow": "33", "bold": "1"}


def colour_on(stream: Any = None) -> bool:
    """Colour only for a person at a terminal: never in a pipe, a file or a log, and never
    when NO_COLOR is set (https://no-color.org)."""
    stream = stream or sys.stdout
    if os.environ.get("NO_COLOR"):
        return False
    return bool(getattr(stream, "isatty", lambda: False)())


def paint(text: str, colour: str, *, stream: Any = None) -> str:
    if not colour_on(stream):
        return text
    return f"\033[{_COLOURS[colour]}m{text}\033[0m"


def table(headers: list[str], rows: list[list[str]]) -> str:
    # Widths count what is seen: colour codes take no room on the screen.
    def seen(cell: str) -> int:
        return len(_ANSI.sub("", cell))

    widths = [len(h) for h in headers]
    for row in rows:
        widths = [max(w, seen(cell)) for w, cell in zip(widths, row, strict=True)]

    def line(cells: list[str]) -> str:
        return "  ".join(c + " " * (w - seen(c)) for c, w in zip(cells, widths, strict=True))

    return "\n".join(line(r).rstrip() for r in [headers, *rows])


_ANSI = re.compile(r"\033\[[0-9;]*m")


def _parse_time(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        return None


def ago(when: str | None, now: str | None) -> str:
    """How long before ``now`` (both ISO-8601) ``when`` was: "12s ago", or "never"."""
    t, n = _parse_time(when), _parse_time(now)
    if t is None:
        return "never"
    if n is None:
        return when or "never"
    return duration((n - t).total_seconds()) + " ago"
