"""Avro records → typed messages: the one place where decoded wire dicts become :mod:`service.messages`.
Everything past this module works with :mod:`mapping.sales` types and the service's messages.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from mapping.errors import InvalidSalesDataError
from mapping.reconcile import ControlTotals
from mapping.sales import (
    GIFT_CARD_METHOD,
    CashMovement,
    DayClose,
    GiftCardExpiry,
    Invoice,
    Payment,
    Receipt,
    ReceiptLine,
)
from service.messages import Command, DayClosed, ManualExportRequested, RetryFailedExports, SalesEnvelope, SalesItem


class InvalidEventError(ValueError):
    """A message that decoded but breaks the contract's rules (dead-lettered as INVALID_EVENT)."""


def _text(value: Any, what: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise InvalidEventError(f"{what} must be a non-empty string")
    return value


def sales_envelope(record: dict[str, Any]) -> SalesEnvelope:
    """Avro ``SalesEvent`` dict → typed envelope. Raises :class:`InvalidEventError` on rule breaks."""
    try:
        org = _text(record["organization_id"], "organization_id")
        store = _text(record["store_id"], "store_id")
        day: date = record["business_date"]
        register = record.get("register_id")
        register = "" if register is None else _text(register, "register_id")
        type_name, payload = record["payload"]
        item = _item(type_name.rsplit(".", 1)[-1], payload, store, day, register)
        return SalesEnvelope(_text(record["event_id"], "event_id"), org, store, day, record["occurred_at"], item)
    except InvalidSalesDataError as exc:
        raise InvalidEventError(str(exc)) from exc


def _item(type_name: str, payload: dict[str, Any], store: str, day: date, register: str) -> SalesItem | DayClosed:
    if type_name == "Receipt":
        receipt = Receipt(
            receipt_id=payload["receipt_id"],
            store_id=store,
            business_date=day,
            kind=payload["kind"].lower(),
            lines=tuple(
                ReceiptLine(
                    product_group=line["product_group"],
                    vat_rate=line["vat_rate_bp"],
                    gross_ore=line["gross_ore"],
                    vat_ore=line["vat_ore"],
                    discount_ore=line["discount_ore"],
                )
                for line in payload["lines"]
            ),
            payments=tuple(Payment(p["method"], p["amount_ore"]) for p in payload["payments"]),
            tip_ore=payload["tip_ore"],
            rounding_ore=payload["rounding_ore"],
            receipt_number=payload.get("receipt_number"),
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
        return CashMovement(
            payload["movement_id"], store, day, payload["kind"].lower(), payload["amount_ore"], register_id=register
        )
    if type_name == "GiftCardExpired":
        return GiftCardExpiry(
            payload["gift_card_id"],
            store,
            day,
            payload["amount_ore"],
            method=payload.get("payment_method") or GIFT_CARD_METHOD,
            vat_rate=payload.get("vat_rate_bp"),
            register_id=register,
        )
    if type_name == "DayClosed":
        expected, counted = payload["expected_cash_ore"], payload["counted_cash_ore"]
        if (expected is None) != (counted is None):
            raise InvalidEventError("day close: expected and counted cash come together or not at all")
        opening_float = payload.get("opening_float_ore")
        control = ControlTotals(
            receipt_count=payload["receipt_count"],
            grand_total_ore=payload["grand_total_ore"],
            vat=tuple((v["vat_rate_bp"], v["gross_ore"], v["vat_ore"]) for v in payload["vat_totals"]),
            payments=tuple((p["method"], p["amount_ore"]) for p in payload["payment_totals"]),
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
    raise InvalidEventError("unknown payload type")


def _invoice(data: dict[str, Any] | None) -> Invoice | None:
    if data is None:
        return None
    return Invoice(data["invoice_number"], data.get("customer_id"), data.get("customer_name"))


def command(record: dict[str, Any]) -> Command:
    type_name, payload = record["payload"]
    kind = RetryFailedExports if type_name.endswith(".RetryFailedExports") else ManualExportRequested
    return kind(
        command_id=_text(record["command_id"], "command_id"),
        organization_id=_text(record["organization_id"], "organization_id"),
        store_id=payload.get("store_id"),
        requested_at=record["requested_at"],
        requested_by=record.get("requested_by"),
    )
