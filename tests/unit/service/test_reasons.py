"""One reason-code registry: every code the service can emit has its texts and says what happens next; the
outcome events, the API's banner and missing days, and the export decisions all read it."""

from __future__ import annotations

import re
import uuid
from datetime import date
from pathlib import Path

import pytest

from backoffice.models_exports import MissingDay
from backoffice.status import banner, explain
from consumer.events import outcome_record
from exporters.bl.errors import EXCEPTION_REASONS, BLHttpError, RetryableFailure, to_export_error
from mapping import errors as mapping_errors
from mapping.errors import MappingError, NothingToBookError
from mapping.periods import NoOpenPeriodError
from mapping.zsequence import GAP, REPEATED
from service.exporter import ExporterBug, ExportError, MerchantActionRequired, OperatorError, TransientExportError
from service.lifecycle import Result, failure_of
from service.messages import Outcome, OutcomeStatus, Trigger
from service.model import Export, ExportStatus, Integration, IntegrationStatus
from service.reasons import FALLBACK, REASONS, Next, ReasonCode, reason
from service.secrets import Secret

ROOT = Path(__file__).resolve().parents[3]
#: Where a code is written as a literal: ``reason_code="X"``, SQL ``reason_code = 'X'``, ``ReasonCode.X``.
_LITERALS = re.compile(r"""reason_code\s*=\s*['"]([A-Z][A-Z_]+)['"]|ReasonCode\.([A-Z][A-Z_]+)\b""")
_SOURCES = ("service", "storage", "consumer", "exporters", "backoffice", "dayclose")


def _mapping_errors() -> list[type[MappingError]]:
    found: list[type[MappingError]] = []
    pending: list[type[MappingError]] = [MappingError]
    while pending:
        cls = pending.pop()
        found.append(cls)
        pending.extend(cls.__subclasses__())
    return found


def emittable() -> set[str]:
    """Every code the service can put in an event, an export row, a dead letter or a missing day."""
    codes = {cls.reason for cls in _mapping_errors()} | {NoOpenPeriodError.reason, GAP, REPEATED}
    codes |= {str(code) for code in ReasonCode}
    codes |= {str(code) for _, code, _ in EXCEPTION_REASONS.values()}
    codes |= {str(to_export_error(BLHttpError(status, None, "op")).reason_code) for status in (400, 401, 403, 405, 500)}
    codes.add(str(to_export_error(RetryableFailure("timeout")).reason_code))
    for package in _SOURCES:
        for path in (ROOT / package).rglob("*.py"):
            for plain, enum_member in _LITERALS.findall(path.read_text(encoding="utf-8")):
                codes.add(plain or enum_member)
    return codes


def test_the_scan_finds_codes_from_every_source() -> None:
    codes = emittable()
    assert {
        "UNMAPPED_ITEMS",
        "INVALID_SALES_DATA",
        "BL_REJECTED",
        "RECONCILIATION_MISMATCH",
        "NOTHING_TO_BOOK",
        "REVERSED",
        "POISON_MESSAGE",
        "UNDECODABLE",
        "DOCUMENT_ATTACH_FAILED",
        "Z_REPORT_GAP",
    } <= codes


@pytest.mark.parametrize("code", sorted(emittable()))
def test_every_emittable_code_has_its_own_texts_and_what_happens_next(code: str) -> None:
    assert code in REASONS, f"{code} can be emitted but is not in service.reasons.REASONS"
    r = reason(code)
    assert r is not FALLBACK
    assert all(text.strip() for text in (r.title_sv, r.message_sv, r.title_en, r.message_en))
    assert isinstance(r.next, Next)


def test_an_unknown_code_is_logged_and_falls_back_never_crashes() -> None:
    assert reason("NO_SUCH_CODE") is FALLBACK


