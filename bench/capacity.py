"""The capacity model of docs/performance.md: 1k, 10k and 100k stores, computed from measured figures.

    python -m bench.capacity [bench/results/latest.json]

Measured inputs (from one ``make bench`` run: its ``ingest``, ``costs`` and ``midnight`` measurements):
bytes per stored sales row including indexes, WAL bytes per event, events/s of one ``dayclose run`` process and
what a second process in the pod adds (``DAYCLOSE_CONSUMER_PROCESSES=2``), µs per event of each ingest step, BL
requests per export (the steady-state midnight's, with the first-ever midnight's beside it), bytes per booked
store-day, and the export rate the midnight's pod sustained (steady state; its consumer processes named).
Assumptions are the constants below; change them here, not in the doc.
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path
from typing import Any

from bench.report import RESULTS

STORES = (1_000, 10_000, 100_000)
#: Assumptions (not measured): a store's sales events per business day; the share of them in its busiest
#: hour; how much of one process's measured throughput a pod may use at peak; retention of sales rows
#: (DAYCLOSE_SALES_RETENTION_DAYS) and of the receipt → voucher trail (Bokföringslagen 7 kap. 2 §: seven
#: years after the fiscal year, so up to 8 years of rows).
EVENTS_PER_STORE_DAY = 300
PEAK_HOUR_SHARE = 0.15
POD_UTILISATION = 0.5
RETENTION_DAYS = 400
TRAIL_DAYS = 8 * 365
#: Retention drops whole quarters (storage/retention.py): a row lives until its whole quarter is past the
#: retention, so up to one quarter (92 days) longer, and up to 6 quarters are live at 400 days.
LIVE_DAYS = RETENTION_DAYS + 92
LIVE_QUARTERS = math.ceil(LIVE_DAYS / 91.3)
#: BL documents no limit. Two cases (docs/performance.md): it limits our client id to what public clients keep under
#: in total (then BL_MAX_REQUESTS_PER_SECOND × pods stays under it, and pods do not help), or it limits each company
#: (User-Key) to that (then BL_MAX_REQUESTS_PER_SECOND_PER_COMPANY holds each company, and pods book in parallel).
BL_LIMIT_PER_POD = 8.0
BL_TOTAL_LIMIT = 10.0
BL_COMPANY_LIMIT = 10.0
#: How long a midnight may take to book in the per-company case (next-morning books with room to spare).
BOOKING_WINDOW_S = 1800
#: The largest merchant (one BL company) of the per-company case, and what each of its booked days costs at least
#: (a post and an attach; its pre-flight's fetches are spread over its many stores).
LARGEST_MERCHANT_STORES = 1_000
FLOOR_REQUESTS_PER_DAY = 2
GB = 1e9


class MissingInputs(LookupError):
    pass


def inputs(doc: dict[str, Any]) -> dict[str, float]:
    """The measured inputs from a results document; raises naming what the run did not measure."""

    def first(prefix: str, key: str) -> dict[str, Any] | None:
        return next((f for f in doc["figures"] if f["name"].startswith(prefix) and key in f["detail"]), None)

    def night(which: str) -> dict[str, Any] | None:
        """The midnight's figure of one night (issue #27: ``cold``, ``steady``); results from before it had one."""
        nights = [
            f for f in doc["figures"] if f["name"].startswith("midnight") and "requests_per_export" in f["detail"]
        ]
        return next((f for f in nights if f["detail"].get("night") == which), nights[0] if nights else None)

    midnights = [f for f in doc["figures"] if f["name"].startswith("midnight")]
    ingest = first("ingest: dayclose run", "bytes_per_row")
    costs = first("cost: ", "us_per_event")
    steady, cold = night("steady"), night("cold")
    missing = [name for name, f in (("ingest", ingest), ("costs", costs), ("midnight", steady)) if f is None]
    if missing or ingest is None or costs is None or steady is None or cold is None:
        raise MissingInputs(f"the results lack {', '.join(missing)}: run make bench (or --only {' '.join(missing)})")
    i, c, m = ingest["detail"], costs["detail"], steady["detail"]
    two = next((f for f in doc["figures"] if f["name"].startswith("ingest ratio: two dayclose run processes")), None)
    scale = {"two_processes_ratio": two["value"]} if two is not None else {}  # measured since issue #27
    return scale | {
        "bytes_per_row": i["bytes_per_row"],
        "wal_bytes_per_event": i["wal_bytes_per_event"],
        "events_per_s_per_process": i["ingest_rate"],
        "decode_us": c["us_per_event"]["decode"],
        "typed_us": c["us_per_event"]["typed"],
        "db_write_us": c["us_per_event"]["db_write"],
        "requests_per_export": m["requests_per_export"],
        "requests_per_export_first_night": cold["detail"]["requests_per_export"],
        "exports_per_s_per_pod": m["exports_per_s"],
        "midnight_processes": m.get("processes", 1),  # the pod's consumer processes (issue #27: 2 since)
        # Measured after the midnight's last night, which is not always the steady night of a pod of two.
        "store_day_bytes": next(
            (f["detail"]["store_day_bytes"] for f in midnights if "store_day_bytes" in f["detail"]), 0.0
        ),
    }


