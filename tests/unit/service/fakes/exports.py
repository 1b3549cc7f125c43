"""Fakes of the integrations and exports ports (:mod:`service.ports.exports`) over the fake tables: an export
claims the unexported sales of its register-day, and each step of its life is a named write."""

from __future__ import annotations

import uuid
from collections.abc import Collection, Mapping, Sequence
from dataclasses import replace
from datetime import date, timedelta

from mapping.plan import AccountPlan
from mapping.totals import DayTotals
from mapping.voucher import Voucher
from service.exporter import BookedVoucher
from service.messages import Detail, SalesItem, Trigger
from service.model import Export, ExportStatus, Integration, Lease, LeaseTaken, StoredDayClose
from tests.unit.service.fakes.tables import Day, Repo, Row, day_of


class FakeIntegrations(Repo):
    def get(self, org: str, *, lock: bool = False) -> Integration | None:
        return self.t.integrations.get(org)

    def plan(self, org: str) -> AccountPlan | None:
        return self.t.plans.get(org)

    def known(self, orgs: Collection[str]) -> set[str]:
        return set(orgs) & set(self.t.integrations)

    def single_purpose(self, orgs: Collection[str]) -> dict[str, Mapping[str, int]]:
        return {org: dict(p.single_purpose_methods) if (p := self.t.plans.get(org)) else {} for org in orgs}


