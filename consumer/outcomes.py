"""Outcome and dead-letter events: what the notification service turns into banners.

Texts are chosen by reason code here, in Swedish and English, so every producer of a failure
says the same thing for the same problem. Details (e.g. every unmapped item) travel as data.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

INFO, WARNING, ERROR = "INFO", "WARNING", "ERROR"


@dataclass(frozen=True)
class Reason:
    severity: str
    merchant_action_required: bool
    will_retry: bool
    title_sv: str
    message_sv: str
    title_en: str
    message_en: str


_FIX_PLAN_SV = "Komplettera kontoplanen under Integrationer → Björn Lundén; exporten görs om automatiskt."
_FIX_PLAN_EN = "Complete the account plan under Integrations → Björn Lundén; the export is retried automatically."
_FIX_BL_SV = "Åtgärda detta i Björn Lundén; exporten görs om automatiskt vid nästa försök."
_FIX_BL_EN = "Fix this in Björn Lundén; the export is retried automatically on the next attempt."

REASONS: dict[str, Reason] = {
    "UNMAPPED_ITEMS": Reason(ERROR, True, True, "Konton saknas i kontoplanen", _FIX_PLAN_SV,
                             "Accounts missing from the account plan", _FIX_PLAN_EN),
    "INVALID_PLAN": Reason(ERROR, True, True, "Kontoplanen är ogiltig", _FIX_PLAN_SV,
                           "The account plan is invalid", _FIX_PLAN_EN),
    "FISCAL_YEAR_MISSING": Reason(ERROR, True, True, "Räkenskapsår saknas i Björn Lundén",
                                  "Lägg upp räkenskapsåret för datumet. " + _FIX_BL_SV,
                                  "Fiscal year missing in Björn Lundén",
                                  "Create the fiscal year for the date. " + _FIX_BL_EN),
    "FISCAL_YEAR_CLOSED": Reason(ERROR, True, True, "Räkenskapsåret är stängt",
                                 "Öppna räkenskapsåret eller kontakta din redovisningskonsult. " + _FIX_BL_SV,
                                 "The fiscal year is closed",
                                 "Reopen the fiscal year or contact your accountant. " + _FIX_BL_EN),
    "PERIOD_LOCKED": Reason(ERROR, True, True, "Perioden är låst", "Lås upp perioden. " + _FIX_BL_SV,
                            "The period is locked", "Unlock the period. " + _FIX_BL_EN),
    "ACCOUNT_MISSING_IN_BL": Reason(ERROR, True, True, "Kontot finns inte i Björn Lundén",
                                    "Lägg upp kontot eller välj ett annat i kontoplanen.",
                                    "Account missing in Björn Lundén",
                                    "Create the account in BL or pick another in the account plan."),
    "ACCOUNT_VAT_CODE_MISMATCH": Reason(ERROR, True, True, "Kontots momskod stämmer inte med momssatsen",
                                        "Ett försäljningskonto har en annan momskod i Björn Lundén än den momssats "
                                        "kontoplanen bokför på det. Välj ett konto för rätt momssats i kontoplanen "
                                        "eller rätta kontots momskod i Björn Lundén; exporten görs om automatiskt.",
                                        "The account's VAT code does not match the VAT rate",
                                        "A sales account has another VAT code in Björn Lundén than the VAT rate the "
                                        "account plan books on it. Pick an account of the right rate in the account "
                                        "plan or correct the account's VAT code in BL; the export is retried "
                                        "automatically."),
    "ACCOUNT_CLOSED": Reason(ERROR, True, True, "Kontot är spärrat i Björn Lundén",
                             "Öppna kontot eller välj ett annat i kontoplanen.",
                             "Account is blocked in Björn Lundén",
                             "Unblock the account in BL or pick another in the account plan."),
    "SERIES_MISSING": Reason(ERROR, True, True, "Verifikationsserien saknas",
                             "Lägg upp serien i Björn Lundén eller välj en annan.",
                             "Voucher series missing", "Create the series in BL or choose another."),
    "COST_CENTRE_MISSING": Reason(ERROR, True, True, "Kostnadsstället saknas",
                                  "Lägg upp kostnadsstället i Björn Lundén eller ändra butikens koppling.",
                                  "Cost centre missing", "Create the cost centre in BL or change the store's."),
    "KEY_NOT_ACTIVATED": Reason(ERROR, True, True, "Integrationen är inte aktiverad i Björn Lundén",
                                "Aktivera Open 2 under Tilläggstjänster i Björn Lundén.",
                                "The integration is not activated in Björn Lundén",
                                "Activate Open 2 under Tilläggstjänster in BL."),
    "KEY_UNKNOWN": Reason(ERROR, True, True, "Nyckeln känns inte igen",
                          "Kontrollera den publika nyckeln under Integrationer → Björn Lundén.",
                          "Key not recognised", "Check the public key under Integrations → Björn Lundén."),
    "BL_UNAVAILABLE": Reason(WARNING, False, True, "Björn Lundén svarar inte just nu",
                             "Vi försöker igen automatiskt. Ingen åtgärd behövs.",
                             "Björn Lundén is not responding", "We retry automatically. No action needed."),
    "CLIENT_CREDENTIALS_INVALID": Reason(ERROR, False, True, "Tekniskt fel hos oss",
                                         "Vi har larmats och försöker igen när felet är åtgärdat.",
                                         "Technical problem on our side",
                                         "We have been alerted and retry once it is fixed."),
    "RECONCILIATION_MISMATCH": Reason(ERROR, False, True, "Dagens försäljning stämmer inte med Z-rapporten",
                                      "Dagen bokförs inte förrän skillnaden är utredd (försäljning, moms, "
                                      "betalsätt eller kassan). Vi har larmats.",
                                      "The day's sales do not match the Z-report",
                                      "The day is not booked until the difference (sales, VAT, payments or the "
                                      "cash drawer) is resolved. We have been alerted."),
    "Z_REPORT_GAP": Reason(WARNING, True, False, "Z-rapportnummer saknas",
                           "Numret på dagens Z-rapport följer inte på föregående dags. Kontrollera i kassan att "
                           "ingen dagsrapport saknas; dagen bokförs ändå.",
                           "Z-report number missing",
                           "Today's Z-report number does not follow the previous day's. Check in the POS that no "
                           "day report is missing; the day is booked anyway."),
    "Z_REPORT_REPEATED": Reason(WARNING, True, False, "Z-rapportnumret har använts förut",
                                "Dagens Z-rapport har samma nummer som en annan dags. Kontrollera kassans "
                                "dagsavslut; dagen bokförs ändå.",
                                "Z-report number used before",
                                "Today's Z-report has the number of another day's. Check the POS's day closes; "
                                "the day is booked anyway."),
    "SINGLE_PURPOSE_REDEMPTION_INVALID": Reason(
        ERROR, True, True, "Ett enfunktionspresentkort betalar för fel varor",
        "Ett presentkort med en momssats har betalat för varor med en annan momssats. Kontrollera momssatsen "
        "för betalsättet i kontoplanen; exporten görs om automatiskt.",
        "A single-purpose gift card pays for the wrong goods",
        "A gift card of one VAT rate paid for goods of another rate. Check the payment method's VAT rate in the "
        "account plan; the export is retried automatically."),
    "RECEIPT_IMBALANCE": Reason(ERROR, False, False, "Ett kvitto går inte ihop",
                                "Kvittot bokförs inte. Vi har larmats.", "A receipt does not add up",
                                "The receipt is not booked. We have been alerted."),
    "RECEIPT_CONFLICT": Reason(ERROR, False, False, "Ett kvitto skickades igen med annat innehåll",
                               "Den första versionen gäller; den nya bokförs inte. Vi har larmats.",
                               "A receipt was sent again with other content",
                               "The first version stands; the new one is not booked. We have been alerted."),
    "INVALID_EVENT": Reason(ERROR, False, False, "Ogiltig händelse från kassan",
                            "Händelsen bokförs inte. Vi har larmats.", "Invalid event from the POS",
                            "The event is not booked. We have been alerted."),
    "DOCUMENT_ATTACH_FAILED": Reason(WARNING, False, False, "Dagsrapporten kunde inte bifogas i Björn Lundén",
                                     "Verifikationen är bokförd, men Björn Lundén tog inte emot dagsrapporten (PDF) "
                                     "som underlag. Vi har larmats; underlaget finns kvar hos oss och kan bifogas "
                                     "för hand.",
                                     "The day report could not be attached in Björn Lundén",
                                     "The voucher is booked, but Björn Lundén did not accept the day report (PDF) as "
                                     "its underlying document. We have been alerted; we keep the report and it can "
                                     "be attached by hand."),
    "POISON_MESSAGE": Reason(ERROR, False, False, "Oläsbart meddelande från kassan",
                             "Meddelandet bokförs inte. Vi har larmats.", "Unreadable message from the POS",
                             "The message is not booked. We have been alerted."),
}
_FALLBACK = Reason(ERROR, False, True, "Exporten misslyckades", "Vi har larmats och försöker igen.",
                   "The export failed", "We have been alerted and will retry.")


def reason(code: str) -> Reason:
    return REASONS.get(code, _FALLBACK)


@dataclass(frozen=True)
class Detail:
    kind: str
    code: str
    message: str | None = None


@dataclass(frozen=True)
class Outcome:
    """One outcome event before encoding."""

    organization_id: str | None
    trigger: str
    status: str
    store_id: str | None = None
    business_date: date | None = None
    export_id: str | None = None
    voucher: dict[str, Any] | None = None
    reason_code: str | None = None
    details: Sequence[Detail] = field(default_factory=tuple)

    def to_record(self, now: datetime | None = None) -> dict[str, Any]:
        failure = None
        if self.reason_code is not None:
            r = reason(self.reason_code)
            failure = {
                "reason_code": self.reason_code,
                "severity": r.severity,
                "merchant_action_required": r.merchant_action_required,
                "will_retry": r.will_retry,
                "title_sv": r.title_sv,
                "message_sv": r.message_sv,
                "title_en": r.title_en,
                "message_en": r.message_en,
                "details": [{"kind": d.kind, "code": d.code, "message": d.message} for d in self.details],
            }
        return {
            "event_id": str(uuid.uuid4()),
            "organization_id": self.organization_id,
            "store_id": self.store_id,
            "business_date": self.business_date,
            "export_id": self.export_id,
            "occurred_at": now or datetime.now(UTC),
            "status": self.status,
            "trigger": self.trigger,
            "voucher": self.voucher,
            "failure": failure,
        }


#: A dead letter must itself fit in a Kafka message; larger originals stay readable at their offset.
MAX_DEAD_LETTER_VALUE_BYTES = 512 * 1024


def dead_letter_record(
    *, topic: str, partition: int, offset: int, key: bytes | None, value: bytes | None, error_code: str,
    error_message: str,
) -> dict[str, Any]:
    if value is not None and len(value) > MAX_DEAD_LETTER_VALUE_BYTES:
        digest = hashlib.sha256(value).hexdigest()
        error_message = (f"{error_message}; original value ({len(value)} bytes, sha256 {digest}) not copied: "
                         f"read it at {topic}/{partition}/{offset}")
        value = None
    return {
        "dead_letter_id": str(uuid.uuid4()),
        "source_topic": topic,
        "source_partition": partition,
        "source_offset": offset,
        "original_key": key,
        "original_value": value,
        "error_code": error_code,
        "error_message": error_message[:2000],
        "failed_at": datetime.now(UTC),
    }
