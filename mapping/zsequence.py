"""Z-report numbers run in sequence per register (store): a gap or a repeat is worth a warning.

Each Z-report (dagrapport) is the verifikation of a day's cash sales (BFNAR 2013:2 p. 6.7), so a
missing number may be a missing verifikation. A warning, never a blocker: the day is booked as usual.

Neighbours are found by **business date**, not by arrival: the Z-report just before this one is the
highest number of an earlier business date (or of the same date with a lower number: a day reopened
and closed again is normal). So a Z-report that arrives late fits between its neighbours and raises
nothing, and later days compare with it, not with whatever arrived last.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

GAP = "Z_REPORT_GAP"
REPEATED = "Z_REPORT_REPEATED"


@dataclass(frozen=True, slots=True)
class ZFinding:
    """One thing wrong with a Z-report's number: ``reason`` is GAP or REPEATED."""

    reason: str
    z_report_number: int
    message: str


def z_sequence_findings(
    business_date: date, z_report_number: int, others: Iterable[tuple[date, int]]
) -> tuple[ZFinding, ...]:
    """Findings for the Z-report (``business_date``, ``z_report_number``) given the store's other Z-reports."""
    this = (business_date, z_report_number)
    known = [(d, z) for d, z in others if (d, z) != this]
    repeats = sorted(d for d, z in known if z == z_report_number and d != business_date)
    if repeats:
        days = ", ".join(d.isoformat() for d in repeats)
        return (
            ZFinding(
                REPEATED,
                z_report_number,
                f"Z-report {z_report_number} of {business_date.isoformat()} has the number of the Z-report of {days}",
            ),
        )
    earlier = [(d, z) for d, z in known if (d, z) < this]
    if not earlier:
        return ()
    before_day, before = max(earlier)
    if z_report_number == before + 1:
        return ()
    if z_report_number > before + 1:
        missing = str(before + 1) if z_report_number == before + 2 else f"{before + 1}–{z_report_number - 1}"
        text = (
            f"Z-report {z_report_number} of {business_date.isoformat()} follows Z-report {before} of "
            f"{before_day.isoformat()}: number {missing} missing"
        )
    else:
        text = (
            f"Z-report {z_report_number} of {business_date.isoformat()} is not higher than Z-report "
            f"{before} of {before_day.isoformat()}"
        )
    return (ZFinding(GAP, z_report_number, text),)
