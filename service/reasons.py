"""The one reason-code registry: every code the service can emit, what happens next, and what the merchant reads.

Outcome events (:mod:`consumer.events`), the API's banner and missing days (:mod:`backoffice.status`) and the
export decisions (:mod:`service.lifecycle`) all read this table, so a merchant sees the same words in the
notification and in BackOffice, and the words say what the service actually does. Details (e.g. every
unmapped item) travel as data next to the texts. ``tests/unit/service/test_reasons.py`` proves that every
code that can be emitted (error classes, :class:`ReasonCode`, literals in the code) is in the table.

What happens next (:class:`Next`), by kind of problem:

* ``DEAD_LETTER`` — bad input from the POS: the message is set aside (dead-letter record + failure event),
  the stream moves on; operators look at it.
* ``KEEP_AND_NOTIFY`` — the export is kept (``failed``) and the merchant, or we, are told; it is retried on
  the store's next export, after a fix of the plan, on a retry request or on reactivation. Never skipped.
* ``RETRY`` — transient (BL down, our own credentials refused): the export stays ``posting`` and is retried
  with backoff by itself, looking the voucher up first. Reported once per export.
* ``WARN`` — the day is booked anyway; something is worth a look.
* ``NONE`` — not a failure: a state the API explains (queued, before the start date, nothing to book…).
"""

from __future__ import annotations

from collections.abc import Mapping

import structlog

from service.reason_codes import Next, Reason, ReasonCode, Severity

__all__ = ["FALLBACK", "REASONS", "Next", "Reason", "ReasonCode", "Severity", "reason"]
log = structlog.get_logger("dayclose.reasons")


_E, _W, _I = Severity.ERROR, Severity.WARNING, Severity.INFO
_KEEP, _RETRY, _DEAD, _WARN, _NONE = Next.KEEP_AND_NOTIFY, Next.RETRY, Next.DEAD_LETTER, Next.WARN, Next.NONE
_FIX_PLAN_SV = "Komplettera kontoplanen under Integrationer → Björn Lundén; exporten görs om automatiskt."
_FIX_PLAN_EN = "Complete the account plan under Integrations → Björn Lundén; the export is retried automatically."
_FIX_BL_SV = "Åtgärda detta i Björn Lundén; exporten görs om automatiskt vid nästa försök."
_FIX_BL_EN = "Fix this in Björn Lundén; the export is retried automatically on the next attempt."
_OURS_SV = "Vi har larmats; exporten sparas och bokförs när felet är åtgärdat. Du behöver inte göra något."
_OURS_EN = "We have been alerted; the export is kept and booked once the fault is fixed. No action needed."
_INPUT_SV, _INPUT_EN = "Händelsen bokförs inte. Vi har larmats.", "The event is not booked. We have been alerted."


def _merchant(title_sv: str, message_sv: str, title_en: str, message_en: str) -> Reason:
    """The merchant must fix something; the export is kept and retried after the fix."""
    return Reason(_E, _KEEP, True, True, title_sv, message_sv, title_en, message_en)


def _ours(title_sv: str, title_en: str) -> Reason:
    """A fault of ours BL or the money rules refused: kept, operators alerted (error log, metric)."""
    return Reason(_E, _KEEP, False, True, title_sv, _OURS_SV, title_en, _OURS_EN)


def _input(title_sv: str, message_sv: str, title_en: str, message_en: str) -> Reason:
    """Bad input: dead-lettered, never booked, never retried."""
    return Reason(_E, _DEAD, False, False, title_sv, message_sv, title_en, message_en)


def _state(title_sv: str, title_en: str) -> Reason:
    return Reason(_I, _NONE, False, False, title_sv, title_sv, title_en, title_en)


