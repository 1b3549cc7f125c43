"""The BL adapter of the :class:`~service.exporter.Exporter` port: book each voucher exactly once.

BL has no idempotency key. Every voucher's text carries its unique reference, and an attempt to
post starts by searching BL for that reference:

- before the first post of a call, unless the caller proves from its durable state that no earlier
  post of this export can have reached BL (``maybe_posted=False``: :mod:`service.attempts` records
  every post attempt before it is made). With that proof the first post is the call's only request;
  without it, a crash after BL committed but before our database did is healed by finding the
  voucher instead of booking it twice;
- before every retry, after an ambiguous failure (timeout or reset after sending, 5xx on the POST)
  or any other, because the voucher may or may not exist. Found → booked; not found → post again.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Collection
from datetime import date
from types import TracebackType

import requests
import structlog
from tenacity import RetryCallState, Retrying, retry_if_exception_type, stop_after_attempt

from exporters.bl import preflight
from exporters.bl.client import BLClient
from exporters.bl.config import BLConfig
from exporters.bl.documents import DocumentAttacher
from exporters.bl.errors import BLHttpError, RetryableFailure, to_export_error
from exporters.bl.facts import CompanyFacts
from exporters.bl.kept import Company, fiscal_years
from exporters.bl.payload import booked_from_entry as _booked
from exporters.bl.payload import journal_entry, reference_pattern
from exporters.bl.transport import BLTransport
from mapping.periods import FiscalYear
from mapping.plan import AccountPlan
from mapping.voucher import Voucher
from service.company_facts import CompanyFactsStore
from service.exporter import (
    AttachedDocument,
    Attachment,
    BookedVoucher,
    ChartNames,
    CompanyDetails,
    ExportError,
    Fence,
    MerchantActionRequired,
    VoucherLocation,
    mask_secret,
)
from service.reasons import ReasonCode

log = structlog.get_logger(__name__)


class _PostFailed(Exception):
    """A transient failure of the POST itself: the next attempt must look up before posting."""

    def __init__(self, failure: RetryableFailure) -> None:
        super().__init__(failure.description)
        self.failure = failure
        self.description = failure.description
        self.retry_after_s = failure.retry_after_s


class BLExporter:
    """Björn Lundén over HTTP. Thread-safe; one instance per process shares session, token and rate limit. Calls
    naming the organization (``org=``) share the pre-flight's facts with every process through ``facts_store``."""

    def __init__(
        self,
        config: BLConfig,
        session: requests.Session | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        facts_store: CompanyFactsStore | None = None,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        self.config = config
        self.transport = BLTransport(config, session=session, sleep=sleep, clock=clock)
        self.client = BLClient(self.transport)
        self.facts = CompanyFacts(
            self.client, config.preflight_ttl_s, wall_clock, config.preflight_max_companies, facts_store
        )
        self.documents = DocumentAttacher(self.client, self.transport, config, sleep)
        self._sleep = sleep

    def __repr__(self) -> str:
        return f"BLExporter({self.config.describe()})"

    def close(self) -> None:
        self.client.close()

    def __enter__(self) -> BLExporter:
        return self

    def __exit__(self, *exc: object | TracebackType | None) -> None:
        self.close()

    # -- the port -----------------------------------------------------------------------

    def verify(self, user_key: str) -> CompanyDetails:
        try:
            details = self.client.details(user_key)
        except BLHttpError as exc:
            if exc.status >= 500 or exc.exception_id in (
                "COMPANY_PUBLIC_KEY_NOT_FOUND",
                "PUBLICKEY_NOT_FOUND",
            ):
                raise MerchantActionRequired(
                    ReasonCode.KEY_UNKNOWN,
                    "key not recognised by BL: check the public key you copied",
                    {"status": exc.status, "user_key": mask_secret(user_key)},
                ) from None
            raise self._port_error(exc, Company.of(user_key)) from None
        except RetryableFailure as exc:
            raise self._port_error(exc, Company.of(user_key)) from None
        return CompanyDetails(name=str(details.get("name") or ""), org_number=str(details.get("orgNumber") or ""))

    def preflight(
        self, voucher: Voucher, user_key: str, plan: AccountPlan | None = None, *, org: str | None = None
    ) -> None:
        company = Company.of(user_key, org)
        self.facts.confirm(company)  # what another process forgot is not used here
        self._preflight(voucher, company, plan)

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
        company = Company.of(user_key, org)
        fy_id = self._preflight(voucher, company)
        document_ids: list[int] = []
        tries = 0
        if maybe_posted:
            self.transport.quiet_before_look("bl.quiet_before_look_up", last_post_s_ago, reference=voucher.reference)

        def attempt() -> BookedVoucher:
            nonlocal tries
            tries += 1
            if maybe_posted or tries > 1:  # every retry looks up: the post before it may have been booked
                existing = self._find_booked(voucher, user_key)
                if existing is not None:
                    return existing
            if attachment is not None and not document_ids:
                document_ids.append(
                    self.client.upload_document(
                        user_key, attachment.filename, attachment.content, attachment.content_type
                    )
                )
            body = journal_entry(voucher, fy_id, document_ids)
            try:
                created = self.client.post_journal(user_key, body, before_send=fence)
            except RetryableFailure as failure:
                raise _PostFailed(failure) from None
            return _booked(created, voucher, already_existed=False, document_ids=document_ids)

        def wait(state: RetryCallState) -> float:
            delay = float(self.transport.backoff(state))
            failed = state.outcome.exception() if state.outcome else None
            if isinstance(failed, _PostFailed) and failed.failure.maybe_committed:
                return max(delay, self.config.ambiguous_quiet_s)
            return delay

        retrying = Retrying(
            stop=stop_after_attempt(self.config.max_retries + 1),
            wait=wait,
            retry=retry_if_exception_type(_PostFailed),
            sleep=self._sleep,
            reraise=True,
            before_sleep=lambda state: log.warning(
                "bl.post_retry",
                reference=voucher.reference,
                attempt=state.attempt_number,
                cause=getattr(state.outcome.exception() if state.outcome else None, "description", "?"),
            ),
        )
        try:
            booked = retrying(attempt)
        except _PostFailed as exc:
            raise self._port_error(exc.failure, company, voucher) from None
        except (BLHttpError, RetryableFailure) as exc:
            raise self._port_error(exc, company, voucher) from None
        log.info(
            "bl.voucher_booked",
            reference=voucher.reference,
            series=booked.series,
            number=booked.number,
            already_existed=booked.already_existed,
            user_key=mask_secret(user_key),
        )
        return booked

    def fiscal_years(self, user_key: str, *, fresh: bool = False) -> list[FiscalYear]:
        company = Company.of(user_key)
        try:
            if fresh:
                return fiscal_years(self.client.financial_years(user_key))
            return self.facts.financial_years(company).value
        except (BLHttpError, RetryableFailure) as exc:
            raise self._port_error(exc, company) from None

    def fiscal_year_for(self, user_key: str, day: date, *, org: str | None = None) -> FiscalYear | None:
        company = Company.of(user_key, org)
        try:
            return self.facts.financial_year(company, day).value
        except (BLHttpError, RetryableFailure) as exc:
            raise self._port_error(exc, company) from None

    def chart_names(
        self, user_key: str, accounts: Collection[str], cost_centres: Collection[str] = (), *, org: str | None = None
    ) -> ChartNames:
        company = Company.of(user_key, org)
        try:
            found = self.facts.accounts(company, accounts).value
            centres = self.facts.cost_centres(company, cost_centres).value if cost_centres else {}
        except (BLHttpError, RetryableFailure) as exc:
            raise self._port_error(exc, company) from None
        return ChartNames(
            {k: v.name for k, v in found.items() if v.name}, {k: v.name for k, v in centres.items() if v.name}
        )

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
        return self.documents.attach(
            user_key,
            voucher,
            attachment,
            maybe_attached=maybe_attached,
            last_attempt_s_ago=last_attempt_s_ago,
            fence=fence,
        )

    # -- helpers ------------------------------------------------------------------------

    def find_booked(self, voucher: Voucher, user_key: str) -> BookedVoucher | None:
        """The voucher BL already holds under this voucher's reference, if any."""
        try:
            return self._find_booked(voucher, user_key)
        except (BLHttpError, RetryableFailure) as exc:
            raise self._port_error(exc, Company.of(user_key), voucher) from None

    def _find_booked(self, voucher: Voucher, user_key: str) -> BookedVoucher | None:
        entries = self.client.search_journal(
            user_key, voucher.reference, voucher.entry_date, voucher.entry_date, voucher.series
        )
        pattern = reference_pattern(voucher.reference)
        matches = [
            e
            for e in entries
            if pattern.search(str(e.get("journalEntryText") or ""))
            and str(e.get("journalId") or voucher.series) == voucher.series
        ]
        if not matches:
            return None
        matches.sort(key=lambda e: int(e.get("journalEntryId") or 0))
        if len(matches) > 1:
            log.error(
                "bl.duplicate_reference",
                reference=voucher.reference,
                numbers=[e.get("journalEntryId") for e in matches],
            )
        return _booked(matches[0], voucher, already_existed=True)

    def _preflight(self, voucher: Voucher, company: Company, plan: AccountPlan | None = None) -> str:
        try:
            return preflight.check(self.facts, voucher, company, plan)  # a refusal forgets what it concerns
        except (BLHttpError, RetryableFailure) as exc:
            raise self._port_error(exc, company, voucher) from None

    def _port_error(
        self, exc: BLHttpError | RetryableFailure, company: Company, voucher: Voucher | None = None
    ) -> ExportError:
        details: dict[str, object] = {"user_key": mask_secret(company.user_key)}
        if voucher is not None:
            details["reference"] = voucher.reference
        error = to_export_error(exc, details)
        if isinstance(error, MerchantActionRequired):
            # The merchant will fix something: what the refusal concerns is asked of BL again, in every process.
            self.facts.forget(company, preflight.concerning([error.reason_code]))
        return error
