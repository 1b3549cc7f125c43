"""The seed data of a fresh stand-in company: a slice of the BAS 2026 chart, series, cost centres.

Account names are BAS 2026's (bas.se, "Kontoplan BAS 2026"). BAS 2026 has no account named
kassadifferens: a cash shortage goes to a cost account (6990 here) and an overage to an income account
(3999 here), as many Swedish charts do. 1580 is kept under its pre-2026 BAS name because companies set up
before 2026 still have it (BAS 2026 moved card receivables to 1686).

Each account carries BL's one-character ``vatCode`` (see mapping/vatcodes.py for what is known of
it): the sales accounts of the three VAT rates carry 1, 2 and 3, every other account 0 (no VAT code).
"""

from __future__ import annotations

#: account → name: the BAS accounts a POS day close commonly touches, plus a few neighbours.
BAS_ACCOUNTS: dict[str, str] = {
    "1460": "Lager av handelsvaror",
    "1510": "Kundfordringar",
    "1580": "Fordringar för kontokort och kuponger",
    "1610": "Kortfristiga fordringar hos anställda",
    "1686": "Fordringar för kontokort och kuponger",
    "1910": "Kassa",
    "1911": "Huvudkassa",
    "1912": "Kassa 2",
    "1920": "PlusGiro",
    "1930": "Företagskonto",
    "1940": "Övriga bankkonton",
    "2420": "Förskott från kunder",
    "2421": "Ej inlösta presentkort",
    "2429": "Övriga förskott från kunder",
    "2440": "Leverantörsskulder",
    "2611": "Utgående moms på försäljning inom Sverige, 25 %",
    "2621": "Utgående moms på försäljning inom Sverige, 12 %",
    "2631": "Utgående moms på försäljning inom Sverige, 6 %",
    "2640": "Ingående moms",
    "2650": "Redovisningskonto för moms",
    "2710": "Personalskatt",
    "2820": "Kortfristiga skulder till anställda",
    "2829": "Övriga kortfristiga skulder till anställda",
    "2890": "Övriga kortfristiga skulder",
    "2893": "Skulder till närstående personer, kortfristig del",
    "3001": "Försäljning inom Sverige, 25 % moms",
    "3002": "Försäljning inom Sverige, 12 % moms",
    "3003": "Försäljning inom Sverige, 6 % moms",
    "3004": "Försäljning inom Sverige, momsfri",
    "3590": "Övriga fakturerade kostnader",
    "3690": "Övriga sidointäkter",
    "3730": "Lämnade rabatter",
    "3740": "Öres- och kronutjämning",
    "3790": "Övriga intäktskorrigeringar",
    "3960": "Valutakursvinster på fordringar och skulder av rörelsekaraktär",
    "3990": "Övriga ersättningar, bidrag och intäkter",
    "3999": "Övriga rörelseintäkter",
    "4010": "Inköp av handelsvaror i Sverige",
    "6040": "Kontokortsavgifter",
    "6060": "Kreditförsäljningskostnader",
    "6570": "Bankkostnader",
    "6990": "Övriga externa kostnader",
    "6991": "Övriga externa kostnader, avdragsgilla",
    "7690": "Övriga personalkostnader",
    "7990": "Övriga rörelsekostnader",
    "8999": "Årets resultat",
}

#: account → BL vatCode, where it is not "0": the sales accounts of VAT rates 1, 2 and 3 (25, 12, 6 %).
VAT_CODES: dict[str, str] = {"3001": "1", "3002": "2", "3003": "3"}

#: series id → name. "A" is BL's main series; the others are what POS integrations tend to use.
SERIES: dict[str, str] = {
    "A": "Huvudserie",
    "B": "Kundfakturor",
    "D": "Dagskassa",
    "K": "Kassa",
}

COST_CENTRES: dict[str, str] = {
    "1": "Huvudkontor",
    "S1": "Butik 1",
    "S2": "Butik 2",
}

#: Calendar fiscal years seeded for every company: fixed, so tests do not depend on today's date.
DEFAULT_FISCAL_YEARS: tuple[int, ...] = (2024, 2025, 2026, 2027)
