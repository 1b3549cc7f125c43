"""A fake of the exporter (:class:`service.exporter.Exporter`): BL as the test tells it to answer, counting its
requests the way the BL adapter makes them, and dying where the test says (:class:`Crash`)."""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from datetime import date

from mapping.periods import FiscalYear
from mapping.plan import AccountPlan
from mapping.voucher import Voucher
from service.exporter import (
    AttachedDocument,
    Attachment,
    BookedVoucher,
    ChartNames,
    CompanyDetails,
    ExportError,
    Fence,
    VoucherLocation,
)
from tests.unit.service.fakes.edges import Crash


@dataclass
class FakeExporter:
    """BL as the test tells it to answer: ``failures`` are raised by ``export`` in turn, then it books.

    Like BL, it keeps what was booked and attached, and it counts its requests the way the BL adapter would make
    them: a look-up before a post unless the caller proved none was attempted (``maybe_posted=False``), and a
    read-back before an attach unless the caller proved none was attempted and knew the voucher's entity id.
    ``preflight_failures`` are raised by ``preflight`` in turn."""

    failures: list[ExportError] = field(default_factory=list)
    attach_failures: list[ExportError] = field(default_factory=list)
    preflight_failures: list[ExportError] = field(default_factory=list)
    posted: list[Voucher] = field(default_factory=list)
    attached: list[str] = field(default_factory=list)
    on_export: Callable[[Voucher], None] = lambda _voucher: None
    #: Every request in order: "look up", "post", "read back", "attach".
    requests: list[str] = field(default_factory=list)
    #: What each ``export`` call was told of the last post's age (``last_post_s_ago``).
    last_post_ages: list[float | None] = field(default_factory=list)
    #: ... and of the last attach attempt's (``last_attempt_s_ago``).
    last_attach_ages: list[float | None] = field(default_factory=list)
    #: Where the process dies (:class:`Crash`), each once: "before post" (after the caller recorded it), "after post"
    #: (BL booked it; the answer never arrives), "before attach", "after attach" (BL attached it).
    crashes: set[str] = field(default_factory=set)

    def _crash(self, point: str) -> None:
        if point in self.crashes:
            self.crashes.discard(point)
            raise Crash(point)

    def verify(self, user_key: str) -> CompanyDetails:
        return CompanyDetails("AB", "5560000000")

    def preflight(
        self, voucher: Voucher, user_key: str, plan: AccountPlan | None = None, *, org: str | None = None
    ) -> None:
        if self.preflight_failures:
            raise self.preflight_failures.pop(0)

    def export(
        self,
        voucher: Voucher,
        user_key: str,
        attachment: Attachment | None = None,
        *,
        maybe_posted: bool = True,
        last_post_s_ago: float | None = None,
        org: str | None = None,
        fence: Fence | None = None,
    ) -> BookedVoucher:
        self.on_export(voucher)
        self.last_post_ages.append(last_post_s_ago)
        if maybe_posted:
            self.requests.append("look up")
            found = [i for i, v in enumerate(self.posted) if v.reference == voucher.reference]
            if found:
                return self._booked(voucher, found[0] + 1, already_existed=True)
        self._crash("before post")
        if fence is not None:
            fence()
        self.requests.append("post")
        if self.failures:
            raise self.failures.pop(0)
        self.posted.append(voucher)
        self._crash("after post")
        return self._booked(voucher, len(self.posted), already_existed=False)

    @staticmethod
    def _booked(voucher: Voucher, number: int, already_existed: bool) -> BookedVoucher:
        return BookedVoucher(
            voucher.series, number, voucher.entry_date, voucher.reference, already_existed, entity_id=50_000 + number
        )

    def fiscal_years(self, user_key: str, *, fresh: bool = False) -> list[FiscalYear]:
        return []

    def fiscal_year_for(self, user_key: str, day: date, *, org: str | None = None) -> FiscalYear | None:
        return None

    def chart_names(
        self, user_key: str, accounts: Collection[str], cost_centres: Collection[str] = (), *, org: str | None = None
    ) -> ChartNames:
        return ChartNames()

    def attach_document(
        self,
        user_key: str,
        voucher: VoucherLocation,
        attachment: Attachment,
        *,
        maybe_attached: bool = True,
        last_attempt_s_ago: float | None = None,
        fence: Fence | None = None,
    ) -> AttachedDocument:
        self.last_attach_ages.append(last_attempt_s_ago)
        if maybe_attached or voucher.entity_id is None:
            self.requests.append("read back")
            if attachment.filename in self.attached:
                return AttachedDocument(self.attached.index(attachment.filename) + 1, attachment.filename, True)
        self._crash("before attach")
        if fence is not None:
            fence()
        self.requests.append("attach")
        if self.attach_failures:
            raise self.attach_failures.pop(0)
        self.attached.append(attachment.filename)
        self._crash("after attach")
        return AttachedDocument(len(self.attached), attachment.filename, False)
