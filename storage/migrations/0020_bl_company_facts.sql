-- Issue #27: what the BL pre-flight knows of each company, kept in PostgreSQL so that every pod shares it and a
-- restart or a deploy does not ask BL again (exporters/bl/facts.py decides what is kept and for how long;
-- storage/company_facts.py reads and writes it).
--
-- One row per (organization, BL company, kind): kind 'fiscal_years' (the years with their locked-through period),
-- 'accounts' and 'cost_centres' (only those the merchant's plan maps: name, closed, VAT code). The company is
-- named by company_digest, a SHA-256 of its key's canonical form: the key itself is never stored here.
--
-- facts:        NULL when nothing is kept (never fetched, or forgotten).
-- fetched_at:   when the fetch that found `facts` began (the database's clock): their age counts from it.
-- stored_at:    when they were stored: a process that waited for the lock uses what was stored while it waited.
-- forgotten_at: the last forget (a merchant-fixable refusal, a saved plan). A fetch that began before it is not
--               kept: the first look after the merchant's fix asks BL.
-- The row is created (facts NULL) before a fetch begins, so a forget during the fetch always has a row to mark.
CREATE TABLE bl_company_facts (
    organization_id text NOT NULL,
    company_digest  text NOT NULL CHECK (company_digest ~ '^[0-9a-f]{64}$'),
    kind            text NOT NULL CHECK (kind IN ('fiscal_years', 'accounts', 'cost_centres')),
    facts           jsonb,
    fetched_at      timestamptz,
    stored_at       timestamptz,
    forgotten_at    timestamptz,
    PRIMARY KEY (organization_id, company_digest, kind),
    CHECK ((facts IS NULL) = (fetched_at IS NULL))
);
