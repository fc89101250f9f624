"""`python -m worker -c config.toml`: the same as `genesis-failover worker`."""

import sys

from genesis.failover.app.cli import main

sys.exit(main(["worker", *sys.argv[1:]]))
