"""The lean schema and the set-based ingest statements the prototypes measure (issue #16, phase 1).

Tables (a fresh database per variant):

* ``sales``: one row per receipt, cash movement or gift card expiry, as today's ``sales_events`` but with
  the minimum index set: the idempotency key, and (store-day, id) for reading a store-day's rows by
  watermark range (the receipt → voucher link, a rebuild of totals). ``id`` comes from a sequence: a
  claim's watermark is the sequence's last value (see :mod:`bench.prototypes.claim`).
  Partitioned: monthly ``PARTITION BY RANGE (business_date)``; the key then has to carry the partition
  column, so an id seen before under another business date is found by a probe of every partition.
* ``day_totals``: the running totals, one row per store-day and bucket of :mod:`mapping.totals`.
  Logged, or UNLOGGED (no WAL; emptied by a crash and rebuilt from ``sales``).
* ``stores`` and ``day_closes`` as today (``day_closes`` only answers "is this store-day closed?").

Per batch, in one transaction: COPY the batch into ``staging`` (and its bucket rows into
``staged_buckets``), take a shared advisory lock per store-day (a claim takes it exclusively, so a
watermark never passes a row still being written), then ONE statement inserts the new rows, adds the
new rows' buckets to the totals, inserts unknown stores (writing nothing for known ones), and returns
per store-day the count and the id range of its new rows and whether it is closed already, plus every id
that was not new with its stored version and whether that differs (RECEIPT_CONFLICT), as today's statement
does for the ones that differ.
"""

from __future__ import annotations

from datetime import date

LOCK_KEY = "hashtextextended(organization_id || '/' || store_id || '/' || business_date::text, 0)"


