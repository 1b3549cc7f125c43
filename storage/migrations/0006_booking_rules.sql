-- Booking rules an auditor signs off (issue 11).

-- 1. Account plans v1 → v2: sales accounts per (product group, VAT rate).
--
-- A v1 plan maps a product group to one account. Its account becomes the group's account at every VAT
-- rate the group was sold at in the organization's stored sales (lines are [group, rate, gross, vat,
-- discount]). A group never sold gets its account at the rate its BAS number implies (3001 25 %, 3002
-- 12 %, 3003 6 %, 3004 0 %); if none is implied, an income account (class 3) at every rate the plan has
-- a VAT account for and at 0 %, any other account (a gift card liability) at 0 %. A liability sold at a
-- VAT rate above 0 % under v1 was a gift card sold with VAT: its group is flagged single-purpose, so
-- it keeps booking as before (net to the liability, VAT to the rate's VAT account). Every migrated
-- (group, rate) pair, and a v1 CASH_DIFFERENCE account (it keeps serving both a shortage and an overage
-- until the merchant maps CASH_SHORTAGE and CASH_OVERAGE), is listed in the plan's "review" list, which
-- the API shows until the plan is saved again. Nothing else in the plan changes.
WITH v1 AS (
    SELECT organization_id, plan FROM account_plans WHERE coalesce(plan->>'version', '1') = '1'
),
groups AS (
    SELECT v1.organization_id, g.key AS grp, g.value #>> '{}' AS account, v1.plan
    FROM v1, jsonb_each(coalesce(v1.plan->'product_groups', '{}'::jsonb)) AS g
    WHERE jsonb_typeof(g.value) = 'string'
),
seen AS (
    SELECT DISTINCT s.organization_id, l->>0 AS grp, (l->>1)::int AS rate
    FROM sales_events s, jsonb_array_elements(s.payload->'lines') AS l
    WHERE s.kind = 'receipt' AND s.organization_id IN (SELECT organization_id FROM v1)
),
implied (account, rate) AS (
    VALUES ('3001', 2500), ('3002', 1200), ('3003', 600), ('3004', 0)
),
rates AS (
    SELECT g.organization_id, g.grp, g.account, r.rate
    FROM groups g
    CROSS JOIN LATERAL (
        SELECT seen.rate FROM seen WHERE seen.organization_id = g.organization_id AND seen.grp = g.grp
        UNION
        SELECT fallback.rate FROM (
            SELECT implied.rate FROM implied WHERE implied.account = g.account
            UNION
            SELECT k::int FROM jsonb_object_keys(coalesce(g.plan->'vat_rates', '{}'::jsonb)) AS k
             WHERE k ~ '^[0-9]{1,5}$' AND left(g.account, 1) = '3'
               AND NOT EXISTS (SELECT 1 FROM implied WHERE implied.account = g.account)
            UNION
            SELECT 0 WHERE NOT EXISTS (SELECT 1 FROM implied WHERE implied.account = g.account)
        ) AS fallback
        WHERE NOT EXISTS (SELECT 1 FROM seen WHERE seen.organization_id = g.organization_id AND seen.grp = g.grp)
    ) AS r
),
per_group AS (
    SELECT organization_id, grp, jsonb_object_agg(rate::text, account) AS accounts
    FROM rates GROUP BY organization_id, grp
),
new_groups AS (
    SELECT organization_id, jsonb_object_agg(grp, accounts) AS product_groups FROM per_group GROUP BY organization_id
),
reviewed AS (
    SELECT organization_id, jsonb_agg('product_groups.' || grp || '.' || rate ORDER BY grp, rate) AS fields
    FROM rates GROUP BY organization_id
),
single AS (
    SELECT organization_id, jsonb_agg(DISTINCT grp) AS groups
    FROM rates WHERE rate <> 0 AND left(account, 1) = '2' GROUP BY organization_id
)
UPDATE account_plans p
SET plan = p.plan || jsonb_build_object(
        'version', 2,
        'product_groups', coalesce(ng.product_groups, '{}'::jsonb),
        'single_purpose_groups', coalesce(sg.groups, '[]'::jsonb),
        'review', coalesce(rv.fields, '[]'::jsonb)
                  || CASE WHEN p.plan->'events' ? 'CASH_DIFFERENCE' THEN '["events.CASH_DIFFERENCE"]'::jsonb
                          ELSE '[]'::jsonb END),
    updated_at = now()
FROM v1
LEFT JOIN new_groups ng USING (organization_id)
LEFT JOIN reviewed rv USING (organization_id)
LEFT JOIN single sg USING (organization_id)
WHERE p.organization_id = v1.organization_id;

-- 2. The POS may say at which VAT rates it sells a product group it registers (null: not said).
ALTER TABLE registered_items ADD COLUMN vat_rates integer[];

-- 3. Under the Z_REPORT VAT policy a day-close export moves the Z-report's VAT rounding between a rate's
-- sales and VAT accounts: the öre per rate (JSON {"2500": -2}), fixed when its sales are claimed, so a
-- later Z-report of the same day books only what is not booked yet.
ALTER TABLE exports ADD COLUMN vat_adjustment jsonb;

-- 4. Z-report numbers are checked once per day close (gaps and repeats are warnings). Day closes stored
-- before this migration count as checked: nothing is reported about the past.
ALTER TABLE day_closes ADD COLUMN sequence_checked boolean NOT NULL DEFAULT true;
ALTER TABLE day_closes ALTER COLUMN sequence_checked SET DEFAULT false;
