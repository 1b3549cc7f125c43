"""``dayclose-dev publish-day``: put a store's day on the sales topic as the POS would, then (optionally) wait for
its voucher.

The day is the sample day (:mod:`devstack.sampledata`: receipts, cash movements, a day close with control totals
that add up) or a file of sales events in Avro's JSON encoding, one event per line, as ``--save`` writes them
(the Avro specification's JSON encoding: a union is ``{"<type name>": {...}}``, a date is days since 1970, a
timestamp milliseconds). Events are published Avro single-object encoded, keyed ``<organization>/<store>``, to
``DAYCLOSE_SALES_TOPIC`` on ``KAFKA_BOOTSTRAP_SERVERS``.
"""

from __future__ import annotations

import io
import json
import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from confluent_kafka import Producer
from fastavro import json_reader, json_writer

import schemas
from consumer.codec import AvroCodec
from devstack import sampledata

DEMO_ORG = "demo-org"
DEMO_STORE = "store-1"
#: Inside the BL stand-in's fiscal years (2024-2027), so the sample books whatever today's date is.
DEMO_DATE = date(2026, 11, 24)


def sample_day(org: str, store: str, day: date, receipts: int, z_report_number: int = 1) -> list[dict[str, Any]]:
    store_day = sampledata.store_day(
        org, store, day, receipts, store_name="Kafé Centrum", z_report_number=z_report_number
    )
    return [*store_day.events(), store_day.day_closed(counted_cash_delta_ore=-500)]


def write_avro_json(records: Iterable[dict[str, Any]], path: Path) -> None:
    out = io.StringIO()
    json_writer(out, schemas.load(schemas.SALES_EVENT), list(records))
    path.write_text(out.getvalue(), encoding="utf-8")


def read_avro_json(path: Path) -> list[dict[str, Any]]:
    """Sales events from a file of Avro JSON, one per line; the union's branch name is kept, as the encoder wants."""
    schema = schemas.load(schemas.SALES_EVENT)
    records = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            (branch,) = json.loads(line)["payload"]
            record: Any
            (record,) = json_reader(io.StringIO(line), schema)
        except (ValueError, KeyError, TypeError) as exc:
            raise ValueError(f"{path}:{number}: not a sales event in Avro JSON ({exc})") from None
        records.append({**record, "payload": (branch, record["payload"])})
    return records


def publish(records: list[dict[str, Any]], bootstrap_servers: str, topic: str) -> int:
    codec = AvroCodec(schemas.SALES_EVENT, topic)
    producer = Producer({"bootstrap.servers": bootstrap_servers, "enable.idempotence": True, "linger.ms": 5})
    for record in records:
        key = f"{record['organization_id']}/{record['store_id']}".encode()
        producer.produce(topic, key=key, value=codec.encode(record))
    remaining = producer.flush(30)
    if remaining:
        raise RuntimeError(f"{remaining} of {len(records)} events not delivered to {topic} within 30 s")
    return len(records)


@dataclass(frozen=True)
class Booked:
    status: str
    series: str | None
    number: int | None
    total_debit_ore: int | None
    reason_code: str | None


def day_closes(records: Iterable[dict[str, Any]]) -> list[tuple[str, str, date]]:
    return sorted(
        {
            (r["organization_id"], r["store_id"], r["business_date"])
            for r in records
            if r["payload"][0] == sampledata.DAY_CLOSED
        }
    )


def wait_for_exports(database_url: str, store_day: tuple[str, str, date], timeout_s: float) -> list[Booked] | None:
    """The store-day's exports once none is posting any more and its day close is exported (or an export
    failed); None when that did not happen within ``timeout_s``."""
    import psycopg

    org, store, day = store_day
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        with psycopg.connect(database_url) as conn:
            rows = conn.execute(
                """SELECT status, voucher_series, voucher_number, total_debit_ore, reason_code FROM exports
                   WHERE organization_id = %s AND store_id = %s AND business_date = %s ORDER BY created_at""",
                (org, store, day),
            ).fetchall()
            closed = conn.execute(
                "SELECT bool_and(status = 'exported') FROM day_closes "
                "WHERE organization_id = %s AND store_id = %s AND business_date = %s",
                (org, store, day),
            ).fetchone()
        exports = [Booked(*r) for r in rows]
        if any(e.status == "failed" for e in exports):
            return exports
        if exports and closed and closed[0] and not any(e.status == "posting" for e in exports):
            return exports
        time.sleep(0.2)  # deadline-bounded polling interval
    return None
