"""The merchant guide (/work/shared/reference/seed-open-two-bjorn-lunden-guide.sv.txt), step by step, in its own
words: the walk both browser tests take, by mouse or by keyboard only."""

from __future__ import annotations

import io
import time
import uuid
from dataclasses import dataclass
from datetime import date, timedelta
from urllib.parse import urljoin

import httpx
import psycopg
from pypdf import PdfReader

from backoffice.context import stockholm_today
from devstack.bl_standin import BLStandIn, Company
from devstack.card import signin_url
from devstack.harness import Harness
from devstack.sampledata import store_day
from tests.e2e.card_browser import Walk, squash
from tests.integration.pipeline.oracle import booked_totals, expected_totals
from tests.tokens import SERVICE_TOKEN, bearer

STORE = "s1"


def days_ago(n: int) -> date:
    return stockholm_today() - timedelta(days=n)


@dataclass
class Stack:
    api_url: str
    harness: Harness
    bl: BLStandIn

    def signin(self, org: str) -> str:
        return signin_url(self.api_url, org, SERVICE_TOKEN, user="anna.andersson")

    def publish(self, *events: dict[str, object]) -> None:
        self.harness.publish_sales(events)

    def stored_sales(self, org: str) -> int:
        with psycopg.connect(self.harness.settings.database_url) as conn:
            row = conn.execute("SELECT count(*) FROM sales WHERE organization_id = %s", (org,)).fetchone()
        return int(row[0]) if row else 0

    def booked(self, org: str, n: int, what: str, status: str = "SUCCEEDED", timeout: float = 60) -> None:
        self.harness.wait_for(lambda h: len(h.outcomes_for(org, status)) >= n, timeout=timeout, what=what)


def wait_text(walk: Walk, wanted: str, timeout: float = 30) -> None:
    """Reload (the person presses F5) until the page says ``wanted``: the service works in the background."""
    deadline = time.monotonic() + timeout
    while wanted not in squash(walk.text()):
        if time.monotonic() > deadline:
            raise AssertionError(f"{wanted!r} not on {walk.page.url}:\n{walk.text()}")
        time.sleep(0.3)  # polling a deadline loop: the person waits a moment, then reloads
        walk.reload()


def walk_the_guide(walk: Walk, stack: Stack, org: str, company: Company) -> None:
    """The whole guide, in its order (the first closed day was published before the walk begins)."""
    activate(walk, stack, org, company)
    account_plan(walk)
    booked_days_and_the_banner(walk, stack, org, company)
    manual_export(walk, stack, org, company)
    history(walk, stack, org)
    settings_language_and_deactivation(walk, stack, org)


def activate(walk: Walk, stack: Stack, org: str, company: Company) -> None:
    # Steg 2: Aktivera & verifiera integrationen i BackOffice. (Steg 1 happened in BL: the company is activated.)
    walk.goto(stack.signin(org))
    walk.page.wait_for_url(f"**/card/{org}/")  # the sign-in page moves on by itself, with the session cookie
    assert "Inte aktiverad" in walk.text()
    walk.checkpoint("integrationer")
    walk.link("Aktivera")
    assert "Låt oss börja" in walk.text()
    walk.checkpoint("introduktion")
    walk.link("Låt oss börja")
    walk.checkpoint("publik-nyckel")
    key_field = "Ange din publika nyckel som finns att hämta hos Björn Lundén"
    walk.fill(key_field, "inte-en-nyckel")
    walk.button("Verifiera")
    assert "Nyckeln har fel format" in walk.text()
    walk.checkpoint("nyckel-fel-format")
    walk.fill(key_field, str(uuid.uuid4()))
    walk.button("Verifiera")
    assert "Björn Lundén känner inte igen nyckeln" in walk.text()
    walk.checkpoint("nyckel-okand")
    walk.fill(key_field, company.user_key)
    walk.button("Verifiera")
    assert "Nyckeln är verifierad: Kafé Linnéa AB (5567891238)." in walk.text()
    walk.checkpoint("nyckel-verifierad")
    walk.link("Nästa")
    walk.fill(
        "Fyll i startdatum från när din försäljningsdata ska exporteras till Björn Lundén för att bokföras",
        days_ago(3).isoformat(),
    )
    walk.checkpoint("startdatum")
    walk.button("Nästa")