@pytest.mark.parametrize("code", [c for c in ReasonCode if REASONS[c].next is not Next.NONE])
def test_the_outcome_event_and_the_banner_say_the_same_as_the_registry(code: ReasonCode) -> None:
    r = REASONS[code]
    failure = outcome_record(Outcome("org", Trigger.DAY_CLOSE, OutcomeStatus.FAILED, reason_code=code))["failure"]
    assert (
        failure["title_sv"],
        failure["message_sv"],
        failure["title_en"],
        failure["message_en"],
        failure["severity"],
        failure["merchant_action_required"],
        failure["will_retry"],
    ) == (
        r.title_sv,
        r.message_sv,
        r.title_en,
        r.message_en,
        r.severity.value,
        r.merchant_action_required,
        r.will_retry,
    )
    day = MissingDay(
        store_id="s1",
        store_name=None,
        business_date=date(2026, 5, 4),
        z_report_number=1,
        reason_code=code.value,
        explanation=explain(code),
        details=[],
        export_ids=[],
    )
    active = Integration("org", IntegrationStatus.ACTIVE, date(2026, 5, 1), Secret("k"))
    shown = banner(active, [day])
    if r.next in (Next.KEEP_AND_NOTIFY, Next.RETRY):  # a day not booked: worth a banner
        assert shown is not None
        assert (shown.title_sv, shown.message_sv, shown.title_en, shown.message_en, shown.severity) == (
            r.title_sv,
            r.message_sv,
            r.title_en,
            r.message_en,
            r.severity.value,
        )
    assert day.explanation == r.title_en


def _export(attempts: int = 0, reason_code: str | None = None) -> Export:
    return Export(
        uuid.uuid4(),
        "DC-1",
        "org",
        "s1",
        date(2026, 5, 4),
        Trigger.DAY_CLOSE,
        ExportStatus.POSTING,
        attempts,
        reason_code,
    )


def _exporter_errors() -> list[ExportError]:
    errors: list[ExportError] = [cls(code, "x") for cls, code, _ in EXCEPTION_REASONS.values()]
    errors += [to_export_error(BLHttpError(status, None, "op")) for status in (400, 401, 403, 405)]
    errors += [
        TransientExportError("down"),
        MerchantActionRequired(ReasonCode.BL_REJECTED, "x"),
        ExporterBug(ReasonCode.INVALID_REQUEST, "x"),
        OperatorError(ReasonCode.CLIENT_CREDENTIALS_INVALID, "x"),
    ]
    return errors


@pytest.mark.parametrize("error", _exporter_errors(), ids=lambda e: f"{type(e).__name__}-{e.reason_code}")
def test_what_the_registry_says_happens_next_is_what_an_export_does(error: ExportError) -> None:
    failure = failure_of(error, _export())
    next_step = REASONS[ReasonCode(str(error.reason_code))].next
    if next_step is Next.RETRY:
        assert (failure.status, failure.result) == (ExportStatus.POSTING, Result.TRANSIENT)
    else:
        assert next_step is Next.KEEP_AND_NOTIFY
        assert (failure.status, failure.result) == (ExportStatus.FAILED, Result.FAILED)
    assert failure.emit
    assert REASONS[ReasonCode(failure.reason_code)].merchant_action_required == isinstance(
        error, MerchantActionRequired
    )


def test_a_transient_failure_is_told_once_per_export_and_reason() -> None:
    down = TransientExportError("down")
    assert failure_of(down, _export(attempts=0)).emit
    assert not failure_of(down, _export(attempts=3, reason_code="BL_UNAVAILABLE")).emit
    assert failure_of(down, _export(attempts=3, reason_code="PERIOD_LOCKED")).emit


@pytest.mark.parametrize("cls", [c for c in _mapping_errors() if c not in (MappingError, NothingToBookError)])
def test_every_mapping_error_keeps_the_export_failed_and_the_registry_agrees(cls: type[MappingError]) -> None:
    assert REASONS[ReasonCode(cls.reason)].next is Next.KEEP_AND_NOTIFY
    assert cls.__module__ == mapping_errors.__name__


def test_bad_input_is_dead_lettered_and_warnings_do_not_hold_the_day() -> None:
    for code in ("POISON_MESSAGE", "INVALID_EVENT", "RECEIPT_CONFLICT", "UNDECODABLE", "SCHEMA_MISMATCH", "OVERSIZED"):
        assert REASONS[ReasonCode(code)].next is Next.DEAD_LETTER and not REASONS[ReasonCode(code)].will_retry
    for code in (GAP, REPEATED, "DOCUMENT_ATTACH_FAILED"):
        assert REASONS[ReasonCode(code)].next is Next.WARN


def test_an_exporter_bug_tells_the_merchant_nothing_is_needed_of_them() -> None:
    """An export cannot be dead-lettered like a Kafka message: kept, operators alerted, the merchant told."""
    for code in (ReasonCode.UNBALANCED, ReasonCode.INVALID_REQUEST):
        r = REASONS[code]
        assert (r.next, r.merchant_action_required, r.will_retry) == (Next.KEEP_AND_NOTIFY, False, True)
        assert "No action needed" in r.message_en and "behöver inte" in r.message_sv
