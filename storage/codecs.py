"""The stored forms: sales items, Z-reports, vouchers and account plans as the JSON PostgreSQL keeps
(``sales.payload``, ``day_closes.payload``, ``exports.voucher``, ``account_plans.plan``), and back.
"""

from __future__ import annotations

import json
from copy import copy
from datetime import date
from typing import Any, TypeVar

import msgspec
from msgspec.structs import force_setattr

from mapping.plan import PLAN_FORMAT, AccountPlan, InvoiceSales, VatPolicy
from mapping.reconcile import ControlTotals
from mapping.register_day import CashMovement, DayClose, GiftCardExpiry
from mapping.sales import GIFT_CARD_METHOD, Invoice, Payment, Receipt, ReceiptLine
from mapping.voucher import Voucher, VoucherRow
from service.messages import DayClosed, SalesEnvelope, SalesItem

S = TypeVar("S", bound=msgspec.Struct)
#: The row JSON writer (C): a receipt's lines and payments are array-like Structs, written as the lists stored.
_ENCODER = msgspec.json.Encoder()


def item_to_json(item: SalesItem) -> dict[str, Any]:
    if isinstance(item, Receipt):
        return {
            "receipt_id": item.receipt_id,
            "kind": item.kind,
            "lines": [[ln.product_group, ln.vat_rate, ln.gross_ore, ln.vat_ore, ln.discount_ore] for ln in item.lines],
            "payments": [[p.method, p.amount_ore] for p in item.payments],
            "tip_ore": item.tip_ore,
            "rounding_ore": item.rounding_ore,
            "receipt_number": item.receipt_number,
            # Only for an invoice sale, so a receipt stored before invoices existed has the same content (issue #21).
            **({"invoice": invoice_to_json(item.invoice)} if item.invoice else {}),
        }
    if isinstance(item, CashMovement):
        return {"movement_id": item.movement_id, "kind": item.kind, "amount_ore": item.amount_ore}
    stored: dict[str, Any] = {"expiry_id": item.expiry_id, "amount_ore": item.amount_ore}
    # Written only when not the default, so an expiry stored before they existed has the same content (issue #21).
    if item.method != GIFT_CARD_METHOD:
        stored["method"] = item.method
    if item.vat_rate is not None:
        stored["vat_rate"] = item.vat_rate
    return stored


def item_row_json(item: SalesItem) -> str:
    """The stored row's JSON (``sales.payload``): :func:`item_to_json`'s value, written by msgspec. A receipt is
    written straight from its Structs (no lists built in Python); the others are rare and take the dict."""
    if isinstance(item, Receipt):
        row: dict[str, Any] = {
            "receipt_id": item.receipt_id,
            "kind": item.kind,
            "lines": item.lines,
            "payments": item.payments,
            "tip_ore": item.tip_ore,
            "rounding_ore": item.rounding_ore,
            "receipt_number": item.receipt_number,
        }
        if item.invoice:
            row["invoice"] = item.invoice
        return _ENCODER.encode(row).decode()
    return _ENCODER.encode(item_to_json(item)).decode()


def invoice_to_json(invoice: Invoice) -> dict[str, Any]:
    return {"number": invoice.number, "customer_id": invoice.customer_id, "customer_name": invoice.customer_name}


def invoice_from_json(data: dict[str, Any] | None) -> Invoice | None:
    return None if data is None else Invoice(data["number"], data.get("customer_id"), data.get("customer_name"))


#: A valid value of each receipt type, copied by :func:`_stored` (a Struct is only made through its checks or a copy).
_PROTOTYPES: dict[type[Any], Any] = {
    ReceiptLine: ReceiptLine("-", 0, 0, 0),
    Payment: Payment("-", 0),
    Receipt: Receipt("-", "-", date(2000, 1, 1), "sale", (), ()),
}


def _stored(cls: type[S], *values: Any) -> S:
    """Rebuild a value that was validated when it was ingested, without validating it again: a store-day
    of thousands of receipts is read back at every export, and rules added since must not refuse what was stored."""
    obj: S = copy(_PROTOTYPES[cls])
    for name, value in zip(cls.__struct_fields__, values, strict=True):
        force_setattr(obj, name, value)
    return obj


