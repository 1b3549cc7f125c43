"""The day report's underlag for every row of its voucher (issue #21, finding 5): the sections an auditor ties the
rows to, drawn with the report's own primitives (:class:`Sheet`: heading, pair, note, table).

* **Betalningar och försäljning**: payments per method, by name, and how they tie to the gross sales:
  gross sales + tips + öre rounding = payments (the 1686/1910/1930 rows, the 2829 and 3740 rows);
* **Kassan**: every term of the drawer formula for the register's whole day — opening float, cash takings, cash
  returns, deposits, withdrawals, float changes, tips paid out, expected, counted, the difference — and the part of
  the difference earlier Z-reports of the day booked (the 6990/3999 row);
* **Kassakedjan**: the register's opening float against the previous Z-report's count (:mod:`mapping.cashchain`);
* **In- och uttag ur kassan**, **Förfallna presentkort**: each movement and each expired card (the 1930, 2829, 2421,
  3990 rows).

Pure: the figures are computed by the adapter (:mod:`exporters.reporting`) and drawn here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


class Sheet(Protocol):
    """The report's drawing primitives (:class:`exporters.dayreport._Writer`)."""

    def heading(self, text: str) -> None: ...

    def pair(self, label: str, value: str) -> None: ...

    def note(self, text: str) -> None: ...

    def table(self, header: list[str], body: list[list[str]], widths: list[float]) -> None: ...


@dataclass(frozen=True, slots=True)
class Drawer:
    """The drawer formula's terms for the register's whole business day, in öre (withdrawals etc. positive)."""

    opening_float: int
    cash_takings: int
    cash_returns: int
    deposits: int
    withdrawals: int
    float_changes: int
    tip_payouts: int
    expected: int
    counted: int
    #: The part of the day's cash difference earlier Z-reports of the day booked.
    booked_before: int = 0

    @property
    def difference(self) -> int:
        return self.counted - self.expected


@dataclass(frozen=True, slots=True)
class Books:
    """What the voucher's rows rest on, besides the receipts and the Z-report's control totals."""

    #: (payment method name, öre) of the sales this voucher books, net of returns.
    payments: tuple[tuple[str, int], ...]
    gross_sales: int
    tips: int
    rounding: int
    #: (what, id, öre as it changes the till) of each cash movement this voucher books.
    movements: tuple[tuple[str, str, int], ...] = ()
    #: (card id, type, balance öre, VAT held öre) of each gift card expiry this voucher books.
    expired: tuple[tuple[str, str, int, int], ...] = ()
    drawer: Drawer | None = None
    cash_chain: str | None = None

    @property
    def payments_total(self) -> int:
        return sum(amount for _, amount in self.payments)


def draw(sheet: Sheet, books: Books, kronor: KronorFn) -> None:
    """The sections, in the order an auditor reads the voucher's rows."""
    _sales(sheet, books, kronor)
    if books.drawer is not None:
        _drawer(sheet, books.drawer, kronor)
    if books.cash_chain:
        sheet.heading("Kassakedjan (från föregående Z-rapport)")
        sheet.note(books.cash_chain)
    if books.movements:
        sheet.heading("In- och uttag ur kassan")
        body = [[what, ident, kronor(amount)] for what, ident, amount in books.movements]
        sheet.table(["Händelse", "Id", "Belopp"], body, widths=[170, 230, 90])
    if books.expired:
        sheet.heading("Förfallna presentkort")
        body = [[ident, kind, kronor(amount), kronor(vat)] for ident, kind, amount, vat in books.expired]
        sheet.table(["Kort", "Slag", "Saldo", "Moms redovisad vid försäljning"], body, widths=[150, 150, 80, 110])


class KronorFn(Protocol):
    def __call__(self, amount_ore: int) -> str: ...


def _sales(sheet: Sheet, books: Books, kronor: KronorFn) -> None:
    sheet.heading("Betalningar och försäljning i denna verifikation")
    sheet.table(["Betalsätt", "Belopp"], [[name, kronor(amount)] for name, amount in books.payments], [240, 120])
    sheet.pair("Bruttoförsäljning (varor inkl. moms)", kronor(books.gross_sales) + " kr")
    sheet.pair("+ Dricks (skuld till personalen)", kronor(books.tips) + " kr")
    sheet.pair("+ Öresavrundning", kronor(books.rounding) + " kr")
    sheet.pair("= Betalningar", kronor(books.payments_total) + " kr")
    if books.gross_sales + books.tips + books.rounding != books.payments_total:  # pragma: no cover - receipts add up
        sheet.note("OBS: betalningarna stämmer inte med försäljningen.")


def _drawer(sheet: Sheet, d: Drawer, kronor: KronorFn) -> None:
    sheet.heading("Kassan: hela dagens kassaflöde (kassaregistret)")
    for label, amount in (
        ("Ingående växelkassa", d.opening_float),
        ("+ Kontant försäljning", d.cash_takings),
        ("− Kontant återbetalt vid returer", d.cash_returns),
        ("+ Insättningar i kassan", d.deposits),
        ("− Uttag ur kassan", d.withdrawals),
        ("± Växelkassa ändrad", d.float_changes),
        ("− Dricks utbetald kontant", d.tip_payouts),
        ("= Förväntat i kassan", d.expected),
        ("Räknat i kassan", d.counted),
    ):
        sheet.pair(label, kronor(amount) + " kr")
    word = "Kassabrist" if d.difference < 0 else "Kassaöverskott" if d.difference > 0 else "Kassadifferens"
    sheet.pair(f"{word} (räknat − förväntat)", kronor(d.difference) + " kr")
    if d.booked_before:
        sheet.pair("Därav bokfört med tidigare Z-rapport", kronor(d.booked_before) + " kr")
        sheet.pair("Bokförs i denna verifikation", kronor(d.difference - d.booked_before) + " kr")