def schema(
    *, partitioned: bool, unlogged_totals: bool = False, months: tuple[date, date] | None = None, step: int = 1
) -> str:
    """DDL of the lean schema; ``months`` (first, last) is the span of the partitions, ``step`` months each."""
    key = (
        "PRIMARY KEY (organization_id, event_key, business_date)"
        if partitioned
        else "PRIMARY KEY (organization_id, event_key)"
    )
    ddl = [
        "CREATE SEQUENCE sales_id_seq",
        f"""CREATE TABLE sales (
                id              bigint NOT NULL DEFAULT nextval('sales_id_seq'),
                organization_id text NOT NULL,
                store_id        text NOT NULL,
                business_date   date NOT NULL,
                kind            text NOT NULL,
                event_key       text NOT NULL,
                payload         jsonb NOT NULL,
                received_at     timestamptz NOT NULL DEFAULT now(),
                {key}
            ){" PARTITION BY RANGE (business_date)" if partitioned else ""}""",
        "CREATE INDEX sales_by_day ON sales (organization_id, store_id, business_date, id)",
        f"""CREATE {"UNLOGGED " if unlogged_totals else ""}TABLE day_totals (
                organization_id text NOT NULL,
                store_id        text NOT NULL,
                business_date   date NOT NULL,
                kind            text NOT NULL,
                key             text NOT NULL,
                rate            integer NOT NULL,
                a bigint NOT NULL, b bigint NOT NULL, n bigint NOT NULL, m bigint NOT NULL,
                PRIMARY KEY (organization_id, store_id, business_date, kind, key, rate)
            ) WITH (fillfactor = 50)""",
        """CREATE TABLE stores (organization_id text NOT NULL, store_id text NOT NULL, name text,
                                PRIMARY KEY (organization_id, store_id))""",
        """CREATE TABLE day_closes (organization_id text NOT NULL, store_id text NOT NULL, business_date date NOT NULL,
                                    z_report_number bigint NOT NULL, payload jsonb NOT NULL,
                                    PRIMARY KEY (organization_id, store_id, business_date, z_report_number))""",
    ]
    if partitioned and months:
        first, last = months
        start = first.replace(day=1)
        while start <= last:
            end = date(start.year + (start.month - 1 + step) // 12, (start.month - 1 + step) % 12 + 1, 1)
            ddl.append(f"CREATE TABLE sales_{start:%Y%m} PARTITION OF sales FOR VALUES FROM ('{start}') TO ('{end}')")
            start = end
    return ";\n".join(ddl)


STAGING = """
CREATE TEMP TABLE staging (organization_id text, store_id text, business_date date, kind text, event_key text,
                           payload jsonb) ON COMMIT DELETE ROWS;
CREATE TEMP TABLE staged_buckets (organization_id text, event_key text, store_id text, business_date date,
                                  kind text, key text, rate integer, a bigint, b bigint, n bigint, m bigint)
    ON COMMIT DELETE ROWS;
"""
STAGING_COLUMNS = "organization_id, store_id, business_date, kind, event_key, payload"
STAGING_TYPES = ["text", "text", "date", "text", "text", "jsonb"]
BUCKET_COLUMNS = "organization_id, event_key, store_id, business_date, kind, key, rate, a, b, n, m"
BUCKET_TYPES = ["text", "text", "text", "date", "text", "text", "int4", "int8", "int8", "int8", "int8"]

LOCK_STORE_DAYS = f"""SELECT count(pg_advisory_xact_lock_shared(k)) FROM (
    SELECT DISTINCT {LOCK_KEY} AS k FROM staging ORDER BY 1) d"""  # noqa: S608 - constants

TOTALS_UPSERT = """,
    tot AS (
        INSERT INTO day_totals (organization_id, store_id, business_date, kind, key, rate, a, b, n, m)
        SELECT s.organization_id, s.store_id, s.business_date, s.kind, s.key, s.rate, sum(s.a), sum(s.b), sum(s.n),
               sum(s.m)
        FROM {buckets} s JOIN ins ON ins.organization_id = s.organization_id AND ins.event_key = s.event_key
        GROUP BY 1, 2, 3, 4, 5, 6
        ON CONFLICT (organization_id, store_id, business_date, kind, key, rate) DO UPDATE
        SET a = day_totals.a + excluded.a, b = day_totals.b + excluded.b, n = day_totals.n + excluded.n,
            m = day_totals.m + excluded.m)"""


TOTALS_UPDATE = """,
    agg AS (
        SELECT s.organization_id, s.store_id, s.business_date, s.kind, s.key, s.rate, sum(s.a) AS a, sum(s.b) AS b,
               sum(s.n) AS n, sum(s.m) AS m
        FROM {buckets} s JOIN ins ON ins.organization_id = s.organization_id AND ins.event_key = s.event_key
        GROUP BY 1, 2, 3, 4, 5, 6),
    upd AS (
        UPDATE day_totals t SET a = t.a + g.a, b = t.b + g.b, n = t.n + g.n, m = t.m + g.m
        FROM agg g
        WHERE t.organization_id = g.organization_id AND t.store_id = g.store_id AND t.business_date = g.business_date
          AND t.kind = g.kind AND t.key = g.key AND t.rate = g.rate),
    tot AS (
        INSERT INTO day_totals (organization_id, store_id, business_date, kind, key, rate, a, b, n, m)
        SELECT g.* FROM agg g LEFT JOIN day_totals t
            ON t.organization_id = g.organization_id AND t.store_id = g.store_id
           AND t.business_date = g.business_date AND t.kind = g.kind AND t.key = g.key AND t.rate = g.rate
        WHERE t.organization_id IS NULL
        ON CONFLICT (organization_id, store_id, business_date, kind, key, rate) DO UPDATE
        SET a = day_totals.a + excluded.a, b = day_totals.b + excluded.b, n = day_totals.n + excluded.n,
            m = day_totals.m + excluded.m)"""


def insert_statement(
    *,
    source: str,
    totals: bool | str,
    partitioned: bool,
    buckets: str = "staged_buckets",
    probe_partitions: bool = True,
) -> str:
    """The batch's one statement. ``source`` is a relation with the staging columns (the staging table, or
    the unnest of arrays). Partitioned: an id stored under any business date is not inserted again, unless
    ``probe_partitions`` is False (only to measure what the probe costs: then it would be stored twice)."""
    conflict = "(organization_id, event_key, business_date)" if partitioned else "(organization_id, event_key)"
    # A LATERAL probe with LIMIT: the planner's choice for NOT EXISTS is a hash anti-join over every row of
    # every partition (measured: 95 µs per event at 200,000 rows), this is one index probe per partition.
    probe = (
        (
            "LEFT JOIN LATERAL (SELECT true AS found FROM sales x WHERE x.organization_id = i.organization_id "
            "AND x.event_key = i.event_key LIMIT 1) seen ON true WHERE seen.found IS NULL"
        )
        if partitioned and probe_partitions
        else ""
    )
    return f"""
    WITH input AS MATERIALIZED (SELECT {STAGING_COLUMNS} FROM {source}),
    ins AS (
        INSERT INTO sales (organization_id, store_id, business_date, kind, event_key, payload)
        SELECT i.organization_id, i.store_id, i.business_date, i.kind, i.event_key, i.payload FROM input i {probe}
        ON CONFLICT {conflict} DO NOTHING
        RETURNING id, organization_id, store_id, business_date, event_key),
    st AS (
        INSERT INTO stores (organization_id, store_id) SELECT DISTINCT organization_id, store_id FROM input
        ON CONFLICT DO NOTHING){_totals(totals, buckets)},
    again AS MATERIALIZED (
        SELECT * FROM input i
        WHERE NOT EXISTS (SELECT 1 FROM ins WHERE ins.organization_id = i.organization_id
                                               AND ins.event_key = i.event_key))
    SELECT n.organization_id, n.store_id, n.business_date, n.new,
           EXISTS (SELECT 1 FROM day_closes c WHERE c.organization_id = n.organization_id
                   AND c.store_id = n.store_id AND c.business_date = n.business_date), NULL::text, NULL::jsonb,
           n.first_id, n.last_id, NULL::boolean
    FROM (SELECT organization_id, store_id, business_date, count(*) AS new, min(id) AS first_id, max(id) AS last_id
          FROM ins GROUP BY 1, 2, 3) n
    UNION ALL
    SELECT a.organization_id, x.store_id, x.business_date, NULL, NULL, a.event_key, x.payload, NULL, NULL,
           (x.store_id, x.business_date, x.payload) IS DISTINCT FROM (a.store_id, a.business_date, a.payload)
    FROM again a CROSS JOIN LATERAL (SELECT store_id, business_date, payload FROM sales x
                                     WHERE x.organization_id = a.organization_id AND x.event_key = a.event_key
                                     LIMIT 1) x"""  # noqa: S608


def _totals(totals: bool | str, buckets: str) -> str:
    """No totals, the upsert (``True``: ``INSERT … ON CONFLICT DO UPDATE`` for every bucket) or ``"update"``: an
    ``UPDATE … FROM`` of the buckets that exist and the upsert only for new ones. ON CONFLICT DO UPDATE locks the
    row before updating it: two WAL records per bucket where UPDATE writes one."""
    if not totals:
        return ""
    return (TOTALS_UPDATE if totals == "update" else TOTALS_UPSERT).format(buckets=buckets)


UNNEST_SOURCE = (
    "(SELECT organization_id, store_id, business_date, kind, event_key, p::jsonb AS payload "
    "FROM unnest(%b::text[], %b::text[], %b::date[], %b::text[], %b::text[], %b::text[]) "
    "AS t(organization_id, store_id, business_date, kind, event_key, p)) u"
)
UNNEST_BUCKETS = (
    "(SELECT * FROM unnest(%b::text[], %b::text[], %b::text[], %b::date[], %b::text[], %b::text[], "
    "%b::int4[], %b::int8[], %b::int8[], %b::int8[], %b::int8[]) AS u(organization_id, event_key, "
    "store_id, business_date, kind, key, rate, a, b, n, m))"
)
UNNEST_LOCK = f"""SELECT count(pg_advisory_xact_lock_shared(k)) FROM (
    SELECT DISTINCT {LOCK_KEY} AS k
    FROM unnest(%b::text[], %b::text[], %b::date[]) AS t(organization_id, store_id, business_date) ORDER BY 1) d"""  # noqa: S608
