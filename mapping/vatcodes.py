"""What BL's one-character account ``vatCode`` says about an account's VAT rate: the one place to correct.

Sources (public material is thin; BL documents no meaning for the field):

* BL's OpenAPI document (``Account.vatCode``, maxLength 1, example ``"0"`` on 1110 Byggnader, an
  account without VAT) and its company settings, which number the output VAT rates 1, 2 and 3:
  ``VatInfo.vat1percentage`` "25.0" / ``vat2percentage`` "12.0" / ``vat3percentage`` "6.0" with
  ``vat1account`` 2610 / ``vat2account`` 2620 / ``vat3account`` 2630, and ``FtgPar.salesAccountVat1/2/3``
  and ``salesAccountNoVat`` for the matching sales accounts;
* a public BL client's recorded answers (github.com/jongotlin/BjornLunden, tests/Provider/json):
  articles on sales account 3010 carry ``vatCode`` "1";
* BL Bokföring's help ("Utskrift kontoplan") lists a momskod per account in the chart.

So codes "1", "2" and "3" are taken to mean the company's VAT rates 1–3 (25, 12 and 6 %), and "0" or an
empty code "no VAT code": such an account says nothing about a rate and passes every check. An unknown
code passes too: a wrong guess must not block a merchant's books. (SIE's ``#MOMSKOD`` is an unrelated,
non-standard extension that names VAT return boxes.)

Pure, so here: the pre-flight before a post (:mod:`exporters.bl.preflight`) and the account plan's form
(:mod:`backoffice.plan_rules`, the account look-up) read the same table, and neither adapter may import the other.
"""

from __future__ import annotations

from mapping.money import percent

#: vatCode → VAT rate in basis points.
VAT_CODE_RATES: dict[str, int] = {"1": 2500, "2": 1200, "3": 600}

#: Only sales accounts (class 3) are checked: a liability (a single-purpose gift card's) or a cost is not.
CHECKED_CLASS = "3"


def rate_of_vat_code(vat_code: object) -> int | None:
    """The rate a VAT code stands for, or None when it says nothing about one."""
    return VAT_CODE_RATES.get(str(vat_code).strip()) if vat_code is not None else None


def vat_code_conflict(account: str, rate: int, vat_code: object) -> str | None:
    """Why an account mapped at ``rate`` contradicts its VAT code in BL, or None when it does not."""
    coded = rate_of_vat_code(vat_code)
    if not account.startswith(CHECKED_CLASS) or coded is None or coded == rate:
        return None
    return (
        f"account {account} has VAT code {str(vat_code).strip()} ({percent(coded)} %) in Björn Lundén but "
        f"takes sales at {percent(rate)} % VAT"
    )
