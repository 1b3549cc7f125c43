"""An independent oracle: what a day's wire records must book per account, computed straight from the
records with the sample plan (no code from ``mapping/``), and readers for what the BL stand-in holds."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from devstack.sampledata import CASH_MOVEMENT, DAY_CLOSED, GIFT_CARD_EXPIRED, RECEIPT, SAMPLE_PLAN


def expected_totals(records: Iterable[dict[str, Any]], plan: dict[str, Any] = SAMPLE_PLAN) -> Counter[str]:
    """Net öre per account (debit +, credit −) that the records must book."""
    out: Counter[str] = Counter()
    methods, rates, groups, events = (plan["payment_methods"], plan["vat_rates"], plan["product_groups"],
                                      plan["events"])
    for rec in records:
        name, p = rec["payload"]
        if name == RECEIPT:
            sign = 1 if p["kind"] == "SALE" else -1
            for pay in p["payments"]:
                out[methods[pay["method"]]] += sign * pay["amount_ore"]
            for line in p["lines"]:
                out[groups[line["product_group"]]] -= sign * (line["gross_ore"] - line["vat_ore"])
                if line["vat_rate_bp"]:
                    out[rates[str(line["vat_rate_bp"])]] -= sign * line["vat_ore"]
            out[events["TIPS"]] -= sign * p["tip_ore"]
            out[events["ROUNDING"]] -= sign * p["rounding_ore"]
        elif name == CASH_MOVEMENT:
            amount = p["amount_ore"]
            if p["kind"] == "DEPOSIT":
                out[methods["cash"]] += amount
                out[events["CASH_DEPOSIT"]] -= amount
            elif p["kind"] == "WITHDRAWAL":
                out[methods["cash"]] -= amount
                out[events["CASH_WITHDRAWAL"]] += amount
        elif name == GIFT_CARD_EXPIRED:
            out[methods["gift_card"]] += p["amount_ore"]
            out[events["EXPIRED_GIFT_CARD"]] -= p["amount_ore"]
        elif name == DAY_CLOSED:
            diff = (p["counted_cash_ore"] or 0) - (p["expected_cash_ore"] or 0)
            out[methods["cash"]] += diff
            out[events["CASH_DIFFERENCE"]] -= diff
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
        assert total == 0, f"voucher {v['journalId']}{v['journalEntryId']} does not balance: {total}"
