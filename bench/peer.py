"""The naive COPY peer: what a competent engineer writes in an afternoon to ingest the sales topic.

    python -m bench.peer --bootstrap HOST:PORT --topic T --group G --database-url URL

The yardstick for dayclose's ingest (issue #16): it does the same durable job with no design effort.
A plain confluent-kafka consumer; plain fastavro ``schemaless_reader`` after the 10-byte single-object
header; per batch of up to 500 messages, COPY into a temporary staging table and one ``INSERT … SELECT …
ON CONFLICT DO NOTHING`` into the target table, idempotent on (organization, event key) like ours, the
payload kept as jsonb; PostgreSQL commits, *then* the offsets are committed (synchronously), so a crash
re-reads and re-inserts harmlessly. No validation beyond what decoding does, no tuning. It runs as its
own process, like ``dayclose run``, against the same server with the same durability settings.
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
from confluent_kafka import Consumer, KafkaError
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
    received_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (organization_id, event_key)
);
-- The day close reads a store's day: the one index that query needs.
CREATE INDEX IF NOT EXISTS peer_sales_by_day ON peer_sales (organization_id, store_id, business_date);
CREATE TEMP TABLE staging (
    organization_id text, event_key text, store_id text, business_date date, kind text, payload jsonb
) ON COMMIT DELETE ROWS;
"""
COPY = "COPY staging (organization_id, event_key, store_id, business_date, kind, payload) FROM STDIN"
INSERT = """INSERT INTO peer_sales (organization_id, event_key, store_id, business_date, kind, payload)
             SELECT organization_id, event_key, store_id, business_date, kind, payload FROM staging
             ON CONFLICT (organization_id, event_key) DO NOTHING"""

#: Union branch → (kind, event-key prefix, field that identifies the item): the event keys dayclose uses.
KEYS = {
    "Receipt": ("receipt", "receipt", "receipt_id"),
    "CashMovement": ("cash_movement", "cash", "movement_id"),
    "GiftCardExpired": ("gift_card_expired", "giftcard", "gift_card_id"),
}


def row(record: dict[str, Any]) -> tuple[str, str, str, Any, str, str]:
    name, payload = record["payload"]
    branch = name.rsplit(".", 1)[-1]
    if branch == "DayClosed":
        kind = "day_closed"
        key = f"dayclose:{record['store_id']}:{record['business_date']}:{payload['z_report_number']}"
    else:
        kind, prefix, field = KEYS[branch]
        key = f"{prefix}:{payload[field]}"
    return (
        record["organization_id"],
        key,
        record["store_id"],
        record["business_date"],
        kind,
        json.dumps(payload, default=str),
    )


def run(args: argparse.Namespace, stop: threading.Event) -> int:
    schema = parse_schema(json.loads(SCHEMA.read_text()))
    consumer = Consumer(
        {
            "bootstrap.servers": args.bootstrap,
            "group.id": args.group,
            "auto.offset.reset": "earliest",
            "enable.auto.commit": False,
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
                consumer.commit(asynchronous=False)  # only after the rows are durable
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