def account_plan(walk: Walk) -> None:
    # Steg 3: Skapa en kontoplan: Betalningsmetoder, Moms-satser, Varugrupper, Övriga händelser.
    assert "Betalningsmetoder" in walk.text() and "Kassa" in walk.text()  # 1910, with its name from BL's chart
    walk.checkpoint("betalningsmetoder")
    walk.button("Nästa")
    assert "Utgående moms på försäljning inom Sverige, 6 %" in walk.text()
    walk.checkpoint("moms-satser")
    walk.button("Nästa")
    page = squash(walk.text())
    assert "books – 6 % moms" in page and "coffee – 12 % moms" in page  # groups at the rates they were sold at
    walk.checkpoint("varugrupper")
    # A 6 % group without an account: refused before anything is exported.
    walk.fill("Försäljning 6 % moms", "")
    walk.fill("books – 6 % moms", "")
    walk.button("Nästa")
    assert "Ange ett konto." in walk.text()
    walk.checkpoint("varugrupper-konto-saknas")
    # A 6 % group on the 12 % sales account: BL's VAT code says otherwise, refused before it is saved.
    walk.fill("books – 6 % moms", "3002")
    walk.button("Nästa")
    assert "Kontots momskod stämmer inte med momssatsen" in walk.text()
    walk.checkpoint("varugrupper-fel-momssats")
    walk.fill("books – 6 % moms", "3003")
    walk.button("Nästa")
    assert "Dricks" in walk.text()
    walk.checkpoint("ovriga-handelser")
    walk.button("Nästa")


def booked_days_and_the_banner(walk: Walk, stack: Stack, org: str, company: Company) -> None:
    # Integrationen är aktiverad: the closed day since the start date is exported.
    assert "Integrationen är aktiverad" in walk.text()
    walk.checkpoint("integrationen-ar-aktiverad")
    walk.link("OK")
    stack.booked(org, 1, "the first day booked on activation")
    wait_text(walk, "verifikation D 1")
    assert "Aktiv sedan" in walk.text()
    walk.checkpoint("aktiv-forsta-export")

    # A day closed on the POS side: the card shows its voucher.
    second = store_day(org, STORE, days_ago(2), 10, seed=2, store_name="Kafé Linnéa Centrum", z_report_number=2)
    stack.publish(*second.events(), second.day_closed())
    stack.booked(org, 2, "the second day booked")
    wait_text(walk, "verifikation D 2")
    walk.checkpoint("dagsavslut-bokfort")

    # Felmeddelanden: the fiscal year closed in BL → banner → Visa → fixed in BL → the retry → the banner gone.
    company.close_financial_year(days_ago(1))
    third = store_day(org, STORE, days_ago(1), 8, seed=3, store_name="Kafé Linnéa Centrum", z_report_number=3)
    stack.publish(*third.events(), third.day_closed())
    stack.booked(org, 1, "the closed year reported", status="FAILED")
    wait_text(walk, "Räkenskapsåret är stängt")
    walk.checkpoint("banner")
    walk.link("Visa")
    page = squash(walk.text())
    assert "Vad har hänt" in page and "Öppna räkenskapsåret" in page
    assert f"Butik Kafé Linnéa Centrum, {days_ago(1).isoformat()}" in page
    walk.checkpoint("notifikation-visa")
    company.open_financial_year(days_ago(1))  # the merchant's fix, in BL
    walk.button("Försök igen")
    assert "Exporten görs om" in walk.text()
    stack.booked(org, 3, "the third day booked after the fix")
    walk.link("Integrationer")
    wait_text(walk, "verifikation D 3")
    assert "Räkenskapsåret är stängt" not in walk.text()
    walk.checkpoint("banner-borta")
    walk.link("Notifikationer")
    page = squash(walk.text())
    assert "Räkenskapsåret är stängt" in page and "Bokförd i Björn Lundén: verifikation D 3" in page
    walk.checkpoint("notifikationer")
    walk.link("Integrationer")


