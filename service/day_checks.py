"""The warnings a day close raises, never blockers: its register's Z numbers (:mod:`mapping.zsequence`) and the
till's cash chain from the register's previous Z-report (:mod:`mapping.cashchain`). Each is sent once, as a
WARNING outcome naming the register's Z-reports, and the chain's result is kept for the day report."""

from __future__ import annotations

import structlog

from mapping.cashchain import CashChainLink, link_checkable
from mapping.zsequence import z_sequence_findings
from service.deps import ExportDeps
from service.messages import Detail, Outcome, OutcomeStatus, Trigger
from service.model import StoredDayClose
from service.ports import ChainEnd, UnitOfWork
from service.reasons import ReasonCode

log = structlog.get_logger("dayclose.export")


def check_z_sequence(uow: UnitOfWork, org: str, close: StoredDayClose) -> None:
    """Once per day close: warn about a gap or a repeat in its register's Z-report numbers (in the caller's unit of
    work, the job's reads of its day close: the caller commits)."""
    dc = close.day_close
    if not uow.day_closes.claim_sequence_check(org, close):
        return
    others = uow.day_closes.z_reports(org, dc.store_id, dc.business_date, register=dc.register_id)
    for finding in z_sequence_findings(dc.business_date, dc.z_report_number, others):
        _warn(uow, org, close, finding.reason, Detail("z_report", _z(close), finding.message))
        log.warning("export.z_report_sequence", organization_id=org, store_id=dc.store_id,
                    register_id=dc.register_id, reason=finding.reason, detail=finding.message)  # fmt: skip


def check_cash_chain(deps: ExportDeps, org: str, close: StoredDayClose) -> None:
    """The links of the register's cash chain into and out of ``close``, each checked once: when both of its
    Z-reports are known and the earlier one is booked (what moved after its close is known then). A break is a
    WARNING outcome; every checked link is kept on its later Z-report, for the day report."""
    with deps.uow() as uow:
        before, here, after = uow.day_closes.chain(org, close)
        for earlier, later in ((before, here), (here, after)):
            if earlier is None or later is None or later.chain_checked:
                continue
            ready, link = _link(uow, org, earlier, later.close)
            if not ready or not uow.day_closes.record_chain(org, later.close, link):
                continue
            if link is not None and not link.holds:
                _warn(uow, org, later.close, ReasonCode.CASH_CHAIN_BREAK, Detail("cash_chain", _z(later.close),
                                                                                link.describe()))  # fmt: skip
                log.warning("export.cash_chain_break", organization_id=org, store_id=later.close.day_close.store_id,
                            register_id=link.register_id, detail=link.describe())  # fmt: skip
        uow.commit()


def _link(uow: UnitOfWork, org: str, earlier: ChainEnd, later: StoredDayClose) -> tuple[bool, CashChainLink | None]:
    """(ready, the link from ``earlier`` to ``later``): not ready while the earlier Z-report of another day is not
    booked (the link is checked when it is); no link when it cannot be checked (numbers not consecutive, no cash
    count, no opening float)."""
    first, last = earlier.close.day_close, later.day_close
    if not link_checkable(first.z_report_number, last.z_report_number, first.cash_reported, last.cash_reported,
                          last.opening_float_reported):  # fmt: skip
        return True, None
    same_day = first.business_date == last.business_date
    if earlier.watermark is None and not same_day:
        return False, None
    moved = 0 if same_day else uow.day_closes.moved_between(org, earlier, later)
    return True, CashChainLink(last.register_id, first.z_report_number, first.business_date, first.counted_cash_ore,
                               first.opening_float_ore, moved, last.z_report_number, last.business_date,
                               last.opening_float_ore)  # fmt: skip


def _z(close: StoredDayClose) -> str:
    dc = close.day_close
    return f"{dc.register_id}/{dc.z_report_number}" if dc.register_id else str(dc.z_report_number)


def _warn(uow: UnitOfWork, org: str, close: StoredDayClose, reason: str, detail: Detail) -> None:
    dc = close.day_close
    uow.outbox.outcome(
        Outcome(
            organization_id=org,
            trigger=Trigger.DAY_CLOSE,
            status=OutcomeStatus.WARNING,
            store_id=dc.store_id,
            business_date=dc.business_date,
            reason_code=reason,
            details=[detail],
        )
    )
