-- Issue #27: two BL requests per booked day (POST /journal, POST /document/attachto), with the look-ups kept for
-- every case where an earlier request may have reached BL.
--
-- post_attempted_at: set in the transaction that leases the export to the worker about to post it (after its
--   pre-flight passed). While it is NULL, no post of this export can have reached BL: its first post goes without
--   the look-up by reference. Once set it stays set: every later attempt looks the reference up before it posts.
-- bl_entity_id: BL's entityId of the booked voucher, from the answer to POST /journal (or the look-up that found
--   it): what POST /document/attachto/JOURNAL/{entityId} needs, so the day report is attached without reading the
--   voucher back.
-- document_attach_attempted_at: set in its own transaction just before an attach request. While it is NULL, none
--   of our documents can be on the voucher: attach at once. Once set, every later attempt reads the voucher back
--   and looks for our document by name before it attaches.
ALTER TABLE exports ADD COLUMN post_attempted_at timestamptz;
ALTER TABLE exports ADD COLUMN bl_entity_id bigint;
ALTER TABLE exports ADD COLUMN document_attach_attempted_at timestamptz;

-- An export not booked whose voucher was stored before this migration was leased, so it may have been posted
-- (before issue #27 the voucher was stored when the lease was taken, before the pre-flight and the post): it looks
-- up first, as every export did. Booked exports never post again. Pending documents need nothing here: their
-- bl_entity_id is NULL, so they are read back before attaching, as every document was.
UPDATE exports SET post_attempted_at = updated_at WHERE status <> 'booked' AND voucher IS NOT NULL;
