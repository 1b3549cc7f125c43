"""Avro records → typed messages: the one place where decoded wire dicts become :mod:`service.messages`.
Everything past this module works with :mod:`mapping.sales` and :mod:`mapping.register_day` types and the
service's messages.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from mapping.errors import InvalidSalesDataError
from mapping.reconcile import ControlTotals
from mapping.register_day import CashMovement, DayClose, GiftCardExpiry
from mapping.sales import GIFT_CARD_METHOD, Invoice, Payment, Receipt, ReceiptLine
from mapping.text import MAX_IDENTIFIER_LENGTH, clean_text, is_identifier
from service.messages import Command, DayClosed, ManualExportRequested, RetryFailedExports, SalesEnvelope, SalesItem


class InvalidEventError(ValueError):
    """A message that decoded but breaks the contract's rules (dead-lettered as INVALID_EVENT)."""


#: A store name longer than this is cut (it is shown in voucher texts and day reports, never used as a key).
MAX_STORE_NAME = 200


def _text(value: Any, what: str) -> str:
    """A display text (a store name), through the text policy: a name with an RTL override or a control character is
    still a name; what the policy leaves must not be empty."""
    cleaned = clean_text(value, MAX_STORE_NAME) if isinstance(value, str) else ""
    if not cleaned:
        raise InvalidEventError(f"{what} must be a non-empty string")
    return cleaned


def _id(value: Any, what: str) -> str:
    """An id (organization, store, event, receipt, movement, gift card, command, payment method, product group,
    printed receipt number): kept exactly as sent, refused when it is not one (:func:`mapping.text.is_identifier`)."""
    if not is_identifier(value):
        raise InvalidEventError(
            f"{what} must be 1-{MAX_IDENTIFIER_LENGTH} characters without control, invisible or leading/trailing "
            "whitespace characters"
        )
    text: str = value
    return text


#: Ids that recur in nearly every event (organization, store, register, product group, payment method), once checked:
#: a set's look-up instead of the check (9 ids an event, 6 of them recurring). Emptied when it holds this many.
_CHECKED_MAX = 10_000
_checked: set[str] = set()


def _recurring_id(value: Any, what: str) -> str:
    if type(value) is str and value in _checked:
        return value
    text = _id(value, what)
    if len(_checked) >= _CHECKED_MAX:
        _checked.clear()
    _checked.add(text)
    return text


def sales_envelope(record: dict[str, Any]) -> SalesEnvelope:
    """Avro ``SalesEvent`` dict → typed envelope. Raises :class:`InvalidEventError` on rule breaks."""
    try:
        org = _recurring_id(record["organization_id"], "organization_id")
        store = _recurring_id(record["store_id"], "store_id")
        day: date = record["business_date"]
        register = record.get("register_id")
        register = "" if register is None else _recurring_id(register, "register_id")
        type_name, payload = record["payload"]
        item = _item(type_name.rsplit(".", 1)[-1], payload, store, day, register)
        return SalesEnvelope(_id(record["event_id"], "event_id"), org, store, day, record["occurred_at"], item)
    except InvalidSalesDataError as exc:
        raise InvalidEventError(str(exc)) from exc


def _item(type_name: str, payload: dict[str, Any], store: str, day: date, register: str) -> SalesItem | DayClosed:
    if type_name == "Receipt":
        receipt = Receipt(
            receipt_id=_id(payload["receipt_id"], "receipt_id"),
            store_id=store,
            business_date=day,
            kind=payload["kind"].lower(),
            lines=tuple(
                [
                    ReceiptLine(  # product_group, vat_rate, gross_ore, vat_ore, discount_ore
                        _recurring_id(line["product_group"], "product_group"),
                        line["vat_rate_bp"],
                        line["gross_ore"],
                        line["vat_ore"],
                        line["discount_ore"],
                    )
                    for line in payload["lines"]
                ]
            ),
            payments=tuple(
                [Payment(_recurring_id(p["method"], "payment method"), p["amount_ore"]) for p in payload["payments"]]
            ),
            tip_ore=payload["tip_ore"],
            rounding_ore=payload["rounding_ore"],
            receipt_number=_receipt_number(payload.get("receipt_number")),
            register_id=register,
            invoice=_invoice(payload.get("invoice")),
        )
        if receipt.residual_ore != 0:
            raise InvalidEventError(
                f"receipt {receipt.receipt_id}: payments differ from lines + tip + rounding by "
                f"{receipt.residual_ore} öre"
            )
        return receipt
    if type_name == "CashMovement":
        movement = _id(payload["movement_id"], "movement_id")
        return CashMovement(movement, store, day, payload["kind"].lower(), payload["amount_ore"], register_id=register)
    if type_name == "GiftCardExpired":
        method = payload.get("payment_method")
        return GiftCardExpiry(
            _id(payload["gift_card_id"], "gift_card_id"),
            store,
            day,
            payload["amount_ore"],
            method=GIFT_CARD_METHOD if method is None else _id(method, "payment_method"),
            vat_rate=payload.get("vat_rate_bp"),
            register_id=register,
        )
    if type_name == "DayClosed":
        return _day_closed(payload, store, day, register)
    raise InvalidEventError("unknown payload type")


def _day_closed(payload: dict[str, Any], store: str, day: date, register: str) -> DayClosed:
    """The Z-report: its cash count (both amounts or neither), control totals and the store's name."""
    expected, counted = payload["expected_cash_ore"], payload["counted_cash_ore"]
    if (expected is None) != (counted is None):
        raise InvalidEventError("day close: expected and counted cash come together or not at all")
    opening_float = payload.get("opening_float_ore")
    control = ControlTotals(
        receipt_count=payload["receipt_count"],
        grand_total_ore=payload["grand_total_ore"],
        vat=tuple((v["vat_rate_bp"], v["gross_ore"], v["vat_ore"]) for v in payload["vat_totals"]),
        payments=tuple((_id(p["method"], "payment method"), p["amount_ore"]) for p in payload["payment_totals"]),
    )
    return DayClosed(
        day_close=DayClose(
            store,
            day,
            payload["z_report_number"],
            counted or 0,
            expected or 0,
            opening_float_ore=opening_float or 0,
            cash_reported=expected is not None,
            gift_card_expired_total_ore=payload.get("gift_card_expired_total_ore"),
            register_id=register,
            opening_float_reported=opening_float is not None,
        ),
        store_name=_text(payload["store_name"], "store_name"),
        control=control,
        closed_at=payload["closed_at"],
    )


def _receipt_number(value: Any) -> str | None:
    return None if value is None else _id(value, "receipt_number")


def _invoice(data: dict[str, Any] | None) -> Invoice | None:
    """The invoice a receipt was paid by: its number is an id, the customer's name a display text."""
    if data is None:
        return None
    customer, name = data.get("customer_id"), data.get("customer_name")
    return Invoice(
        _id(data["invoice_number"], "invoice_number"),
        None if customer is None else _id(customer, "customer_id"),
        None if name is None else clean_text(name, MAX_STORE_NAME) or None,
    )


def command(record: dict[str, Any]) -> Command:
    type_name, payload = record["payload"]
    kind = RetryFailedExports if type_name.endswith(".RetryFailedExports") else ManualExportRequested
    return kind(
        command_id=_id(record["command_id"], "command_id"),
        organization_id=_id(record["organization_id"], "organization_id"),
        store_id=None if payload.get("store_id") is None else _id(payload["store_id"], "store_id"),
        requested_at=record["requested_at"],
        requested_by=record.get("requested_by"),
    )
