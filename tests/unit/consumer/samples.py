"""One valid wire record per contract, for codec and evolution tests."""

from datetime import date
from typing import Any

from consumer.events import dead_letter_record, outcome_record
from devstack import sampledata
from service.messages import BookedSummary, Detail, Outcome


def sales_records() -> list[dict[str, Any]]:
    day = sampledata.store_day("org", "s1", date(2026, 4, 1), 3)
    return [*day.events(), day.day_closed()]


def samples() -> dict[str, list[dict[str, Any]]]:
    return {
        "sales_event": sales_records(),
        "command": [sampledata.manual_export("org"), sampledata.manual_export("org", "s1", retry=True)],
        "export_outcome": [
            outcome_record(
                Outcome(
                    "org",
                    "DAY_CLOSE",
                    "SUCCEEDED",
                    "s1",
                    date(2026, 4, 1),
                    "e1",
                    voucher=BookedSummary("D", 7, date(2026, 4, 1), 100, 1, False),
                )
            ),
            outcome_record(
                Outcome(
                    "org",
                    "MANUAL",
                    "FAILED",
                    "s1",
                    date(2026, 4, 1),
                    "e2",
                    reason_code="UNMAPPED_ITEMS",
                    details=[Detail("payment_method", "klarna")],
                )
            ),
            outcome_record(Outcome(None, "INGEST", "FAILED", reason_code="POISON_MESSAGE")),
            outcome_record(
                Outcome(
                    "org",
                    "DAY_CLOSE",
                    "WARNING",
                    "s1",
                    date(2026, 4, 1),
                    reason_code="Z_REPORT_GAP",
                    details=[Detail("z_report", "45", "Z-report 45 follows Z-report 42")],
                )
            ),
        ],
        "dead_letter": [
            dead_letter_record(
                topic="t", partition=1, offset=2, key=b"k", value=b"\x00", error_code="UNDECODABLE", error_message="bad"
            )
        ],
    }
