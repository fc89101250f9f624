"""The Failover* search attributes: checked when the worker starts, registered by `dev`.

A namespace without them would fail every workflow task that sets one, wedging the monitor. So
a worker that finds them missing keeps monitoring and failing over with indexing off, and says,
loudly and at every start, the exact commands that register them. Monitoring must never stop
over a Web UI filter.
"""

from __future__ import annotations

import logging

from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.operatorservice.v1 import (
    AddSearchAttributesRequest,
    ListSearchAttributesRequest,
)
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode

from genesis.failover.domain.plan import MonitorPlan
from genesis.failover.temporal.attributes import SEARCH_ATTRIBUTES, create_commands

log = logging.getLogger("genesis.failover.worker")

_TYPES = {"Keyword": IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD}


async def missing_search_attributes(client: Client) -> list[str]:
    """The Failover* attributes the client's namespace lacks (or has with another type)."""
    listed = await client.operator_service.list_search_attributes(
        ListSearchAttributesRequest(namespace=client.namespace)
    )
    known = {**listed.system_attributes, **listed.custom_attributes}
    return [name for name, kind in SEARCH_ATTRIBUTES.items() if known.get(name) != _TYPES[kind]]


async def checked_search_attributes(client: Client, plan: MonitorPlan) -> MonitorPlan:
    """``plan`` with indexing on if the namespace has every attribute, off (and why) if not."""
    if not plan.search_attributes:
        return plan
    address = client.service_client.config.target_host
    try:
        missing = await missing_search_attributes(client)
    except RPCError as exc:
        log.error(
            "cannot list the search attributes of namespace %s (%s); failovers will not be "
            "indexed. On Temporal Cloud, add them in the namespace's settings or with tcld: %s",
            client.namespace,
            exc.message,
            ", ".join(f"{n} ({k})" for n, k in SEARCH_ATTRIBUTES.items()),
        )
        return plan.model_copy(update={"search_attributes": False})
    if not missing:
        return plan
    log.error(
        "namespace %s lacks the search attributes %s: failovers are monitored and run, but are "
        "not indexed for `temporal workflow list --query` or the Web UI's filters. Register "
        "them once, then restart the worker:\n  %s",
        client.namespace,
        ", ".join(missing),
        "\n  ".join(create_commands(missing, address=address, namespace=client.namespace)),
    )
    return plan.model_copy(update={"search_attributes": False})


async def register_search_attributes(client: Client) -> list[str]:
    """Register the missing ones (``dev`` against a server it did not start, and the tests'
    time-skipping server); returns what it added."""
    try:
        missing = await missing_search_attributes(client)
    except RPCError as exc:
        if exc.status != RPCStatusCode.UNIMPLEMENTED:
            raise
        missing = list(SEARCH_ATTRIBUTES)  # the test server cannot list, only add
    if missing:
        await client.operator_service.add_search_attributes(
            AddSearchAttributesRequest(
                namespace=client.namespace,
                search_attributes={name: _TYPES[SEARCH_ATTRIBUTES[name]] for name in missing},
            )
        )
    return missing


async def register_on_server(address: str, namespace: str) -> str | None:
    """A server `dev` did not start gets the Failover* attributes too (the dev server it starts
    has them from its command line). What happened, in a line for the operator (None: nothing
    was missing); where registering is refused, the worker says at start what to run."""
    try:
        client = await Client.connect(address, namespace=namespace)
        added = await register_search_attributes(client)
    except RPCError as exc:
        return f"could not register the search attributes on {address}: {exc.message}"
    if not added:
        return None
    return f"registered search attributes on {address}: {', '.join(added)}"
