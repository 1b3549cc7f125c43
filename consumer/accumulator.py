"""The consumer's share of the running totals: the buckets (:mod:`mapping.totals`) of the rows it inserted, summed in
memory per register-day (a store's register on a business date) and flushed to ``day_totals`` later, so that a
day-close claim reads a few dozen buckets instead of the day's rows.

Why in memory and not in the ingest statement: at real traffic each event is the only one of its register-day in its
batch, so updating the totals with the rows costs more than inserting the rows (issue #16, design note §0: +44-60
µs and +4-7 WAL records per event, against 3-13 µs for summing here and flushing later).

Exactness never depends on this memory. A flush adds a register-day's sums only when a count of its stored rows since
the last flush equals the rows summed here (:func:`storage.totals.flush`); otherwise it sums those rows. So a
crash that loses this memory, a rebalance that hands the store to another consumer, a batch whose duplicates
could not be told from its new rows, all cost a read of the rows once, never a wrong total. A claim folds any tail
that was never flushed.

Flushes: in the transaction that stores a register-day's day close (so its export claims in constant time) or that
brings its pending rows to ``FLUSH_ROWS``; every ``FLUSH_EVERY_S`` for everything pending; when more than
``MAX_PENDING_DAYS`` register-days are pending; when partitions are revoked. What was flushed is forgotten only after
its transaction commits.

One thread owns an accumulator: the writer thread of the sales loop (:mod:`consumer.writer`). Every flush, the
periodic one and the one a revocation asks for, is work on that thread; so it needs no lock. The one exception,
:meth:`Accumulator.presum`, runs on the Kafka loop's thread and writes nothing: it sums the next batch while the
writer writes the one before, with the single-purpose plans known then; :meth:`Accumulator.stage` uses those sums
only where the plan it stages with is equal, and sums again where it is not.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass

import structlog

from mapping.buckets import Buckets, SalesItem, add_item
from service.messages import DayClosed, SalesEnvelope
from service.ports import (
    Flushed,
    Integrations,
    Pending,
    RegisterDay,
    SinglePurposeOf,
    StorageRefused,
    StorageUnavailable,
    UnitOfWork,
    Written,
)

log = structlog.get_logger("dayclose.consumer")

#: Everything pending is flushed this often: bounds what a day close's flush or a claim after a crash must read.
FLUSH_EVERY_S = 300.0
#: A register-day with this many rows pending is flushed with the batch that reaches it: what the day close's flush
#: must count (and a claim after a crash must read) stays bounded however big the day.
FLUSH_ROWS = 1_000
#: More pending register-days than this flush at once (memory: ~2-4 KB each).
MAX_PENDING_DAYS = 20_000
#: A flush transaction takes at most this many register-days (their locks, their buckets).
FLUSH_CHUNK = 2_000
#: An organization's single-purpose gift card methods are read again after this long (a plan change meanwhile
#: makes the totals summed with the old ones stale, which a claim detects and sums again: never wrong).
PLAN_REFRESH_S = 60.0


def _zeros() -> list[int]:
    return [0, 0, 0, 0]


@dataclass(frozen=True)
class Presum:
    """A register-day's sums of one batch's events (each id once), made before the batch is written, and the
    single-purpose plan they were summed with."""

    buckets: Buckets
    rows: int
    plan: Mapping[str, int]


def _first_items(sales: Sequence[SalesEnvelope]) -> dict[RegisterDay, list[SalesItem]]:
    """The batch's items per register-day, each id once (a repeat within the batch: the store keeps the first)."""
    seen: set[tuple[str, str]] = set()
    firsts = []
    for env in sales:
        key = (env.organization_id, env.event_key)
        if key not in seen and not isinstance(env.item, DayClosed):
            firsts.append(env)
        seen.add(key)
    return _per_register_day(firsts)


