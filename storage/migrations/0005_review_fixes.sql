-- Fixes from the exactly-once review.

-- A booked export is reversed at most once, even when two corrections are requested at the same time.
CREATE UNIQUE INDEX exports_one_reversal ON exports (reverses) WHERE reverses IS NOT NULL;

-- claim_next_job asks "does this store have an older job?" for every candidate.
CREATE INDEX export_jobs_by_store ON export_jobs (organization_id, store_id, id);

-- The retention purge selects by business date alone.
CREATE INDEX sales_events_by_date ON sales_events (business_date);

-- A lease on the export a worker is posting: if the worker's job connection dies mid-post, its locks
-- go with it, but no other worker may post the same export until the lease has run out.
ALTER TABLE exports ADD COLUMN lease_owner text;
ALTER TABLE exports ADD COLUMN lease_until timestamptz;

-- A day-close job names its Z-report, so a day closed twice reconciles against the right one.
ALTER TABLE export_jobs ADD COLUMN z_report_number bigint;
