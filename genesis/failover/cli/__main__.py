"""`python -m genesis.failover.cli`: the same as the `genesis-failover` console script."""

from genesis.failover.cli import entrypoint

if __name__ == "__main__":
    entrypoint()