def item_from_json(kind: str, store_id: str, day: date, data: dict[str, Any], register_id: str = "") -> SalesItem:
    """A stored sales row's item (its store, date and register are the row's columns)."""
    if kind == "receipt":
        return _stored(
            Receipt,
            data["receipt_id"],
            store_id,
            day,
            data["kind"],
            tuple(_stored(ReceiptLine, g, r, gross, vat, disc) for g, r, gross, vat, disc in data["lines"]),
            tuple(_stored(Payment, m, a) for m, a in data["payments"]),
            data["tip_ore"],
            data["rounding_ore"],
            None,
            data.get("receipt_number"),
            register_id,
            invoice_from_json(data.get("invoice")),
        )
    if kind == "cash_movement":
        return CashMovement(data["movement_id"], store_id, day, data["kind"], data["amount_ore"], register_id)
    if kind == "gift_card_expired":
        return GiftCardExpiry(
            data["expiry_id"],
            store_id,
            day,
            data["amount_ore"],
            method=data.get("method", GIFT_CARD_METHOD),
            vat_rate=data.get("vat_rate"),
            register_id=register_id,
        )
    raise ValueError(f"unknown stored kind {kind!r}")


def control_to_json(closed: DayClosed) -> dict[str, Any]:
    c = closed.control
    return {
        "store_name": closed.store_name,
        "receipt_count": c.receipt_count,
        "grand_total_ore": c.grand_total_ore,
        "vat": [list(v) for v in c.vat],
        "payments": [list(p) for p in c.payments],
        "counted_cash_ore": closed.day_close.counted_cash_ore,
        "expected_cash_ore": closed.day_close.expected_cash_ore,
        "cash_reported": closed.day_close.cash_reported,
        "opening_float_ore": closed.day_close.opening_float_ore,
        "opening_float_reported": closed.day_close.opening_float_reported,
        "gift_card_expired_total_ore": closed.day_close.gift_card_expired_total_ore,
    }


def day_close_from_json(
    store_id: str, day: date, z_report_number: int, data: dict[str, Any], register_id: str = ""
) -> DayClose:
    """The stored Z-report's figures. Day closes stored before the drawer was reconciled carry no
    ``cash_reported``: their cash count (0 when the POS sent none) is booked but not reconciled. Those stored
    before the cash chain (issue #21) say whether the opening float was given only by a non-zero one."""
    opening = data.get("opening_float_ore") or 0
    return DayClose(
        store_id,
        day,
        z_report_number,
        data["counted_cash_ore"],
        data["expected_cash_ore"],
        opening_float_ore=opening,
        cash_reported=bool(data.get("cash_reported", False)),
        gift_card_expired_total_ore=data.get("gift_card_expired_total_ore"),
        register_id=register_id,
        opening_float_reported=bool(data.get("opening_float_reported", opening != 0)),
    )


def control_from_json(data: dict[str, Any]) -> ControlTotals:
    return ControlTotals(
        receipt_count=data["receipt_count"],
        grand_total_ore=data["grand_total_ore"],
        vat=tuple((r, g, v) for r, g, v in data["vat"]),
        payments=tuple((m, a) for m, a in data["payments"]),
    )


#: Stored fields that label an event without changing what it books (the printed receipt number).
LABELS = ("receipt_number",)


def content(env: SalesEnvelope) -> dict[str, Any]:
    """What an event books, as JSON would carry it: two events with one id are the same event when this is
    equal. The store's name, the Z-report's closing time and the receipt number are labels, not content."""
    if isinstance(env.item, DayClosed):
        data = control_to_json(env.item)
        data.pop("store_name", None)
        data.pop("opening_float_reported", None)  # a null float and a 0 one book the same
    else:
        data = {k: v for k, v in item_to_json(env.item).items() if k not in LABELS}
    where: dict[str, Any] = {"store_id": env.store_id, "business_date": env.business_date.isoformat()}
    if env.register_id:  # the register is content: it decides whose Z-report and whose cash the event is
        where["register_id"] = env.register_id
    normalized: dict[str, Any] = json.loads(json.dumps({**where, **data}))
    return normalized  # as stored and read back: lists, not tuples


