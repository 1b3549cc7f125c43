"""Pre-flight: can this voucher be booked in this company's books right now?

BL answers most of these questions itself when we post, but asking first lets us name every
problem at once (all missing accounts, not just the first) and keeps failed posts out of the
merchant's audit log. What BL told us is kept per company (:mod:`exporters.bl.facts`: once per company
and day, one fetch for concurrent workers), and forgotten as soon as a check fails, so a merchant's fix
is seen on the next retry.
"""

from __future__ import annotations

from datetime import date

from exporters.bl.facts import ChartFact, CompanyFacts
from mapping.plan import AccountPlan
from mapping.voucher import Voucher
from service.exporter import MerchantActionRequired
from service.reasons import ReasonCode
from service.vatcodes import vat_code_conflict


def period_of(day: date) -> str:
    """BL's period id for a date: ``YYYYMM``."""
    return f"{day.year:04d}{day.month:02d}"


def check(facts: CompanyFacts, voucher: Voucher, user_key: str, plan: AccountPlan | None = None) -> str:
    """Raise :class:`MerchantActionRequired` naming every problem; return the fiscal year's id. With the merchant's
    ``plan``, a fetch of the chart keeps every account (and cost centre) it maps, for the company's next vouchers."""
    problems: list[MerchantActionRequired] = []
    fy = facts.financial_year(user_key, voucher.entry_date)
    fy_id = ""
    day = voucher.entry_date.isoformat()
    if fy is None:
        problems.append(
            MerchantActionRequired(ReasonCode.FISCAL_YEAR_MISSING, f"no fiscal year in BL covers {day}", {"date": day})
        )
    else:
        fy_id = fy.id
        if not fy.open:
            problems.append(
                MerchantActionRequired(
                    ReasonCode.FISCAL_YEAR_CLOSED,
                    f"fiscal year {fy_id} is closed in BL",
                    {"financial_year": fy_id},
                )
            )
        first_open = fy.first_open_period
        if first_open and period_of(voucher.entry_date) < first_open:
            problems.append(
                MerchantActionRequired(
                    ReasonCode.PERIOD_LOCKED,
                    f"{day} is in a locked period (first open period is {first_open})",
                    {"date": day, "first_open_period": first_open},
                )
            )
    problems.extend(_account_problems(facts, voucher, user_key, plan))
    problems.extend(_cost_centre_problems(facts, voucher, user_key, plan))
    if problems:
        first = problems[0]
        if len(problems) > 1:
            first.details["other_problems"] = [{"reason_code": str(p.reason_code), **p.details} for p in problems[1:]]
        raise first
    return fy_id


def _account_problems(
    facts: CompanyFacts, voucher: Voucher, user_key: str, plan: AccountPlan | None
) -> list[MerchantActionRequired]:
    used = sorted({row.account for row in voucher.rows})
    accounts = facts.accounts(user_key, used, plan.mapped_accounts() if plan else ())
    missing = [a for a in used if a not in accounts]
    closed = [a for a in used if a in accounts and accounts[a].closed]
    problems = _vat_code_problems(accounts, voucher)
    if missing:
        problems.append(
            MerchantActionRequired(
                ReasonCode.ACCOUNT_MISSING_IN_BL,
                f"accounts missing in BL: {', '.join(missing)}",
                {"accounts": missing},
            )
        )
    if closed:
        problems.append(
            MerchantActionRequired(
                ReasonCode.ACCOUNT_CLOSED, f"accounts closed in BL: {', '.join(closed)}", {"accounts": closed}
            )
        )
    return problems


def _vat_code_problems(accounts: dict[str, ChartFact], voucher: Voucher) -> list[MerchantActionRequired]:
    """A sales account whose VAT code in BL says another rate than the one the plan books on it."""
    conflicts = [
        (account, why)
        for account, rate in voucher.sales_rates
        if account in accounts and (why := vat_code_conflict(account, rate, accounts[account].vat_code))
    ]
    if not conflicts:
        return []
    named = sorted({account for account, _ in conflicts})
    return [
        MerchantActionRequired(
            ReasonCode.ACCOUNT_VAT_CODE_MISMATCH,
            "; ".join(why for _, why in conflicts),
            {"accounts": named, **{f"account {a}": "; ".join(w for b, w in conflicts if b == a) for a in named}},
        )
    ]


def _cost_centre_problems(
    facts: CompanyFacts, voucher: Voucher, user_key: str, plan: AccountPlan | None
) -> list[MerchantActionRequired]:
    used = sorted({row.cost_centre for row in voucher.rows if row.cost_centre})
    if not used:
        return []
    centres = facts.cost_centres(user_key, used, plan.store_cost_centres.values() if plan else ())
    bad = [c for c in used if c not in centres or centres[c].closed]
    if not bad:
        return []
    return [
        MerchantActionRequired(
            ReasonCode.COST_CENTRE_MISSING,
            f"cost centres missing or closed in BL: {', '.join(bad)}",
            {"cost_centres": bad},
        )
    ]
