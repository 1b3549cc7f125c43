-- Audit trail (#14): the day's document attached in BL, the seven-year link from voucher to receipts,
-- and corrections that record who, when and why.

-- Corrections requested from BackOffice or the CLI. The reversal(s) and the new voucher are exports
-- that point here; entry_date is decided once (from BL's fiscal years and locked periods) before the
-- first reversal is posted, and both the reversals and the new voucher carry it.
CREATE TABLE corrections (
    correction_id      uuid PRIMARY KEY,
    organization_id    text NOT NULL,
    store_id           text NOT NULL,
    business_date      date NOT NULL,
    reason             text NOT NULL CHECK (length(reason) BETWEEN 1 AND 500),
    requested_by       text NOT NULL CHECK (length(requested_by) BETWEEN 1 AND 100),
    requested_via      text NOT NULL CHECK (requested_via IN ('API', 'CLI')),
    requested_at       timestamptz NOT NULL DEFAULT now(),
    -- [{export_id, reference, series, number, entry_date}] of the vouchers this correction reverses
    originals          jsonb NOT NULL,
    entry_date         date,
    in_original_period boolean,
    new_export_id      uuid REFERENCES exports (export_id),
    completed_at       timestamptz
);
CREATE INDEX corrections_by_day ON corrections (organization_id, store_id, business_date);

ALTER TABLE exports ADD COLUMN correction_id uuid REFERENCES corrections (correction_id);
-- The day report attached to the booked voucher in BL: a durable second step after booking.
-- NULL for exports that book nothing (and for vouchers booked before this migration).
ALTER TABLE exports ADD COLUMN document_status text
    CHECK (document_status IN ('pending', 'attached', 'failed'));
ALTER TABLE exports ADD COLUMN document_id bigint;
ALTER TABLE exports ADD COLUMN document_name text;
ALTER TABLE exports ADD COLUMN document_attached_at timestamptz;
CREATE INDEX exports_document_pending ON exports (organization_id, store_id) WHERE document_status = 'pending';

-- One row per booked voucher, kept until retain_until: at least seven years after the end of the
-- calendar year in which its fiscal year ended (Bokföringslagen 7 kap. 2 §). Written in the
-- transaction that marks the export booked; the raw sales rows may be purged only after it exists.
CREATE TABLE audit_vouchers (
    export_id         uuid PRIMARY KEY REFERENCES exports (export_id),
    organization_id   text NOT NULL,
    store_id          text NOT NULL,
    business_date     date NOT NULL,
    trigger           text NOT NULL,
    reference         text NOT NULL,
    series            text NOT NULL,
    number            bigint NOT NULL,
    entry_date        date NOT NULL,
    financial_year_id text,
    -- the voucher as posted: {series, entry_date, text, reference, rows: [[account, öre, cost centre, name]]}
    voucher           jsonb NOT NULL,
    z_report_number   bigint,
    -- the Z-report's control totals the day was reconciled against (NULL for a partial export)
    control_totals    jsonb,
    receipt_count     integer NOT NULL,
    reverses          uuid,
    correction_id     uuid,
    fiscal_year_end   date NOT NULL,
    retain_until      date NOT NULL,
    recorded_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX audit_vouchers_by_number ON audit_vouchers (organization_id, series, number);
CREATE INDEX audit_vouchers_retention ON audit_vouchers (retain_until);

CREATE TABLE audit_receipts (
    export_id       uuid NOT NULL REFERENCES audit_vouchers (export_id) ON DELETE CASCADE,
    organization_id text NOT NULL,
    receipt_id      text NOT NULL,
    receipt_number  text,
    PRIMARY KEY (export_id, receipt_id)
);
CREATE INDEX audit_receipts_by_receipt ON audit_receipts (organization_id, receipt_id);

-- Vouchers booked before this migration: their audit record from what we hold (BL's fiscal year is
-- not known here, so the calendar year is taken; a fiscal year never ends later than its start year + 1,
-- so retain_until is extended by one year to stay on the safe side).
INSERT INTO audit_vouchers (export_id, organization_id, store_id, business_date, trigger, reference, series, number,
                            entry_date, voucher, z_report_number, control_totals, receipt_count, reverses,
                            fiscal_year_end, retain_until)
SELECT e.export_id, e.organization_id, e.store_id, e.business_date, e.trigger, e.reference, e.voucher_series,
       e.voucher_number, (e.voucher->>'entry_date')::date, e.voucher, e.z_report_number,
       d.payload - 'store_name' - 'counted_cash_ore' - 'expected_cash_ore',
       coalesce((e.voucher->>'receipt_count')::int, 0), e.reverses,
       make_date(extract(year FROM (e.voucher->>'entry_date')::date)::int, 12, 31),
       make_date(extract(year FROM (e.voucher->>'entry_date')::date)::int + 8, 12, 31)
FROM exports e
LEFT JOIN day_closes d ON d.organization_id = e.organization_id AND d.store_id = e.store_id
     AND d.business_date = e.business_date AND d.z_report_number = e.z_report_number
WHERE e.status = 'booked' AND e.voucher IS NOT NULL AND e.voucher_series IS NOT NULL;

INSERT INTO audit_receipts (export_id, organization_id, receipt_id, receipt_number)
SELECT s.export_id, s.organization_id, s.payload->>'receipt_id', s.payload->>'receipt_number'
FROM sales_events s JOIN audit_vouchers a ON a.export_id = s.export_id
WHERE s.kind = 'receipt';

CREATE INDEX corrections_new_export ON corrections (new_export_id) WHERE new_export_id IS NOT NULL;
