"""Errors of the money rules, sorted by what happens next.

Every error carries a machine-readable ``reason`` (a class attribute) that the pipeline puts
in its failure event, so the notification service can show the right banner:

* ``UNMAPPED_ITEMS`` and ``INVALID_PLAN`` are merchant-fixable: keep the batch, retry once the
  account plan is fixed.
* ``RECEIPT_IMBALANCE`` and ``INVALID_SALES_DATA`` are poison input from the POS: no account
  plan can fix them; dead-letter and report.
* ``NOTHING_TO_BOOK`` is not a failure: the batch nets to zero on every account (an empty
  manual export, or a sale returned the same day), so there is no voucher to post.
"""

from __future__ import annotations

from typing import ClassVar, Literal, NamedTuple

from mapping.money import format_sek, percent

MissingKind = Literal["payment_method", "vat_rate", "product_group", "event"]


def product_group_code(group: str, rate_bp: int) -> str:
    """A product group at one VAT rate, as one code: ``"coffee@600"`` (sales are mapped per group and rate)."""
    return f"{group}@{rate_bp}"


def split_product_group_code(code: str) -> tuple[str, int | None]:
    """``"coffee@600"`` → ("coffee", 600); a code without a rate (stored before plans had rates) → (code, None).

    The rate is the part after the *last* ``@`` and is all digits, so group codes may contain ``@``.
    """
    group, sep, rate = code.rpartition("@")
    if sep and group and rate.isdigit():
        return group, int(rate)
    return code, None


class MissingItem(NamedTuple):
    """One thing a batch needs that the account plan does not map, e.g. ("payment_method", "swish").

    A product group is needed at a VAT rate: its code is ``"<group>@<rate bp>"`` (see
    :func:`product_group_code`), e.g. ("product_group", "coffee@600").
    """

    kind: MissingKind
    code: str

    def describe(self) -> str:
        """The item in words, e.g. "product group 'coffee' at 6 % VAT"."""
        if self.kind == "product_group":
            group, rate = split_product_group_code(self.code)
            if group == "*" and rate is not None:  # the rate's default sales account (expired single-purpose cards)
                return f"a default sales account at {percent(rate)} % VAT"
            return f"product group {group!r}" + (f" at {percent(rate)} % VAT" if rate is not None else "")
        if self.kind == "vat_rate":
            return f"VAT rate {percent(int(self.code))} %" if self.code.isdigit() else f"VAT rate {self.code!r}"
        return f"{self.kind.replace('_', ' ')} {self.code!r}"


class PlanProblem(NamedTuple):
    """One problem with an account plan, keyed by the field a form would highlight."""

    field: str
    message: str


class ReceiptResidual(NamedTuple):
    """A receipt whose payments do not equal lines + tip + rounding; residual = payments − that."""

    receipt_id: str
    residual_ore: int


class MappingError(ValueError):
    """Base of every error raised by the money rules."""

    reason: ClassVar[str] = "MAPPING_ERROR"


class UnmappedItemsError(MappingError):
    """The batch uses payment methods, VAT rates, product groups or events the plan does not map.

    Lists *every* missing item at once, so the merchant fixes the plan in one visit.
    """

    reason: ClassVar[str] = "UNMAPPED_ITEMS"

    def __init__(self, missing: tuple[MissingItem, ...]) -> None:
        self.missing = missing
        listed = ", ".join(item.describe() for item in missing)
        super().__init__(f"no account mapped for: {listed}")


class InvalidPlanError(MappingError):
    """The account plan itself is malformed (account numbers, series, cost centres...)."""

    reason: ClassVar[str] = "INVALID_PLAN"

    def __init__(self, problems: tuple[PlanProblem, ...]) -> None:
        self.problems = problems
        listed = "; ".join(f"{p.field}: {p.message}" for p in problems)
        super().__init__(f"invalid account plan: {listed}")


class ReceiptImbalanceError(MappingError):
    """One or more receipts do not add up; never plugged to an account, always reported.

    ``receipts`` lists every offending receipt with its residual in öre.
    """

    reason: ClassVar[str] = "RECEIPT_IMBALANCE"

    def __init__(self, receipts: tuple[ReceiptResidual, ...]) -> None:
        self.receipts = receipts
        listed = ", ".join(f"{r.receipt_id} ({format_sek(r.residual_ore)} SEK)" for r in receipts)
        super().__init__(f"payments differ from lines + tip + rounding on receipts: {listed}")


class InvalidSalesDataError(MappingError):
    """Sales data that breaks the model's rules (signs, VAT, store/date mix-ups, duplicates)."""

    reason: ClassVar[str] = "INVALID_SALES_DATA"

    def __init__(self, problems: tuple[str, ...] | str) -> None:
        self.problems = (problems,) if isinstance(problems, str) else problems
        super().__init__("; ".join(self.problems))


class SinglePurposeRedemptionError(MappingError):
    """A single-purpose gift card (enfunktionsvoucher) paid for more than the receipt sold at its VAT rate.

    Its VAT was booked when it was sold, so redeeming it takes that VAT off the receipt's sales at the
    card's rate; a card of one rate cannot pay for goods of another. Either the payment method is
    flagged with the wrong rate in the plan, or the POS accepted the card for the wrong goods.
    """

    reason: ClassVar[str] = "SINGLE_PURPOSE_REDEMPTION_INVALID"

    def __init__(self, receipts: tuple[ReceiptResidual, ...]) -> None:
        self.receipts = receipts
        listed = ", ".join(f"{r.receipt_id} ({format_sek(r.residual_ore)} SEK too much)" for r in receipts)
        super().__init__(f"single-purpose gift cards pay for more than the goods of their VAT rate on: {listed}")


class NothingToBookError(MappingError):
    """The batch nets to zero on every account, so no voucher can (or needs to) be made."""

    reason: ClassVar[str] = "NOTHING_TO_BOOK"


class VoucherTextError(MappingError):
    """The reference (and fixed text) cannot fit in a voucher text; a programming error upstream."""

    reason: ClassVar[str] = "INVALID_REFERENCE"
