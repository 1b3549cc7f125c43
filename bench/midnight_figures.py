"""The midnight's figures (:mod:`bench.midnight`): per night, the request rate against the client's limit, BL requests
per booked day, the time to book, the pod's CPU per booked day, failures and the books' count; and the peak RSS of
the pod's processes."""

from __future__ import annotations

from typing import Any

from bench.report import Figure

#: Issue #27: BL requests per booked day (a post and an attach, plus the pre-flight's fetches per company), and
#: the time to book at the client's limit that many requests allow (270 s for 10,000 stores at 80/s). The targets
#: apply to the steady state: every midnight after a company's first.
REQUESTS_PER_DAY_TARGET = 2.1
SECONDS_PER_STORE_AT_1_PER_S = 2.16
#: The request rate the pod holds of the client's limit: the comparison night with one process is a reference.
RATE_TARGET = {"cold": 0.95, "steady": 0.95}


def figures(name: str, nights: list[dict[str, Any]], *, with_rss: bool) -> list[Figure]:
    """Every night's figures, then (``with_rss``) the peak RSS of the largest process and of the pod's summed."""
    out: list[Figure] = []
    for r in nights:
        label = f"{name}, {r['words']}"
        night = r["night"]
        steady = night == "steady"
        cpu = {
            k: r[k]
            for k in ("cpu_s", "cpu_s_by_process", "processes", "machine_cpu_ms_per_export", "rig_cpu_ms_per_export")
        }
        out += [
            Figure(f"{label}: BL request rate ÷ client limit", r["rate_share"], "×", RATE_TARGET.get(night), True, r),
            *_booking_figures(label, r, steady),
            Figure(f"{label}: CPU of the pod per booked day", r["cpu_ms_per_export"], "ms", None, False, cpu),
            Figure(f"{label}: failed exports", r["failed_outcomes"], "", 0, False, {}),
            Figure(f"{label}: store-days not booked exactly once", r["not_booked_once"], "", 0, False, {}),
        ]
    if with_rss:
        out += _rss_figures(name, nights)
    return out


def _rss_figures(name: str, nights: list[dict[str, Any]]) -> list[Figure]:
    """Peak RSS of the largest ``dayclose run`` process (the target: one process's memory) and of the pod's
    processes summed (what a pod of several must be given), the higher of the nights."""
    largest = max(max(r["peak_rss_mb_by_process"]) for r in nights)
    pod = max(nights, key=lambda r: r["peak_rss_mb_pod"])
    detail = {r["night"]: r["peak_rss_mb_by_process"] for r in nights}
    return [
        Figure(f"{name}: peak RSS of dayclose run, largest process", largest, "MB", 300, False, detail),
        Figure(
            f"{name}: peak RSS of dayclose run, the pod's processes summed ({pod['processes']})",
            pod["peak_rss_mb_pod"],
            "MB",
            None,
            False,
            detail,
        ),
    ]


def _booking_figures(name: str, r: dict[str, Any], steady: bool) -> list[Figure]:
    """Requests per booked day and the time to book; a target for the steady state, a reference for the first."""
    by_path = {"requests_by_path": r["requests_by_path"], "bl_requests": r["bl_requests"], "stores": r["stores"]}
    at_limit = round(r["stores"] * SECONDS_PER_STORE_AT_1_PER_S / r["client_limit_per_s"], 1)
    return [
        Figure(
            f"{name}: BL requests per booked day",
            r["requests_per_export"],
            "",
            REQUESTS_PER_DAY_TARGET if steady else None,
            False,
            by_path,
        ),
        Figure(
            f"{name}: time to book at the client limit ({r['client_limit_per_s']:g}/s)",
            r["seconds"],
            "s",
            at_limit if steady else None,
            False,
            {},
        ),
    ]
