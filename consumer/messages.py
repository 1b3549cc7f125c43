"""Typed messages: the one place where decoded Avro dicts become frozen dataclasses (and back to JSON
for storage). Everything past this module works with :mod:`mapping.sales` types and the classes here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, TypeVar

from mapping.errors import InvalidSalesDataError
from mapping.reconcile import ControlTotals
from mapping.sales import CashMovement, DayClose, GiftCardExpiry, Payment, Receipt, ReceiptLine

SalesItem = Receipt | CashMovement | GiftCardExpiry
T = TypeVar("T")


class InvalidEventError(ValueError):
    """A message that decoded but breaks the contract's rules (dead-lettered as INVALID_EVENT)."""


@dataclass(frozen=True, slots=True)
class DayClosed:
    day_close: DayClose
    store_name: str
    control: ControlTotals
    closed_at: datetime


@dataclass(frozen=True, slots=True)
class SalesEnvelope:
    event_id: str
    organization_id: str
    store_id: str
    business_date: date
    occurred_at: datetime
    item: SalesItem | DayClosed

    @property
    def kind(self) -> str:
        return _KIND[type(self.item)]

    @property
    def event_key(self) -> str:
        """Idempotency key of the item within its organization (receipt id, movement id, ...)."""
        item = self.item
        if isinstance(item, Receipt):
            return f"receipt:{item.receipt_id}"
        if isinstance(item, CashMovement):
            return f"cash:{item.movement_id}"
        if isinstance(item, GiftCardExpiry):
            return f"giftcard:{item.expiry_id}"
        return f"dayclose:{self.store_id}:{self.business_date}:{item.day_close.z_report_number}"


_KIND: dict[type, str] = {
    Receipt: "receipt",
    CashMovement: "cash_movement",
    GiftCardExpiry: "gift_card_expired",
    DayClosed: "day_closed",
}


@dataclass(frozen=True, slots=True)
class ManualExportRequested:
    command_id: str
    organization_id: str
    store_id: str | None
    requested_at: datetime
    requested_by: str | None


@dataclass(frozen=True, slots=True)
class RetryFailedExports:
    command_id: str
    organization_id: str
    store_id: str | None
    requested_at: datetime
    requested_by: str | None


Command = ManualExportRequested | RetryFailedExports


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
        type_name, payload = record["payload"]
        item = _item(type_name.rsplit(".", 1)[-1], payload, store, day)
        return SalesEnvelope(_text(record["event_id"], "event_id"), org, store, day, record["occurred_at"], item)
    except InvalidSalesDataError as exc:
        raise InvalidEventError(str(exc)) from exc


def _item(type_name: str, payload: dict[str, Any], store: str, day: date) -> SalesItem | DayClosed:
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
        )
        if receipt.residual_ore != 0:
            raise InvalidEventError(
                f"receipt {receipt.receipt_id}: payments differ from lines + tip + rounding by "
                f"{receipt.residual_ore} öre"
            )
        return receipt
    if type_name == "CashMovement":
        return CashMovement(payload["movement_id"], store, day, payload["kind"].lower(), payload["amount_ore"])
    if type_name == "GiftCardExpired":
        return GiftCardExpiry(payload["gift_card_id"], store, day, payload["amount_ore"])
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
            day_close=DayClose(store, day, payload["z_report_number"], counted or 0, expected or 0,
                               opening_float_ore=opening_float or 0, cash_reported=expected is not None,
                               gift_card_expired_total_ore=payload.get("gift_card_expired_total_ore")),
            store_name=_text(payload["store_name"], "store_name"),
            control=control,
            closed_at=payload["closed_at"],
        )
    raise InvalidEventError("unknown payload type")


def command(record: dict[str, Any]) -> Command:
    type_name, payload = record["payload"]
    fields = dict(
        command_id=_text(record["command_id"], "command_id"),
        organization_id=_text(record["organization_id"], "organization_id"),
        store_id=payload.get("store_id"),
        requested_at=record["requested_at"],
        requested_by=record.get("requested_by"),
    )
    if type_name.endswith(".RetryFailedExports"):
        return RetryFailedExports(**fields)  # type: ignore[arg-type]
    return ManualExportRequested(**fields)  # type: ignore[arg-type]


# --- storage form (JSON in sales_events.payload) -------------------------------------------------


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
        }
    if isinstance(item, CashMovement):
        return {"movement_id": item.movement_id, "kind": item.kind, "amount_ore": item.amount_ore}
    return {"expiry_id": item.expiry_id, "amount_ore": item.amount_ore}


def _stored(cls: type[T], *values: Any) -> T:
    """Rebuild a value that was validated when it was ingested, without validating it again: a store-day
    of thousands of receipts is read back at every export, and the checks cost as much as the read."""
    obj = object.__new__(cls)
    for name, value in zip(cls.__dataclass_fields__, values, strict=True):  # type: ignore[attr-defined]
        object.__setattr__(obj, name, value)
    return obj


def item_from_json(kind: str, store_id: str, day: date, data: dict[str, Any]) -> SalesItem:
    if kind == "receipt":
        return _stored(
            Receipt, data["receipt_id"], store_id, day, data["kind"],
            tuple(_stored(ReceiptLine, g, r, gross, vat, disc) for g, r, gross, vat, disc in data["lines"]),
            tuple(_stored(Payment, m, a) for m, a in data["payments"]),
            data["tip_ore"], data["rounding_ore"], None, data.get("receipt_number"),
        )
    if kind == "cash_movement":
        return CashMovement(data["movement_id"], store_id, day, data["kind"], data["amount_ore"])
    if kind == "gift_card_expired":
        return GiftCardExpiry(data["expiry_id"], store_id, day, data["amount_ore"])
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
        "gift_card_expired_total_ore": closed.day_close.gift_card_expired_total_ore,
    }


def day_close_from_json(store_id: str, day: date, z_report_number: int, data: dict[str, Any]) -> DayClose:
    """The stored Z-report's figures. Day closes stored before the drawer was reconciled carry no
    ``cash_reported``: their cash count (0 when the POS sent none) is booked but not reconciled."""
    return DayClose(
        store_id, day, z_report_number, data["counted_cash_ore"], data["expected_cash_ore"],
        opening_float_ore=data.get("opening_float_ore") or 0,
        cash_reported=bool(data.get("cash_reported", False)),
        gift_card_expired_total_ore=data.get("gift_card_expired_total_ore"),
    )


def control_from_json(data: dict[str, Any]) -> ControlTotals:
    return ControlTotals(
        receipt_count=data["receipt_count"],
        grand_total_ore=data["grand_total_ore"],
        vat=tuple((r, g, v) for r, g, v in data["vat"]),
        payments=tuple((m, a) for m, a in data["payments"]),
    )
