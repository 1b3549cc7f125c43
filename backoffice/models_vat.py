"""Bodies of the VAT reporting setting and the VAT-period report (amounts in öre, signed as sales: a return
negative; BL's balances signed as BL's, debit positive and credit negative)."""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from mapping.ledger import AccountComparison, VoucherAmount
from mapping.vatamounts import PerRate, RateAmounts
from mapping.vatperiods import VatReporting
from mapping.vatreport import CAUSE_TEXT, RateLine
from service.vat_report import VatPeriodReport

Frequency = Literal["MONTHLY", "QUARTERLY", "YEARLY"]


class VatReportingIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    frequency: Frequency = Field(
        description="How often the merchant files the momsdeklaration (Skatteverket's decision by the taxable "
        "base: at most 1 MSEK yearly, at most 40 MSEK quarterly, above monthly; a shorter period on request)."
    )
    turnover_above_40_msek: bool = Field(
        False, description="Monthly filers only: the taxable base is above 40 MSEK (the return is due earlier)."
    )


class VatReportingOut(BaseModel):
    frequency: Frequency
    turnover_above_40_msek: bool
    is_set: bool = Field(description="False: never set; dayclose assumes MONTHLY (the shortest period).")

    @classmethod
    def of(cls, reporting: VatReporting) -> VatReportingOut:
        return cls(
            frequency=reporting.frequency.value,
            turnover_above_40_msek=reporting.above_40_msek,
            is_set=reporting.is_set,
        )


class Amounts(BaseModel):
    gross_ore: int
    net_ore: int
    vat_ore: int


class RateAmountsOut(Amounts):
    rate_bp: int = Field(description="VAT rate in basis points (2500 = 25 %).")


class VatRateOut(BaseModel):
    rate_bp: int
    z_report: Amounts = Field(description="What the period's Z-reports state at this rate.")
    supplies: Amounts = Field(
        description="The Z-reports less single-purpose gift card redemptions: what the return and the books hold."
    )
    booked: Amounts = Field(description="What dayclose's vouchers dated in the period book at this rate.")
    difference: Amounts = Field(description="Booked − supplies; explained in `causes`.")


class VatBoxes(BaseModel):
    box_05: int = Field(description="Ruta 05: taxable sales (net) at 25, 12 and 6 %, öre.")
    box_10: int = Field(description="Ruta 10: output VAT 25 %, öre.")
    box_11: int = Field(description="Ruta 11: output VAT 12 %, öre.")
    box_12: int = Field(description="Ruta 12: output VAT 6 %, öre.")


class VatVoucherOut(BaseModel):
    reference: str
    series: str
    number: int
    entry_date: date
    store_id: str
    business_date: date
    register_id: str = Field(description="The till whose Z-report the voucher books; empty for a store's only one.")
    kind: Literal["DAY_CLOSE", "PARTIAL", "COMPLEMENT", "REVERSAL", "CORRECTION"]
    amounts: list[RateAmountsOut]
    amounts_known: bool


class VatCauseOut(BaseModel):
    cause: Literal[
        "RECONCILIATION_MISMATCH",
        "EXPORT_NOT_BOOKED",
        "DAY_NOT_BOOKED",
        "NO_Z_REPORT",
        "CORRECTION_DATED_OUTSIDE",
        "CORRECTION_DATED_INTO",
        "AMOUNTS_UNKNOWN",
    ]
    explanation: str
    store_id: str
    business_date: date
    register_id: str = Field(description="The till of the Z-report; empty for a store's only one.")
    z_report_number: int | None
    amounts: list[RateAmountsOut] = Field(description="Booked − supplies per rate, for this cause.")
    vouchers: list[str] = Field(description="References of the vouchers (or exports) involved.")


class VoucherAmountOut(BaseModel):
    voucher: str = Field(description='BL series and number, e.g. "D 12".')
    entry_date: date
    text: str
    amount_ore: int


class AccountOut(BaseModel):
    account: str
    bl_ore: int = Field(description="The account's movement in the period in BL (debit +, credit −).")
    dayclose_ore: int = Field(description="What dayclose's vouchers dated in the period put on it.")
    difference_ore: int
    other_vouchers: list[VoucherAmountOut] = Field(description="BL vouchers that are not dayclose's.")
    missing_in_bl: list[VoucherAmountOut] = Field(description="dayclose vouchers BL does not hold (− amounts).")
    changed_in_bl: list[VoucherAmountOut]


