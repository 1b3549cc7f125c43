-- Merchants' integrations and account plans.
CREATE TABLE integrations (
    organization_id   text PRIMARY KEY,
    status            text NOT NULL DEFAULT 'setup' CHECK (status IN ('setup', 'active', 'inactive')),
    bl_key_encrypted  bytea,
    bl_key_hint       text,
    company_name      text,
    company_org_number text,
    start_date        date,
    activated_at      timestamptz,
    deactivated_at    timestamptz,
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE account_plans (
    organization_id text PRIMARY KEY REFERENCES integrations (organization_id),
    plan            jsonb NOT NULL,
    version         integer NOT NULL DEFAULT 1,
    updated_at      timestamptz NOT NULL DEFAULT now()
);
