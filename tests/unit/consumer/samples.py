"""One valid wire record per contract, for codec and evolution tests."""

from datetime import date
from typing import Any

from consumer.outcomes import Detail, Outcome, dead_letter_record
from devstack import sampledata


def sales_records() -> list[dict[str, Any]]:
    day = sampledata.store_day("org", "s1", date(2026, 4, 1), 3)
    return [*day.events(), day.day_closed()]


def samples() -> dict[str, list[dict[str, Any]]]:
    return {
        "sales_event": sales_records(),
        "command": [sampledata.manual_export("org"), sampledata.manual_export("org", "s1", retry=True)],
        "export_outcome": [
            Outcome("org", "DAY_CLOSE", "SUCCEEDED", "s1", date(2026, 4, 1), "e1",
                    voucher={"series": "D", "number": 7, "entry_date": date(2026, 4, 1), "total_debit_ore": 100,
                             "receipt_count": 1, "already_existed": False}).to_record(),
            Outcome("org", "MANUAL", "FAILED", "s1", date(2026, 4, 1), "e2", reason_code="UNMAPPED_ITEMS",
                    details=[Detail("payment_method", "klarna")]).to_record(),
            Outcome(None, "INGEST", "FAILED", reason_code="POISON_MESSAGE").to_record(),
            Outcome("org", "DAY_CLOSE", "WARNING", "s1", date(2026, 4, 1), reason_code="Z_REPORT_GAP",
                    details=[Detail("z_report", "45", "Z-report 45 follows Z-report 42")]).to_record(),
        ],
        "dead_letter": [dead_letter_record(topic="t", partition=1, offset=2, key=b"k", value=b"\x00",
                                           error_code="UNDECODABLE", error_message="bad")],
    }
