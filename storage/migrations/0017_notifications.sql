-- Issue #26: the merchant's notifications, one per outcome event of the organization, written by the outbox in the
-- transaction of the state change the outcome reports (storage/outbox.py). The outbox itself holds the outcome as
-- encoded Avro and only for a week after it is sent; this is the read model BackOffice's notification list (and
-- the reference card's) reads through `GET …/notifications`. Texts are not stored: the API takes them from the
-- reason-code registry by `reason_code`, so a wording fix reaches old notifications too. Kept for the sales
-- retention (`dayclose purge`). Outcomes before this migration have no notification (none is made up for them).
CREATE TABLE notifications (
    organization_id text NOT NULL,
    notification_id bigserial NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    status          text NOT NULL CHECK (status IN ('SUCCEEDED', 'FAILED', 'WARNING')),
    trigger         text NOT NULL,
    reason_code     text,
    store_id        text,
    business_date   date,
    export_id       text,
    voucher_series  text,
    voucher_number  integer,
    details         jsonb NOT NULL DEFAULT '[]',
    PRIMARY KEY (organization_id, notification_id)
);
-- The purge deletes by age across organizations.
CREATE INDEX notifications_by_age ON notifications (created_at);
