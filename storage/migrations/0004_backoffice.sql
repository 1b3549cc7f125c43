-- The BackOffice API: who deactivated an integration, a digest of the BL key (BL's activation callbacks
-- name the key, and the stored key is encrypted with a random IV, so it cannot be looked up by value),
-- what the POS registers up front, and manual export requests (so repeated clicks are coalesced).
ALTER TABLE integrations ADD COLUMN bl_key_digest text;
ALTER TABLE integrations ADD COLUMN key_verified_at timestamptz;
ALTER TABLE integrations ADD COLUMN deactivated_by text CHECK (deactivated_by IN ('MERCHANT', 'BL'));
CREATE INDEX integrations_by_key_digest ON integrations (bl_key_digest) WHERE bl_key_digest IS NOT NULL;

-- Payment methods and product groups the POS knows before any sale uses them.
CREATE TABLE registered_items (
    organization_id text NOT NULL,
    kind            text NOT NULL CHECK (kind IN ('payment_method', 'product_group')),
    code            text NOT NULL,
    name            text,
    registered_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (organization_id, kind, code)
);

-- One row per ManualExportRequested command BackOffice published; request_id is its command_id.
CREATE TABLE manual_export_requests (
    request_id      uuid PRIMARY KEY,
    organization_id text NOT NULL,
    store_id        text,
    requested_by    text,
    requested_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX manual_export_requests_by_org ON manual_export_requests (organization_id, requested_at DESC);
