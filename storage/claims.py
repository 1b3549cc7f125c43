"""An export claims a register-day by watermark: in constant time, whatever the day's size.

A register-day is a store's register (till) on a business date: what one Z-report closes and one voucher books.
In one transaction (the caller's unit of work):

1. the store-day's advisory lock, exclusively, then the watermark ``W`` (:mod:`storage.totals`): every row of
   the store-day up to ``W`` is committed, and none can appear below it later;
2. the register-day's totals up to ``W`` (``cumulative``): ``day_totals`` plus the tail not summed yet, read from
   the rows (empty in the normal case: the consumer flushed the day when it ingested the day close);
3. what the register-day's standing exports book (every export but reversals and reversed ones), summed from
   their stored totals; what this export books is ``cumulative − standing`` (:meth:`DayTotals.__sub__`);
4. the export: its totals, the cumulative snapshot, ``W``, and the rows it names: the register-day's rows in
   ``(its latest watermark, W]`` plus the rows of reversed exports it books again (``released_by`` then points at
   it). A store's registers have their own watermarks: each register-day's exports name only its rows.

Single-purpose gift card redemptions are summed for a mapping of methods to rates (:mod:`mapping.buckets`): when
the plan's mapping differs from the one the totals were summed for, the register-day is summed again from its rows
(``refold``), and a claim whose difference does not hold up is summed from the rows it names.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg.types.json import Jsonb
from psycopg.types.multirange import Multirange
from psycopg.types.range import Range

from mapping.buckets import SalesItem
from mapping.totals import DayTotals
from mapping.totals_booking import stale_for
from mapping.totals_closing import item_count
from service.messages import Trigger
from service.model import Export, ExportStatus
from storage import invoices
from storage import totals as running
from storage.codecs import item_from_json

RegisterDay = running.RegisterDay

#: Whether the register-day of ``{d}`` (a relation with organization_id, store_id, business_date) and register
#: ``{r}`` (an expression) has sales no export holds: rows above its latest watermark, or rows of a reversed export
#: that no export booked again. One index probe each.
UNEXPORTED_REGISTER = """(EXISTS (SELECT 1 FROM sales u WHERE u.organization_id = {d}.organization_id
                        AND u.store_id = {d}.store_id AND u.business_date = {d}.business_date AND u.register_id = {r}
                        AND u.id > (SELECT coalesce(max(w.watermark), 0) FROM exports w
                                    WHERE w.organization_id = {d}.organization_id AND w.store_id = {d}.store_id
                                      AND w.business_date = {d}.business_date AND w.register_id = {r}))
        OR EXISTS (SELECT 1 FROM exports r WHERE r.organization_id = {d}.organization_id
                   AND r.store_id = {d}.store_id AND r.business_date = {d}.business_date AND r.register_id = {r}
                   AND r.reason_code = 'REVERSED' AND r.released_by IS NULL))"""
#: The same for any register of the store-day of ``{d}``: each register the store has used, one probe each.
UNEXPORTED = "".join(
    [
        "EXISTS (SELECT 1 FROM registers g WHERE g.organization_id = {d}.organization_id",
        " AND g.store_id = {d}.store_id AND ",
        UNEXPORTED_REGISTER.replace("{r}", "g.register_id"),
        ")",
    ]
)


@dataclass(frozen=True)
class Earlier:
    """An earlier export of the store-day, as the claim needs it."""

    export_id: uuid.UUID
    watermark: int
    totals: dict[str, Any] | None
    sales_ids: Any
    reversed: bool
    released: bool


def claim(
    conn: psycopg.Connection[Any],
    day: RegisterDay,
    trigger: Trigger,
    z_report_number: int | None,
    *,
    include_day_close: bool,
    single_purpose: Mapping[str, int],
    complements_z: int | None = None,
) -> Export | None:
    """A new export of what the register-day holds that no standing export books; None when that is nothing and
    there is no day close to book."""
    org, store, business_date, register = day
    running.lock(conn, [day])
    upto = running.watermark(conn)
    cumulative, _ = running.fold(conn, day, upto, single_purpose)
    if stale_for(cumulative, single_purpose):
        cumulative = running.refold(conn, day, upto, single_purpose)
    earlier = _earlier(conn, day)
    since = max((e.watermark for e in earlier), default=0)
    released = [e for e in earlier if e.reversed and not e.released]
    names = [_range(since, upto), *(e.sales_ids for e in released)]
    claimed = _claimed(conn, day, cumulative, earlier, names, single_purpose)
    # Sales paid by invoice become exports of their own (storage/invoices.py); this export books the rest.
    parts = invoices.split(conn, day, claimed, single_purpose)
    for part in parts:
        claimed = claimed - part.totals
    invoices.insert(conn, day, parts, trigger, cumulative, upto)
    if claimed.is_empty and not include_day_close:
        return None
    export_id = uuid.uuid4()
    export = Export(
        export_id,
        "DC-" + export_id.hex[:16],
        org,
        store,
        business_date,
        trigger,
        ExportStatus.POSTING,
        0,
        None,
        claimed,
        cumulative,
        register,
        None if include_day_close else complements_z,
    )
    _store(
        conn,
        export,
        claimed,
        cumulative,
        z_report_number=z_report_number if include_day_close else None,
        upto=upto,
        names=names,
        excluded=invoices.excluded(parts),
        released=released,
    )
    return export


def _store(
    conn: psycopg.Connection[Any],
    export: Export,
    booked: DayTotals,
    cumulative: DayTotals,
    *,
    z_report_number: int | None,
    upto: int,
    names: Sequence[Any],
    excluded: Multirange[int],
    released: Sequence[Earlier],
) -> None:
    """The claimed export's row (``booked``: what it books): the rows it names are the union of ``names`` less the
    invoices' own (``excluded``); the reversed exports whose rows it books again (``released``) point at it."""
    conn.execute(
        f"""INSERT INTO exports (export_id, reference, organization_id, store_id, business_date, register_id, trigger,
                                 z_report_number, complements_z, status, event_count, totals, through, watermark,
                                 sales_ids)
            VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, 'posting', %s, %s, %s, %s,
                    ({" + ".join(["%s::int8multirange"] * len(names))}) - %s::int8multirange)""",  # noqa: S608
        (
            export.export_id,
            export.reference,
            export.organization_id,
            export.store_id,
            export.business_date,
            export.register_id,
            export.trigger.value,
            z_report_number,
            export.complements_z,
            item_count(booked),
            Jsonb(booked.to_json()),
            Jsonb(cumulative.to_json()),
            upto,
            *names,
            excluded,
        ),
    )
    if released:
        conn.execute(
            "UPDATE exports SET released_by = %s WHERE export_id = ANY(%s)",
            (export.export_id, [e.export_id for e in released]),
        )


