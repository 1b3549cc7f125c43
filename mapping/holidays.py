"""Swedish public holidays and the day a statutory deadline falls on. Pure.

Lag (1989:253) om allmänna helgdagar lists the holidays: nyårsdagen (1 January), trettondedag jul (6 January),
långfredagen, påskdagen, annandag påsk, Kristi himmelsfärdsdag (Easter + 39 days), första maj, pingstdagen
(Easter + 49 days), Sveriges nationaldag (6 June), midsommardagen (the Saturday 20–26 June), alla helgons dag
(the Saturday 31 October–6 November), juldagen and annandag jul; every Sunday is a holiday too.

Lag (1930:173) om beräkning av lagstadgad tid, 2 §: when the last day for something due by law falls on a
Saturday, a Sunday or another public holiday, midsommarafton, julafton or nyårsafton, it may be done on the
next weekday. Skatteverket applies it to the VAT return's deadline (rättslig vägledning, "Skatten ska betalas
samma dag som den ska redovisas": "Om den ordinarie förfallodagen infaller på en helgdag så blir förfallodagen
nästa vardag (2 § lag [1930:173] om lagstadgad tid)").
"""

from __future__ import annotations

from datetime import date, timedelta

SATURDAY, SUNDAY = 5, 6


def easter_sunday(year: int) -> date:
    """Påskdagen: the Gregorian computus (the anonymous algorithm, as in Meeus, Astronomical Algorithms)."""
    a, b, c = year % 19, year // 100, year % 100
    d, e = divmod(b, 4)
    g = (8 * b + 13) // 25
    h = (19 * a + b - d - g + 15) % 30
    i, k = divmod(c, 4)
    weekday_offset = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 19 * weekday_offset) // 433
    month = (h + weekday_offset - 7 * m + 90) // 25
    day = (h + weekday_offset - 7 * m + 33 * month + 19) % 32
    return date(year, month, day)


def _saturday_between(first: date) -> date:
    """The Saturday in the seven days from ``first``."""
    return first + timedelta(days=(SATURDAY - first.weekday()) % 7)


def public_holidays(year: int) -> frozenset[date]:
    """The year's public holidays other than ordinary Sundays (lag 1989:253)."""
    easter = easter_sunday(year)
    return frozenset(
        {
            date(year, 1, 1),
            date(year, 1, 6),
            easter - timedelta(days=2),
            easter,
            easter + timedelta(days=1),
            easter + timedelta(days=39),
            date(year, 5, 1),
            easter + timedelta(days=49),
            date(year, 6, 6),
            _saturday_between(date(year, 6, 20)),
            _saturday_between(date(year, 10, 31)),
            date(year, 12, 25),
            date(year, 12, 26),
        }
    )


def _eves(year: int) -> frozenset[date]:
    """Midsommarafton (the Friday before midsommardagen), julafton and nyårsafton: not holidays, but 2 § of
    lag (1930:173) moves a deadline off them too."""
    midsummer = _saturday_between(date(year, 6, 20))
    return frozenset({midsummer - timedelta(days=1), date(year, 12, 24), date(year, 12, 31)})


def deadline_moves_off(day: date) -> bool:
    """True when a deadline falling on ``day`` moves to the next weekday (lag 1930:173, 2 §)."""
    return day.weekday() in (SATURDAY, SUNDAY) or day in public_holidays(day.year) or day in _eves(day.year)


def statutory_deadline(day: date) -> date:
    """``day``, or the next weekday a deadline falling on it moves to."""
    while deadline_moves_off(day):
        day += timedelta(days=1)
    return day