def manual_export(walk: Walk, stack: Stack, org: str, company: Company) -> None:
    # Manuell export → Bekräfta → the result; the day close then books only what is new.
    today = store_day(
        org, STORE, days_ago(0), 6, seed=4, store_name="Kafé Linnéa Centrum", z_report_number=4, with_extras=False
    )
    early, late = today.receipts[:3], today.receipts[3:]
    before = stack.stored_sales(org)
    stack.publish(*early)
    stack.harness.wait_stored(org, before + len(early))  # the POS sent them before the merchant clicks
    walk.menu("Manuell export")
    assert "Bekräfta" in walk.text()
    walk.checkpoint("manuell-export")
    walk.button("Bekräfta")
    stack.booked(org, 4, "the manual export booked")
    wait_text(walk, "Exporten är klar.")
    assert "verifikation D 4" in walk.text()
    walk.checkpoint("manuell-export-resultat")
    stack.publish(*late, today.day_closed())
    stack.booked(org, 5, "today's day close booked")
    vouchers = stack.bl.vouchers(company.user_key)
    assert len(vouchers) == 5
    assert booked_totals(vouchers[3:4]) == expected_totals(early)
    assert booked_totals(vouchers[4:5]) == expected_totals([*late, today.day_closed()])  # only the new sales
    walk.link("OK")


def history(walk: Walk, stack: Stack, org: str) -> None:
    # Historik: vouchers with their day reports; a correction requested with a reason, reversed and re-booked.
    walk.menu("Historik")
    report = walk.page.get_by_role("link", name="Dagrapport för verifikation D 2")
    pdf = walk.context.request.get(urljoin(walk.page.url, report.get_attribute("href") or ""))  # with the cookie
    assert pdf.headers["content-type"] == "application/pdf"
    assert "D 2" in "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.body())).pages)
    walk.checkpoint("historik")
    walk.press(
        walk.page.get_by_role("row").filter(has_text=days_ago(2).isoformat()).get_by_role("link", name="Begär rättelse")
    )
    walk.fill("Varför ska dagen rättas?", "Swish bokfördes på fel konto")
    walk.checkpoint("begar-rattelse")
    walk.button("Begär rättelse")
    assert "Rättelsen är begärd" in walk.text()
    stack.booked(org, 7, "the reversal and the new voucher")
    wait_text(walk, "D 7")  # reloads: the reversal D 6 and the day booked anew as D 7
    page = squash(walk.text())
    assert "vänder D 2" in page and "Skickas" not in page
    assert page.count("Rättelse: ”Swish bokfördes på fel konto” (anna.andersson)") == 2  # the reversal and the new
    walk.checkpoint("historik-rattelse")


def settings_language_and_deactivation(walk: Walk, stack: Stack, org: str) -> None:
    # Inställningar: a payment method the POS registered is highlighted until it has an account.
    httpx.post(
        f"{stack.api_url}/v1/organizations/{org}/bjorn-lunden/registered-items",
        json={"payment_methods": [{"code": "klarna", "name": "Klarna"}]},
        headers=bearer(org),
        timeout=10,
    ).raise_for_status()
    walk.link("Integrationer")
    assert "Nya betalningsmetoder eller varugrupper behöver bokföringskonton." in walk.text()
    walk.menu("Inställningar")
    assert "Ny – behöver ett konto" in walk.text()
    walk.checkpoint("installningar-ny-betalningsmetod")
    walk.fill("Klarna Ny – behöver ett konto", "1580")
    walk.button("Spara")
    assert "Inställningarna är sparade." in walk.text()

    # The English switch, and back.
    walk.button("English")
    assert "Active since" in walk.text()
    walk.checkpoint("english")
    walk.button("Svenska")

    # Inaktivera integrationen: confirm by pressing Inaktivera.
    walk.menu("Inaktivera")
    walk.checkpoint("inaktivera")
    walk.button("Inaktivera")
    assert "Integrationen är inaktiverad." in walk.text()
    walk.checkpoint("inaktiverad")

    # Another organization's pages are closed to this session.
    walk.goto(walk.page.url.split("/card/")[0] + "/card/org-someone-else/history")
    assert "Du har inte behörighet till den här sidan." in walk.text()
