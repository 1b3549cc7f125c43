"""The VAT-period report, a use case: a period's Z-reports against the vouchers dayclose booked, explained, with
the momsdeklaration's boxes, and BL's own balances of the period compared where BL can be asked.

The money is :mod:`mapping.vatreport` (and :mod:`mapping.ledger` for BL's balances); this reads the facts in one
unit of work, asks BL (through the :class:`Ledger` port, outside any transaction) and puts them together. The API
(``GET …/vat-report``) and the CLI (``dayclose vat-report``) only translate its result.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Protocol

import structlog

from mapping.ledger import AccountComparison, LedgerVoucher, compare
from mapping.vatamounts import booked_per_rate, negated
from mapping.vatperiods import DEFAULT_REPORTING, ReturnStatus, VatPeriod, VatReporting, deadline, return_status
from mapping.vatreport import BookedVoucher, VatReport, build, kind_of
from service.exporter import ExportError
from service.model import StoredBooking
from service.ports import UnitOfWork

log = structlog.get_logger("dayclose.vat_report")


class Ledger(Protocol):
    """BL's journal for a period (:class:`exporters.bl.ledger.BLLedger`)."""

    def vouchers(self, user_key: str, start: date, end: date) -> list[LedgerVoucher]:
        """Every voucher BL holds dated in the range. Raises :class:`service.exporter.ExportError`."""
        ...


class Comparison(StrEnum):
    COMPARED = "COMPARED"
    NOT_CONNECTED = "NOT_CONNECTED"  # no BL key (never set up), or no ledger to ask (the CLI's --no-bl)
    UNAVAILABLE = "UNAVAILABLE"  # BL did not answer or refused: the report stands without the comparison


@dataclass(frozen=True)
class BLComparison:
    status: Comparison
    accounts: tuple[AccountComparison, ...] = ()
    detail: str = ""


@dataclass(frozen=True)
class Filing:
    """The period's VAT return, when the period is one the merchant reports (its kind is their frequency)."""

    deadline: date
    status: ReturnStatus


@dataclass(frozen=True)
class VatPeriodReport:
    organization_id: str
    reporting: VatReporting
    filing: Filing | None
    report: VatReport
    bl: BLComparison


def booked_voucher(stored: StoredBooking) -> BookedVoucher:
    """A booked voucher with what it books per rate: its claim through the VAT rules; a reversal, the negation of
    what it reverses."""
    known = stored.totals is not None
    amounts = booked_per_rate(stored.totals, stored.vat_adjustment) if stored.totals is not None else {}
    return BookedVoucher(
        stored.reference,
        stored.series,
        stored.number,
        stored.entry_date,
        stored.store_id,
        stored.business_date,
        kind_of(stored.trigger, stored.z_report_number, stored.corrects, stored.earlier_booked, stored.reverses),
        negated(amounts) if stored.reverses else amounts,
        known,
        stored.register_id,
    )


def vat_period_report(
    uow: Callable[[], UnitOfWork], ledger: Ledger | None, org: str, period: VatPeriod, today: date
) -> VatPeriodReport:
    with uow() as reading:
        integration = reading.integrations.get(org)
        days = reading.vat_reads.z_days(org, period.start, period.end)
        bookings = reading.vat_reads.bookings(org, period.start, period.end)
        posted = reading.vat_reads.posted(org, period.start, period.end)
    report = build(period, days, [booked_voucher(b) for b in bookings])
    reporting = integration.vat_reporting if integration else DEFAULT_REPORTING
    filing = (
        Filing(deadline(period, reporting), return_status(period, reporting, today))
        if period.kind == reporting.frequency
        else None
    )
    key = integration.user_key if integration else None
    if ledger is None or key is None:
        return VatPeriodReport(org, reporting, filing, report, BLComparison(Comparison.NOT_CONNECTED))
    try:
        in_bl = ledger.vouchers(key.reveal(), period.start, period.end)
    except ExportError as exc:
        log.warning("vat_report.bl_unavailable", organization_id=org, reason_code=str(exc.reason_code))
        return VatPeriodReport(
            org, reporting, filing, report, BLComparison(Comparison.UNAVAILABLE, (), str(exc.reason_code))
        )
    return VatPeriodReport(org, reporting, filing, report, BLComparison(Comparison.COMPARED, compare(in_bl, posted)))