_C = ReasonCode
REASONS: Mapping[ReasonCode, Reason] = {
    _C.UNMAPPED_ITEMS: _merchant(
        "Konton saknas i kontoplanen", _FIX_PLAN_SV, "Accounts missing from the account plan", _FIX_PLAN_EN
    ),
    _C.INVALID_PLAN: _merchant("Kontoplanen är ogiltig", _FIX_PLAN_SV, "The account plan is invalid", _FIX_PLAN_EN),
    _C.SINGLE_PURPOSE_REDEMPTION_INVALID: _merchant(
        "Ett enfunktionspresentkort betalar för fel varor",
        "Ett presentkort med en momssats har betalat för varor med en annan momssats. Kontrollera momssatsen "
        "för betalsättet i kontoplanen; exporten görs om automatiskt.",
        "A single-purpose gift card pays for the wrong goods",
        "A gift card of one VAT rate paid for goods of another rate. Check the payment method's VAT rate in the "
        "account plan; the export is retried automatically.",
    ),
    _C.RECEIPT_IMBALANCE: _ours("Ett kvitto går inte ihop", "A receipt does not add up"),
    _C.INVALID_SALES_DATA: _ours("Försäljningen kunde inte läsas", "The sales could not be read"),
    _C.INVALID_REFERENCE: _ours("Tekniskt fel hos oss", "Technical problem on our side"),
    _C.MAPPING_ERROR: _ours("Tekniskt fel hos oss", "Technical problem on our side"),
    _C.FISCAL_YEAR_MISSING: _merchant(
        "Räkenskapsår saknas i Björn Lundén",
        "Lägg upp räkenskapsåret för datumet. " + _FIX_BL_SV,
        "Fiscal year missing in Björn Lundén",
        "Create the fiscal year for the date. " + _FIX_BL_EN,
    ),
    _C.FISCAL_YEAR_CLOSED: _merchant(
        "Räkenskapsåret är stängt",
        "Öppna räkenskapsåret eller kontakta din redovisningskonsult. " + _FIX_BL_SV,
        "The fiscal year is closed",
        "Reopen the fiscal year or contact your accountant. " + _FIX_BL_EN,
    ),
    _C.PERIOD_LOCKED: _merchant(
        "Perioden är låst",
        "Lås upp perioden. " + _FIX_BL_SV,
        "The period is locked",
        "Unlock the period. " + _FIX_BL_EN,
    ),
    _C.ACCOUNT_MISSING_IN_BL: _merchant(
        "Kontot finns inte i Björn Lundén",
        "Lägg upp kontot eller välj ett annat i kontoplanen.",
        "Account missing in Björn Lundén",
        "Create the account in BL or pick another in the account plan.",
    ),
    _C.ACCOUNT_CLOSED: _merchant(
        "Kontot är spärrat i Björn Lundén",
        "Öppna kontot eller välj ett annat i kontoplanen.",
        "Account is blocked in Björn Lundén",
        "Unblock the account in BL or pick another in the account plan.",
    ),
    _C.ACCOUNT_VAT_CODE_MISMATCH: _merchant(
        "Kontots momskod stämmer inte med momssatsen",
        "Ett försäljningskonto har en annan momskod i Björn Lundén än den momssats kontoplanen bokför på det. "
        "Välj ett konto för rätt momssats i kontoplanen eller rätta kontots momskod i Björn Lundén; exporten görs "
        "om automatiskt.",
        "The account's VAT code does not match the VAT rate",
        "A sales account has another VAT code in Björn Lundén than the VAT rate the account plan books on it. Pick "
        "an account of the right rate in the account plan or correct the account's VAT code in BL; the export is "
        "retried automatically.",
    ),
    _C.SERIES_MISSING: _merchant(
        "Verifikationsserien saknas",
        "Lägg upp serien i Björn Lundén eller välj en annan.",
        "Voucher series missing",
        "Create the series in BL or choose another.",
    ),
    _C.COST_CENTRE_MISSING: _merchant(
        "Kostnadsstället saknas",
        "Lägg upp kostnadsstället i Björn Lundén eller ändra butikens koppling.",
        "Cost centre missing",
        "Create the cost centre in BL or change the store's.",
    ),
    _C.KEY_NOT_ACTIVATED: _merchant(
        "Integrationen är inte aktiverad i Björn Lundén",
        "Aktivera Open 2 under Tilläggstjänster i Björn Lundén.",
        "The integration is not activated in Björn Lundén",
        "Activate Open 2 under Tilläggstjänster in BL.",
    ),
    _C.KEY_UNKNOWN: _merchant(
        "Nyckeln känns inte igen",
        "Kontrollera den publika nyckeln under Integrationer → Björn Lundén.",
        "Key not recognised",
        "Check the public key under Integrations → Björn Lundén.",
    ),
    _C.BL_REJECTED: _merchant(
        "Björn Lundén tog inte emot verifikationen",
        "Björn Lundéns svar står i detaljerna. " + _FIX_BL_SV,
        "Björn Lundén did not accept the voucher",
        "Björn Lundén's answer is in the details. " + _FIX_BL_EN,
    ),
    _C.BL_UNAVAILABLE: Reason(
        _W,
        _RETRY,
        False,
        True,
        "Björn Lundén svarar inte just nu",
        "Vi försöker igen automatiskt. Ingen åtgärd behövs.",
        "Björn Lundén is not responding",
        "We retry automatically. No action needed.",
    ),
    _C.CLIENT_CREDENTIALS_INVALID: Reason(
        _E,
        _RETRY,
        False,
        True,
        "Tekniskt fel hos oss",
        "Vi har larmats och försöker igen när felet är åtgärdat.",
        "Technical problem on our side",
        "We have been alerted and retry once it is fixed.",
    ),
    _C.UNBALANCED: _ours(
        "Björn Lundén tog inte emot verifikationen på grund av ett fel hos oss",
        "Björn Lundén did not accept the voucher because of a fault of ours",
    ),
    _C.INVALID_REQUEST: _ours("Björn Lundén kunde inte läsa vår begäran", "Björn Lundén could not read our request"),
    _C.RECONCILIATION_MISMATCH: Reason(
        _E,
        _KEEP,
        False,
        True,
        "Dagens försäljning stämmer inte med Z-rapporten",
        "Dagen bokförs inte förrän skillnaden är utredd (försäljning, moms, betalsätt eller kassan). Vi har larmats.",
        "The day's sales do not match the Z-report",
        "The day is not booked until the difference (sales, VAT, payments or the cash drawer) is resolved. We have "
        "been alerted.",
    ),
    _C.Z_REPORT_GAP: Reason(
        _W,
        _WARN,
        True,
        False,
        "Z-rapportnummer saknas",
        "Numret på dagens Z-rapport följer inte på föregående dags. Kontrollera i kassan att "
        "ingen dagsrapport saknas; dagen bokförs ändå.",
        "Z-report number missing",
        "Today's Z-report number does not follow the previous day's. Check in the POS that no "
        "day report is missing; the day is booked anyway.",
    ),
    _C.Z_REPORT_REPEATED: Reason(
        _W,
        _WARN,
        True,
        False,
        "Z-rapportnumret har använts förut",
        "Dagens Z-rapport har samma nummer som en annan dags. Kontrollera kassans dagsavslut; dagen bokförs ändå.",
        "Z-report number used before",
        "Today's Z-report has the number of another day's. Check the POS's day closes; the day is booked anyway.",
    ),
    _C.CASH_CHAIN_BREAK: Reason(
        _W,
        _WARN,
        True,
        False,
        "Kassan stämmer inte mot förra dagsavslutet",
        "Kassans ingående växelkassa är inte vad förra Z-rapporten räknade, minus det som tagits ut ur kassan "
        "enligt kassan. Pengar har lämnat (eller kommit till) kassan utan att registreras: registrera uttaget "
        "(t.ex. insättning på banken) i kassan eller utred skillnaden. Inget bokförs för skillnaden.",
        "Till does not match the previous day close",
        "The till's opening float is not what the previous Z-report counted, less what left the till on record. "
        "Cash left (or came into) the till unrecorded: record the withdrawal (e.g. the bank deposit) in the POS or "
        "look into the difference. Nothing is booked for it.",
    ),
    _C.DOCUMENT_ATTACH_FAILED: Reason(
        _W,
        _WARN,
        False,
        False,
        "Dagsrapporten kunde inte bifogas i Björn Lundén",
        "Verifikationen är bokförd, men Björn Lundén tog inte emot dagsrapporten (PDF) som underlag. Vi har larmats; "
        "underlaget finns kvar hos oss och kan bifogas för hand.",
        "The day report could not be attached in Björn Lundén",
        "The voucher is booked, but Björn Lundén did not accept the day report (PDF) as its underlying document. We "
        "have been alerted; we keep the report and it can be attached by hand.",
    ),
    _C.VAT_RETURN_CHANGED: Reason(
        _W,
        _WARN,
        True,
        False,
        "Rättelsen ändrar momsen för en period som ska deklareras eller redan är deklarerad",
        "En rättelse har ändrat den utgående momsen för en redovisningsperiod vars momsdeklaration ska lämnas eller "
        "redan har lämnats. Bokföringen är rättad. Lämna en rättad momsdeklaration (en ny, fullständig deklaration) "
        "för perioden med ändringen per momssats i detaljerna, och ta inte med samma ändring i en senare periods "
        "deklaration.",
        "The correction changes the VAT of a period whose return is due or filed",
        "A correction has changed the output VAT of a reporting period whose VAT return (momsdeklaration) is due or "
        "already filed. The books are corrected. File a corrected VAT return (a new, complete return) for that "
        "period with the change per VAT rate in the details, and do not include the same change in a later "
        "period's return.",
    ),
    _C.NOTHING_TO_BOOK: _state(
        "Inget att bokföra: försäljningen tar ut sig själv på varje konto",
        "Nothing to book: the sales net to zero on every account",
    ),
    _C.BOOKED_ELSEWHERE: _state(
        "Fakturaförsäljningen bokförs av faktureringen, inte av dagsavslutet (inställning i kontoplanen)",
        "The invoice sale is booked by the invoicing, not by the day close (a setting of the account plan)",
    ),
    _C.REVERSED: _state(
        "Verifikationen är återförd genom en rättelse; dagen bokförs på nytt",
        "The voucher was reversed by a correction; the day is booked anew",
    ),
    _C.POISON_MESSAGE: _input(
        "Oläsbart meddelande från kassan",
        "Meddelandet bokförs inte. Vi har larmats.",
        "Unreadable message from the POS",
        "The message is not booked. We have been alerted.",
    ),
    _C.INVALID_EVENT: _input("Ogiltig händelse från kassan", _INPUT_SV, "Invalid event from the POS", _INPUT_EN),
    _C.RECEIPT_CONFLICT: _input(
        "Ett kvitto skickades igen med annat innehåll",
        "Den första versionen gäller; den nya bokförs inte. Vi har larmats.",
        "A receipt was sent again with other content",
        "The first version stands; the new one is not booked. We have been alerted.",
    ),
    _C.UNDECODABLE: _input("Meddelandet kunde inte avkodas", _INPUT_SV, "The message could not be decoded", _INPUT_EN),
    _C.SCHEMA_MISMATCH: _input(
        "Meddelandet har ett okänt schema", _INPUT_SV, "The message has an unknown schema", _INPUT_EN
    ),
    _C.OVERSIZED: _input("Meddelandet är för stort", _INPUT_SV, "The message is too large", _INPUT_EN),
    _C.DAY_NOT_CLOSED: _state(
        "Butiken har försäljning för dagen men inget dagsavslut (Z-rapport) än.",
        "The store has sales for this day but no day close (Z-report) yet.",
    ),
    _C.BEFORE_START_DATE: _state(
        "Dagen är före integrationens startdatum och exporteras inte.",
        "The day is before the integration's start date and is not exported.",
    ),
    _C.INTEGRATION_INACTIVE: _state(
        "Integrationen var inte aktiv; dagen exporteras när den aktiveras (igen).",
        "The integration was not active; the day is exported when it is (re)activated.",
    ),
    _C.QUEUED: _state(
        "Exporten står i kö (väntar på dagens sista försäljning eller på Björn Lundén).",
        "The export is queued (waiting for the day's last sales or for Björn Lundén).",
    ),
    _C.EXPORTING: _state("Exporten pågår.", "The export is in progress."),
    _C.PENDING: _state("Dagen väntar på att exporteras.", "The day is waiting to be exported."),
}

_CODES = frozenset(c.value for c in ReasonCode)
#: Shown only if a code were missing from the table, which tests/unit/service/test_reasons.py rules out.
FALLBACK = Reason(
    _E,
    _KEEP,
    False,
    True,
    "Exporten misslyckades",
    "Vi har larmats och försöker igen.",
    "The export failed",
    "We have been alerted and will retry.",
)


def reason(code: str) -> Reason:
    """The registry's entry for ``code``. An unknown code is a bug: logged as an error, never a crash."""
    found = REASONS.get(ReasonCode(code)) if code in _CODES else None
    if found is None:
        log.error("reasons.unknown_code", reason_code=code)
        return FALLBACK
    return found
