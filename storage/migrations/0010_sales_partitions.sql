-- Issue #16: a day close whose cost does not grow with the day (docs/performance.md, docs/architecture.md).
--
-- Sales move from sales_events (one export_id per row, rewritten by every claim) to `sales`, partitioned by
-- quarter of the business date, written once and never updated. An export claims a store-day by watermark:
-- the rows of the store-day with an id up to the sales sequence's last value when it claimed, which the ingest
-- makes exact by holding the store-day's advisory lock (shared) while it draws ids, and the claim (exclusive)
-- while it reads the sequence. The store-day's running totals (mapping.totals buckets) are kept in
-- day_totals up to day_folds.through; a claim folds what came after and books the difference from what
-- earlier exports booked.

-- The key of a store-day's advisory lock: ingest takes it shared, a claim or a fold of the totals exclusive.
-- (A collision of two store-days only serializes them.) The date as a day number: text output of a date
-- depends on the session's DateStyle.
CREATE FUNCTION sales_day_lock_key(org text, store text, day date) RETURNS bigint
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN hashtextextended(org || '/' || store || '/' || (day - DATE '2000-01-01')::text, 0);

-- Every receipt, cash movement and gift card expiry, once. The id is the watermark an export claims up to: CACHE 1
-- (a session caching ids could insert a lower id after a claim took a higher one as its watermark).
CREATE SEQUENCE sales_id_seq CACHE 1;
CREATE TABLE sales (
    id              bigint NOT NULL DEFAULT nextval('sales_id_seq'),
    organization_id text NOT NULL,
    store_id        text NOT NULL,
    business_date   date NOT NULL,
    kind            text NOT NULL CHECK (kind IN ('receipt', 'cash_movement', 'gift_card_expired')),
    event_key       text NOT NULL,
    payload         jsonb NOT NULL,
    received_at     timestamptz NOT NULL DEFAULT now(),
    -- A partitioned table's unique key must hold the partition key: an id seen before under another business
    -- date is found by the ingest's probe of every partition (storage/sales.py).
    PRIMARY KEY (organization_id, event_key, business_date)
) PARTITION BY RANGE (business_date);
ALTER SEQUENCE sales_id_seq OWNED BY sales.id;
-- A store-day's rows by id: the tail a fold reads, the rows an export names (sales_ids), the receipt → voucher
-- link. The only other index.
CREATE INDEX sales_by_day ON sales (organization_id, store_id, business_date, id);

-- Running totals per store-day and bucket (mapping.totals), summed over the store-day's rows with an id up to
-- day_folds.through. Logged: an unlogged table would be emptied by a crash and missing on a promoted replica.
CREATE TABLE day_totals (
    organization_id text NOT NULL,
    store_id        text NOT NULL,
    business_date   date NOT NULL,
    kind            text NOT NULL,
    key             text NOT NULL,
    rate            integer NOT NULL,
    a bigint NOT NULL,
    b bigint NOT NULL,
    n bigint NOT NULL,
    m bigint NOT NULL,
    PRIMARY KEY (organization_id, store_id, business_date, kind, key, rate)
) PARTITION BY RANGE (business_date);
CREATE TABLE day_folds (
    organization_id text NOT NULL,
    store_id        text NOT NULL,
    business_date   date NOT NULL,
    through         bigint NOT NULL,
    PRIMARY KEY (organization_id, store_id, business_date)
) PARTITION BY RANGE (business_date);

-- The three tables' partitions of the quarter holding `day`, created once (storage/partitions.py asks for the
-- quarters of every batch it writes; retention drops whole quarters). When they exist, this is three catalog
-- probes and no lock. Created apart and attached: ATTACH takes a SHARE UPDATE EXCLUSIVE lock on the parent, which
-- neither waits for nor blocks the ingest, where CREATE TABLE … PARTITION OF takes an ACCESS EXCLUSIVE one.
CREATE FUNCTION sales_ensure_quarter(day date) RETURNS boolean LANGUAGE plpgsql AS $$
DECLARE
    q_from date := date_trunc('quarter', day)::date;
    q_to   date := (date_trunc('quarter', day) + interval '3 months')::date;
    suffix text := to_char(q_from, 'YYYY') || 'q' || extract(quarter FROM q_from);
    parent text;
    created boolean := false;
