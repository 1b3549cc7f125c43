-- Issue #23: an export job is claimed by a lease committed before it runs, no longer by a row lock held in a
-- transaction open across every BL call of the job (minutes when BL is slow: it held VACUUM back on hot tables and
-- broke under idle_in_transaction_session_timeout).
--
-- lease_owner: '<process instance>:<worker thread>' of the worker running the job; its process's connections carry
--   application_name 'dayclose-<process instance>', so a lease whose process has no connection left is void at once
--   (as an export's lease, storage/exports.py).
-- lease_until: the lease lapses then unless renewed (the worker renews it before each export the job attempts).
-- Both NULL: not leased. Existing jobs start unleased: nothing to rewrite.
ALTER TABLE export_jobs ADD COLUMN lease_owner text;
ALTER TABLE export_jobs ADD COLUMN lease_until timestamptz;
