"""Typed search-attribute keys and the values our workflows index themselves under.

The failover workflow is started already indexed (site, direction, trigger) so it can be found
while it runs, and adds its outcome when it ends; the monitor keeps its site and state current.
Values are the same Literal strings the status shapes use, so a query an operator writes from
`status` output matches.
"""

from __future__ import annotations

from temporalio import workflow
from temporalio.common import SearchAttributeKey, SearchAttributePair, TypedSearchAttributes

with workflow.unsafe.imports_passed_through():
    from genesis.failover.temporal import attributes as names

SITE = SearchAttributeKey.for_keyword(names.SITE)
DIRECTION = SearchAttributeKey.for_keyword(names.DIRECTION)
TRIGGER = SearchAttributeKey.for_keyword(names.TRIGGER)
OUTCOME = SearchAttributeKey.for_keyword(names.OUTCOME)
STATE = SearchAttributeKey.for_keyword(names.STATE)


def for_operation(site: str, direction: str, trigger: str) -> TypedSearchAttributes:
    return TypedSearchAttributes(
        [
            SearchAttributePair(SITE, site),
            SearchAttributePair(DIRECTION, direction),
            SearchAttributePair(TRIGGER, trigger),
        ]
    )
