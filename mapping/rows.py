"""What each voucher row is: one row per (account, kind of event), each with its own text.

An auditor reconciles an account against its own statement: 1930 against the bank (Swish takings apart from the
cash taken to the bank), 2421 against the gift-card ledger (cards sold, redeemed and expired apart), 1910 against
the till's count (cash takings, deposits, withdrawals, tips paid out, the cash difference apart). So rows are not
netted per account: each kind of event keeps its own row, and the voucher still balances as a whole.

A kind's text goes to BL (``ledgerEntries[].text``), into SIE (``#TRANS … "text"``) and onto the day report. Sales
and returns of one kind are one row (a refund on a card is card takings returned); :data:`ORDER` sorts the rows of
one account in the order an accountant reads a day: takings, sales, VAT, then the other events.
"""

from __future__ import annotations

from dataclasses import dataclass

from mapping.money import percent

#: Payment method codes as a person names them (day report, row texts). A merchant-defined code is shown as is.
METHOD_NAMES = {
    "cash": "Kontant",
    "card": "Kort",
    "swish": "Swish",
    "gift_card": "Presentkort",
    "invoice": "Faktura",
}


def method_name(code: str) -> str:
    """ "card" → "Kort"; an unknown code is its own name."""
    return METHOD_NAMES.get(code, code)


@dataclass(frozen=True, order=True, slots=True)
class RowKind:
    """A kind of event on one account: ``order`` places it among the account's rows, ``text`` names it."""

    order: int
    text: str


#: Row texts of the payment methods (takings net of refunds).
_PAYMENT_TEXTS = {
    "cash": "Kontantbetalningar",
    "card": "Kortbetalningar",
    "swish": "Swishbetalningar",
    "gift_card": "Presentkort inlösta",
    "invoice": "Fakturabetalningar",
}


def payment(method: str) -> RowKind:
    return RowKind(0, _PAYMENT_TEXTS.get(method, f"Betalningar {method}"))


def single_purpose_redeemed(method: str) -> RowKind:
    return RowKind(1, f"Enfunktionspresentkort inlösta ({method})")


def single_purpose_redeemed_vat(rate: int) -> RowKind:
    return RowKind(2, f"Moms {percent(rate)} % i inlösta enfunktionspresentkort")


def sales(rate: int) -> RowKind:
    return RowKind(3, f"Försäljning {percent(rate)} % moms" if rate else "Försäljning momsfri")


def gift_cards_sold(rate: int, single_purpose: bool) -> RowKind:
    if single_purpose:
        return RowKind(4, f"Enfunktionspresentkort sålda, {percent(rate)} % moms")
    return RowKind(4, "Presentkort sålda")


def output_vat(rate: int) -> RowKind:
    return RowKind(5, f"Utgående moms {percent(rate)} %")


TIPS = RowKind(6, "Dricks betald med kort")
ROUNDING = RowKind(7, "Öresavrundning")
DEPOSIT = RowKind(8, "Insättning i kassan")
WITHDRAWAL = RowKind(9, "Uttag ur kassan")
FLOAT_CHANGE = RowKind(10, "Växelkassa ändrad")
TIP_PAYOUT = RowKind(11, "Dricks utbetald kontant")
EXPIRED = RowKind(12, "Presentkort förfallna")
EXPIRED_SINGLE_PURPOSE = RowKind(13, "Enfunktionspresentkort förfallna")


def expired_single_purpose_sales(rate: int) -> RowKind:
    return RowKind(13, f"Förfallna enfunktionspresentkort, {percent(rate)} %")


SHORTAGE = RowKind(14, "Kassabrist")
OVERAGE = RowKind(15, "Kassaöverskott")
VAT_ROUNDING = RowKind(16, "Momsavrundning enligt Z-rapport")
