"""Every word the card shows, in Swedish (the merchant guide's own words) and English. Texts of reason codes are
not here: they come from the reason-code registry, as the API serves them (banner, notifications)."""

from __future__ import annotations

from collections.abc import Callable

LANGUAGES = ("sv", "en")

_TEXTS: dict[str, tuple[str, str]] = {
    # frame
    "backoffice": ("BackOffice", "BackOffice"),
    "skip": ("Hoppa till innehållet", "Skip to content"),
    "one_problem": ("ett fel", "a problem"),
    "company": ("Företag", "Company"),
    "integrations": ("Integrationer", "Integrations"),
    "notifications": ("Notifikationer", "Notifications"),
    "language_switch": ("English", "Svenska"),
    "sign_out": ("Logga ut", "Sign out"),
    "breadcrumb": ("Sökväg", "Breadcrumb"),
    "show": ("Visa", "Show"),
    "ok": ("OK", "OK"),
    "next": ("Nästa", "Next"),
    "back": ("Tillbaka", "Back"),
    "cancel": ("Avbryt", "Cancel"),
    "save": ("Spara", "Save"),
    "refresh": ("Uppdatera", "Refresh"),
    "error_heading": ("Något gick fel", "Something went wrong"),
    # the card
    "bl": ("Björn Lundén", "Björn Lundén"),
    "bl_card_intro": (
        "Bokföring via Björn Lundén: din dagliga försäljningsdata överförs automatiskt efter varje dagsavslut.",
        "Bookkeeping via Björn Lundén: your daily sales are transferred automatically after every day close.",
    ),
    "activate": ("Aktivera", "Activate"),
    "menu": ("Fler val för Björn Lundén", "More options for Björn Lundén"),
    "settings": ("Inställningar", "Settings"),
    "manual_export": ("Manuell export", "Manual export"),
    "deactivate": ("Inaktivera", "Deactivate"),
    "history": ("Historik", "History"),
    "status_setup": ("Inte aktiverad", "Not activated"),
    "status_active": ("Aktiv sedan {since}", "Active since {since}"),
    "status_inactive": ("Inaktiverad {since}", "Deactivated {since}"),
    "status_inactive_bl": ("Inaktiverad i Björn Lundén {since}", "Deactivated in Björn Lundén {since}"),
    "status_failing": ("Exporten misslyckas", "The export is failing"),
    "company_line": ("Företag i Björn Lundén: {name} ({org_number})", "Company in Björn Lundén: {name} ({org_number})"),
    "last_export": (
        "Senaste export: {date}, verifikation {series} {number}",
        "Last export: {date}, voucher {series} {number}",
    ),
    "no_export_yet": ("Ingen export ännu.", "No export yet."),
    "plan_needs_accounts": (
        "Nya betalningsmetoder eller varugrupper behöver bokföringskonton.",
        "New payment methods or product groups need accounts.",
    ),
    "done_saved": ("Inställningarna är sparade.", "The settings are saved."),
    "done_deactivated": ("Integrationen är inaktiverad.", "The integration is deactivated."),
    "done_retried": (
        "Exporten görs om. Bannern försvinner när exporten är bokförd.",
        "The export is being retried. The banner goes away once it is booked.",
    ),
    "done_correction": (
        "Rättelsen är begärd: verifikationen vänds och dagen bokförs på nytt.",
        "The correction is requested: the voucher is reversed and the day booked anew.",
    ),
    # activation dialog
    "dialog_title": ("Aktivera Björn Lundén", "Activate Björn Lundén"),
    "intro_title": ("Bokföring via Björn Lundén", "Bookkeeping via Björn Lundén"),
    "intro_text": (
        "Genom att integrera OPEN Two med Björn Lundén kommer din dagliga försäljningsdata att överföras "
        "automatiskt efter varje dagsavslut, allt för att göra det enklare att hantera bokföringen. Inga fler "
        "manuella inmatningar, bara korrekta finansiella uppgifter.",
        "By connecting OPEN Two with Björn Lundén, your daily sales are transferred automatically after every day "
        "close, to make bookkeeping easier. No more manual entry, just correct financial records.",
    ),
    "intro_before": (
        "Du behöver först starta ”Open 2”-integrationen under Tilläggstjänster i Björn Lundén och kopiera den "
        "publika nyckeln under kugghjulet uppe i det övre högra hörnet av integrationsfönstret.",
        "First start the “Open 2” integration under Tilläggstjänster in Björn Lundén and copy the public key "
        "under the gear icon in the top right corner of the integration window.",
    ),
    "lets_begin": ("Låt oss börja", "Let's begin"),
    "step_of": ("Steg {n} av {total}", "Step {n} of {total}"),
    "key_title": ("Publik nyckel", "Public key"),
    "key_label": ("Ange din publika nyckel som finns att hämta hos Björn Lundén", "Your public key from Björn Lundén"),
    "key_hint": ("Till exempel 3f2b8c1e-…: 8-4-4-4-12 tecken.", "For example 3f2b8c1e-…: 8-4-4-4-12 characters."),
    "verify": ("Verifiera", "Verify"),
    "key_verified": ("Nyckeln är verifierad: {name} ({org_number}).", "The key is verified: {name} ({org_number})."),
    "key_stored": ("Verifierad nyckel: {masked}", "Verified key: {masked}"),
    "KEY_MALFORMED": (
        "Nyckeln har fel format: en publik nyckel består av 8-4-4-4-12 tecken (0–9, a–f).",
        "The key is malformed: a public key is 8-4-4-4-12 characters (0–9, a–f).",
    ),
    "KEY_UNKNOWN": (
        "Björn Lundén känner inte igen nyckeln. Kopiera den publika nyckeln igen under kugghjulet i integrationen.",
        "Björn Lundén does not recognise the key. Copy the public key again from the integration's gear icon.",
    ),
    "KEY_NOT_ACTIVATED": (
        "Nyckeln finns, men integrationen ”Open 2” är inte aktiverad i Björn Lundén: tryck på Aktivera under "
        "Tilläggstjänster och sedan Ja, påbörja integration.",
        "The key exists, but the “Open 2” integration is not activated in Björn Lundén: press Aktivera under "
        "Tilläggstjänster, then Ja, påbörja integration.",
    ),
    "BL_UNAVAILABLE": (
        "Björn Lundén svarar inte just nu. Försök igen om en stund.",
        "Björn Lundén is not answering right now. Try again shortly.",
    ),
    "KEY_COMPANY_CHANGED": (
        "Nyckeln hör till ett annat företag. Inaktivera integrationen innan du byter företag.",
        "The key opens another company's books. Deactivate the integration before switching companies.",
    ),
    "start_title": ("Startdatum", "Start date"),
    "start_label": (
        "Fyll i startdatum från när din försäljningsdata ska exporteras till Björn Lundén för att bokföras",
        "The date from which your sales are exported to Björn Lundén to be booked",
    ),
    "date_format": (
        "Skriv datumet som ÅÅÅÅ-MM-DD, t.ex. 2026-11-01.",
        "Write the date as YYYY-MM-DD, e.g. 2026-11-01.",
    ),
    "START_DATE_INVALID": ("Det är inget datum: skriv ÅÅÅÅ-MM-DD.", "That is not a date: write YYYY-MM-DD."),
    "START_DATE_IN_FUTURE": ("Startdatumet kan inte ligga i framtiden.", "The start date cannot be in the future."),
    "START_DATE_TOO_OLD": (
        "Startdatumet är äldre än den försäljning vi sparar.",
        "The start date is older than the sales we keep.",
    ),
    "SALES_BEFORE_START_DATE": (
        "Försäljning från {days} dag(ar), {first}–{last}, ligger före startdatumet och exporteras inte.",
        "Sales of {days} day(s), {first}–{last}, are before the start date and will not be exported.",
    ),
    "plan_title": ("Kontoplan", "Account plan"),
    "plan_intro": (
        "Ange vilka bokföringskonton som ska användas. Om du är osäker på vilka bokföringskonton du ska använda "
        "bör du ta hjälp av din revisor.",
        "Choose the accounts to book on. If you are unsure which accounts to use, ask your accountant.",
    ),
    "step_payment-methods": ("Betalningsmetoder", "Payment methods"),
    "step_vat-rates": ("Moms-satser", "VAT rates"),
    "step_product-groups": ("Varugrupper", "Product groups"),
    "step_events": ("Övriga händelser", "Other events"),
    "lead_payment-methods": (
        "Välj vilka bokföringskonton som ska användas i Björn Lundén för dina olika betalningsmetoder.",
        "Choose the accounts in Björn Lundén for your payment methods.",
    ),
    "lead_vat-rates": (
        "Välj vilka bokföringskonton som ska användas i Björn Lundén för dina olika moms-satser.",
        "Choose the accounts in Björn Lundén for your VAT rates.",
    ),
    "lead_product-groups": (
        "Välj vilka bokföringskonton som ska användas i Björn Lundén för dina olika varugrupper.",
        "Choose the accounts in Björn Lundén for your product groups.",
    ),
    "lead_events": (
        "Välj de bokföringskonton som ska användas i Björn Lundén för dina övriga händelser, t.ex. bokföring av "
        "dricks.",
        "Choose the accounts in Björn Lundén for your other events, e.g. tips.",
    ),
    "account": ("Konto", "Account"),
    "account_missing": ("Ange ett konto.", "Enter an account."),
    "account_unknown_name": ("finns inte i Björn Lundén", "not in Björn Lundén"),
    "sales_defaults": (
        "Försäljningskonto per momssats, för varugrupper utan eget konto",
        "Sales account per VAT rate, for product groups without one of their own",
    ),
    "group_rows": ("Varugrupper och momssatser i försäljningen", "Product groups and VAT rates in the sales"),
    "no_rows": (
        "Inga varugrupper i försäljningen ännu: standardkontona ovan används.",
        "No product groups in the sales yet: the default accounts above are used.",
    ),
    "group_at_rate": ("{group} – {rate} % moms", "{group} – {rate} % VAT"),
    "rate_default": ("Försäljning {rate} % moms", "Sales at {rate} % VAT"),
    "vat_rate_row": ("Utgående moms {rate} %", "Output VAT {rate} %"),
    "uses_default": ("Tomt: standardkontot {account} används.", "Empty: the default account {account} is used."),
    "seen_in_sales": ("Sedd i försäljningen, senast {date}.", "Seen in the sales, last on {date}."),
    "registered": ("Registrerad i kassan.", "Registered in the POS."),
    "new_item": ("Ny – behöver ett konto", "New – needs an account"),
    "series_label": ("Verifikationsserie i Björn Lundén", "Voucher series in Björn Lundén"),
    "not_ready": ("Integrationen kan inte aktiveras ännu:", "The integration cannot be activated yet:"),
    "other_errors": ("Andra fält i kontoplanen:", "Other fields of the account plan:"),
    "activated_title": ("Integrationen är aktiverad", "The integration is activated"),
    "activated_text": (
        "Din försäljning exporteras nu till Björn Lundén efter varje dagsavslut.",
        "Your sales are now exported to Björn Lundén after every day close.",
    ),
    "activated_queued": (
        "{n} stängd(a) dag(ar) sedan startdatumet exporteras nu.",
        "{n} closed day(s) since the start date are being exported now.",
    ),
    # three-dot menu dialogs
    "manual_title": ("Manuell export", "Manual export"),
    "manual_text": (
        "Vill du skicka över försäljningsdatan till Björn Lundén nu? Försäljningsdatan exporteras även efter "
        "dagsavslutet, om det har skett några nya försäljningar. Integrationen ser till att enbart relevant data "
        "exporteras.",
        "Send the sales so far to Björn Lundén now? Sales are exported again after the day close if there are new "
        "ones. The integration makes sure only relevant data is exported.",
    ),
    "confirm": ("Bekräfta", "Confirm"),
    "manual_requested": ("Exporten är begärd och väntar på tjänsten.", "The export is requested, waiting."),
    "manual_exporting": ("Exporten pågår.", "Exporting."),
    "manual_done": ("Exporten är klar.", "The export is done."),
    "manual_booked": ("Bokförd: {date}, verifikation {series} {number}.", "Booked: {date}, voucher {series} {number}."),
    "manual_nothing": ("Ingen ny försäljning att exportera.", "No new sales to export."),
    "deactivate_title": ("Inaktivera integrationen", "Deactivate the integration"),
    "deactivate_text": (
        "Ingen försäljning exporteras till Björn Lundén medan integrationen är inaktiverad. Försäljningen sparas och "
        "exporteras när du aktiverar igen.",
        "No sales are exported while the integration is deactivated. Sales are kept and exported when you "
        "activate again.",
    ),
    "NOT_ACTIVE": ("Integrationen är inte aktiv.", "The integration is not active."),
    # banner and notifications
    "banner_days": ("Gäller {n} dag(ar).", "Affects {n} day(s)."),
    "what_happened": ("Vad har hänt", "What happened"),
    "what_to_do": ("Vad du gör", "What to do"),
    "which_days": ("Vilka dagar", "Which days"),
    "retry": ("Försök igen", "Try again"),
    "retry_hint": (
        "När du har åtgärdat felet i Björn Lundén: tryck på Försök igen, eller vänta på nästa automatiska export.",
        "Once you have fixed it in Björn Lundén: press Try again, or wait for the next automatic export.",
    ),
    "open_settings": ("Öppna inställningarna", "Open the settings"),
    "no_problem": ("Inga fel just nu.", "No problems right now."),
    "no_notifications": ("Inga notifikationer.", "No notifications."),
    "notification_booked": (
        "Bokförd i Björn Lundén: verifikation {series} {number}",
        "Booked in Björn Lundén: voucher {series} {number}",
    ),
    "current_problem": ("Aktuellt fel", "Current problem"),
    "store_day": ("Butik {store}, {date}", "Store {store}, {date}"),
    "detail_financial_year": ("Räkenskapsår", "Fiscal year"),
    "detail_fiscal_year": ("Räkenskapsår", "Fiscal year"),
    "detail_account": ("Konto", "Account"),
    "detail_period": ("Period", "Period"),
    "detail_series": ("Serie", "Series"),
    "detail_cost_centre": ("Kostnadsställe", "Cost centre"),
    "detail_date": ("Datum", "Date"),
    # history
    "history_title": ("Historik", "History"),
    "exports": ("Exporter", "Exports"),
    "missing_days": ("Dagar som inte är bokförda", "Days not booked"),
    "no_missing_days": ("Alla stängda dagar är bokförda.", "Every closed day is booked."),
    "col_date": ("Datum", "Date"),
    "col_store": ("Butik", "Store"),
    "col_trigger": ("Orsak", "Trigger"),
    "col_status": ("Status", "Status"),
    "col_voucher": ("Verifikation", "Voucher"),
    "col_amount": ("Belopp", "Amount"),
    "col_report": ("Dagrapport", "Day report"),
    "col_actions": ("Åtgärd", "Action"),
    "day_report_pdf": ("Dagrapport (PDF)", "Day report (PDF)"),
    "day_report_for": ("Dagrapport för verifikation {series} {number}", "Day report of voucher {series} {number}"),
    "request_correction": ("Begär rättelse", "Request a correction"),
    "correction_for": ("Rättelse av {date}, butik {store}", "Correction of {date}, store {store}"),
    "correction_label": ("Varför ska dagen rättas?", "Why is the day corrected?"),
    "correction_user": ("Ditt namn", "Your name"),
    "correction_text": (
        "En bokförd verifikation ändras aldrig: den vänds med en ny verifikation och dagen bokförs på nytt genom "
        "den nuvarande kontoplanen.",
        "A booked voucher is never edited: it is reversed by a new voucher and the day is booked anew through "
        "the current account plan.",
    ),
    "correction_note": ("Rättelse: ”{reason}” ({by})", "Correction: “{reason}” ({by})"),
    "reverses": ("vänder {ref}", "reverses {ref}"),
    "no_exports": ("Inga exporter ännu.", "No exports yet."),
    "status_booked": ("Bokförd", "Booked"),
    "status_failed": ("Misslyckades", "Failed"),
    "status_posting": ("Skickas", "Sending"),
    "trigger_DAY_CLOSE": ("Dagsavslut", "Day close"),
    "trigger_MANUAL": ("Manuell export", "Manual export"),
    "trigger_RETRY": ("Nytt försök", "Retry"),
    "trigger_CORRECTION": ("Rättelse", "Correction"),
    "trigger_INTEGRATION": ("Integrationen", "Integration"),
    # sign-in and errors
    "signed_out": (
        "Du är inte inloggad. Öppna kortet från BackOffice igen.",
        "You are not signed in. Open the card from BackOffice again.",
    ),
    "signin_cross_site": (
        "Kortet öppnas bara från BackOffice. Öppna Integrationer i BackOffice igen.",
        "The card opens from BackOffice only. Open Integrations in BackOffice again.",
    ),
    "signed_out_done": ("Du är utloggad.", "You are signed out."),
    "forbidden": ("Du har inte behörighet till den här sidan.", "You may not open this page."),
    "csrf_failed": (
        "Formuläret kunde inte skickas: ladda om sidan och försök igen.",
        "The form could not be sent: reload the page and try again.",
    ),
    "not_found": ("Sidan finns inte.", "No such page."),
    "bl_configuration": (
        "Björn Lundén godtog inte integrationens inloggning; vi har larmats.",
        "Björn Lundén refused our integration's credentials; we have been alerted.",
    ),
}


def translator(lang: str) -> Callable[..., str]:
    index = 1 if lang == "en" else 0

    def t(key: str, **values: object) -> str:
        pair = _TEXTS.get(key)
        text = pair[index] if pair else key
        return text.format(**values) if values else text

    return t


def has_text(key: str) -> bool:
    return key in _TEXTS
