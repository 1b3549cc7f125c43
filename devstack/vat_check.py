"""The VAT-period report checked against an independent computation: `make demo` prints it for the demo's
days, and a test runs the same check. The report comes from the service as the API and the CLI give it
(:func:`service.vat_report.vat_period_report`, with BL's journal through the production client); the expected
boxes from the wire records alone (:func:`devstack.oracle.vat_boxes`)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from psycopg_pool import ConnectionPool

from dayclose.bootstrap import bl_exporter, units_of_work
from dayclose.settings import Settings
from devstack.oracle import vat_boxes
from exporters.bl.exporter import BLExporter
from exporters.bl.ledger import BLLedger
from mapping.money import format_sek
from mapping.vatperiods import VatPeriod
from service.deps import stockholm_today
from service.vat_report import Comparison, VatPeriodReport, vat_period_report

BOX_LABELS = {"05": "taxable sales, net", "10": "output VAT 25 %", "11": "output VAT 12 %", "12": "output VAT 6 %"}


def report(settings: Settings, org: str, period: VatPeriod, exporter: BLExporter | None = None) -> VatPeriodReport:
    """The VAT-period report as the API computes it, BL compared through the production client (``exporter``, or
    one built from ``settings``)."""
    with ConnectionPool(settings.database_url, min_size=1, max_size=1, open=True, name="vat-check") as pool:
        uow = units_of_work(settings, pool, None)
        if exporter is not None:
            return vat_period_report(uow, BLLedger(exporter), org, period, stockholm_today())
        with bl_exporter(settings) as own:
            return vat_period_report(uow, BLLedger(own), org, period, stockholm_today())


def vat_report_problems(
    settings: Settings,
    org: str,
    period: VatPeriod,
    records: Iterable[dict[str, Any]],
    say: Callable[[str], None] = lambda _line: None,
    exporter: BLExporter | None = None,
) -> list[str]:
    """Every way the period's report differs from the receipts, box by box to the öre; the period's Z-reports
    must equal what was booked, with no difference left to explain, and BL's balances must equal dayclose's."""
    result = report(settings, org, period, exporter)
    expected = vat_boxes(records)
    problems = []
    say(f"VAT report {period.label}: momsdeklaration boxes, from the Z-reports vs from the receipts")
    say(f"  {'box':<4}{'':<22}{'report':>14}{'receipts':>14}  ok")
    for box, amount in result.report.boxes.items():
        ok = amount == expected[box]
        mark = "yes" if ok else "NO"
        say(f"  {box:<4}{BOX_LABELS[box]:<22}{format_sek(amount):>14}{format_sek(expected[box]):>14}  {mark}")
        if not ok:
            problems.append(f"box {box}: report {format_sek(amount)}, receipts {format_sek(expected[box])}")
    off = [line for line in result.report.rates if line.difference]
    if off or result.report.causes:
        problems.append(f"booked differs from the Z-reports: {off} {result.report.causes}")
    say(f"  {len(result.report.vouchers)} vouchers dated in the period; booked = Z-reports at every rate: {not off}")
    bl = result.bl
    if bl.status != Comparison.COMPARED:
        problems.append(f"BL balances not compared: {bl.status} {bl.detail}")
    for account in bl.accounts:
        if account.difference:
            problems.append(f"BL's {account.account} differs from dayclose's by {format_sek(account.difference)}")
    say(
        f"  BL balances on {', '.join(a.account for a in bl.accounts)} equal dayclose's vouchers: "
        f"{bl.status == Comparison.COMPARED and not any(a.difference for a in bl.accounts)}"
    )
    return problems
