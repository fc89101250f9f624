"""The search attributes that index failovers in Temporal (Web UI filters and
``temporal workflow list --query``). Plain names here; typed keys live with the workflows.

All are Keyword: exact-match values an operator filters on, never free text.
"""

from __future__ import annotations

SITE = "FailoverSite"
DIRECTION = "FailoverDirection"  # failover | failback
TRIGGER = "FailoverTrigger"  # automatic | manual | drill
OUTCOME = "FailoverOutcome"  # succeeded | failed | degraded | aborted | dry_run
STATE = "FailoverState"  # the monitor's state: normal | failing_over | failed_over | failing_back

SEARCH_ATTRIBUTES: dict[str, str] = {
    SITE: "Keyword",
    DIRECTION: "Keyword",
    TRIGGER: "Keyword",
    OUTCOME: "Keyword",
    STATE: "Keyword",
}


def create_commands(missing: list[str], *, address: str, namespace: str) -> list[str]:
    """The exact commands that register ``missing`` on a self-hosted server."""
    return [
        f"temporal operator search-attribute create --address {address} "
        f"--namespace {namespace} --name {name} --type {SEARCH_ATTRIBUTES[name]}"
        for name in missing
    ]
