"""``python -m bench [items...]``: run benchmark items side by side and write the results."""

from __future__ import annotations

import argparse
import datetime
import importlib
import os
import platform
import signal
import subprocess
import sys
import time
import traceback
from pathlib import Path
from typing import Any

from bench import report
from bench.common import RESULTS, BenchError, Context, Row, loadavg, make_workdir, remove_workdir

ITEMS = {
    "1": "bench.handshake",
    "2": "bench.resumption",
    "3": "bench.early_data",
    "4": "bench.service",
    "5": "bench.converge",
    "6": "bench.scan",
    "7": "bench.device",
}
ORDER = ("1", "2", "3", "7", "6", "4", "5")
# `make bench` runs these; item 5 (fleet converge, tens of minutes) runs when asked for by number
# or with "all".
DEFAULT = ("1", "2", "3", "7", "6", "4")


class Interrupted(Exception):
    """SIGTERM (the run's time limit) or Ctrl-C: stop, clean up, keep what was measured."""


def _interrupt(signum: int, frame: object) -> None:
    raise Interrupted(f"signal {signum}")


def _commit() -> str:
    proc = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=False
    )
    return proc.stdout.strip() or "unknown"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench", description=__doc__)
    parser.add_argument(
        "items", nargs="*", help=f"items to run, or all (default: {' '.join(DEFAULT)}; item 5 on request)"
    )
    parser.add_argument("--quick", action="store_true", help="small loads, one round (smoke test)")
    parser.add_argument("--keep", action="store_true", help="keep the scratch directory")
    args = parser.parse_args(argv)
    items = args.items or list(DEFAULT)
    if items == ["all"]:
        items = list(ORDER)
    unknown = [i for i in items if i not in ITEMS]
    if unknown:
        parser.error(f"unknown item(s) {unknown}; known: {' '.join(ORDER)}")
    items = [i for i in ORDER if i in items]

    started = time.monotonic()
    meta: dict[str, Any] = {
        "timestamp": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "items": items,
        "quick": args.quick,
        "commit": _commit(),
        "machine": f"{cpu_model()}, {os.cpu_count()} cores",
        "loadavg_before": loadavg(),
    }
    signal.signal(signal.SIGTERM, _interrupt)
    signal.signal(signal.SIGINT, _interrupt)
    ctx = Context(workdir=make_workdir(), quick=args.quick)
    errors: dict[str, str] = {}
    try:
        for item in items:
            print(f"=== item {item} ({ITEMS[item]})", flush=True)
            t0 = time.monotonic()
            try:
                importlib.import_module(ITEMS[item]).run(ctx)
            except Interrupted as exc:
                errors[item] = f"interrupted ({exc}): the run's time limit or a Ctrl-C"
                ctx.add(Row(item, f"item {item}", "runs", "interrupted before it finished", passed=False))
                break
            except BenchError as exc:
                errors[item] = str(exc)
                ctx.add(Row(item, f"item {item}", "runs", f"could not run: {exc}"[:300], passed=False))
            except Exception as exc:  # a crash in one item must not lose the others' results
                traceback.print_exc()
                errors[item] = f"{type(exc).__name__}: {exc}"
                ctx.add(
                    Row(
                        item,
                        f"item {item}",
                        "runs",
                        f"crashed: {type(exc).__name__}: {exc}"[:300],
                        passed=False,
                    )
                )
            ctx.data.setdefault("durations", {})[item] = round(time.monotonic() - t0, 1)
    finally:
        if args.keep:
            print(f"scratch kept in {ctx.workdir}")
        else:
            remove_workdir(ctx.workdir)
    meta["loadavg_after"] = loadavg()
    meta["duration_seconds"] = time.monotonic() - started
    meta["errors"] = errors
    path = report.write(RESULTS, meta, ctx.rows, ctx.data, list(ORDER))
    print(report.table(ctx.rows))
    print(f"results: {path} ({meta['duration_seconds']:.0f} s)")
    return 1 if any(r.passed is False for r in ctx.rows) else 0


def cpu_model() -> str:
    """The CPU's model name: what the figures depend on (the host's name and kernel are left out)."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.machine()


if __name__ == "__main__":
    sys.exit(main())
