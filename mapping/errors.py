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

from mapping.money import format_sek

MissingKind = Literal["payment_method", "vat_rate", "product_group", "event"]


class MissingItem(NamedTuple):
    """One thing a batch needs that the account plan does not map, e.g. ("payment_method", "swish")."""

    kind: MissingKind
    code: str


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
        listed = ", ".join(f"{item.kind} {item.code!r}" for item in missing)
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


class NothingToBookError(MappingError):
    """The batch nets to zero on every account, so no voucher can (or needs to) be made."""

    reason: ClassVar[str] = "NOTHING_TO_BOOK"


class VoucherTextError(MappingError):
    """The reference (and fixed text) cannot fit in a voucher text; a programming error upstream."""

    reason: ClassVar[str] = "INVALID_REFERENCE"
