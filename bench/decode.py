"""What turning one wire message into a typed, validated receipt costs, step by step, on the benchmark's receipts, in
one quiet process (no Kafka, no database): fastavro's ``schemaless_reader`` (what a user would write, and what the
lean peer runs), the reader compiled from our schema into Python (``consumer/avro_reader.py``) and the same reader
built as a C extension (``consumer/compiled.py``: what the codec uses), the codec around it, the typed
receipt (``consumer/records.py``) and the whole decode of a batch (``consumer/decode.py``).

    python -m bench.decode [--receipts 20000] [--repeats 5]

Each figure is the best of ``--repeats`` passes over the same messages, in µs per message. Inside ``dayclose run``
everything costs more (two threads share the interpreter; ``python -m bench.cpu_split`` measures that).
"""

from __future__ import annotations

import argparse
import io
import time
from collections.abc import Callable
from datetime import date
from typing import Any

from fastavro import schemaless_reader

from bench import workload
from consumer import compiled, records
from consumer.avro_reader import compile_reader
from consumer.codec import AvroCodec
from consumer.decode import Decoder

#: The Kafka loop's batch (consumer/loop.py).
BATCH = 500


class _Message:
    """Just what the decoder reads of a Kafka message."""

    def __init__(self, value: bytes) -> None:
        self._value = value

    def value(self) -> bytes:
        return self._value

    def topic(self) -> str:
        return "sales"

    def error(self) -> None:
        return None


def _best(passes: int, n: int, run: Callable[[], Any]) -> float:
    best = float("inf")
    for _ in range(passes):
        started = time.perf_counter()
        run()
        best = min(best, time.perf_counter() - started)
    return best / n * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--receipts", type=int, default=20_000)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    stores = max(1, args.receipts // 200)
    values = [v for _, v in workload.receipts("org", stores, args.receipts // stores, date(2026, 11, 3))]
    codec: AvroCodec = workload.codec()
    read = compile_reader(codec.schema)
    extension, why = compiled.built(codec.schema_name)
    if extension is None:
        raise SystemExit(f"the C extension is not in use ({why}): make reinstalls it")
    decoded = [codec.decode(v) for v in values]
    messages = [_Message(v) for v in values]
    decoder = Decoder("sales", "commands")

    # Each pass keeps nothing it made (as the loop keeps a batch, not the stream): a list of every result would time the
    # cyclic collector walking it as it grows.
    def fastavro_all() -> None:
        for v in values:
            schemaless_reader(io.BytesIO(v[10:]), codec.schema, None, return_record_name=True)

    def compiled_all() -> None:
        for v in values:
            read(v, 10)

    def extension_all() -> None:
        for v in values:
            extension(v, 10)

    def codec_all() -> None:
        for v in values:
            codec.decode(v)

    def typed_all() -> None:
        for d in decoded:
            records.sales_envelope(d)

    def batches_all() -> None:
        for i in range(0, len(messages), BATCH):
            decoder.decode(messages[i : i + BATCH])  # type: ignore[arg-type]  # what decode() reads of a message

    figures = [
        ("fastavro schemaless_reader (the peer's decode)", fastavro_all),
        ("reader compiled into Python (consumer/avro_reader.py)", compiled_all),
        ("the same reader, C extension (consumer/compiled.py)", extension_all),
        (f"codec.decode: framing checks + the {codec.reader} reader", codec_all),
        ("typed, validated receipt (consumer/records.py)", typed_all),
        (f"the whole decode, batches of {BATCH} (consumer/decode.py)", batches_all),
    ]
    size = sum(map(len, values)) / len(values)
    print(f"{len(values):,} bench receipts, {size:.0f} bytes each; best of {args.repeats}")
    for name, run in figures:
        print(f"  {name:55s} {_best(args.repeats, len(values), run):6.2f} µs/message")


if __name__ == "__main__":
    main()
