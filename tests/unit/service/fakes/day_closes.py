"""A fake of the day closes port (:class:`service.ports.DayCloses`) over the fake tables: the register's Z-reports,
their statuses and the checks of their sequence and cash chain (without watermarks)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from mapping.cashchain import CashChainLink
from service.model import DayCloseStatus, StoredDayClose
from service.ports import ChainEnd
from tests.unit.service.fakes.tables import CloseKey, Repo


class FakeDayCloses(Repo):
    def get(
        self, org: str, store: str, day: date, z_report_number: int | None = None, *, register: str = ""
    ) -> StoredDayClose | None:
        found = sorted(
            (z, c)
            for (o, s, d, z, r), c in self.t.day_closes.items()
            if (o, s, d, r) == (org, store, day, register) and z_report_number in (None, z)
        )
        return found[-1][1] if found else None

    def _key(self, org: str, close: StoredDayClose) -> CloseKey:
        dc = close.day_close
        return org, dc.store_id, dc.business_date, dc.z_report_number, dc.register_id

    def later_exists(self, org: str, close: StoredDayClose) -> bool:
        o, s, d, z, r = self._key(org, close)
        return any(k[:3] == (o, s, d) and k[4] == r and k[3] > z for k in self.t.day_closes)

    def set_status(self, org: str, close: StoredDayClose, status: DayCloseStatus) -> None:
        key = self._key(org, close)
        self.t.day_closes[key] = replace(self.t.day_closes[key], status=status)
        self.uow.wrote(f"day_closes.{status.value}", "day_closes")

    def supersede_earlier(self, org: str, close: StoredDayClose) -> None:
        o, s, d, z, r = self._key(org, close)
        for key, c in list(self.t.day_closes.items()):
            if key[:3] == (o, s, d) and key[4] == r and key[3] < z and c.status.awaits_export:
                self.t.day_closes[key] = replace(c, status=DayCloseStatus.SUPERSEDED)
                self.uow.wrote("day_closes.superseded", "day_closes")

    def booked_cash_difference(self, org: str, close: StoredDayClose) -> int:
        o, s, d, z, r = self._key(org, close)
        return sum(
            c.day_close.cash_difference_ore
            for key, c in self.t.day_closes.items()
            if key[:3] == (o, s, d) and key[4] == r and key[3] < z and c.status == DayCloseStatus.EXPORTED
        )

    def claim_sequence_check(self, org: str, close: StoredDayClose) -> bool:
        key = self._key(org, close)
        if key in self.t.checked:
            return False
        self.t.checked.add(key)
        self.uow.wrote("day_closes.sequence_checked", "checked")
        return True

    def z_reports(self, org: str, store: str, around: date, *, register: str = "") -> list[tuple[date, int]]:
        return [(d, z) for o, s, d, z, r in self.t.day_closes if (o, s, r) == (org, store, register)]

    def chain(self, org: str, close: StoredDayClose) -> tuple[ChainEnd | None, ChainEnd, ChainEnd | None]:
        o, s, d, z, r = self._key(org, close)
        mine = sorted((k[2], k[3], k) for k in self.t.day_closes if (k[0], k[1], k[4]) == (o, s, r))
        at = [k for _, _, k in mine].index((o, s, d, z, r))

        def end(i: int) -> ChainEnd | None:
            if not 0 <= i < len(mine):
                return None
            key = mine[i][2]
            return ChainEnd(self.t.day_closes[key], key in self.t.chain_checked, 0 if key in self.t.booked_z else None)

        here = end(at)
        assert here is not None
        return end(at - 1), here, end(at + 1)

    def moved_between(self, org: str, earlier: ChainEnd, later: StoredDayClose) -> int:
        return 0  # the fake has no watermarks: cash chain figures are checked against PostgreSQL

    def record_chain(self, org: str, close: StoredDayClose, link: CashChainLink | None) -> bool:
        key = self._key(org, close)
        if key in self.t.chain_checked:
            return False
        self.t.chain_checked[key] = link
        self.uow.wrote("day_closes.chain_checked", "chain_checked")
        return True
