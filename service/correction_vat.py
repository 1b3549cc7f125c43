"""A correction that changes the VAT of a period whose return is due or filed: a WARNING outcome.

Called in the transaction that records a correction's new voucher as booked (:func:`service.attempts._booked`),
so the warning is sent exactly when the correction is complete, once. The decision is pure
(:func:`mapping.vatcorrection.filed_vat_change`); this reads what it needs: the correction, what its originals
and the new voucher book per rate, the merchant's VAT reporting and BL's fiscal years (a yearly reporter's
period is the fiscal year).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from uuid import UUID

from mapping.periods import FiscalYear
from mapping.vatamounts import total
from mapping.vatcorrection import FiledVatChange, filed_vat_change
from mapping.vatperiods import DEFAULT_REPORTING
from service.messages import Detail, Outcome, OutcomeStatus, Trigger
from service.model import Export
from service.ports import UnitOfWork
from service.reasons import ReasonCode
from service.vat_report import booked_voucher


def vat_warning(uow: UnitOfWork, export: Export, years: Sequence[FiscalYear], today: date) -> Outcome | None:
    """The WARNING outcome when ``export`` (being recorded as booked) is a correction's new voucher that changes
    the output VAT of a period whose return is due or past due; None otherwise."""
    correction = uow.corrections.booked_anew_by(export)
    if correction is None or correction.entry_date is None:
        return None
    originals = {UUID(str(o["export_id"])) for o in correction.originals}
    bookings = {
        b.export_id: booked_voucher(b)
        for b in uow.vat_reads.bookings_of(export.organization_id, [*originals, export.export_id])
    }
    new = bookings.get(export.export_id)
    if new is None:  # recorded as booked in this same transaction: the read sees it
        return None
    integration = uow.integrations.get(export.organization_id)
    change = filed_vat_change(
        correction.business_date,
        correction.entry_date,
        total(bookings[i].amounts for i in originals if i in bookings),
        new.amounts,
        integration.vat_reporting if integration else DEFAULT_REPORTING,
        years,
        today,
    )
    if change is None:
        return None
    return Outcome(
        organization_id=export.organization_id,
        trigger=Trigger.CORRECTION,
        status=OutcomeStatus.WARNING,
        store_id=export.store_id,
        business_date=correction.business_date,
        export_id=str(export.export_id),
        reason_code=ReasonCode.VAT_RETURN_CHANGED,
        details=details(change),
    )


def details(change: FiledVatChange) -> list[Detail]:
    """The period (with its deadline and state), the change per rate, and where the correction is booked."""
    found = [Detail("vat_period", change.period.label, change.describe_period())]
    found += [Detail("vat_change", str(rate), change.describe_rate(rate)) for rate in sorted(change.by_rate)]
    found.append(Detail("correction_date", change.entry_date.isoformat(), f"booked on {change.entry_date.isoformat()}"))
    return found
