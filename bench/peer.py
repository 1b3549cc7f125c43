"""The lean COPY peer: what a competent engineer writes in an afternoon to ingest the sales topic.

    python -m bench.peer --bootstrap HOST:PORT --topic T --group G --database-url URL

The yardstick for dayclose's ingest (issues #16, #27): it does the same durable job with no design effort, and
nothing a competent engineer would not do. A plain confluent-kafka consumer; plain fastavro ``schemaless_reader``
after the 10-byte single-object header; per batch of up to 500 messages (dayclose's batch), COPY into a temporary
staging table and one ``INSERT … SELECT … ON CONFLICT DO NOTHING`` into the target table, idempotent on
(organization, event key) like ours. The row is dayclose's row shape (the same columns, the payload in the same
compact stored form: a receipt's lines and payments as lists, not the whole decoded record), the table has the
same indexes as dayclose's (the key, and one by-day index for reading a store's day: nothing extra). PostgreSQL
commits, *then* the batch's offsets are stored and committed in the background every
``--commit-interval-ms``, as dayclose does: a crash re-reads and re-inserts harmlessly. No validation beyond what
decoding does, no tuning. It runs as its own process, like ``dayclose run``, against the same server with the same
durability settings.
"""

from __future__ import annotations

import argparse
import io
import json
import signal
import sys
import threading
import time
from pathlib import Path
from typing import Any

import psycopg
from confluent_kafka import Consumer, KafkaError, TopicPartition
from fastavro import parse_schema, schemaless_reader

SCHEMA = Path(__file__).resolve().parent.parent / "schemas" / "sales_event.avsc"
HEADER = 10  # C3 01 + 8-byte schema fingerprint (Avro single-object encoding)
TABLE = "peer_sales"

SETUP = """
CREATE TABLE IF NOT EXISTS peer_sales (
    organization_id text NOT NULL,
    event_key       text NOT NULL,
    store_id        text NOT NULL,
    business_date   date NOT NULL,
    kind            text NOT NULL,
    payload         jsonb NOT NULL,
    register_id     text NOT NULL,
    received_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (organization_id, event_key)
);
-- The day close reads a store's day: the one index that query needs (dayclose's table has its equivalent).
CREATE INDEX IF NOT EXISTS peer_sales_by_day ON peer_sales (organization_id, store_id, business_date);
CREATE TEMP TABLE staging (
    organization_id text, event_key text, store_id text, business_date date, kind text, payload jsonb,
    register_id text
) ON COMMIT DELETE ROWS;
"""
COLUMNS = "organization_id, event_key, store_id, business_date, kind, payload, register_id"
COPY = f"COPY staging ({COLUMNS}) FROM STDIN"
INSERT = f"""INSERT INTO peer_sales ({COLUMNS}) SELECT {COLUMNS} FROM staging
             ON CONFLICT (organization_id, event_key) DO NOTHING"""  # noqa: S608 - constant

#: Union branch → (kind, event-key prefix, field that identifies the item): the event keys dayclose uses.
KEYS = {
    "Receipt": ("receipt", "receipt", "receipt_id"),
    "CashMovement": ("cash_movement", "cash", "movement_id"),
    "GiftCardExpired": ("gift_card_expired", "giftcard", "gift_card_id"),
}


Row = tuple[str, str, str, Any, str, str, str]


def row(record: dict[str, Any]) -> Row:
    """The row dayclose stores for this event: its columns, and the payload in the compact stored form."""
    name, payload = record["payload"]
    branch = name.rsplit(".", 1)[-1]
    if branch == "DayClosed":  # one a store-day: not worth a compact form
        kind, data = "day_closed", json.dumps(payload, default=str)
        key = f"dayclose:{record['store_id']}:{record['business_date']}:{payload['z_report_number']}"
    else:
        kind, prefix, field = KEYS[branch]
        key = f"{prefix}:{payload[field]}"
        data = json.dumps(_compact(branch, payload), separators=(",", ":"))
    register = record.get("register_id") or ""
    return (record["organization_id"], key, record["store_id"], record["business_date"], kind, data, register)


