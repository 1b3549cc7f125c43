"""The independent checker's arithmetic (#24): what each store-day must book, from what the POS produced, and
which store-day each of BL's vouchers belongs to, from its text alone.

Written from the rules in docs/booking-rules.md and docs/events.md, with no import from the product or devstack
(``tests/unit/chaos/test_checker_is_independent.py`` proves it): only the standard library. Records are the Avro
dicts the POS published (``payload`` a ``(type name, fields)`` pair); plans are the merchants' account plans as
JSON (format 2); vouchers are BL's ``JournalEntry`` JSON as BL's API returns it.

The rules, restated: a payment debits its method's account (a single-purpose card's redemption less the VAT it
holds, rounded half up, which is debited back to that rate's VAT account); a receipt line credits the sales account
of its (product group, VAT rate) with gross − VAT and the rate's VAT account with the VAT; tips credit the tip
liability, rounding its account; a return mirrors a sale. Cash movements move cash against their mapped account
(a tip paid out of the till debits the tip liability). An expired gift card moves its balance from the gift card
liability to income. A store-day's cash difference is its **latest** Z-report's counted − expected cash (a day
closed again carries the whole day so far: only the part not already booked is booked, so the day books the
latest difference in all): a shortage debits the shortage account, an overage credits the overage account.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

RECEIPT = "dayclose.pos.v1.Receipt"
CASH_MOVEMENT = "dayclose.pos.v1.CashMovement"
GIFT_CARD_EXPIRED = "dayclose.pos.v1.GiftCardExpired"
DAY_CLOSED = "dayclose.pos.v1.DayClosed"

StoreDay = tuple[str, str, date]  # (organization, store, business date)


def _account(plan: dict[str, Any], group: str, rate: int) -> str:
    own = plan.get("product_groups", {}).get(group, {})
    return str(own.get(str(rate)) or plan["sales_default_by_rate"][str(rate)])


def _vat_in(amount: int, rate: int) -> int:
    return int((Decimal(amount) * rate / (10000 + rate)).to_integral_value(rounding=ROUND_HALF_UP))


def _receipt(out: Counter[str], p: dict[str, Any], plan: dict[str, Any]) -> None:
    methods, rates, events = plan["payment_methods"], plan["vat_rates"], plan["events"]
    single = plan.get("single_purpose_methods", {})
    sign = 1 if p["kind"] == "SALE" else -1
    for pay in p["payments"]:
        vat = _vat_in(pay["amount_ore"], single[pay["method"]]) if single.get(pay["method"]) else 0
        out[methods[pay["method"]]] += sign * (pay["amount_ore"] - vat)
        if vat:
            out[rates[str(single[pay["method"]])]] += sign * vat
    for line in p["lines"]:
        out[_account(plan, line["product_group"], line["vat_rate_bp"])] -= sign * (line["gross_ore"] - line["vat_ore"])
        if line["vat_rate_bp"]:
            out[rates[str(line["vat_rate_bp"])]] -= sign * line["vat_ore"]
    out[events["TIPS"]] -= sign * p["tip_ore"]
    out[events["ROUNDING"]] -= sign * p["rounding_ore"]


_COUNTER_ACCOUNT = {
    "DEPOSIT": "CASH_DEPOSIT",
    "WITHDRAWAL": "CASH_WITHDRAWAL",
    "FLOAT_CHANGE": "FLOAT_CHANGE",
    "TIP_PAYOUT": "TIPS",
}


def expected_books(records: Iterable[dict[str, Any]], plans: dict[str, dict[str, Any]]) -> dict[StoreDay, Counter[str]]:
    """Net öre per account (debit +, credit −) each store-day must book, by its organization's plan."""
    books: dict[StoreDay, Counter[str]] = defaultdict(Counter)
    latest_close: dict[StoreDay, dict[str, Any]] = {}
    for rec in records:
        name, p = rec["payload"]
        key = (rec["organization_id"], rec["store_id"], rec["business_date"])
        plan = plans[key[0]]
        out = books[key]
        if name == RECEIPT:
            _receipt(out, p, plan)
        elif name == CASH_MOVEMENT:
            into_till = -p["amount_ore"] if p["kind"] in ("WITHDRAWAL", "TIP_PAYOUT") else p["amount_ore"]
            out[plan["payment_methods"]["cash"]] += into_till
            out[plan["events"][_COUNTER_ACCOUNT[p["kind"]]]] -= into_till
        elif name == GIFT_CARD_EXPIRED:
            out[plan["payment_methods"]["gift_card"]] += p["amount_ore"]
            out[plan["events"]["EXPIRED_GIFT_CARD"]] -= p["amount_ore"]
        elif name == DAY_CLOSED:
            seen = latest_close.get(key)
            if seen is None or p["z_report_number"] > seen["z_report_number"]:
                latest_close[key] = p
    for key, close in latest_close.items():
        plan, diff = plans[key[0]], (close["counted_cash_ore"] or 0) - (close["expected_cash_ore"] or 0)
        if diff:
            events = plan["events"]
            side = "CASH_SHORTAGE" if diff < 0 else "CASH_OVERAGE"
            books[key][plan["payment_methods"]["cash"]] += diff
            books[key][str(events.get(side) or events["CASH_DIFFERENCE"])] -= diff
    return {k: Counter({a: v for a, v in c.items() if v}) for k, c in books.items()}


