-- The on-call backlog gauges (storage/backlog.py) read the closed store-days not booked yet at every scrape of
-- every consumer pod: a partial index keeps that to the few such rows instead of a scan of every day close kept.
CREATE INDEX day_closes_not_booked ON day_closes (organization_id, store_id, business_date)
    WHERE status IN ('open', 'mismatch');
