"""The workflow lab's fixtures (tests/workflows/lab.py)."""

from tests.workflows.lab import lab, real_lab

__all__ = ["lab", "real_lab"]
