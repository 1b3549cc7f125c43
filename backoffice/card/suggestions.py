"""BAS 2026 suggestions the plan steps are pre-filled with, where the merchant has no account yet (bas.se,
"Kontoplan BAS 2026"; docs/booking-rules.md has the rule behind each). A suggestion is only a starting value: the
API checks every account against the company's own chart in BL before anything is saved."""

from __future__ import annotations

#: Payment method → account: cash, card receivables (1686 in BAS 2026; 1580 before), Swish on the business
#: account, gift cards redeemed (the liability 2421), invoices (customer receivables).
PAYMENT_METHODS: dict[str, str] = {
    "cash": "1910",
    "card": "1686",
    "swish": "1930",
    "gift_card": "2421",
    "invoice": "1510",
}
#: VAT rate (basis points) → output VAT account.
VAT_RATES: dict[int, str] = {2500: "2611", 1200: "2621", 600: "2631"}
#: VAT rate (basis points) → sales account of that rate.
SALES_BY_RATE: dict[int, str] = {2500: "3001", 1200: "3002", 600: "3003", 0: "3004"}
#: A multi-purpose gift card sold: no VAT, a liability until redeemed.
GIFT_CARD_LIABILITY = "2421"
#: Other event → account: tips are owed to staff, öre rounding, a shortage is a cost and an overage income (two
#: accounts), cash in and out of the till against the bank, expired gift cards become income without VAT.
EVENTS: dict[str, str] = {
    "TIPS": "2829",
    "ROUNDING": "3740",
    "CASH_SHORTAGE": "6990",
    "CASH_OVERAGE": "3999",
    "CASH_DEPOSIT": "1930",
    "CASH_WITHDRAWAL": "1930",
    "FLOAT_CHANGE": "1930",
    "EXPIRED_GIFT_CARD": "3990",
}
SERIES = "D"

#: Names of common codes, for codes the POS registered without a name.
PAYMENT_METHOD_NAMES: dict[str, tuple[str, str]] = {
    "cash": ("Kontant", "Cash"),
    "card": ("Kort", "Card"),
    "swish": ("Swish", "Swish"),
    "gift_card": ("Presentkort", "Gift card"),
    "invoice": ("Faktura", "Invoice"),
}
EVENT_NAMES: dict[str, tuple[str, str]] = {
    "TIPS": ("Dricks", "Tips"),
    "ROUNDING": ("Öresavrundning", "Öre rounding"),
    "CASH_SHORTAGE": ("Kassabrist", "Cash shortage"),
    "CASH_OVERAGE": ("Kassaöverskott", "Cash overage"),
    "CASH_DEPOSIT": ("Insättning i kassan", "Cash deposited in the till"),
    "CASH_WITHDRAWAL": ("Uttag ur kassan", "Cash taken from the till"),
    "FLOAT_CHANGE": ("Ändrad växelkassa", "Change of the float"),
    "EXPIRED_GIFT_CARD": ("Utgångna presentkort", "Expired gift cards"),
    "CASH_DIFFERENCE": ("Kassadifferens (gammal)", "Cash difference (old)"),
}


def product_group_account(group: str, name: str | None, rate: int) -> str | None:
    """A product group's suggested sales account at a rate: a gift card sold at 0 % is a liability."""
    words = f"{group} {name or ''}".lower()
    if rate == 0 and ("gift" in words or "presentkort" in words):
        return GIFT_CARD_LIABILITY
    return SALES_BY_RATE.get(rate)
