"""Realistic POS days as wire records (Avro dicts for ``schemas/sales_event.avsc``), seeded and exact.

Used by the demo, the benchmarks and the tests. Every receipt adds up (payments = lines + tip +
rounding) and the day close carries control totals computed from the receipts, unless asked to lie.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from zoneinfo import ZoneInfo

STOCKHOLM = ZoneInfo("Europe/Stockholm")
RECEIPT = "dayclose.pos.v1.Receipt"
CASH_MOVEMENT = "dayclose.pos.v1.CashMovement"
GIFT_CARD_EXPIRED = "dayclose.pos.v1.GiftCardExpired"
DAY_CLOSED = "dayclose.pos.v1.DayClosed"
MANUAL_EXPORT = "dayclose.backoffice.v1.ManualExportRequested"
RETRY_FAILED = "dayclose.backoffice.v1.RetryFailedExports"

# (product group, VAT rate bp, typical price öre)
CATALOGUE = [
    ("coffee", 600, 3900),
    ("coffee", 1200, 4200),
    ("pastry", 600, 3500),
    ("pastry", 1200, 3800),
    ("lunch", 1200, 12900),
    ("merch", 2500, 24900),
    ("books", 600, 19900),
    ("gift_card", 0, 50000),
]
METHODS = ["card", "card", "card", "swish", "cash", "gift_card"]


def vat_of(gross_ore: int, rate_bp: int) -> int:
    """VAT included in a gross amount, rounded half up to whole öre (as a POS prints it)."""
    return int((Decimal(gross_ore) * rate_bp / (10000 + rate_bp)).to_integral_value(rounding=ROUND_HALF_UP))


def cash_round(amount_ore: int) -> int:
    """Swedish cash rounding to whole kronor."""
    return int((Decimal(amount_ore) / 100).to_integral_value(rounding=ROUND_HALF_UP)) * 100


#: The change float in the till when a sample day opens (växelkassa).
OPENING_FLOAT_ORE = 200_000


@dataclass
class StoreDay:
    organization_id: str
    store_id: str
    store_name: str
    business_date: date
    z_report_number: int
    receipts: list[dict[str, Any]] = field(default_factory=list)
    others: list[dict[str, Any]] = field(default_factory=list)
    opening_float_ore: int = OPENING_FLOAT_ORE
    #: The register (till) the day's events are of; None: the store's one register (the field left null).
    register_id: str | None = None

    @property
    def key(self) -> bytes:
        return f"{self.organization_id}/{self.store_id}".encode()

    def envelope(self, type_name: str, payload: dict[str, Any], event_id: str | None = None) -> dict[str, Any]:
        occurred = datetime.combine(self.business_date, time(12, 0), STOCKHOLM).astimezone(UTC)
        return {
            "event_id": event_id or str(uuid.uuid4()),
            "organization_id": self.organization_id,
            "store_id": self.store_id,
            "business_date": self.business_date,
            "occurred_at": occurred,
            "payload": (type_name, payload),
            "register_id": self.register_id,
        }

    def events(self) -> Iterator[dict[str, Any]]:
        """Every receipt and other event of the day, in order (without the day close)."""
        yield from self.receipts
        yield from self.others

    def day_closed(self, *, lie_receipt_count: int = 0, counted_cash_delta_ore: int = 0) -> dict[str, Any]:
        """The Z-report: control totals from the receipts, and the drawer: opening float + cash payments −
        cash refunds + deposits − withdrawals + float changes − tip payouts (what the till should hold)."""
        receipts = [e["payload"][1] for e in self.receipts]
        vat: dict[int, list[int]] = {}
        pay: dict[str, int] = {}
        grand = 0
        cash = self.opening_float_ore
        expired = 0
        for r in receipts:
            sign = 1 if r["kind"] == "SALE" else -1
            for line in r["lines"]:
                v = vat.setdefault(line["vat_rate_bp"], [0, 0])
                v[0] += sign * line["gross_ore"]
                v[1] += sign * line["vat_ore"]
            for p in r["payments"]:
                pay[p["method"]] = pay.get(p["method"], 0) + sign * p["amount_ore"]
                grand += sign * p["amount_ore"]
                if p["method"] == "cash":
                    cash += sign * p["amount_ore"]
        for e in self.others:
            name, payload = e["payload"]
            if name == CASH_MOVEMENT:
                out = payload["kind"] in ("WITHDRAWAL", "TIP_PAYOUT")
                cash += -payload["amount_ore"] if out else payload["amount_ore"]
            elif name == GIFT_CARD_EXPIRED:
                expired += payload["amount_ore"]
        payload = {
            "z_report_number": self.z_report_number,
            "closed_at": datetime.combine(self.business_date + timedelta(days=1), time(0, 5), STOCKHOLM).astimezone(
                UTC
            ),
            "store_name": self.store_name,
            "receipt_count": len(receipts) + lie_receipt_count,
            "grand_total_ore": grand,
            "vat_totals": [{"vat_rate_bp": k, "gross_ore": g, "vat_ore": v} for k, (g, v) in sorted(vat.items())],
            "payment_totals": [{"method": m, "amount_ore": a} for m, a in sorted(pay.items())],
            "expected_cash_ore": cash,
            "counted_cash_ore": cash + counted_cash_delta_ore,
            "opening_float_ore": self.opening_float_ore,
            "gift_card_expired_total_ore": expired,
        }
        return self.envelope(DAY_CLOSED, payload, event_id=f"dayclose-{self.store_id}-{self.business_date}")


def receipt_payload(
    receipt_id: str,
    lines: list[tuple[str, int, int]],
    method: str,
    *,
    kind: str = "SALE",
    tip_ore: int = 0,
    discount_ore: int = 0,
    invoice: tuple[str, str] | None = None,
) -> dict[str, Any]:
    """A receipt paid with one method. ``lines`` are (product group, VAT bp, gross öre after discount); ``invoice``
    (invoice number, customer name) makes it a sale paid by invoice."""
    wire_lines = [
        {
            "product_group": g,
            "vat_rate_bp": r,
            "gross_ore": gross,
            "vat_ore": vat_of(gross, r),
            "discount_ore": discount_ore if i == 0 else 0,
            "quantity_milli": 1000,
            "description": None,
        }
        for i, (g, r, gross) in enumerate(lines)
    ]
    total = sum(gross for _, _, gross in lines) + tip_ore
    paid = cash_round(total) if method == "cash" else total
    return {
        "receipt_id": receipt_id,
        "receipt_number": receipt_id.rsplit("-", 1)[-1],
        "kind": kind,
        "lines": wire_lines,
        "payments": [{"method": method, "amount_ore": paid}],
        "tip_ore": tip_ore,
        "rounding_ore": paid - total,
        "invoice": None
        if invoice is None
        else {"invoice_number": invoice[0], "customer_id": None, "customer_name": invoice[1]},
    }


def store_day(
    organization_id: str,
    store_id: str,
    business_date: date,
    receipts: int,
    *,
    seed: int = 1,
    store_name: str | None = None,
    z_report_number: int = 1,
    with_extras: bool = True,
    register_id: str | None = None,
) -> StoreDay:
    """A day of ``receipts`` receipts: mixed VAT rates and methods (coffee and pastry both at 6 % to go and
    12 % eaten in), card tips, cash rounding, a discount, a return, a gift card sold; plus (``with_extras``) a
    cash deposit, a withdrawal, card tips paid out of the till and an expired gift card."""
    rng = random.Random(f"{seed}/{organization_id}/{store_id}/{business_date}")
    # Ids are unique per organization: a register's events carry it (the store's one register: as they always were).
    till = f"{store_id}-{register_id}-" if register_id else f"{store_id}-"
    day = StoreDay(
        organization_id, store_id, store_name or f"Butik {store_id}", business_date, z_report_number,
        register_id=register_id,
    )  # fmt: skip
    for n in range(receipts):
        rid = f"{till}{business_date:%Y%m%d}-{n:06d}"
        lines = []
        for _ in range(rng.randint(1, 4)):
            group, rate, price = rng.choice(CATALOGUE[:-1])
            lines.append((group, rate, price + rng.randint(-5, 5) * 100 + rng.choice([0, 0, 50, 95])))
        method = rng.choice(METHODS)
        tip = rng.choice([0, 0, 0, 500, 1000]) if method == "card" else 0
        kind = "RETURN" if n % 97 == 96 else "SALE"
        if n % 151 == 150:
            lines = [("gift_card", 0, 50000)]
            method = "card"
            tip = 0
        discount = 1000 if n % 13 == 5 else 0
        day.receipts.append(
            day.envelope(
                RECEIPT,
                receipt_payload(
                    rid, lines, method, kind=kind, tip_ore=0 if kind == "RETURN" else tip, discount_ore=discount
                ),
                event_id=f"evt-{rid}",
            )
        )
    if with_extras:
        _extras(day, till, business_date)
    return day


def _extras(day: StoreDay, till: str, business_date: date) -> None:
    """A cash deposit, a withdrawal, card tips paid out of the till and an expired gift card."""
    day.others.append(
        day.envelope(
            CASH_MOVEMENT,
            {
                "movement_id": f"{till}{business_date}-dep",
                "kind": "DEPOSIT",
                "amount_ore": 100000,
                "note": None,
            },
        )
    )
    day.others.append(
        day.envelope(
            CASH_MOVEMENT,
            {
                "movement_id": f"{till}{business_date}-wd",
                "kind": "WITHDRAWAL",
                "amount_ore": 50000,
                "note": None,
            },
        )
    )
    day.others.append(
        day.envelope(
            CASH_MOVEMENT,
            {
                "movement_id": f"{till}{business_date}-tips",
                "kind": "TIP_PAYOUT",
                "amount_ore": 15000,
                "note": None,
            },
        )
    )
    day.others.append(
        day.envelope(GIFT_CARD_EXPIRED, {"gift_card_id": f"{till}{business_date}-gc", "amount_ore": 25000})
    )


def manual_export(
    organization_id: str, store_id: str | None = None, command_id: str | None = None, retry: bool = False
) -> dict[str, Any]:
    return {
        "command_id": command_id or str(uuid.uuid4()),
        "organization_id": organization_id,
        "requested_at": datetime.now(UTC),
        "requested_by": "demo-user",
        "payload": (RETRY_FAILED if retry else MANUAL_EXPORT, {"store_id": store_id}),
    }


#: An account plan covering everything :func:`store_day` produces: BAS 2026 accounts. Sales per VAT rate go to
#: the rate's BAS sales account (3001/3002/3003/3004 = 25/12/6 %/exempt) unless a product group has its own;
#: gift cards (multi-purpose) are sold at 0 % to the liability 2421. Tips are owed to staff (2829), a cash
#: shortage is a cost (6990), an overage income (3999), expired gift cards income without VAT (3990).
SAMPLE_PLAN: dict[str, Any] = {
    "series": "D",
    "payment_methods": {"cash": "1910", "card": "1686", "swish": "1930", "gift_card": "2421", "invoice": "1510"},
    "vat_rates": {"2500": "2611", "1200": "2621", "600": "2631"},
    "sales_default_by_rate": {"2500": "3001", "1200": "3002", "600": "3003", "0": "3004"},
    "product_groups": {"gift_card": {"0": "2421"}},
    "events": {
        "TIPS": "2829",
        "ROUNDING": "3740",
        "CASH_SHORTAGE": "6990",
        "CASH_OVERAGE": "3999",
        "CASH_DEPOSIT": "1930",
        "CASH_WITHDRAWAL": "1930",
        "FLOAT_CHANGE": "1930",
        "EXPIRED_GIFT_CARD": "3990",
    },
    "store_cost_centres": {},
}
