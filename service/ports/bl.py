"""What the API's handlers ask BL, each question a port of its own so a handler names only what it asks and a test fakes
only that: whose books a key opens (:class:`KeyVerifier`), the company's chart (:class:`ChartReader`), its fiscal years
(:class:`FiscalYearReader`). Implemented by :class:`exporters.bl.directory.BLExporterDirectory` (the API's
:class:`service.exporter.BLDirectory`, built in :func:`dayclose.bootstrap.build_api`). A failure is an
:class:`service.exporter.ExportError`."""

from __future__ import annotations

from typing import Protocol

from mapping.periods import FiscalYear
from service.exporter import Chart, CompanyDetails


class KeyVerifier(Protocol):
    def verify(self, user_key: str) -> CompanyDetails:
        """The company whose books ``user_key`` opens (BL's ``GET /details``)."""
        ...


class ChartReader(Protocol):
    def chart(self, user_key: str) -> Chart:
        """The company's accounts and cost centres, open or closed, and the accounts' VAT codes."""
        ...


class CompanyBooks(KeyVerifier, ChartReader, Protocol):
    """Both: the wizard's activation asks whether the key still opens the books, then the chart."""


class FiscalYearReader(Protocol):
    def fiscal_years(self, user_key: str) -> list[FiscalYear]:
        """The company's fiscal years with their locked periods (which dates BL still takes vouchers on)."""
        ...