def model(measured: dict[str, float]) -> list[tuple[str, list[str]]]:
    """Rows of the table: (what, one cell per store count)."""
    rows: dict[str, list[str]] = {}

    def put(what: str, value: str) -> None:
        rows.setdefault(what, []).append(value)

    per_pod = measured["events_per_s_per_process"] * POD_UTILISATION
    for stores in STORES:
        events_day = stores * EVENTS_PER_STORE_DAY
        peak = events_day * PEAK_HOUR_SHARE / 3600
        pods = max(1, math.ceil(peak / per_pod))
        kafka_partitions = max(16, 2 ** math.ceil(math.log2(2 * pods)))
        gb_day = (events_day * measured["bytes_per_row"] + stores * measured["store_day_bytes"]) / GB
        put("sales events per day", f"{events_day:,}")
        put("events/s at peak (busiest hour)", f"{peak:,.0f}")
        put("consumer pods at peak (one process each; add one for availability)", f"{pods}")
        put("sales-topic partitions (≥ 2 × consumer processes, ≥ 16)", f"{kafka_partitions}")
        replay_s = events_day / (pods * measured["events_per_s_per_process"])
        put("replay a whole day with those pods", _duration(replay_s))
        if "two_processes_ratio" in measured:
            put(*_with_two_processes(replay_s, measured["two_processes_ratio"]))
        put("stored per day (rows incl. indexes + store-day rows)", f"{gb_day:,.2f} GB")
        put("WAL per day (backup, replication)", f"{events_day * measured['wal_bytes_per_event'] / GB:,.2f} GB")
        put(f"stored over {RETENTION_DAYS} days (DAYCLOSE_SALES_RETENTION_DAYS)", f"{gb_day * RETENTION_DAYS:,.0f} GB")
        put(
            "stored over 8 years (the seven-year trail, if sales rows are its evidence)",
            f"{gb_day * TRAIL_DAYS / 1000:,.1f} TB",
        )
        put(
            f"stored at most, retention + one quarter ({LIVE_DAYS} days: a quarter is dropped whole)",
            f"{gb_day * LIVE_DAYS:,.0f} GB",
        )
        put(
            "PostgreSQL partitions of `sales` by quarter of the business date: live / rows each",
            f"{LIVE_QUARTERS} / {events_day * 91.3 / 1e6:,.0f} M rows",
        )
        requests = stores * measured["requests_per_export"]
        first = stores * measured.get("requests_per_export_first_night", measured["requests_per_export"])
        put(f"BL requests at midnight ({measured['requests_per_export']:.2f} per booked day)", f"{requests:,.0f}")
        put(
            f"… at a first-ever midnight, nothing known of any company "
            f"({measured.get('requests_per_export_first_night', measured['requests_per_export']):.2f} per booked day)",
            f"{first:,.0f}",
        )
        put(
            f"if BL limits our client id ({BL_TOTAL_LIMIT:.0f} req/s in total): booking a midnight takes, with any "
            "number of pods",
            _duration(requests / BL_TOTAL_LIMIT),
        )
        put("… a first-ever midnight", _duration(first / BL_TOTAL_LIMIT))
        exports_per_s, processes = measured["exports_per_s_per_pod"], int(measured.get("midnight_processes", 1))
        put(
            f"if BL limits each company ({BL_COMPANY_LIMIT:.0f} req/s each): booking a midnight with one pod, at the "
            f"{exports_per_s:.0f} exports/s a pod of {processes} consumer process{'es' if processes > 1 else ''} "
            "sustained (a floor: the benchmark's client limit or the node's CPU capped it)",
            _duration(stores / exports_per_s),
        )
        put(
            f"… pods to book it in {BOOKING_WINDOW_S // 60} min",
            f"{math.ceil(stores / (exports_per_s * BOOKING_WINDOW_S))}",
        )
        largest = min(stores, LARGEST_MERCHANT_STORES)
        put(
            f"… the largest merchant ({LARGEST_MERCHANT_STORES:,} stores, one company) books in, whatever the pods",
            _duration(largest * FLOOR_REQUESTS_PER_DAY / BL_COMPANY_LIMIT),
        )
    return list(rows.items())


def _with_two_processes(replay_s: float, ratio: float) -> tuple[str, str]:
    """The replay with two consumer processes in each pod, by the measured ratio of two to one."""
    what = f"… with DAYCLOSE_CONSUMER_PROCESSES=2 in each (2 cores a pod; measured {ratio:.2f} × one process)"
    return what, _duration(replay_s / ratio)


def _duration(seconds: float) -> str:
    return f"{seconds / 60:,.1f} min" if seconds < 3600 else f"{seconds / 3600:,.1f} h"


def markdown(measured: dict[str, float]) -> str:
    head = "| | " + " | ".join(f"{s:,} stores" for s in STORES) + " |"
    lines = [head, "|---|" + "---:|" * len(STORES)]
    lines += [f"| {what} | " + " | ".join(cells) + " |" for what, cells in model(measured)]
    lines += [
        "",
        "Measured inputs: " + ", ".join(f"{k} = {v:,.4g}" for k, v in measured.items()) + ".",
        f"Assumptions: {EVENTS_PER_STORE_DAY} events per store-day, {PEAK_HOUR_SHARE:.0%} of them in the "
        f"busiest hour, pods at {POD_UTILISATION:.0%} of one process's measured rate.",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    path = Path(args[0]) if args else RESULTS / "latest.json"
    try:
        print(markdown(inputs(json.loads(path.read_text()))))
    except MissingInputs as exc:
        print(exc, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
