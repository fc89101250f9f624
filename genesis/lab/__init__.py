"""Real servers on loopback for integration tests and the ``dev --lab`` demo."""

from genesis.lab.bind9 import Bind9Lab, Bind9LabError, find_named
from genesis.lab.ports import free_port

__all__ = ["Bind9Lab", "Bind9LabError", "find_named", "free_port"]
