"""Fakes of the ingest ports (:mod:`service.ports.ingest`): storing a consumed batch into the fake tables; the
running totals are not faked (no test of these handlers flushes them)."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence

from service.messages import DayClosed, SalesEnvelope
from service.model import DayCloseStatus, StoredDayClose
from service.ports import Flushed, Ingested, NewDayClose, Pending, RegisterDay, SinglePurposeOf, Written
from tests.unit.service.fakes.tables import Day, Repo


class FakeSales(Repo):
    def ingest(
        self,
        envelopes: Sequence[SalesEnvelope],
        *,
        closing: Collection[RegisterDay] = (),
        prepared: object | None = None,
    ) -> Ingested:
        """As PostgreSQL stores a batch: each id once (a repeat is ignored; this fake does not compare contents), the
        items before the day closes, and per register-day what it got and whether a Z-report of it was stored
        before this batch's own day closes (late sales), and the day closes stored now (their jobs are the
        handler's: service/sales.py)."""
        t, result = self.t, Ingested()
        got: dict[Day, list[int]] = {}
        for env in envelopes:
            if isinstance(env.item, DayClosed) or env.event_key in t.seen:
                continue
            t.seen.add(env.event_key)
            day = (env.organization_id, env.store_id, env.business_date, env.register_id)
            t.unexported.setdefault(day, []).append(env.item)
            t.last_sale += 1
            got.setdefault(day, []).append(t.last_sale)
        for day, ids in sorted(got.items()):
            closed = any(k[:3] == day[:3] and k[4] == day[3] for k in t.day_closes)
            result.written.append(Written(*day[:3], len(ids), ids[0], ids[-1], closed, day[3]))
            result.new += len(ids)
        for env in envelopes:
            if isinstance(env.item, DayClosed) and env.event_key not in t.seen:
                t.seen.add(env.event_key)
                dc = env.item.day_close
                key = (env.organization_id, env.store_id, env.business_date, dc.z_report_number, dc.register_id)
                t.day_closes[key] = StoredDayClose(dc, env.item.store_name, env.item.control, DayCloseStatus.OPEN)
                result.closed.append(NewDayClose(*key[:3], dc.register_id, dc.z_report_number, env.event_key))
                result.new += 1
        self.uow.wrote("sales.ingest", "seen", "unexported", "last_sale", "day_closes")
        return result


class FakeTotals(Repo):
    def flush(self, pending: Mapping[RegisterDay, Pending], single_purpose_of: SinglePurposeOf) -> Flushed:
        raise NotImplementedError
