-- Ingested sales, day closes, exports with durable identities, the export job queue and the outbox.

CREATE TABLE stores (
    organization_id text NOT NULL,
    store_id        text NOT NULL,
    name            text,
    PRIMARY KEY (organization_id, store_id)
);

-- Every receipt, cash movement and gift card expiry, once (idempotent on (organization_id, event_key)).
-- export_id is set when an export claims the row; a claimed row is never claimed again.
CREATE TABLE sales_events (
    id              bigserial PRIMARY KEY,
    organization_id text NOT NULL,
    store_id        text NOT NULL,
    business_date   date NOT NULL,
    kind            text NOT NULL CHECK (kind IN ('receipt', 'cash_movement', 'gift_card_expired')),
    event_key       text NOT NULL,
    payload         jsonb NOT NULL,
    received_at     timestamptz NOT NULL DEFAULT now(),
    export_id       uuid,
    UNIQUE (organization_id, event_key)
);
CREATE INDEX sales_events_unexported ON sales_events (organization_id, store_id, business_date)
    WHERE export_id IS NULL;
CREATE INDEX sales_events_by_export ON sales_events (export_id) WHERE export_id IS NOT NULL;
CREATE INDEX sales_events_by_day ON sales_events (organization_id, store_id, business_date);

CREATE TABLE day_closes (
    organization_id text NOT NULL,
    store_id        text NOT NULL,
    business_date   date NOT NULL,
    z_report_number bigint NOT NULL,
    payload         jsonb NOT NULL,
    closed_at       timestamptz NOT NULL,
    received_at     timestamptz NOT NULL DEFAULT now(),
    -- open: waiting to reconcile/export; exported: all its sales claimed; mismatch: control totals differ;
    -- superseded: a later Z-report of the same day (whose totals cover the whole day) took its place
    status          text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'exported', 'mismatch', 'superseded')),
    PRIMARY KEY (organization_id, store_id, business_date, z_report_number)
);

-- One row per voucher we try to book. export_id is the durable identity; its reference is in the
-- voucher text so a retry after an ambiguous failure finds an earlier booking instead of re-posting.
CREATE TABLE exports (
    export_id        uuid PRIMARY KEY,
    reference        text NOT NULL UNIQUE,
    organization_id  text NOT NULL,
    store_id         text NOT NULL,
    business_date    date NOT NULL,
    trigger          text NOT NULL CHECK (trigger IN ('DAY_CLOSE', 'MANUAL', 'RETRY', 'CORRECTION')),
    z_report_number  bigint,
    status           text NOT NULL CHECK (status IN ('posting', 'booked', 'failed')),
    attempts         integer NOT NULL DEFAULT 0,
    reason_code      text,
    reason_details   jsonb,
    voucher          jsonb,
    voucher_series   text,
    voucher_number   bigint,
    total_debit_ore  bigint,
    event_count      integer NOT NULL,
    -- A CORRECTION export books the exact reversal of this earlier export (its voucher is stored, not
    -- built from sales); once it is booked the original's sales are released and exported anew.
    reverses         uuid REFERENCES exports (export_id),
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    booked_at        timestamptz
);
CREATE INDEX exports_by_store ON exports (organization_id, store_id, business_date, created_at);
CREATE INDEX exports_open ON exports (organization_id, store_id) WHERE status <> 'booked';
ALTER TABLE sales_events ADD CONSTRAINT sales_events_export_fk
    FOREIGN KEY (export_id) REFERENCES exports (export_id);

-- Work for the export workers, claimed with FOR UPDATE SKIP LOCKED. One job covers one store,
-- one business date or (manual export) all of the store's unexported days.
CREATE TABLE export_jobs (
    id              bigserial PRIMARY KEY,
    organization_id text NOT NULL,
    store_id        text NOT NULL,
    business_date   date,                   -- NULL: every unexported day of the store (manual export)
    trigger         text NOT NULL CHECK (trigger IN ('DAY_CLOSE', 'MANUAL', 'RETRY', 'CORRECTION')),
    source_id       text NOT NULL,          -- the event/command that asked for it (idempotency)
    not_before      timestamptz NOT NULL DEFAULT now(),
    attempts        integer NOT NULL DEFAULT 0,
    created_at      timestamptz NOT NULL DEFAULT now(),
    UNIQUE (source_id)
);
CREATE INDEX export_jobs_due ON export_jobs (not_before, id);

-- Messages already dead-lettered, so a redelivered poison message is reported once, not per delivery.
CREATE TABLE dead_letters (
    source_topic     text NOT NULL,
    source_partition integer NOT NULL,
    source_offset    bigint NOT NULL,
    error_code       text NOT NULL,
    dead_lettered_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (source_topic, source_partition, source_offset)
);

-- Commands already acted on (manual export requests, retries), for idempotency.
CREATE TABLE processed_commands (
    command_id      text PRIMARY KEY,
    organization_id text NOT NULL,
    processed_at    timestamptz NOT NULL DEFAULT now()
);

-- Outbound events, written in the same transaction as the state change they report.
CREATE TABLE outbox (
    id          bigserial PRIMARY KEY,
    topic       text NOT NULL,
    schema_name text NOT NULL,
    key         bytea,
    value       bytea NOT NULL,         -- already encoded for the wire
    created_at  timestamptz NOT NULL DEFAULT now(),
    sent_at     timestamptz
);
CREATE INDEX outbox_unsent ON outbox (id) WHERE sent_at IS NULL;
