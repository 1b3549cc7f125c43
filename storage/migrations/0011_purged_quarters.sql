-- Issue #16 stage D: retention drops whole quarters of sales (storage/retention.py, docs/runbook.md "Retention").
--
-- A sale sent again long after its store-day was booked and its quarter dropped is new to the ingest (its row
-- is gone) and would bring the quarter back (sales_ensure_quarter): a manual export would then book it a second
-- time. So the purge records every quarter it drops, and a partition created again for such a quarter sets the
-- rows of store-days booked before the drop aside in sales_after_purge (never exported; listed by the purge for
-- operators, kept for the retention). Rows of other store-days of the quarter (never booked) are stored as usual.
-- Only a re-created quarter carries the trigger: the ingest of current days pays nothing.

-- The purge's checks select a quarter's exports by business date alone.
CREATE INDEX exports_by_date ON exports (business_date);

CREATE TABLE sales_purged_quarters (
    quarter   date PRIMARY KEY,
    purged_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE sales_after_purge (
    organization_id text NOT NULL,
    store_id        text NOT NULL,
    business_date   date NOT NULL,
    kind            text NOT NULL,
    event_key       text NOT NULL,
    payload         jsonb NOT NULL,
    received_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (organization_id, event_key, business_date)
);

CREATE FUNCTION sales_after_purge_divert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM exports e
               JOIN sales_purged_quarters q ON q.quarter = date_trunc('quarter', NEW.business_date)::date
               WHERE e.organization_id = NEW.organization_id AND e.store_id = NEW.store_id
                 AND e.business_date = NEW.business_date AND NOT isempty(e.sales_ids)
                 AND e.created_at <= q.purged_at) THEN
        INSERT INTO sales_after_purge (organization_id, store_id, business_date, kind, event_key, payload)
        VALUES (NEW.organization_id, NEW.store_id, NEW.business_date, NEW.kind, NEW.event_key, NEW.payload)
        ON CONFLICT DO NOTHING;
        RETURN NULL;
    END IF;
    RETURN NEW;
END $$;

-- As in 0010, plus the trigger on a sales partition created again for a purged quarter.
CREATE OR REPLACE FUNCTION sales_ensure_quarter(day date) RETURNS boolean LANGUAGE plpgsql AS $$
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
            IF parent = 'sales' AND EXISTS (SELECT 1 FROM sales_purged_quarters WHERE quarter = q_from) THEN
                EXECUTE format('CREATE TRIGGER sales_after_purge BEFORE INSERT ON %I FOR EACH ROW '
                               'EXECUTE FUNCTION sales_after_purge_divert()', parent || '_' || suffix);
            END IF;
            EXECUTE format('ALTER TABLE %I ATTACH PARTITION %I FOR VALUES FROM (%L) TO (%L)',
                           parent, parent || '_' || suffix, q_from, q_to);
            created := true;
        END IF;
    END LOOP;
    RETURN created;
END $$;
