"""The money rules: POS sales + an account plan → balanced vouchers. Pure: no I/O of any kind."""

from mapping.aggregate import build_voucher
from mapping.errors import (
    InvalidPlanError,
    InvalidSalesDataError,
    MappingError,
    MissingItem,
    NothingToBookError,
    PlanProblem,
    ReceiptImbalanceError,
    ReceiptResidual,
    SinglePurposeRedemptionError,
    UnmappedItemsError,
    VoucherTextError,
)
from mapping.plan import AccountPlan, Event, VatPolicy
from mapping.reversal import reverse
from mapping.sales import (
    CashMovement,
    DayClose,
    GiftCardExpiry,
    Payment,
    Receipt,
    ReceiptLine,
    SalesBatch,
)
from mapping.voucher import InvalidVoucherError, UnbalancedVoucherError, Voucher, VoucherRow

__all__ = [
    "AccountPlan",
    "CashMovement",
    "DayClose",
    "Event",
    "GiftCardExpiry",
    "InvalidPlanError",
    "InvalidSalesDataError",
    "InvalidVoucherError",
    "MappingError",
    "MissingItem",
    "NothingToBookError",
    "Payment",
    "PlanProblem",
    "Receipt",
    "ReceiptImbalanceError",
    "ReceiptLine",
    "ReceiptResidual",
    "SinglePurposeRedemptionError",
    "SalesBatch",
    "UnbalancedVoucherError",
    "UnmappedItemsError",
    "Voucher",
    "VoucherRow",
    "VatPolicy",
    "VoucherTextError",
    "build_voucher",
    "reverse",
]
