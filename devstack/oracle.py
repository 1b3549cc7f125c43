"""An independent oracle: what a day's wire records must book per account, computed straight from the
records with the sample plan (no code from ``mapping/``), readers for what the BL stand-in holds, and the
accountant's per-rate VAT check (each rate's VAT = the rate × the net on that rate's sales accounts).

The rules, restated from docs/booking-rules.md: payments debit their method's account; a line credits the
sales account of its (product group, VAT rate) with gross − VAT and that rate's VAT account with its VAT; a
single-purpose gift card's redemption debits its liability with the payment less the VAT it holds (rounded
half up) and debits that VAT back, and its expiry moves the balance less that VAT from the liability to the
rate's default sales account; tips credit the tip liability, tip payouts debit it; a cash shortage
debits CASH_SHORTAGE, an overage credits CASH_OVERAGE (a v1 plan's CASH_DIFFERENCE takes both), the latest Z-report
of a register's day being the one that counts; a register's cash is on its own account if it has one; a sale paid by
invoice is booked like any other sale (as its own voucher) unless the plan leaves invoices to the invoicing. The
Z_REPORT VAT policy's rounding is not modelled: the sample plan books EXACT.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from devstack.sampledata import CASH_MOVEMENT, DAY_CLOSED, GIFT_CARD_EXPIRED, RECEIPT, SAMPLE_PLAN


def _sales_account(plan: dict[str, Any], group: str, rate: int) -> str:
    own = plan.get("product_groups", {}).get(group, {})
    return str(own.get(str(rate)) or plan["sales_default_by_rate"][str(rate)])


def _event(plan: dict[str, Any], name: str) -> str:
    events = plan["events"]
    return str(events.get(name) or events["CASH_DIFFERENCE"])


def _vat_in(amount: int, rate: int) -> int:
    return int((Decimal(amount) * rate / (10000 + rate)).to_integral_value(rounding=ROUND_HALF_UP))


def _cash(plan: dict[str, Any], rec: dict[str, Any]) -> str:
    """The cash account of the event's register: its own, else the cash method's."""
    own = plan.get("register_cash_accounts", {}).get(rec.get("register_id") or "")
    return str(own or plan["payment_methods"]["cash"])


def _receipt(out: Counter[str], p: dict[str, Any], plan: dict[str, Any], cash: str) -> None:
    methods, rates, events = {**plan["payment_methods"], "cash": cash}, plan["vat_rates"], plan["events"]
    single = plan.get("single_purpose_methods", {})
    sign = 1 if p["kind"] == "SALE" else -1
    for pay in p["payments"]:
        vat = _vat_in(pay["amount_ore"], single[pay["method"]]) if single.get(pay["method"]) else 0
        out[methods[pay["method"]]] += sign * (pay["amount_ore"] - vat)
        if vat:
            out[rates[str(single[pay["method"]])]] += sign * vat
    for line in p["lines"]:
        net = line["gross_ore"] - line["vat_ore"]
        out[_sales_account(plan, line["product_group"], line["vat_rate_bp"])] -= sign * net
        if line["vat_rate_bp"]:
            out[rates[str(line["vat_rate_bp"])]] -= sign * line["vat_ore"]
    out[events["TIPS"]] -= sign * p["tip_ore"]
    out[events["ROUNDING"]] -= sign * p["rounding_ore"]


def expected_totals(records: Iterable[dict[str, Any]], plan: dict[str, Any] = SAMPLE_PLAN) -> Counter[str]:
    """Net öre per account (debit +, credit −) that the records must book. A register's cash is on its own account
    when the plan gives it one; a day closed more than once books the cash difference of its latest Z-report (each
    is cumulative for the register's day)."""
    out: Counter[str] = Counter()
    events = plan["events"]
    latest: dict[tuple[str, str, Any], tuple[int, dict[str, Any]]] = {}
    counter_account = {
        "DEPOSIT": "CASH_DEPOSIT",
        "WITHDRAWAL": "CASH_WITHDRAWAL",
        "FLOAT_CHANGE": "FLOAT_CHANGE",
        "TIP_PAYOUT": "TIPS",
    }
    elsewhere = plan.get("invoice_sales") == "BOOKED_ELSEWHERE"
    for rec in records:
        name, p = rec["payload"]
        cash = _cash(plan, rec)
        if name == RECEIPT:
            if not (elsewhere and p.get("invoice")):  # an invoice the invoicing books is not ours to book
                _receipt(out, p, plan, cash)
        elif name == CASH_MOVEMENT:
            into_till = -p["amount_ore"] if p["kind"] in ("WITHDRAWAL", "TIP_PAYOUT") else p["amount_ore"]
            out[cash] += into_till
            out[events[counter_account[p["kind"]]]] -= into_till
        elif name == GIFT_CARD_EXPIRED:
            # A single-purpose card's VAT was booked when it was sold: only the balance net of it leaves.
            rate = p.get("vat_rate_bp")
            net = p["amount_ore"] - (_vat_in(p["amount_ore"], rate) if rate else 0)
            out[plan["payment_methods"][p.get("payment_method") or "gift_card"]] += net
            out[plan["sales_default_by_rate"][str(rate)] if rate else events["EXPIRED_GIFT_CARD"]] -= net
        elif name == DAY_CLOSED:
            day = (rec["store_id"], rec.get("register_id") or "", rec["business_date"])
            if day not in latest or p["z_report_number"] > latest[day][0]:
                latest[day] = (p["z_report_number"], rec)
    for _, rec in latest.values():
        p = rec["payload"][1]
        diff = (p["counted_cash_ore"] or 0) - (p["expected_cash_ore"] or 0)
        out[_cash(plan, rec)] += diff
        if diff:
            out[_event(plan, "CASH_SHORTAGE" if diff < 0 else "CASH_OVERAGE")] -= diff
    return Counter({k: v for k, v in out.items() if v})


def booked_totals(vouchers: Iterable[dict[str, Any]]) -> Counter[str]:
    """Net öre per account over BL JournalEntry JSON (amounts are SEK decimals)."""
    out: Counter[str] = Counter()
    for v in vouchers:
        for row in v["ledgerEntries"]:
            out[row["accountId"]] += int(Decimal(str(row["amount"])) * 100)
    return Counter({k: v for k, v in out.items() if v})


def assert_balanced(vouchers: Iterable[dict[str, Any]]) -> None:
    for v in vouchers:
        total = sum(Decimal(str(r["amount"])) for r in v["ledgerEntries"])
        if total != 0:  # the demo and the fault suite report this as a failure
            raise AssertionError(f"voucher {v['journalId']}{v['journalEntryId']} does not balance: {total}")


@dataclass(frozen=True)
class RateCheck:
    """One VAT rate of the books: net on its sales accounts, VAT on its VAT account, and how far
    rate × net may be from the VAT when each line's VAT was rounded to whole öre (½ öre × (1 + rate) each)."""

    rate_bp: int
    sales_accounts: tuple[str, ...]
    net_ore: int
    vat_ore: int
    lines: int

    @property
    def rate_times_net(self) -> Decimal:
        return Decimal(self.net_ore) * self.rate_bp / 10000

    @property
    def allowed_ore(self) -> Decimal:
        return Decimal(self.lines) * (10000 + self.rate_bp) / 20000

    @property
    def ok(self) -> bool:
        return abs(self.rate_times_net - self.vat_ore) <= self.allowed_ore


def vat_per_rate(
    vouchers: list[dict[str, Any]], records: Iterable[dict[str, Any]], plan: dict[str, Any] = SAMPLE_PLAN
) -> list[RateCheck]:
    """The per-rate check an accountant runs on the books: for each VAT rate of the plan, the net credited
    to the accounts mapped at that rate (income accounts) against the VAT credited to its VAT account."""
    booked = booked_totals(vouchers)
    lines: Counter[int] = Counter()
    for rec in records:
        name, p = rec["payload"]
        if name == RECEIPT:
            lines.update(line["vat_rate_bp"] for line in p["lines"])
    checks = []
    for rate_key, vat_account in sorted(plan["vat_rates"].items(), key=lambda kv: -int(kv[0])):
        rate = int(rate_key)
        accounts = {
            a
            for a in [
                plan["sales_default_by_rate"].get(rate_key),
                *(g.get(rate_key) for g in plan.get("product_groups", {}).values()),
            ]
            if a and a.startswith("3")
        }
        net = -sum(booked.get(a, 0) for a in accounts)
        checks.append(RateCheck(rate, tuple(sorted(accounts)), net, -booked.get(vat_account, 0), lines[rate]))
    return checks


#: The momsdeklaration's output VAT box of each rate (SKV 4700: ruta 10, 11, 12).
VAT_BOXES = {2500: "10", 1200: "11", 600: "12"}


def vat_boxes(records: Iterable[dict[str, Any]], plan: dict[str, Any] = SAMPLE_PLAN) -> dict[str, int]:
    """Boxes 05, 10, 11 and 12 straight from the receipts (öre): per line at 25, 12 or 6 %, its net into 05 and
    its VAT into its rate's box, returns negative; a single-purpose gift card's payment takes its part back (that
    part was taxed when the card was sold), the VAT in it rounded half up."""
    boxes = {"05": 0, "10": 0, "11": 0, "12": 0}
    single = plan.get("single_purpose_methods", {})
    for rec in records:
        name, p = rec["payload"]
        if name != RECEIPT:
            continue
        sign = 1 if p["kind"] == "SALE" else -1
        for line in p["lines"]:
            if line["vat_rate_bp"] in VAT_BOXES:
                boxes["05"] += sign * (line["gross_ore"] - line["vat_ore"])
                boxes[VAT_BOXES[line["vat_rate_bp"]]] += sign * line["vat_ore"]
        for pay in p["payments"]:
            rate = single.get(pay["method"])
            if rate in VAT_BOXES:
                vat = _vat_in(pay["amount_ore"], rate)
                boxes["05"] -= sign * (pay["amount_ore"] - vat)
                boxes[VAT_BOXES[rate]] -= sign * vat
    return boxes
