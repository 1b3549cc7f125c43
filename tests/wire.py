"""What a PostgreSQL connection sends, read from libpq's protocol trace: every ``Sync`` of the extended protocol and
every simple ``Query`` is one round trip. The round-trip tests of the hot paths (ingest, correction, export) count
with it."""

from __future__ import annotations

import os
import tempfile
from typing import Any

import psycopg


class Wire:
    """What one connection sends while the block runs (libpq's trace of the frontend messages): its round trips and
    the simple queries among them (BEGIN, COMMIT, ROLLBACK)."""

    def __init__(self, conn: psycopg.Connection[Any]) -> None:
        self.conn = conn
        self.trips: list[str] = []

    def __enter__(self) -> Wire:
        self._trace = tempfile.TemporaryFile("w+")
        self.conn.pgconn.trace(self._trace.fileno())
        return self

    def __exit__(self, *exc: object) -> None:
        self.conn.pgconn.untrace()
        with self._trace as trace:
            trace.flush()
            os.fsync(trace.fileno())
            trace.seek(0)
            sent = [line.split("\t") for line in trace.read().splitlines()]
        statement = ""
        for f in sent:
            if len(f) > 4 and f[1] == "F" and f[3] == "Parse":
                statement = f[4]
            elif len(f) > 3 and f[1] == "F" and f[3] == "Query":
                self.trips.append(f[4])
            elif len(f) > 3 and f[1] == "F" and f[3] == "Sync":
                self.trips.append(statement)
                statement = ""

    @property
    def count(self) -> int:
        """Round trips, ``COMMIT`` included."""
        return len(self.trips)

    @property
    def commits(self) -> int:
        return sum(1 for t in self.trips if t.strip(' "') == "COMMIT")
