"""How a duration and a long message read to a person, the same in the CLI and in the Web UI's
details (which are built inside workflows: nothing here does I/O or reads a clock)."""

from __future__ import annotations


def duration(seconds: float) -> str:
    """3s, 4m 10s, 2h 5m: how long, as a person says it."""
    seconds = int(round(max(0.0, seconds)))
    if seconds >= 3600:
        return f"{seconds // 3600}h {seconds % 3600 // 60}m"
    if seconds >= 60:
        return f"{seconds // 60}m {seconds % 60}s"
    return f"{seconds}s"


def one_line(text: str | None, limit: int = 160) -> str:
    """A message on one line (an error may span several), cut to ``limit`` characters."""
    text = " ".join((text or "").split())
    return text if len(text) <= limit else text[: limit - 3] + "..."
