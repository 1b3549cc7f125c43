"""Command line: ``python -m bench [--quick] [--only costs ingest latency burst midnight memory] [--processes N]
[--out FILE]``."""

from __future__ import annotations

import argparse
import dataclasses
import sys
import time
from collections.abc import Callable
from pathlib import Path

from bench import capacity, costs, ingest, latency, measures, midnight, report
from bench.report import Figure
from bench.stack import Stack, local_stack

MEASURES: dict[str, Callable[[Stack, measures.Sizes], list[Figure]]] = {
    "costs": costs.costs,
    "ingest": ingest.ingest,
    "latency": latency.day_close_latency,
    "burst": midnight.burst,
    "midnight": midnight.midnight,
    "memory": ingest.memory,
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small sizes: proves the benchmarks run (CI)")
    parser.add_argument("--only", nargs="+", choices=sorted(MEASURES), help="run only these measurements")
    parser.add_argument("--out", type=Path, help="JSON output (default bench/results/latest.json)")
    parser.add_argument(
        "--processes",
        type=int,
        help="DAYCLOSE_CONSUMER_PROCESSES of the pod booking burst and midnight (default 2; 1: no comparison night)",
    )
    args = parser.parse_args(argv)
    sizes = measures.QUICK if args.quick else measures.FULL
    if args.processes is not None:
        sizes = dataclasses.replace(sizes, midnight_processes=args.processes)
    names = args.only or list(MEASURES)
    if {"burst", "midnight"} & set(names):
        print(f"burst and midnight booked by a pod of {sizes.midnight_processes} consumer process(es)", flush=True)
    figures: list[Figure] = []
    timings: dict[str, float] = {}
    started = time.monotonic()
    with local_stack() as stack:
        for name in names:
            t0 = time.monotonic()
            print(f"… {name}", flush=True)
            figures += MEASURES[name](stack, sizes)
            timings[name] = round(time.monotonic() - t0, 1)
            print(f"  {name} took {timings[name]:.0f}s", file=sys.stderr, flush=True)
    print()
    print(report.table(figures))
    print(report.breakdowns(figures))
    extra = {"sizes": sizes.__dict__, "seconds": timings, "total_seconds": round(time.monotonic() - started, 1)}
    try:
        measured = capacity.inputs({"figures": [f.as_json() for f in figures]})
        print("\ncapacity model, from this run's figures:")
        print(capacity.markdown(measured))
        extra["capacity"] = {"inputs": measured, "rows": dict(capacity.model(measured))}
    except capacity.MissingInputs:
        pass  # a partial run (--only): no model
    print()
    print(report.summary(figures))
    mode = "quick" if args.quick else "full"
    path = report.write(figures, mode, args.out, extra)
    print(f"\n{mode} run in {time.monotonic() - started:.0f}s; figures in {path}")
    # Figures are reported, not asserted: a failed target is a finding, not a broken benchmark.
    return 0
