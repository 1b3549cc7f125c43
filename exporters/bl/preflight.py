"""Pre-flight: can this voucher be booked in this company's books right now?

BL answers most of these questions itself when we post, but asking first lets us name every problem at once (all
missing accounts, not just the first), keeps failed posts out of the merchant's audit log, and checks what BL does
not: a sales account's VAT code against the rate the plan books on it. What BL told us is kept per company
(:mod:`exporters.bl.facts`), so the check usually asks BL nothing. Two rules keep that safe:

- **A refusal is made on fresh facts only.** When kept facts show a problem, the facts concerned are fetched again
  before the check refuses: what the merchant fixed since (in BL, from any pod) is seen, and the voucher is refused
  only on what BL holds now.
- **A refusal forgets what it concerns** (:func:`concerning`: the fiscal years for a year or period problem, the
  accounts or cost centres for theirs), in every process, so the attempt after the merchant's fix asks BL again.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import date
from typing import NamedTuple

from exporters.bl.facts import CompanyFacts
from exporters.bl.kept import ChartFact, Company, Known
from mapping.periods import FiscalYear
from mapping.plan import AccountPlan
from mapping.vatcodes import vat_code_conflict
from mapping.voucher import Voucher
from service.company_facts import ACCOUNTS, COST_CENTRES, FISCAL_YEARS, KINDS
from service.exporter import MerchantActionRequired
from service.reasons import ReasonCode

#: Which kept facts a merchant-fixable refusal (ours or BL's) is about; any other refusal forgets them all.
_CONCERNS: dict[ReasonCode, tuple[str, ...]] = {
    ReasonCode.FISCAL_YEAR_MISSING: (FISCAL_YEARS,),
    ReasonCode.FISCAL_YEAR_CLOSED: (FISCAL_YEARS,),
    ReasonCode.PERIOD_LOCKED: (FISCAL_YEARS,),
    ReasonCode.ACCOUNT_MISSING_IN_BL: (ACCOUNTS,),
    ReasonCode.ACCOUNT_CLOSED: (ACCOUNTS,),
    ReasonCode.ACCOUNT_VAT_CODE_MISMATCH: (ACCOUNTS,),
    ReasonCode.COST_CENTRE_MISSING: (COST_CENTRES,),
}


def concerning(reasons: Collection[ReasonCode]) -> tuple[str, ...]:
    """The kinds of facts refusals for these reasons are about."""
    kinds = {kind for reason in reasons for kind in _CONCERNS.get(reason, KINDS)}
    return tuple(kind for kind in KINDS if kind in kinds)


def period_of(day: date) -> str:
    """BL's period id for a date: ``YYYYMM``."""
    return f"{day.year:04d}{day.month:02d}"


class _Looked(NamedTuple):
    year: Known[FiscalYear | None]
    accounts: Known[dict[str, ChartFact]]
    centres: Known[dict[str, ChartFact]]

    def fresh(self, kind: str) -> bool:
        if kind == FISCAL_YEARS:
            return self.year.fresh
        return self.accounts.fresh if kind == ACCOUNTS else self.centres.fresh


def check(facts: CompanyFacts, voucher: Voucher, company: Company, plan: AccountPlan | None = None) -> str:
    """Raise :class:`MerchantActionRequired` naming every problem; return the fiscal year's id. With the merchant's
    ``plan``, a fetch of the chart keeps every account (and cost centre) it maps, for the company's next vouchers."""
    looked = _look(facts, voucher, company, plan, fresh=())
    problems = _problems(looked, voucher)
    stale = [kind for kind in concerning([p.reason_code for p in problems]) if not looked.fresh(kind)]
    if stale:  # refuse only on what BL holds now: the merchant may have fixed it since it was kept
        looked = _look(facts, voucher, company, plan, fresh=stale)
        problems = _problems(looked, voucher)
    if problems:
        facts.forget(company, concerning([p.reason_code for p in problems]))
        first = problems[0]
        if len(problems) > 1:
            first.details["other_problems"] = [{"reason_code": str(p.reason_code), **p.details} for p in problems[1:]]
        raise first
    year = looked.year.value
    return year.id if year else ""


def _look(
    facts: CompanyFacts, voucher: Voucher, company: Company, plan: AccountPlan | None, fresh: Collection[str]
) -> _Looked:
    """What the check needs to know, kept or (the kinds in ``fresh``) fetched again."""
    year = facts.financial_year(company, voucher.entry_date, fresh=FISCAL_YEARS in fresh)
    used = sorted({row.account for row in voucher.rows})
    accounts = facts.accounts(company, used, plan.mapped_accounts() if plan else (), fresh=ACCOUNTS in fresh)
    centres_used = sorted({row.cost_centre for row in voucher.rows if row.cost_centre})
    centres = (
        facts.cost_centres(
            company, centres_used, plan.store_cost_centres.values() if plan else (), fresh=COST_CENTRES in fresh
        )
        if centres_used
        else Known({}, True)
    )
    return _Looked(year, accounts, centres)


def _problems(looked: _Looked, voucher: Voucher) -> list[MerchantActionRequired]:
    return [
        *_year_problems(looked.year.value, voucher.entry_date),
        *_account_problems(looked.accounts.value, voucher),
        *_cost_centre_problems(looked.centres.value, voucher),
    ]


def _year_problems(fy: FiscalYear | None, day: date) -> list[MerchantActionRequired]:
    text = day.isoformat()
    if fy is None:
        return [
            MerchantActionRequired(
                ReasonCode.FISCAL_YEAR_MISSING, f"no fiscal year in BL covers {text}", {"date": text}
            )
        ]
    problems = []
    if not fy.open:
        problems.append(
            MerchantActionRequired(
                ReasonCode.FISCAL_YEAR_CLOSED, f"fiscal year {fy.id} is closed in BL", {"financial_year": fy.id}
            )
        )
    first_open = fy.first_open_period
    if first_open and period_of(day) < first_open:
        problems.append(
            MerchantActionRequired(
                ReasonCode.PERIOD_LOCKED,
                f"{text} is in a locked period (first open period is {first_open})",
                {"date": text, "first_open_period": first_open},
            )
        )
    return problems


def _account_problems(accounts: dict[str, ChartFact], voucher: Voucher) -> list[MerchantActionRequired]:
    used = sorted({row.account for row in voucher.rows})
    missing = [a for a in used if a not in accounts]
    closed = [a for a in used if a in accounts and accounts[a].closed]
    problems = _vat_code_problems(accounts, voucher)
    if missing:
        problems.append(
            MerchantActionRequired(
                ReasonCode.ACCOUNT_MISSING_IN_BL, f"accounts missing in BL: {', '.join(missing)}", {"accounts": missing}
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


def _cost_centre_problems(centres: dict[str, ChartFact], voucher: Voucher) -> list[MerchantActionRequired]:
    used = sorted({row.cost_centre for row in voucher.rows if row.cost_centre})
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
