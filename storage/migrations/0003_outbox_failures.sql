-- An outbox row Kafka refuses for good (e.g. too large) must not block the rows behind it: count the
-- attempts and keep the last error; the relay skips rows past its attempt limit and alerts on them.
ALTER TABLE outbox ADD COLUMN attempts integer NOT NULL DEFAULT 0;
ALTER TABLE outbox ADD COLUMN last_error text;