def _per_register_day(firsts: Sequence[SalesEnvelope]) -> dict[RegisterDay, list[SalesItem]]:
    """Items per register-day of events that are each id once and no day close (:func:`_first_items`, or the store's
    prepared rows)."""
    events: defaultdict[RegisterDay, list[SalesItem]] = defaultdict(list)
    for env in firsts:
        events[register_day(env)].append(env.item)  # type: ignore[arg-type]  # no day close among them
    return events


def _summed(items: Sequence[SalesItem], plan: Mapping[str, int]) -> Buckets:
    buckets: Buckets = defaultdict(_zeros)
    for item in items:
        add_item(buckets, item, plan)
    return buckets


def combined(a: Pending | None, b: Pending | None) -> Pending | None:
    """Two pending sums of one register-day as one."""
    if a is None or b is None:
        return a or b
    both = Pending(defaultdict(_zeros), 0, a.first_id, a.last_id, a.exact)
    _add_into(both, a)
    _add_into(both, b)
    return both


def _add_into(held: Pending, p: Pending) -> None:
    """Add ``p``'s sums to ``held``, in place."""
    buckets = held.buckets
    for key, (a, b, n, m) in p.buckets.items():
        total = buckets[key]
        total[0] += a
        total[1] += b
        total[2] += n
        total[3] += m
    held.rows += p.rows
    held.first_id, held.last_id = min(held.first_id, p.first_id), max(held.last_id, p.last_id)
    held.exact = held.exact and p.exact


def register_day(env: SalesEnvelope) -> RegisterDay:
    return (env.organization_id, env.store_id, env.business_date, env.register_id)


def closing_days(sales: Iterable[SalesEnvelope]) -> set[RegisterDay]:
    """The register-days whose day close is among ``sales``."""
    return {register_day(env) for env in sales if isinstance(env.item, DayClosed)}


def _plus(a: Flushed, b: Flushed) -> Flushed:
    return Flushed(
        a.store_days + b.store_days, a.from_memory + b.from_memory, a.folded + b.folded, a.rows_read + b.rows_read
    )


