"""Command, webhook and Python hooks as the worker builds and runs them."""
