-- Issue #22: corrections dated in the period where the error is found; the merchant's VAT reporting
-- frequency; what the VAT-period report reads.

-- A correction is dated the day it is made (found_on, in Europe/Stockholm) unless the request asks for the
-- original period (requested_period = 'ORIGINAL') with the accountant's statement that the work on that period
-- is not finished (period_statement; who asked is requested_by). dating records how the date was decided
-- (mapping.periods.Dating); in_original_period now means: dated in the original business date's month.
ALTER TABLE corrections
    ADD COLUMN found_on date,
    ADD COLUMN requested_period text NOT NULL DEFAULT 'FOUND' CHECK (requested_period IN ('FOUND', 'ORIGINAL')),
    ADD COLUMN period_statement text CHECK (length(period_statement) BETWEEN 1 AND 500),
    ADD COLUMN dating text
        CHECK (dating IN ('ORIGINAL_DATE', 'FOUND_DATE', 'FIRST_OPEN_DATE', 'BEFORE_ISSUE_22')),
    ADD CONSTRAINT corrections_original_period_stated
        CHECK (requested_period = 'FOUND' OR period_statement IS NOT NULL);
-- Corrections requested before this migration: found the day they were requested. Those already dated keep
-- their date (a reversal of them may be in BL), marked as decided by the earlier rule; those not dated yet
-- are dated by the new one.
UPDATE corrections SET found_on = (requested_at AT TIME ZONE 'Europe/Stockholm')::date;
UPDATE corrections SET dating = 'BEFORE_ISSUE_22' WHERE entry_date IS NOT NULL;
ALTER TABLE corrections ALTER COLUMN found_on SET NOT NULL;

-- How often the merchant files the momsdeklaration (NULL: not said; dayclose then assumes monthly), and for a
-- monthly filer whether the taxable base is above 40 MSEK (an earlier deadline, 26 kap. 30 § SFL).
ALTER TABLE integrations
    ADD COLUMN vat_frequency text CHECK (vat_frequency IN ('MONTHLY', 'QUARTERLY', 'YEARLY')),
    ADD COLUMN vat_above_40_msek boolean NOT NULL DEFAULT false,
    ADD CONSTRAINT integrations_above_40_msek_monthly CHECK (NOT vat_above_40_msek OR vat_frequency = 'MONTHLY');

-- The VAT report reads an organization's period across its stores: its Z-reports and exports by business date,
-- and its booked vouchers by entry date.
CREATE INDEX day_closes_by_date ON day_closes (organization_id, business_date);
CREATE INDEX exports_by_organization_date ON exports (organization_id, business_date);
CREATE INDEX audit_vouchers_by_entry_date ON audit_vouchers (organization_id, entry_date);