class Accumulator:
    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self.pending: dict[RegisterDay, Pending] = {}
        self._plans: dict[str, tuple[Mapping[str, int], float]] = {}
        self.last_flush = clock()

    def due_with(self, sales: Iterable[SalesEnvelope]) -> set[RegisterDay]:
        """The register-days to flush with this batch: those it closes, and those it brings to ``FLUSH_ROWS``."""
        counts: defaultdict[RegisterDay, int] = defaultdict(int)
        due = closing_days(sales)
        for env in sales:
            if not isinstance(env.item, DayClosed):
                counts[register_day(env)] += 1
        for day, n in counts.items():
            p = self.pending.get(day)
            if n + (p.rows if p is not None else 0) >= FLUSH_ROWS:
                due.add(day)
        return due

    # --- one batch ---------------------------------------------------------------------------------------------

    def single_purpose(self, integrations: Integrations, orgs: Collection[str]) -> SinglePurposeOf:
        """The organizations' single-purpose methods, read at most every ``PLAN_REFRESH_S``."""
        now = self.clock()
        stale = [org for org in orgs if org not in self._plans or now - self._plans[org][1] > PLAN_REFRESH_S]
        if stale:
            for org, methods in integrations.single_purpose(stale).items():
                self._plans[org] = (methods, now)
        return self._known_plans

    def presum(
        self, sales: Sequence[SalesEnvelope], firsts: Sequence[SalesEnvelope] | None = None
    ) -> dict[RegisterDay, Presum]:
        """The batch's sums per register-day, with the plans known now. Runs on the Kafka loop's thread while the writer
        thread writes the batch before (it reads the plans, which the writer replaces whole; it writes nothing).
        ``firsts``: the batch's events each id once and without its day closes, when the caller has them already."""
        sums = {}
        per_day = _first_items(sales) if firsts is None else _per_register_day(firsts)
        for day, items in per_day.items():
            plan = self._known_plans(day[0])
            sums[day] = Presum(_summed(items, plan), len(items), plan)
        return sums

    @staticmethod
    def stage(
        sales: Sequence[SalesEnvelope],
        written: Sequence[Written],
        single_purpose_of: SinglePurposeOf,
        presums: Mapping[RegisterDay, Presum] | None = None,
    ) -> dict[RegisterDay, Pending]:
        """The sums of the rows one batch inserted, per register-day. The store reports how many rows each register-day
        got, not which: when that is every event of the register-day in the batch (the usual case), they are all new;
        otherwise (a redelivery mixed with new events) the sums are marked not ``exact`` and a flush reads the rows.
        ``presums`` (:meth:`presum` of this batch) are used where their plan equals the one staged with.
        """
        events: dict[RegisterDay, list[SalesItem]] | None = None
        staged: dict[RegisterDay, Pending] = {}
        for w in written:
            day = w.day
            plan = single_purpose_of(w.organization_id)
            pre = presums.get(day) if presums is not None else None
            if pre is not None and pre.plan == plan:
                buckets, rows = pre.buckets, pre.rows
            else:
                events = events if events is not None else _first_items(sales)
                batch = events.get(day, [])
                buckets, rows = _summed(batch, plan), len(batch)
            staged[day] = Pending(buckets, rows, w.first_id, w.last_id, exact=w.count == rows)
        return staged

    def flush_in(
        self, uow: UnitOfWork, days: Collection[RegisterDay], staged: Mapping[RegisterDay, Pending]
    ) -> Flushed:
        """Flush these register-days (what is pending plus what this batch staged) in the caller's transaction; call
        :meth:`committed` after it commits."""
        due = {d: p for d in days if (p := combined(self.pending.get(d), staged.get(d))) is not None}
        if not due:
            return Flushed(0, 0, 0, 0)
        return uow.totals.flush(due, self._known_plans)

    def committed(self, staged: Mapping[RegisterDay, Pending], flushed: Collection[RegisterDay]) -> None:
        """The batch's transaction committed: forget what it flushed, keep what it staged."""
        for day in flushed:
            self.pending.pop(day, None)
        for day, p in staged.items():
            if day in flushed:
                continue
            held = self.pending.get(day)
            if held is None:
                self.pending[day] = p
            else:
                _add_into(held, p)  # in place: only the batch's own buckets are added

    # --- everything pending ------------------------------------------------------------------------------------

    def due(self) -> bool:
        return bool(self.pending) and (
            len(self.pending) > MAX_PENDING_DAYS or self.clock() - self.last_flush >= FLUSH_EVERY_S
        )

    def flush_all(self, uow_factory: Callable[[], UnitOfWork]) -> Flushed:
        """Flush every pending register-day, in transactions of ``FLUSH_CHUNK``. A database that is down keeps them
        pending (the next flush or a claim reads the rows); beyond the memory bound they are dropped, which is
        always safe."""
        self.last_flush = self.clock()
        done = Flushed(0, 0, 0, 0)
        days = sorted(self.pending)
        try:
            for i in range(0, len(days), FLUSH_CHUNK):
                chunk = {d: self.pending[d] for d in days[i : i + FLUSH_CHUNK]}
                with uow_factory() as uow:
                    part = uow.totals.flush(chunk, self._known_plans)
                    uow.commit()
                for d in chunk:
                    del self.pending[d]
                done = _plus(done, part)
        except (StorageUnavailable, StorageRefused) as exc:
            log.warning("totals.flush_failed", error=str(exc), pending_store_days=len(self.pending))
            if len(self.pending) > MAX_PENDING_DAYS:
                log.warning("totals.pending_dropped", store_days=len(self.pending))
                self.pending.clear()
        log.info(
            "totals.flushed",
            store_days=done.store_days,
            from_memory=done.from_memory,
            summed_from_rows=done.folded,
            rows_read=done.rows_read,
        )
        return done

    def _known_plans(self, org: str) -> Mapping[str, int]:
        return self._plans.get(org, ({}, 0.0))[0]
