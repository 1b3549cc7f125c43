"""What a PostgreSQL connection sends, read from libpq's protocol trace. A round trip is a wait: the client sends, then
reads the server's answer before it sends again. Without libpq's pipeline mode that is every ``Sync`` of the extended
protocol and every simple ``Query``; in pipeline mode several statements (each with its ``Sync``) go out before the
client reads, and are one round trip. The round-trip tests of the hot paths (ingest, correction, export) count with
it."""

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
        statement, last, waiting = "", "", False
        for f in sent:
            if len(f) > 3 and f[1] == "B" and waiting:  # the server answers what was sent: the client waited
                self.trips.append(last)
                waiting = False
            elif len(f) > 4 and f[1] == "F" and f[3] == "Parse":
                statement = f[4]
            elif len(f) > 3 and f[1] == "F" and f[3] in ("Query", "Sync"):
                last, waiting = (f[4] if f[3] == "Query" else statement), True
                statement = ""

    @property
    def count(self) -> int:
        """Round trips, ``COMMIT`` included."""
        return len(self.trips)

    @property
    def commits(self) -> int:
        return sum(1 for t in self.trips if t.strip(' "') == "COMMIT")
