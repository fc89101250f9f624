"""Human-readable output for the CLI (being split into modules; see status.py)."""

from genesis.failover.render.status import (
    ago,
    colour_on,
    config_summary,
    duration,
    health_table,
    history_text,
    paint,
    progress_line,
    result_text,
    status_text,
    table,
    verification_text,
)

__all__ = [
    "ago",
    "colour_on",
    "config_summary",
    "duration",
    "health_table",
    "history_text",
    "paint",
    "progress_line",
    "result_text",
    "status_text",
    "table",
    "verification_text",
]