class BLComparisonOut(BaseModel):
    status: Literal["COMPARED", "NOT_CONNECTED", "UNAVAILABLE"]
    detail: str | None
    accounts: list[AccountOut] = Field(description="Output VAT (26xx) and sales (30xx) accounts.")


class VatPeriodOut(BaseModel):
    label: str = Field(description="2026-11, 2026Q4 or 2026.")
    kind: Frequency
    start: date
    end: date


class VatFilingOut(BaseModel):
    deadline: date = Field(description="The return's last day (Skatteverket; a weekend or holiday moves it on).")
    status: Literal["OPEN", "DUE", "PAST_DUE"]


class VatReportOut(BaseModel):
    organization_id: str
    period: VatPeriodOut
    vat_reporting: VatReportingOut
    filing: VatFilingOut | None = Field(description="Set when the period is one the merchant files for.")
    z_reports: int = Field(description="Store-days of the period with a Z-report.")
    rates: list[VatRateOut]
    single_purpose_redemptions: list[RateAmountsOut] = Field(
        description="Single-purpose gift card redemptions of the period: in the Z-reports, not supplies again."
    )
    boxes: VatBoxes = Field(description="Momsdeklaration boxes from the Z-reports less those redemptions.")
    vouchers: list[VatVoucherOut] = Field(description="dayclose's vouchers dated in the period.")
    causes: list[VatCauseOut]
    bl: BLComparisonOut

    @classmethod
    def of(cls, result: VatPeriodReport) -> VatReportOut:
        report = result.report
        filing = result.filing
        return cls(
            organization_id=result.organization_id,
            period=VatPeriodOut(
                label=report.period.label,
                kind=report.period.kind.value,
                start=report.period.start,
                end=report.period.end,
            ),
            vat_reporting=VatReportingOut.of(result.reporting),
            filing=VatFilingOut(deadline=filing.deadline, status=filing.status.value) if filing else None,
            z_reports=report.z_days,
            rates=[_rate(line) for line in report.rates],
            single_purpose_redemptions=per_rate(report.redemptions),
            boxes=VatBoxes(**{f"box_{box}": amount for box, amount in report.boxes.items()}),
            vouchers=[
                VatVoucherOut(
                    reference=v.reference,
                    series=v.series,
                    number=v.number,
                    entry_date=v.entry_date,
                    store_id=v.store_id,
                    register_id=v.register_id,
                    business_date=v.business_date,
                    kind=v.kind.value,
                    amounts=per_rate(v.amounts),
                    amounts_known=v.amounts_known,
                )
                for v in report.vouchers
            ],
            causes=[
                VatCauseOut(
                    cause=c.cause.value,
                    explanation=CAUSE_TEXT[c.cause],
                    store_id=c.store_id,
                    register_id=c.register_id,
                    business_date=c.business_date,
                    z_report_number=c.z_report_number,
                    amounts=per_rate(c.amounts),
                    vouchers=list(c.vouchers),
                )
                for c in report.causes
            ],
            bl=BLComparisonOut(
                status=result.bl.status.value,
                detail=result.bl.detail or None,
                accounts=[_account(a) for a in result.bl.accounts],
            ),
        )


def per_rate(amounts: PerRate) -> list[RateAmountsOut]:
    return [
        RateAmountsOut(rate_bp=rate, gross_ore=a.gross, net_ore=a.net, vat_ore=a.vat)
        for rate, a in sorted(amounts.items())
    ]


def _amounts(a: RateAmounts) -> Amounts:
    return Amounts(gross_ore=a.gross, net_ore=a.net, vat_ore=a.vat)


def _rate(line: RateLine) -> VatRateOut:
    return VatRateOut(
        rate_bp=line.rate,
        z_report=_amounts(line.z_report),
        supplies=_amounts(line.supplies),
        booked=_amounts(line.booked),
        difference=_amounts(line.difference),
    )


def _voucher_amount(v: VoucherAmount) -> VoucherAmountOut:
    return VoucherAmountOut(voucher=v.voucher, entry_date=v.entry_date, text=v.text, amount_ore=v.amount)


def _account(a: AccountComparison) -> AccountOut:
    return AccountOut(
        account=a.account,
        bl_ore=a.bl,
        dayclose_ore=a.dayclose,
        difference_ore=a.difference,
        other_vouchers=[_voucher_amount(v) for v in a.other_vouchers],
        missing_in_bl=[_voucher_amount(v) for v in a.missing_in_bl],
        changed_in_bl=[_voucher_amount(v) for v in a.changed_in_bl],
    )
