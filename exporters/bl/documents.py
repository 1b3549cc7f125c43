"""Attach the day report to a booked voucher in BL, exactly once.

Attaching is a second step after booking (the report names the voucher's BL number, known only once
it is booked). ``POST /document/attachto/JOURNAL/{entityId}`` creates the document and attaches it in
one call, so no unattached document is left behind in the merchant's archive; the voucher's
``entityId`` comes with BL's answer to the post (``JournalEntryResponseDto``) or the look-up that found
it, and is kept with the export.

BL has no idempotency key for documents either. When the caller proves from its durable state that no
attach request for this voucher was made before (``maybe_attached=False``: :mod:`service.documents`
records each attempt before it is made) and knows the ``entityId``, the attach is the only request.
Otherwise — and before every retry inside a call — the attempt looks first:

1. ``GET /journal/entry/{series}/{number}/{date}``: the voucher's ``entityId`` and ``documentIds``;
2. if it has documents, ``GET /document``: is one of them ours (its name carries the export's
   reference)? Found → done, nothing is uploaded;
3. else ``POST /document/attachto/JOURNAL/{entityId}``.

A lost answer to the attach (timeout, reset, 5xx) may or may not have attached the document: the retry
starts again at step 1 after the same quiet period as an ambiguous voucher post. A crash anywhere
leaves the export's document ``pending`` in our database, and the next attempt, on record as not the
first, does the same.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import structlog
from tenacity import RetryCallState, Retrying, retry_if_exception_type, stop_after_attempt

from exporters.bl.client import BLClient
from exporters.bl.config import BLConfig
from exporters.bl.errors import BLHttpError, RetryableFailure, to_export_error
from exporters.bl.transport import BLTransport
from service.exporter import (
    AttachedDocument,
    Attachment,
    DocumentRefused,
    ExportError,
    Fence,
    VoucherLocation,
    mask_secret,
)
from service.reasons import ReasonCode

log = structlog.get_logger(__name__)
ENTITY_TYPE = "JOURNAL"


class _AttachFailed(Exception):
    def __init__(self, failure: RetryableFailure) -> None:
        super().__init__(failure.description)
        self.failure = failure
        self.description = failure.description


class DocumentAttacher:
    def __init__(
        self, client: BLClient, transport: BLTransport, config: BLConfig, sleep: Callable[[float], None]
    ) -> None:
        self.client = client
        self.transport = transport
        self.config = config
        self._sleep = sleep

    def attach(
        self,
        user_key: str,
        voucher: VoucherLocation,
        attachment: Attachment,
        *,
        maybe_attached: bool = True,
        last_attempt_s_ago: float | None = None,
        fence: Fence | None = None,
    ) -> AttachedDocument:
        tries = 0
        if maybe_attached:  # an earlier attempt began this long ago: a request of it BL may still be committing
            self.transport.quiet_before_look("bl.quiet_before_read_back", last_attempt_s_ago, number=voucher.number)

        def attempt() -> AttachedDocument:
            nonlocal tries
            tries += 1
            entity_id = voucher.entity_id
            if entity_id is None or maybe_attached or tries > 1:  # every retry reads back: ours may be on it
                entry = self.client.get_journal_entry(user_key, voucher.series, voucher.number, voucher.entry_date)
                found = self._already_attached(user_key, entry, voucher.reference)
                if found is not None:
                    return found
                entity_id = int(entry["entityId"])
            try:
                dto = self.client.attach_new_document(
                    user_key, ENTITY_TYPE, entity_id, attachment.filename, attachment.content, before_send=fence
                )
            except RetryableFailure as failure:
                raise _AttachFailed(failure) from None
            return AttachedDocument(int(dto["id"]), attachment.filename, already_attached=False)

        try:
            attached = self._retrying()(attempt)
        except _AttachFailed as exc:
            raise self._port_error(exc.failure, user_key) from None
        except (BLHttpError, RetryableFailure) as exc:
            raise self._port_error(exc, user_key) from None
        log.info(
            "bl.document_attached",
            series=voucher.series,
            number=voucher.number,
            document_id=attached.document_id,
            already_attached=attached.already_attached,
            read_back=maybe_attached or voucher.entity_id is None or tries > 1,
            user_key=mask_secret(user_key),
        )
        return attached

    def _retrying(self) -> Retrying:
        """Retries of an attach that failed for now; after a lost answer (it may have attached), not before the
        quiet period, as an ambiguous voucher post."""

        def wait(state: RetryCallState) -> float:
            failed = state.outcome.exception() if state.outcome else None
            delay = float(self.transport.backoff(state))
            if isinstance(failed, _AttachFailed) and failed.failure.maybe_committed:
                return max(delay, self.config.ambiguous_quiet_s)
            return delay

        return Retrying(
            stop=stop_after_attempt(self.config.max_retries + 1),
            wait=wait,
            retry=retry_if_exception_type(_AttachFailed),
            sleep=self._sleep,
            reraise=True,
        )

    def _already_attached(self, user_key: str, entry: dict[str, Any], reference: str) -> AttachedDocument | None:
        ids = {int(d) for d in entry.get("documentIds") or []}
        if not ids:
            return None  # the common case: one GET, then the upload
        ours = _token(reference)
        for document in self.client.documents(user_key):
            doc_id = document.get("id")
            doc_name = str(document.get("name") or document.get("reference") or "")
            if doc_id is not None and int(doc_id) in ids and ours.search(doc_name):
                return AttachedDocument(int(doc_id), doc_name, already_attached=True)
        return None

    def _port_error(self, exc: BLHttpError | RetryableFailure, user_key: str) -> ExportError:
        details: dict[str, object] = {"user_key": mask_secret(user_key), "operation": "attach document"}
        if isinstance(exc, BLHttpError) and 400 <= exc.status < 500 and exc.status not in (401, 403, 404, 429):
            details.update(status=exc.status, bl_exception_id=exc.exception_id or "", bl_message=exc.bl_message)
            return DocumentRefused(
                ReasonCode.DOCUMENT_ATTACH_FAILED, f"BL refused the document: {exc.bl_message or exc.status}", details
            )
        return to_export_error(exc, details)


def _token(reference: str) -> re.Pattern[str]:
    """Our documents are named ``…_<reference>.pdf``: the reference as a whole token (``_`` and ``.`` may
    surround it; another letter, digit or ``-`` may not, so ``DC-1`` never matches ``DC-10``)."""
    return re.compile(r"(?<![A-Za-z0-9-])" + re.escape(reference) + r"(?![A-Za-z0-9-])")
