-- Issue #20: every key that identifies a store, receipt, day close, command, event or job carries its organization.
--
-- An id from a POS (store, receipt, Z number, command, event) is unique only inside its organization. Three keys
-- were global:
--   export_jobs  UNIQUE (source_id)           → UNIQUE (organization_id, source_id)
--   processed_commands  PRIMARY KEY (command_id) → PRIMARY KEY (organization_id, command_id)
--   manual_export_requests  PRIMARY KEY (request_id) → PRIMARY KEY (organization_id, request_id)
-- A day close's job is queued once per source id "dayclose:<store>:<date>:<Z>": when two merchants closed the same
-- store id, date and Z number, the second one's job was dropped (ON CONFLICT DO NOTHING) and its day stayed open,
-- unbooked, for good. The source ids themselves keep their text (a redelivery read across the upgrade still finds
-- its job), the key is what changes: (organization, source id), as every other key of the schema already is.
ALTER TABLE export_jobs DROP CONSTRAINT export_jobs_source_id_key;
ALTER TABLE export_jobs ADD CONSTRAINT export_jobs_source_key UNIQUE (organization_id, source_id);

ALTER TABLE processed_commands DROP CONSTRAINT processed_commands_pkey;
ALTER TABLE processed_commands ADD CONSTRAINT processed_commands_pkey PRIMARY KEY (organization_id, command_id);

ALTER TABLE manual_export_requests DROP CONSTRAINT manual_export_requests_pkey;
ALTER TABLE manual_export_requests ADD CONSTRAINT manual_export_requests_pkey PRIMARY KEY (organization_id, request_id);

-- The days the old key left behind: a day close still open, the latest of its store-day, of an active integration on
-- or after its start date, with no job queued for the store-day. Its job is queued now, under the source id it
-- should have had (a day that turns out to have nothing left to book books nothing: claims are exact). The same
-- state can also follow a job that ran while the integration was inactive or in setup; reactivation queues those
-- days anyway, so exporting them now is what would happen next regardless.
INSERT INTO export_jobs (organization_id, store_id, business_date, trigger, source_id, z_report_number)
SELECT d.organization_id, d.store_id, d.business_date, 'DAY_CLOSE',
       'dayclose:' || d.store_id || ':' || to_char(d.business_date, 'YYYY-MM-DD') || ':' || d.z_report_number,
       d.z_report_number
FROM day_closes d
JOIN integrations i ON i.organization_id = d.organization_id
WHERE d.status = 'open' AND i.status = 'active' AND i.start_date IS NOT NULL AND d.business_date >= i.start_date
  AND NOT EXISTS (SELECT 1 FROM day_closes l WHERE l.organization_id = d.organization_id AND l.store_id = d.store_id
                  AND l.business_date = d.business_date AND l.z_report_number > d.z_report_number)
  AND NOT EXISTS (SELECT 1 FROM export_jobs j WHERE j.organization_id = d.organization_id AND j.store_id = d.store_id
                  AND (j.business_date IS NULL OR j.business_date = d.business_date))
ORDER BY d.business_date, d.organization_id, d.store_id
ON CONFLICT (organization_id, source_id) DO NOTHING;

-- A POS that re-sends a conflicting receipt (an id seen before with other content) 200 times gave 200 dead letters,
-- 400 outbox rows and 200 banners. Each distinct conflicting version is dead-lettered and notified once per
-- DAYCLOSE_CONFLICT_NOTICE_WINDOW_SECONDS (default a day); its copies meanwhile are only counted here. The version is
-- the SHA-256 of the conflicting content (storage.codecs.content: what would be booked, not event ids or labels).
CREATE TABLE conflict_notices (
    organization_id text NOT NULL,
    event_key       text NOT NULL,
    version         text NOT NULL,
    notified_at     timestamptz NOT NULL DEFAULT now(),
    copies          bigint NOT NULL DEFAULT 1,
    PRIMARY KEY (organization_id, event_key, version)
);
