"""The exporter port: what the service needs from an accounting system, and how it fails.

The BL client (:mod:`exporters.bl`) is its adapter; tests use fakes.

Errors are sorted by what the caller does next, not by where they came from:

- :class:`MerchantActionRequired` — the merchant must fix something in BL (closed year,
  locked period, missing account, key not activated…). Emit a failure event with the
  ``reason_code`` for the banner, keep the batch, retry once fixed.
- :class:`TransientExportError` — BL is slow, down or throttling us. Retry later with
  backoff; never skip the batch.
- :class:`OperatorError` — our own configuration is wrong (e.g. bad client credentials).
  Alert the operator; the merchant can do nothing about it.
- :class:`ExporterBug` — we sent something BL could not accept for reasons that are ours.
  An export cannot be dead-lettered like a Kafka message: it is kept (failed) and retried on the
  store's next export, operators are alerted (error log, ``dayclose_exports_total{outcome="failed"}``),
  and the merchant is told that nothing is needed of them (:mod:`service.reasons`).
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from datetime import date
from typing import Protocol, runtime_checkable

from mapping.periods import FiscalYear
from mapping.plan import AccountPlan
from mapping.voucher import Voucher
from service.reasons import ReasonCode


class ExportError(Exception):
    """Base of every exporter failure. ``message`` is safe to show and log (no secrets)."""

    def __init__(self, reason_code: ReasonCode, message: str, details: dict[str, object] | None = None):
        super().__init__(f"{reason_code}: {message}")
        self.reason_code = reason_code
        self.message = message
        self.details: dict[str, object] = dict(details or {})


class MerchantActionRequired(ExportError):
    """The merchant must change something in BL; keep the batch and retry once fixed."""


class TransientExportError(ExportError):
    """BL unreachable, throttling or failing; retry later. ``retry_after_s`` is a hint, if BL gave one."""

    def __init__(
        self,
        message: str,
        details: dict[str, object] | None = None,
        retry_after_s: float | None = None,
        reason_code: ReasonCode = ReasonCode.BL_UNAVAILABLE,
    ):
        super().__init__(reason_code, message, details)
        self.retry_after_s = retry_after_s


class OperatorError(ExportError):
    """Our configuration is wrong (credentials, base URL); alert the operator, not the merchant."""


class ExporterBug(ExportError):
    """BL rejected what we sent for a reason that is ours to fix: kept (failed) and alerted on."""


class DocumentRefused(ExportError):
    """BL refused the document itself (4xx on the upload): the voucher stays booked, the document
    is reported as not attached and not retried."""


@dataclass(frozen=True, slots=True)
class BookedVoucher:
    """Where a voucher ended up in the books.

    ``already_existed`` is True when the voucher was found by its reference instead of being
    created by a POST this call saw succeed (a re-export after a crash, or a lookup after an
    ambiguous failure). Either way it is booked exactly once. ``entity_id`` is BL's id of the
    voucher as an entity (what a document is attached to), when BL's answer gave it.
    """

    series: str
    number: int
    entry_date: date
    reference: str
    already_existed: bool
    document_id: int | None = None
    entity_id: int | None = None


@dataclass(frozen=True, slots=True)
class CompanyDetails:
    name: str
    org_number: str


@dataclass(frozen=True, slots=True)
class Attachment:
    """A document to attach to the voucher (e.g. the Z-report summary as PDF or text)."""

    filename: str
    content: bytes = field(repr=False)
    content_type: str = "application/pdf"


@dataclass(frozen=True, slots=True)
class VoucherLocation:
    """Where a booked voucher is in BL: series, number and date identify it within its fiscal year;
    ``reference`` is our export's, which the names of our documents on it carry; ``entity_id`` is BL's
    id of the voucher as an entity, when we kept it from the booking."""

    series: str
    number: int
    entry_date: date
    reference: str
    entity_id: int | None = None


@dataclass(frozen=True, slots=True)
class AttachedDocument:
    """A document attached to a voucher. ``already_attached``: found there by its name (which carries
    the export's reference), not uploaded by this call."""

    document_id: int
    name: str
    already_attached: bool


@dataclass(frozen=True, slots=True)
class ChartNames:
    """Account number → name and cost centre id → name, as the merchant's BL chart has them."""

    accounts: dict[str, str] = field(default_factory=dict)
    cost_centres: dict[str, str] = field(default_factory=dict)


class LeaseLost(Exception):  # noqa: N818 - a state, like Python's own TimeoutError
    """Raised by a :data:`Fence`: this worker no longer holds what it was writing for (another took its job over
    while its database connections were gone, or the lease lapsed and was taken). Nothing more is sent; the
    exporter raises it as it is. Its message says at which step (logged as ``job.lease_lost``'s ``step``)."""


#: Called right before each request that writes to the books (a voucher's post, a document's attach), once nothing
#: but the send is left: raises :class:`LeaseLost` when the caller may no longer write, and may raise the
#: storage's own error when it cannot tell. Either way the request is not sent.
Fence = Callable[[], None]


@runtime_checkable
class Exporter(Protocol):
    """Books vouchers in a merchant's accounting system, exactly once per voucher reference."""

    def verify(self, user_key: str) -> CompanyDetails:
        """Check a merchant's key and return whose books it opens."""
        ...

    def preflight(
        self, voucher: Voucher, user_key: str, plan: AccountPlan | None = None, *, org: str | None = None
    ) -> None:
        """Raise :class:`MerchantActionRequired` if the voucher cannot be booked as things stand. With the
        merchant's ``plan``, what the check learns of the chart covers the company's next vouchers too. ``org``
        (the organization booking) lets what is learnt be kept for every process (:mod:`service.company_facts`);
        every method taking it does the same."""
        ...

    def export(
        self,
        voucher: Voucher,
        user_key: str,
        attachment: Attachment | None = None,
        *,
        maybe_posted: bool = True,
        last_post_s_ago: float | None = None,
        org: str | None = None,
        fence: Fence | None = None,
    ) -> BookedVoucher:
        """Book the voucher unless a voucher with its reference already exists; return where it is.

        ``maybe_posted=False`` is the caller's durable proof that no earlier post of this voucher's reference
        can have reached BL (:mod:`service.attempts`): the first post then goes without the look-up; every
        retry after it looks up first, as every post does by default. ``last_post_s_ago``: how long ago an earlier
        attempt may last have sent a post (None: not known to be recent); the first look-up waits until that is
        the exporter's quiet period, as a retry after a lost answer does, so a post BL is still committing is
        found, not posted again. ``fence`` runs right before every post (after the rate limits' wait)."""
        ...

    def fiscal_years(self, user_key: str, *, fresh: bool = False) -> list[FiscalYear]:
        """The company's fiscal years with their open/locked state (``fresh``: not from a cache)."""
        ...

    def fiscal_year_for(self, user_key: str, day: date, *, org: str | None = None) -> FiscalYear | None:
        """The fiscal year covering ``day`` (from what the pre-flight keeps when it just asked)."""
        ...

    def chart_names(
        self, user_key: str, accounts: Collection[str], cost_centres: Collection[str] = (), *, org: str | None = None
    ) -> ChartNames:
        """Names of these accounts and cost centres in the company's chart, for reports and the audit record."""
        ...

    def attach_document(
        self,
        user_key: str,
        voucher: VoucherLocation,
        attachment: Attachment,
        *,
        maybe_attached: bool = True,
        last_attempt_s_ago: float | None = None,
        fence: Fence | None = None,
    ) -> AttachedDocument:
        """Attach ``attachment`` to the booked voucher exactly once: a document already attached
        under the same name is found, not uploaded again. ``maybe_attached=False`` (with the voucher's
        ``entity_id``) is the caller's durable proof that no earlier attach request for it was made: it
        is attached without reading the voucher back. ``last_attempt_s_ago``: how long ago an earlier attempt
        began (None: none known); the read-back waits until that is the exporter's quiet period, so an attach
        BL is still committing is found, not made twice. ``fence`` runs right before every attach request.
        Raises :class:`DocumentRefused` when BL refuses
        the document, :class:`TransientExportError` when it cannot tell right now."""
        ...


@dataclass(frozen=True)
class Chart:
    """The company's chart as the API checks a plan against it: account number → closed?, cost centre id →
    closed?, account number → BL's VAT code ("" when none; see :mod:`mapping.vatcodes`), account number → its
    name in BL (what the wizard shows next to a number)."""

    accounts: dict[str, bool]
    cost_centres: dict[str, bool]
    vat_codes: dict[str, str] = field(default_factory=dict)
    names: dict[str, str] = field(default_factory=dict)


class BLDirectory(Protocol):
    """What the API asks BL: whose books a key opens, the company's chart (to validate a plan), and its fiscal
    years with their locked periods (whether a correction may still be dated in its original period)."""

    def verify(self, user_key: str) -> CompanyDetails: ...

    def chart(self, user_key: str) -> Chart: ...

    def fiscal_years(self, user_key: str) -> list[FiscalYear]: ...


def mask_secret(value: str | None) -> str:
    """``"abcd…wxyz"`` for long secrets, ``"…"`` for short ones: enough to tell keys apart in logs."""
    if not value:
        return "∅"
    if len(value) < 12:
        return "…"
    return f"{value[:4]}…{value[-4:]}"
