-- Issue #21: books an auditor signs off day after day (docs/booking-rules.md, docs/architecture.md).
--
-- A store may have several registers (tills). Each numbers its own Z-reports and holds its own cash, so what a
-- Z-report closes, what is reconciled against it and what one voucher books is a *register-day*: every key of a
-- store-day gains the register ('' = the store's one register, which every row before this migration belongs
-- to). The advisory lock of a claim or a fold stays per store-day (a store's registers serialize: harmless).

-- The sales rows and the rows an export names are found per register-day: the index gains the register.
ALTER TABLE sales ADD COLUMN register_id text NOT NULL DEFAULT '';
CREATE INDEX sales_by_register_day ON sales (organization_id, store_id, business_date, register_id, id);
DROP INDEX sales_by_day;

-- The registers a store has used: what a store-day's "anything unexported?" looks at, one index probe each.
CREATE TABLE registers (
    organization_id text NOT NULL,
    store_id        text NOT NULL,
    register_id     text NOT NULL,
    first_seen      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (organization_id, store_id, register_id)
);
INSERT INTO registers (organization_id, store_id, register_id) SELECT organization_id, store_id, '' FROM stores;

-- Running totals per register-day.
ALTER TABLE day_totals ADD COLUMN register_id text NOT NULL DEFAULT '';
ALTER TABLE day_totals DROP CONSTRAINT day_totals_pkey;
ALTER TABLE day_totals ADD PRIMARY KEY (organization_id, store_id, business_date, register_id, kind, key, rate);
ALTER TABLE day_folds ADD COLUMN register_id text NOT NULL DEFAULT '';
ALTER TABLE day_folds DROP CONSTRAINT day_folds_pkey;
ALTER TABLE day_folds ADD PRIMARY KEY (organization_id, store_id, business_date, register_id);

-- Z-reports per register; the till's cash chain from the previous Z-report of the register (mapping/cashchain.py):
-- checked once per link (on the later Z-report), its result kept for the day report.
ALTER TABLE day_closes ADD COLUMN register_id text NOT NULL DEFAULT '';
ALTER TABLE day_closes DROP CONSTRAINT day_closes_pkey;
ALTER TABLE day_closes ADD PRIMARY KEY (organization_id, store_id, register_id, business_date, z_report_number);
ALTER TABLE day_closes ADD COLUMN chain_checked boolean NOT NULL DEFAULT false;
ALTER TABLE day_closes ADD COLUMN cash_chain jsonb;

-- An export books one register-day (a reversal: its original's). Late sales booked without a Z-report of their own
-- (after the grace period, or by a manual export) name the booked Z-report of the day they complement.
ALTER TABLE exports ADD COLUMN register_id text NOT NULL DEFAULT '';
ALTER TABLE exports ADD COLUMN complements_z bigint;
-- A sale paid by invoice is an export of its own: {number, customer_id, customer_name, receipt_id} (storage/invoices.py).
ALTER TABLE exports ADD COLUMN invoice jsonb;
ALTER TABLE audit_vouchers ADD COLUMN register_id text NOT NULL DEFAULT '';

-- A day-close job closes its register's day (NULL: a job for the store or its days, as before). A parked job
-- waits for its not_before without holding up the store's other jobs: late sales of a closed register-day wait
-- for the register's next Z-report or the grace period (service/late_sales.py).
ALTER TABLE export_jobs ADD COLUMN register_id text;
ALTER TABLE export_jobs ADD COLUMN parked boolean NOT NULL DEFAULT false;

-- Sales set aside after a purge keep their register.
ALTER TABLE sales_after_purge ADD COLUMN register_id text NOT NULL DEFAULT '';
CREATE OR REPLACE FUNCTION sales_after_purge_divert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM exports e
               JOIN sales_purged_quarters q ON q.quarter = date_trunc('quarter', NEW.business_date)::date
               WHERE e.organization_id = NEW.organization_id AND e.store_id = NEW.store_id
                 AND e.business_date = NEW.business_date AND NOT isempty(e.sales_ids)
                 AND e.created_at <= q.purged_at) THEN
        INSERT INTO sales_after_purge (organization_id, store_id, business_date, kind, event_key, payload, register_id)
        VALUES (NEW.organization_id, NEW.store_id, NEW.business_date, NEW.kind, NEW.event_key, NEW.payload,
                NEW.register_id)
        ON CONFLICT DO NOTHING;
        RETURN NULL;
    END IF;
    RETURN NEW;
END $$;