BEGIN
    IF (SELECT count(*) FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
        WHERE i.inhparent IN ('sales'::regclass, 'day_totals'::regclass, 'day_folds'::regclass)
          AND c.relname IN ('sales_' || suffix, 'day_totals_' || suffix, 'day_folds_' || suffix)) = 3 THEN
        RETURN false;
    END IF;
    PERFORM pg_advisory_xact_lock(hashtext('sales_ensure_quarter'));
    FOREACH parent IN ARRAY ARRAY['sales', 'day_totals', 'day_folds'] LOOP
        IF NOT EXISTS (SELECT 1 FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
                       WHERE i.inhparent = parent::regclass AND c.relname = parent || '_' || suffix) THEN
            EXECUTE format('CREATE TABLE %I (LIKE %I INCLUDING DEFAULTS INCLUDING CONSTRAINTS)%s',
                           parent || '_' || suffix, parent,
                           CASE parent WHEN 'day_totals' THEN ' WITH (fillfactor = 50)' ELSE '' END);
            EXECUTE format('ALTER TABLE %I ATTACH PARTITION %I FOR VALUES FROM (%L) TO (%L)',
                           parent, parent || '_' || suffix, q_from, q_to);
            created := true;
        END IF;
    END LOOP;
    RETURN created;
END $$;

-- The existing rows, ids kept (exports' claims become id ranges below). Rows not claimed yet get new ids above
-- every claimed one: a claim takes what is above the store-day's latest watermark, and a row released by a
-- correction (or written late with a low id) sits below it.
SELECT sales_ensure_quarter(q)
FROM (SELECT DISTINCT business_date AS q FROM sales_events
      UNION SELECT current_date UNION SELECT (current_date + interval '3 months')::date) d;
INSERT INTO sales (id, organization_id, store_id, business_date, kind, event_key, payload, received_at)
SELECT id, organization_id, store_id, business_date, kind, event_key, payload, received_at
FROM sales_events WHERE export_id IS NOT NULL;
SELECT setval('sales_id_seq', greatest((SELECT max(id) FROM sales_events), 1));
INSERT INTO sales (organization_id, store_id, business_date, kind, event_key, payload, received_at)
SELECT organization_id, store_id, business_date, kind, event_key, payload, received_at
FROM sales_events WHERE export_id IS NULL ORDER BY id;

-- What each export books, and how far it reached:
--   totals     mapping.totals.DayTotals JSON of what it books (its claim); NULL for an export migrated from
--              sales_events: summed from its rows (sales_ids) the first time it is needed;
--   through    the store-day's totals when it claimed (every row up to its watermark; NULL when migrated);
--   watermark  sales.id up to which the store-day's rows were claimed when it claimed (NULL for a reversal);
--   sales_ids  the store-day's rows it books: (the previous watermark, its watermark] and the rows of reversed
--              exports it books again (a reversal: those of the export it reverses);
--   released_by  on a REVERSED export: the export that booked its sales again.
ALTER TABLE exports
    ADD COLUMN totals jsonb,
    ADD COLUMN through jsonb,
    ADD COLUMN watermark bigint,
    ADD COLUMN sales_ids int8multirange NOT NULL DEFAULT '{}',
    ADD COLUMN released_by uuid;
CREATE INDEX exports_by_day ON exports (organization_id, store_id, business_date, watermark);

-- An export's rows as one range when no other row of the store-day lies between its first and last (the usual
-- case), else one range per row.
WITH claimed AS (
    SELECT export_id, organization_id, store_id, business_date, min(id) AS lo, max(id) AS hi, count(*) AS n
    FROM sales_events WHERE export_id IS NOT NULL GROUP BY 1, 2, 3, 4)
UPDATE exports e
SET sales_ids = CASE
        WHEN (SELECT count(*) FROM sales_events s WHERE s.organization_id = c.organization_id
              AND s.store_id = c.store_id AND s.business_date = c.business_date AND s.id BETWEEN c.lo AND c.hi) = c.n
        THEN int8multirange(int8range(c.lo, c.hi, '[]'))
        ELSE (SELECT range_agg(int8range(s.id, s.id, '[]')) FROM sales_events s WHERE s.export_id = c.export_id)
    END
FROM claimed c WHERE e.export_id = c.export_id;
-- A reversal names the rows of the export it reverses.
UPDATE exports r SET sales_ids = o.sales_ids FROM exports o WHERE r.reverses = o.export_id;
-- Watermarks: the highest id claimed by the export or an earlier one of its store-day (0: nothing yet).
UPDATE exports e
SET watermark = coalesce((SELECT max(s.id) FROM sales_events s JOIN exports x ON x.export_id = s.export_id
                          WHERE x.organization_id = e.organization_id AND x.store_id = e.store_id
                            AND x.business_date = e.business_date AND x.created_at <= e.created_at), 0)
WHERE e.trigger <> 'CORRECTION';
-- A reversed export's rows were released when its reversal was booked: they are unclaimed rows now (new ids
-- above), or already claimed again. Either way it books nothing again.
UPDATE exports SET released_by = coalesce(
        (SELECT c.new_export_id FROM corrections c JOIN exports r ON r.correction_id = c.correction_id
         WHERE r.reverses = exports.export_id LIMIT 1), export_id)
WHERE reason_code = 'REVERSED';

-- sales_events goes, with its foreign key to exports.
DROP TABLE sales_events;
