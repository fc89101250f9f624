"""Reliability tests: crashes, restarts, provider faults, flapping, races, bad input, secrets.

They reuse the workflow lab (time-skipping and real dev server) and the integration fixtures
(BIND9, the HTTP primary, the production worker path).
"""

from tests.integration.conftest import backup_service, bind9, make_config, primary_service
from tests.workflows.lab import lab, real_lab

__all__ = ["backup_service", "bind9", "lab", "make_config", "primary_service", "real_lab"]
