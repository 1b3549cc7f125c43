"""Benchmark workloads as pre-encoded wire messages, so generating data is never part of a timing.

Receipts come from :mod:`devstack.sampledata` (realistic, exact days). For big runs a few template
store-days are generated and copied to every store with fresh receipt ids, which keeps a million
events cheap to make while every receipt stays unique and balanced.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import schemas
from consumer.codec import AvroCodec
from devstack import sampledata

Message = tuple[bytes, bytes]


def codec(topic: str = "bench") -> AvroCodec:
    return AvroCodec(schemas.SALES_EVENT, topic)


def store_id(n: int, prefix: str = "s") -> str:
    return f"{prefix}{n:05d}"


def receipts(
    org: str, stores: int, per_store: int, day: date, *, prefix: str = "s", templates: int = 8, interleave: bool = True
) -> list[Message]:
    """``stores × per_store`` receipt messages keyed ``org/store``. Interleaved across stores (as tills
    publish concurrently) unless ``interleave`` is False."""
    return receipts_of(
        [(org, store_id(s, prefix)) for s in range(stores)], per_store, day, templates=templates, interleave=interleave
    )


def receipts_of(
    stores: list[tuple[str, str]], per_store: int, day: date, *, templates: int = 8, interleave: bool = True
) -> list[Message]:
    """Receipt messages for these ``(organization, store)`` pairs, ``per_store`` each."""
    enc = codec()
    base = [
        sampledata.store_day(stores[0][0], f"tpl{t}", day, per_store, with_extras=False, seed=t).receipts
        for t in range(min(templates, len(stores)))
    ]
    per: list[list[Message]] = []
    for s, (org, sid) in enumerate(stores):
        key = f"{org}/{sid}".encode()
        per.append([(key, enc.encode(_as_store(rec, org, sid, i))) for i, rec in enumerate(base[s % len(base)])])
    if not interleave:
        return [m for msgs in per for m in msgs]
    return [msgs[i] for i in range(per_store) for msgs in per]


def _as_store(record: dict[str, Any], org: str, sid: str, i: int) -> dict[str, Any]:
    name, payload = record["payload"]
    rid = f"{sid}-{record['business_date']:%Y%m%d}-{i:06d}"
    return {
        **record,
        "event_id": f"evt-{rid}",
        "organization_id": org,
        "store_id": sid,
        "payload": (name, {**payload, "receipt_id": rid, "receipt_number": str(i)}),
    }


def day_close(
    org: str, sid: str, day: date, receipt_messages: list[Message], previous: Message | None = None
) -> Message:
    """The day-closed message whose control totals match ``receipt_messages`` (decoded back). After the store's
    ``previous`` day close, the next Z-report number and an opening float of what that one counted (the cash
    chain holds: no warning outcome)."""
    enc = codec()
    z, opening = 1, sampledata.OPENING_FLOAT_ORE
    if previous is not None:
        before = enc.decode(previous[1])["payload"][1]
        z, opening = before["z_report_number"] + 1, before["counted_cash_ore"]
    sd = sampledata.StoreDay(org, sid, f"Butik {sid}", day, z, opening_float_ore=opening)
    sd.receipts = [enc.decode(v) for _, v in receipt_messages]
    return f"{org}/{sid}".encode(), enc.encode(sd.day_closed())