def _compact(branch: str, p: dict[str, Any]) -> dict[str, Any]:
    if branch == "Receipt":
        out = {
            "receipt_id": p["receipt_id"],
            "kind": p["kind"].lower(),
            "lines": [
                [ln["product_group"], ln["vat_rate_bp"], ln["gross_ore"], ln["vat_ore"], ln["discount_ore"]]
                for ln in p["lines"]
            ],
            "payments": [[pay["method"], pay["amount_ore"]] for pay in p["payments"]],
            "tip_ore": p["tip_ore"],
            "rounding_ore": p["rounding_ore"],
            "receipt_number": p.get("receipt_number"),
        }
        invoice = p.get("invoice")
        if invoice:
            out["invoice"] = {
                "number": invoice["invoice_number"],
                "customer_id": invoice.get("customer_id"),
                "customer_name": invoice.get("customer_name"),
            }
        return out
    if branch == "CashMovement":
        return {"movement_id": p["movement_id"], "kind": p["kind"].lower(), "amount_ore": p["amount_ore"]}
    out = {"expiry_id": p["gift_card_id"], "amount_ore": p["amount_ore"]}
    if p.get("payment_method") is not None:
        out["method"] = p["payment_method"]
    if p.get("vat_rate_bp") is not None:
        out["vat_rate"] = p["vat_rate_bp"]
    return out


def run(args: argparse.Namespace, stop: threading.Event) -> int:
    schema = parse_schema(json.loads(SCHEMA.read_text()))
    consumer = Consumer(
        {
            "bootstrap.servers": args.bootstrap,
            "group.id": args.group,
            "auto.offset.reset": "earliest",
            # Offsets are stored after the database commit and sent in the background, like dayclose's.
            "enable.auto.commit": True,
            "enable.auto.offset.store": False,
            "auto.commit.interval.ms": args.commit_interval_ms,
        }
    )
    consumer.subscribe([args.topic])
    stored = 0
    try:
        with psycopg.connect(args.database_url) as conn:
            conn.execute(SETUP)
            conn.commit()
            while not stop.is_set():
                messages = consumer.consume(num_messages=args.batch_size, timeout=1.0)
                rows = []
                for msg in messages:
                    err, value = msg.error(), msg.value()
                    if err is not None or value is None:
                        if err is not None and err.code() != KafkaError._PARTITION_EOF:
                            print(f"peer: kafka error {err}", file=sys.stderr)
                        continue
                    record = schemaless_reader(io.BytesIO(value[HEADER:]), schema, return_record_name=True)
                    if isinstance(record, dict):
                        rows.append(row(record))
                if not messages:
                    continue
                with conn.cursor() as cur:
                    with cur.copy(COPY) as copy:
                        for r in rows:
                            copy.write_row(r)
                    cur.execute(INSERT)
                    stored += cur.rowcount
                conn.commit()
                highest: dict[tuple[str, int], int] = {}
                for msg in messages:
                    if msg.error() is None:
                        tp = (msg.topic() or "", msg.partition() or 0)
                        highest[tp] = max(highest.get(tp, -1), msg.offset() or 0)
                if highest:  # only after the rows are durable
                    consumer.store_offsets(offsets=[TopicPartition(t, p, o + 1) for (t, p), o in highest.items()])
    finally:
        consumer.close()
        print(f"peer: stored {stored} new rows", file=sys.stderr, flush=True)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.peer", description=__doc__.split("\n")[0])
    parser.add_argument("--bootstrap", required=True)
    parser.add_argument("--topic", required=True)
    parser.add_argument("--group", required=True)
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--batch-size", type=int, default=500)  # the same batch size as dayclose
    parser.add_argument("--commit-interval-ms", type=int, default=100)  # dayclose's in benchmarks (bench.stack)
    args = parser.parse_args(argv)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    started = time.monotonic()
    code = run(args, stop)
    print(f"peer: ran {time.monotonic() - started:.1f}s", file=sys.stderr, flush=True)
    return code


if __name__ == "__main__":
    sys.exit(main())
