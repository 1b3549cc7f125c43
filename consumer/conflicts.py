"""What a conflicting re-send changed: an event id seen again with other content (see docs/events.md).

Both versions are compared in :func:`storage.codecs.content`'s form. The description names the event
(receipt id, movement id, gift card id, or the day's Z-report number), the fields that differ, and the
amounts of both versions, so an operator can tell a POS's correction from a bug without the raw bytes.
"""

from __future__ import annotations

from typing import Any

from mapping.money import format_sek
from mapping.register_day import CashMovement, GiftCardExpiry
from mapping.sales import Receipt
from service.messages import DayClosed, Detail, SalesEnvelope

#: A Z-report's fields as the POS contract (schemas/sales_event.avsc) names them; the rest already match it.
_DAY_CLOSE_FIELDS = {"vat": "vat_totals", "payments": "payment_totals"}


def differing_fields(kind: str, stored: dict[str, Any], received: dict[str, Any]) -> list[str]:
    """The contract's names of the fields whose values differ, in a stable order."""
    names = _DAY_CLOSE_FIELDS if kind == "day_close" else {}
    return [names.get(n, n) for n in sorted(set(stored) | set(received)) if stored.get(n) != received.get(n)]


def subject(env: SalesEnvelope) -> tuple[str, str]:
    """(kind, id) of the event, as an outcome detail names it."""
    item = env.item
    if isinstance(item, Receipt):
        return "receipt", item.receipt_id
    if isinstance(item, CashMovement):
        return "cash_movement", item.movement_id
    if isinstance(item, GiftCardExpiry):
        return "gift_card_expired", item.expiry_id
    if not isinstance(item, DayClosed):
        raise TypeError(f"no subject for {type(item).__name__}")
    return "day_close", f"{env.store_id}/{env.business_date}/Z{item.day_close.z_report_number}"


def total_ore(data: dict[str, Any]) -> int | None:
    """The amount that sums an event up: a receipt's payments, a movement's or card's amount, a Z-report's
    grand total."""
    if "payments" in data and "lines" in data:
        return sum(int(amount) for _method, amount in data["payments"])
    if "grand_total_ore" in data:
        return int(data["grand_total_ore"])
    if "amount_ore" in data:
        return int(data["amount_ore"])
    return None


def describe(env: SalesEnvelope, stored: dict[str, Any], received: dict[str, Any]) -> Detail:
    kind, ident = subject(env)
    fields = differing_fields(kind, stored, received)
    text = f"{kind.replace('_', ' ')} {ident} was sent again with other content (differs in: {', '.join(fields)}"
    before, after = total_ore(stored), total_ore(received)
    if before is not None and after is not None:
        text += f"; total first {format_sek(before)} SEK, now {format_sek(after)} SEK"
    return Detail(kind, ident, text + "). The first version stands; this one is not booked.")