class FakeExports(Repo):
    def open(self, org: str, store: str) -> list[Export]:
        return [
            r.export
            for r in self.t.exports.values()
            if (r.export.organization_id, r.export.store_id) == (org, store) and r.export.status != ExportStatus.BOOKED
        ]

    def fresh_invoices(self, org: str, store: str) -> list[Export]:
        return [
            e
            for e in self.open(org, store)
            if e.invoice is not None and e.attempts == 0 and e.status == ExportStatus.POSTING
        ]

    def unexported_dates(self, org: str, store: str, since: date, until: date) -> list[tuple[date, str]]:
        return sorted(
            (d, r)
            for (o, s, d, r), items in self.t.unexported.items()
            if (o, s) == (org, store) and items and since <= d <= until
        )

    def has_unexported(self, org: str, store: str, day: date, *, register: str = "") -> bool:
        return bool(self.t.unexported.get((org, store, day, register)))

    def claim(
        self,
        org: str,
        store: str,
        day: date,
        trigger: Trigger,
        z_report_number: int | None,
        *,
        include_day_close: bool,
        single_purpose: Mapping[str, int] = {},  # noqa: B006 - read only
        register: str = "",
        complements_z: int | None = None,
    ) -> Export | None:
        key = (org, store, day, register)
        items = self.t.unexported.pop(key, [])
        if not items and not include_day_close:
            return None
        export_id = uuid.uuid4()
        claimed = DayTotals.of(store, day, items, single_purpose, register_id=register)
        whole = DayTotals.of(store, day, [*self._day_items(key), *items], single_purpose, register_id=register)
        complements = None if include_day_close else complements_z
        export = Export(
            export_id,
            "DC-" + export_id.hex[:16],
            org,
            store,
            day,
            trigger,
            ExportStatus.POSTING,
            0,
            None,
            claimed,
            whole,
            register,
            complements,
        )
        self.t.claimed[export_id] = list(items)
        self.t.exports[export_id] = Row(
            replace(export, totals=None, day=None), z_report_number=z_report_number if include_day_close else None
        )
        if include_day_close and z_report_number is not None:
            self.t.booked_z[(org, store, day, z_report_number, register)] = export_id
        self.uow.wrote("exports.claim", "unexported", "claimed", "exports", "booked_z")
        return export

    def _day_items(self, day: Day) -> list[SalesItem]:
        return [
            item
            for export_id, items in self.t.claimed.items()
            if day_of(self.t.exports[export_id].export) == day
            for item in items
        ]

    def totals(self, export: Export, single_purpose: Mapping[str, int]) -> DayTotals:
        return DayTotals.of(
            export.store_id,
            export.business_date,
            self.t.claimed.get(export.export_id, []),
            single_purpose,
            register_id=export.register_id,
        )

    def resum(self, export: Export, single_purpose: Mapping[str, int]) -> DayTotals:
        return self.totals(export, single_purpose)

    def day_snapshot(self, export: Export) -> DayTotals | None:
        return DayTotals.of(
            export.store_id, export.business_date, self._day_items(day_of(export)), register_id=export.register_id
        )

    def day_close(self, export: Export) -> StoredDayClose | None:
        z = self.t.exports[export.export_id].z_report_number
        if z is None:
            return None
        return self.t.day_closes.get((export.organization_id, export.store_id, export.business_date, z,
                                      export.register_id))  # fmt: skip

    def store_name(self, org: str, store: str) -> str:
        return store

    def posting_voucher(self, export: Export) -> tuple[Voucher, int] | None:
        row = self.t.exports[export.export_id]
        if row.export.status != ExportStatus.POSTING or row.voucher is None:
            return None
        return row.voucher, row.receipt_count

    def stored_voucher(self, export: Export) -> Voucher:
        voucher = self.t.exports[export.export_id].voucher
        if voucher is None:
            raise LookupError(export.export_id)
        return voucher

    def take_lease(
        self, export: Export, owner: str, lease: timedelta, voucher: Voucher, receipt_count: int
    ) -> LeaseTaken:
        row = self.t.exports[export.export_id]
        if row.lease_owner not in (None, owner):
            return LeaseTaken(Lease.HELD_ELSEWHERE)
        before, row.post_attempted = row.post_attempted, True
        # An attempt that ended cleared the owner; one taken over (a crash) left it: its post may still be on its way.
        taken_over = row.lease_owner is not None
        row.lease_owner, row.voucher, row.receipt_count = owner, voucher, receipt_count
        self.uow.wrote("exports.take_lease", "exports")
        if not before:
            return LeaseTaken(Lease.FIRST_POST)
        ended = row.attempt_ended
        since = 0.0 if taken_over or ended is None else (self.t.now - ended).total_seconds()
        return LeaseTaken(Lease.POSTED_BEFORE, since)

    def let_go(self, export: Export, owner: str) -> None:
        row = self.t.exports[export.export_id]
        if row.lease_owner == owner:
            row.lease_owner, row.attempt_ended = None, self.t.now
        self.uow.wrote("exports.let_go", "exports")

    def mark_booked(self, export: Export, booked: BookedVoucher, voucher: Voucher, receipt_count: int) -> None:
        row = self.t.exports[export.export_id]
        row.export = replace(row.export, status=ExportStatus.BOOKED, attempts=row.export.attempts + 1, reason_code=None)
        row.booked, row.voucher, row.lease_owner = booked, voucher, None
        self.uow.wrote("exports.mark_booked", "exports")

    def mark_failed(self, export: Export, status: ExportStatus, reason_code: str, details: Sequence[Detail]) -> None:
        row = self.t.exports[export.export_id]
        row.export = replace(row.export, status=status, attempts=row.export.attempts + 1, reason_code=reason_code)
        row.reason_details, row.lease_owner, row.attempt_ended = tuple(details), None, self.t.now
        self.uow.wrote("exports.mark_failed", "exports")

    def release_empty(self, export: Export, reason_code: str = "NOTHING_TO_BOOK") -> None:
        row = self.t.exports[export.export_id]
        row.export = replace(row.export, status=ExportStatus.BOOKED, reason_code=reason_code)
        self.uow.wrote("exports.release_empty", "exports")

    def vat_adjustment(self, export: Export) -> dict[int, int]:
        return dict(self.t.exports[export.export_id].vat_adjustment)

    def set_vat_adjustment(self, export: Export, by_rate: dict[int, int]) -> None:
        self.t.exports[export.export_id].vat_adjustment = dict(by_rate)
        self.uow.wrote("exports.set_vat_adjustment", "exports")

    def booked_vat_adjustments(
        self, org: str, store: str, day: date, *, besides: uuid.UUID | None, register: str = ""
    ) -> dict[int, int]:
        return {}