def net(vouchers: Iterable[dict[str, Any]]) -> Counter[str]:
    """Net öre per account over BL vouchers (BL's amounts are SEK with two decimals)."""
    out: Counter[str] = Counter()
    for v in vouchers:
        for row in v["ledgerEntries"]:
            out[str(row["accountId"])] += int(Decimal(str(row["amount"])) * 100)
    return Counter({k: v for k, v in out.items() if v})


def total(counters: Iterable[Counter[str]]) -> Counter[str]:
    """The sum, account by account, keeping negative amounts (``Counter``'s ``+`` drops them)."""
    out: Counter[str] = Counter()
    for c in counters:
        out.update(c)
    return Counter({k: v for k, v in out.items() if v})


def imbalance(voucher: dict[str, Any]) -> Decimal:
    return sum((Decimal(str(r["amount"])) for r in voucher["ledgerEntries"]), Decimal(0))


# --- which store-day a voucher books, from its text (docs/booking-rules.md: "Voucher text") ---------------------

#: The day's voucher texts (the merchant guide's, as BL shows them): "Dagsavslut <store>[ kassa <till>] <date> Z <n>",
#: "Delexport <store> <date>" (a manual export before the close), "Komplettering <store> <date> efter Z <n>" (sales
#: that came after Z n was booked, no new Z-report within the grace period); each ending "ref <reference>".
_DAY = re.compile(
    r"^(?P<kind>Dagsavslut|Delexport|Komplettering) (?P<store>.+?)(?: kassa (?P<till>\S+))? "
    r"(?P<date>\d{4}-\d{2}-\d{2})(?: Z (?P<z>\d+)| efter Z (?P<after>\d+))? ref (?P<ref>\S+)$"
)
_REVERSAL = re.compile(r"^Återföring av (?P<orig>\S+) .*?ref (?P<ref>[^\s:]+)")
_CORRECTION = re.compile(r"^Rättelse av (?P<series>\w+) (?P<number>\d+)\b.*? ref (?P<ref>[^\s:]+)")


@dataclass(frozen=True)
class Booked:
    """One BL voucher, read back: what it is and which store-day it books."""

    org: str
    series: str
    number: int
    year: int
    reference: str
    kind: str  # Dagsavslut | Delexport | Komplettering | Återföring | Rättelse
    store_day: StoreDay | None
    z: int | None
    reverses: str | None  # a reversal's original reference
    voucher: dict[str, Any]


def read_vouchers(org: str, vouchers: list[dict[str, Any]], stores: dict[str, str]) -> tuple[list[Booked], list[str]]:
    """BL's vouchers of one company, in BL's booking order, each with its store-day (``stores``: store name → store
    id). A reversal and a correction name what they replace (booked before them); they book its store-day."""
    read: list[Booked] = []
    problems: list[str] = []
    by_ref: dict[str, Booked] = {}
    by_number: dict[tuple[str, int, int], Booked] = {}
    for v in vouchers:
        text = str(v.get("journalEntryText") or "")
        series, number, year = str(v["journalId"]), int(v["journalEntryId"]), int(v["journalEntryDate"][:4])
        if m := _DAY.match(text):
            store = stores.get(m["store"])
            day = date.fromisoformat(m["date"])
            z = int(m["z"]) if m["z"] else None
            b = Booked(org, series, number, year, m["ref"], m["kind"], (org, store, day) if store else None, z, None, v)
        elif m := _REVERSAL.match(text):
            orig = by_ref.get(m["orig"])
            b = Booked(org, series, number, year, m["ref"], "Återföring", orig and orig.store_day, None, m["orig"], v)
        elif m := _CORRECTION.match(text):
            orig = by_number.get((m["series"], int(m["number"]), year)) or next(
                (o for k, o in by_number.items() if k[:2] == (m["series"], int(m["number"]))), None
            )
            b = Booked(org, series, number, year, m["ref"], "Rättelse", orig and orig.store_day, None, None, v)
        else:
            problems.append(f"{org}: voucher {series} {number} has a text no rule reads: {text!r}")
            continue
        if b.store_day is None:
            problems.append(f"{org}: voucher {series} {number} names no store-day we produced: {text!r}")
        read.append(b)
        by_ref[b.reference] = b
        by_number[(series, number, year)] = b
    return read, problems
