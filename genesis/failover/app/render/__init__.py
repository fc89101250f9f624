"""Human-readable output for the CLI: status, health, results, history. Colour on a tty only.

- ``text``: colour, tables, "12s ago": what every view is built from (durations and one-line
  cuts come from ``genesis.failover.domain.wording``, shared with the Web UI's details).
- ``status``: ``genesis-failover status`` (traffic, policy, running operation, health table).
- ``results``: an operation's result, past operations, progress lines while one runs.
- ``config``: ``genesis-failover validate`` (the config summary, where switches are verified).

Callers use ``render.xxx``; every public name is re-exported here.
"""

from genesis.failover.app.render.config import config_summary, verification_text
from genesis.failover.app.render.results import (
    history_text,
    progress_line,
    replay_text,
    result_text,
)
from genesis.failover.app.render.status import health_table, status_text
from genesis.failover.app.render.text import ago, colour_on, duration, paint, table

__all__ = [
    "ago",
    "colour_on",
    "config_summary",
    "duration",
    "health_table",
    "history_text",
    "paint",
    "progress_line",
    "replay_text",
    "result_text",
    "status_text",
    "table",
    "verification_text",
]