def voucher_to_json(voucher: Voucher, receipt_count: int | None = None) -> dict[str, Any]:
    """The stored form of a voucher (exports.voucher), enough to rebuild it exactly."""
    return {
        "receipt_count": receipt_count,
        "series": voucher.series,
        "entry_date": voucher.entry_date.isoformat(),
        "text": voucher.text,
        "reference": voucher.reference,
        "rows": [[r.account, r.amount_ore, r.cost_centre, r.text] for r in voucher.rows],
        "sales_rates": [[account, rate] for account, rate in voucher.sales_rates],
    }


def voucher_from_json(data: dict[str, Any]) -> Voucher:
    return Voucher(
        series=data["series"],
        entry_date=date.fromisoformat(data["entry_date"]),
        text=data["text"],
        reference=data["reference"],
        # Rows stored before they had texts (issue #21) are [account, amount, cost centre].
        rows=tuple(VoucherRow(*row) for row in data["rows"]),
        sales_rates=tuple((account, int(rate)) for account, rate in data.get("sales_rates") or ()),
    )


def plan_to_json(plan: AccountPlan) -> dict[str, Any]:
    """The stored form (format version 2). Saving a plan writes no ``review`` list: the merchant has seen it."""
    return {
        "version": PLAN_FORMAT,
        "series": plan.series,
        "payment_methods": dict(plan.payment_methods),
        "vat_rates": {str(rate): account for rate, account in plan.vat_rates.items()},
        "sales_default_by_rate": {str(rate): account for rate, account in plan.sales_default_by_rate.items()},
        "product_groups": {
            group: {str(rate): account for rate, account in rates.items()}
            for group, rates in plan.product_groups.items()
        },
        "events": dict(plan.events),
        "single_purpose_groups": sorted(plan.single_purpose_groups),
        "single_purpose_methods": dict(plan.single_purpose_methods),
        "vat_policy": plan.vat_policy,
        "store_cost_centres": dict(plan.store_cost_centres),
        "cost_centre_on_balance_accounts": plan.cost_centre_on_balance_accounts,
        "register_cash_accounts": dict(plan.register_cash_accounts),
        "invoice_sales": plan.invoice_sales,
    }


def _rates(entries: dict[str, Any]) -> dict[int, str]:
    return {int(rate): account for rate, account in entries.items()}


def _group_rates(accounts: Any, vat_rates: dict[int, str]) -> Any:
    """A group's accounts per rate. A v1 group (one account) can only come from a service version still
    running during an upgrade (migration 0006 converted the stored ones): an income account keeps v1's
    meaning, its account at every rate the plan has a VAT account for and at 0 %; any other account (a
    gift card liability) at 0 %."""
    if isinstance(accounts, str):
        rates = sorted({*vat_rates, 0}) if accounts.startswith("3") else [0]
        return {rate: accounts for rate in rates}
    return _rates(accounts) if isinstance(accounts, dict) else accounts


def plan_from_json(organization_id: str, data: dict[str, Any]) -> AccountPlan:
    vat_rates = _rates(data.get("vat_rates", {}))
    return AccountPlan(
        organization_id=organization_id,
        series=data.get("series", ""),
        payment_methods=data.get("payment_methods", {}),
        vat_rates=vat_rates,
        product_groups={
            group: _group_rates(accounts, vat_rates) for group, accounts in data.get("product_groups", {}).items()
        },
        sales_default_by_rate=_rates(data.get("sales_default_by_rate", {})),
        events=data.get("events", {}),
        store_cost_centres=data.get("store_cost_centres", {}),
        cost_centre_on_balance_accounts=bool(data.get("cost_centre_on_balance_accounts", False)),
        single_purpose_groups=frozenset(data.get("single_purpose_groups", ())),
        single_purpose_methods={m: int(rate) for m, rate in data.get("single_purpose_methods", {}).items()},
        vat_policy=data.get("vat_policy", VatPolicy.EXACT.value),
        register_cash_accounts=data.get("register_cash_accounts", {}),
        invoice_sales=data.get("invoice_sales", InvoiceSales.OWN_VOUCHER.value),
    )
