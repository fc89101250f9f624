"""Benchmarks on this machine's real components; prints one table and writes docs/benchmarks.md.

    .venv/bin/python scripts/bench.py                  # everything, full size (~10 min)
    .venv/bin/python scripts/bench.py --quick          # each one small, under a minute; no file
    .venv/bin/python scripts/bench.py --only outage    # one benchmark (repeatable)

overhead  a FailoverWorkflow (instant hooks, RFC 2136 on BIND9) against a bare workflow running
          the same number of no-op activities on the same server: ratio of medians.
outage    an HTTP primary stopped; seconds until the BIND9 primary and both secondaries answer
          the backup (interval 1 s, threshold 3), on a tuned and on a default dev server.
scale     one worker watching 100, 1,000 and 5,000 HTTP checks every 10 s: probes per second,
          p99 lateness, worker CPU and RSS, server CPU, history events and bytes per hour.

Exit status 1 means a benchmark is broken (it could not produce its number), never that a number
missed its target: the table says that.
"""

from __future__ import annotations

import argparse
import asyncio
import shlex
import sys
import tempfile
import time
import traceback
from collections.abc import Awaitable, Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from scripts.benchmarks import outage, overhead, scale  # noqa: E402
from scripts.benchmarks.report import Row, document, table  # noqa: E402

Measure = Callable[..., Awaitable[list[Row]]]
BENCHMARKS: dict[str, Measure] = {
    "overhead": overhead.measure,
    "outage": outage.measure,
    "scale": scale.measure,
}
DOC = ROOT / "docs" / "benchmarks.md"
INTRO = (
    "Every number below comes from real components on this machine: the Temporal dev server "
    "(SQLite), BIND9 with two secondaries, the production worker. `met` compares a number with "
    "the target of issue 7; the notes say how it was obtained. See the end of "
    "`docs/decisions.md` for what the numbers changed."
)
METHODS = """## How each number is measured

- **overhead**: the production worker runs `FailoverWorkflow` for a site with one record on the
  BIND9 lab (RFC 2136, TSIG), an instant Python pre-hook and post-hook, and propagation checked
  on the primary and both secondaries; failover and failback alternate, so every run writes DNS.
  The bare workflow runs as many no-op activities, in the same order and concurrency, as the
  failover's own history shows. Both are started by a client on the same dev server and timed
  from the start call to the result; runs are interleaved and the medians compared.
- **outage**: a monitor probes an HTTP primary every second (threshold 3); the primary's socket
  is closed at an arbitrary point of the interval, and the clock stops when the BIND9 primary and
  both secondaries all answer the backup address. Once on a tuned dev server
  (`history.transferProcessorMaxPollRPS=1000`, what `dev` uses), once on its defaults.
- **scale**: the real `genesis-failover worker` process watches N HTTP checks (10 s interval) on
  a loopback server of its own process, which records when each request arrives. A probe's
  lateness is its arrival minus the time the monitor had it due: the monitor's first loop of
  each run (from the history), plus the check's spread offset, plus whole intervals. Worker and
  server CPU are read from /proc over the window (cores = CPU seconds per second); RSS is the
  worker's peak. History counts every event of the monitor's runs inside the window, and their
  bytes.
- `--quick` runs each one small (3 failovers, one outage, 20 checks for 8 s): it shows the
  benchmarks still work and grades nothing.
"""


def parse_args(argv: list[str]) -> argparse.Namespace:
    ap = argparse.ArgumentParser(
        prog="bench.py", description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    ap.add_argument("--quick", action="store_true", help="each benchmark small (CI): < 1 minute")
    ap.add_argument(
        "--only", action="append", choices=sorted(BENCHMARKS), help="run only this benchmark"
    )
    ap.add_argument(
        "--out",
        type=Path,
        help=f"write the table here (default: {DOC.relative_to(ROOT)} in full mode, "
        "nothing in quick mode)",
    )
    return ap.parse_args(argv)


async def run(args: argparse.Namespace) -> tuple[list[Row], list[str]]:
    rows: list[Row] = []
    broken: list[str] = []
    with tempfile.TemporaryDirectory(prefix="genesis-bench-") as tmp:
        for name in args.only or list(BENCHMARKS):
            print(f"-- {name} ...", file=sys.stderr, flush=True)
            started = time.monotonic()
            try:
                got = await BENCHMARKS[name](quick=args.quick, workdir=Path(tmp) / name)
            except Exception:
                broken.append(name)
                traceback.print_exc()
                continue
            if not got:
                broken.append(name)
                print(f"{name}: produced no numbers", file=sys.stderr)
            rows.extend(got)
            print(f"-- {name}: {time.monotonic() - started:.0f} s", file=sys.stderr, flush=True)
    return rows, broken


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    started = time.monotonic()
    rows, broken = asyncio.run(run(args))
    print(table(rows))
    out = args.out if args.out is not None else (None if args.quick else DOC)
    if out is not None and rows and not broken:
        command = shlex.join([".venv/bin/python", "scripts/bench.py", *argv])
        out.write_text(
            document(
                rows,
                command=command,
                seconds=time.monotonic() - started,
                intro=INTRO,
                methods=METHODS,
            )
        )
        print(f"written to {out}", file=sys.stderr)
    if broken:
        print(f"BROKEN: {', '.join(broken)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
