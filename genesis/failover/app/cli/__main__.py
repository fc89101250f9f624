"""`python -m genesis.failover.app.cli`: the same as the `genesis-failover` console script."""

from genesis.failover.app.cli import entrypoint

if __name__ == "__main__":
    entrypoint()