def _earlier(conn: psycopg.Connection[Any], day: RegisterDay) -> list[Earlier]:
    rows = conn.execute(
        """SELECT export_id, coalesce(watermark, 0), totals, sales_ids, coalesce(reason_code, '') = 'REVERSED',
                  released_by IS NOT NULL
           FROM exports WHERE organization_id = %s AND store_id = %s AND business_date = %s AND register_id = %s
             AND trigger <> 'CORRECTION'""",
        day,
    ).fetchall()
    return [Earlier(*row) for row in rows]


def _claimed(
    conn: psycopg.Connection[Any],
    day: RegisterDay,
    cumulative: DayTotals,
    earlier: Sequence[Earlier],
    names: Sequence[Any],
    single_purpose: Mapping[str, int],
) -> DayTotals:
    """``cumulative`` less what the standing exports book; summed from the named rows instead when the difference
    does not hold up (an export summed for other single-purpose methods)."""
    standing = DayTotals.empty(day[1], day[2], day[3])
    for e in earlier:
        if not e.reversed:
            standing = standing + export_totals(conn, day, e.export_id, e.totals, e.sales_ids, single_purpose)
    try:
        claimed = cumulative - standing
    except ValueError:
        pass
    else:
        if not stale_for(claimed, single_purpose):
            return claimed
    return DayTotals.of(day[1], day[2], items_named(conn, day, names), single_purpose, register_id=day[3])


def export_totals(
    conn: psycopg.Connection[Any],
    day: RegisterDay,
    export_id: uuid.UUID,
    stored: dict[str, Any] | None,
    sales_ids: Any,
    single_purpose: Mapping[str, int],
) -> DayTotals:
    """What an export books: its stored totals, or (an export migrated from before issue #16) summed from the rows
    it names and stored."""
    if stored is not None:
        return DayTotals.from_json(stored)
    summed = DayTotals.of(day[1], day[2], items_named(conn, day, [sales_ids]), single_purpose, register_id=day[3])
    conn.execute("UPDATE exports SET totals = %s WHERE export_id = %s", (Jsonb(summed.to_json()), export_id))
    return summed


def items_named(
    conn: psycopg.Connection[Any], day: RegisterDay, names: Sequence[Any], kind: str | None = None
) -> list[SalesItem]:
    """The register-day's sales whose ids are in the multiranges ``names``, in id order (one index range scan per
    range)."""
    org, store, business_date, register = day
    if not names:
        return []
    listed = ", ".join(["%s::int8multirange"] * len(names))
    rows = conn.execute(
        f"""SELECT s.kind, s.payload FROM unnest(ARRAY[{listed}]) AS n(ids), unnest(n.ids) AS r(ids)
           JOIN LATERAL (SELECT kind, payload, id FROM sales s
                         WHERE s.organization_id = %s AND s.store_id = %s AND s.business_date = %s
                           AND s.register_id = %s AND s.id >= lower(r.ids) AND s.id < upper(r.ids)
                           AND (%s::text IS NULL OR s.kind = %s)) s ON true
           ORDER BY s.id""",  # noqa: S608 - placeholders only
        (*names, org, store, business_date, register, kind, kind),
    ).fetchall()
    return [item_from_json(k, store, business_date, payload, register) for k, payload in rows]


def _range(above: int, upto: int) -> Multirange[int]:
    """The multirange of ids in ``(above, upto]``."""
    return Multirange([Range(above, upto, "(]")]) if upto > above else Multirange()


def items_of(conn: psycopg.Connection[Any], export_id: uuid.UUID, kind: str | None = None) -> list[SalesItem]:
    """The sales an export names (a reversal: those of the export it reverses)."""
    row = conn.execute(
        "SELECT organization_id, store_id, business_date, register_id, sales_ids FROM exports WHERE export_id = %s",
        (export_id,),
    ).fetchone()
    if row is None:
        return []
    org, store, business_date, register, ids = row
    return items_named(conn, (org, store, business_date, register), [ids], kind)


def day_snapshot(conn: psycopg.Connection[Any], export_id: uuid.UUID) -> DayTotals | None:
    """The register-day's totals when the export claimed (its ``through``); for an export migrated from before
    issue #16, summed from the register-day's rows up to its watermark."""
    row = conn.execute(
        """SELECT organization_id, store_id, business_date, register_id, through, watermark FROM exports
           WHERE export_id = %s""",
        (export_id,),
    ).fetchone()
    if row is None:
        return None
    org, store, business_date, register, through, upto = row
    if through is not None:
        return DayTotals.from_json(through)
    day = (org, store, business_date, register)
    return DayTotals.of(store, business_date, running.items(conn, day, 0, upto or 0), register_id=register)
