"""The seed data of a fresh stand-in company: a slice of the BAS chart, series, cost centres."""

from __future__ import annotations

#: account → name: the BAS accounts a POS day close commonly touches, plus a few neighbours.
BAS_ACCOUNTS: dict[str, str] = {
    "1460": "Lager av handelsvaror",
    "1510": "Kundfordringar",
    "1580": "Fordringar för kontokort och kuponger",
    "1610": "Kortfristiga fordringar hos anställda",
    "1910": "Kassa",
    "1920": "PlusGiro",
    "1930": "Företagskonto / checkkonto / affärskonto",
    "1940": "Övriga bankkonton",
    "2421": "Ej inlösta presentkort",
    "2440": "Leverantörsskulder",
    "2611": "Utgående moms på försäljning inom Sverige, 25 %",
    "2621": "Utgående moms på försäljning inom Sverige, 12 %",
    "2631": "Utgående moms på försäljning inom Sverige, 6 %",
    "2640": "Ingående moms",
    "2650": "Redovisningskonto för moms",
    "2710": "Personalskatt",
    "2890": "Övriga kortfristiga skulder (dricks till personal)",
    "2893": "Skulder till närstående personer, kortfristig del",
    "3001": "Försäljning inom Sverige, 25 % moms",
    "3002": "Försäljning inom Sverige, 12 % moms",
    "3003": "Försäljning inom Sverige, 6 % moms",
    "3004": "Försäljning inom Sverige, momsfri",
    "3041": "Försäljning tjänster inom Sverige, 25 % moms",
    "3590": "Övriga sidointäkter",
    "3730": "Lämnade rabatter",
    "3740": "Öres- och kronutjämning",
    "3960": "Valutakursvinster på fordringar och skulder av rörelsekaraktär",
    "3990": "Övriga ersättningar och intäkter (förfallna presentkort)",
    "4010": "Inköp av handelsvaror",
    "6060": "Kreditförsäljningskostnader",
    "6570": "Bankkostnader",
    "7690": "Övriga personalkostnader",
    "8999": "Årets resultat",
}

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
