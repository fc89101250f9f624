"""The metrics tests reuse the integration fixtures: the real dev server, BIND9, a real HTTP
primary and the production worker path."""

from tests.integration.conftest import (  # noqa: F401 - fixtures, by name
    bind9,
    make_config,
    primary_service,
)
