"""The four account-plan steps as form rows, and a posted step back into the plan the API saves.

Input names are the API's own field paths (``payment_methods.swish``, ``vat_rates.600``,
``sales_default_by_rate.600``, ``product_groups.coffee.600``, ``events.TIPS``), so the API's per-field errors land
next to their fields without translation. Rows come from the API's answers only: the plan (with what is missing
and the product groups per VAT rate seen in sales), the POS's registered items and the company's chart in BL."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from backoffice.card import suggestions as bas
from backoffice.models_plan import MissingItem, Plan, PlanIn, RegisteredItems

STEPS = ("payment-methods", "vat-rates", "product-groups", "events")
KINDS = {
    "payment-methods": "payment_method",
    "vat-rates": "vat_rate",
    "product-groups": "product_group",
    "events": "event",
}
#: The form fields each step owns in the plan (what a post of that step replaces).
SECTIONS = {
    "payment-methods": ("payment_methods",),
    "vat-rates": ("vat_rates",),
    "product-groups": ("sales_default_by_rate", "product_groups"),
    "events": ("events", "series"),
}
STANDARD_SALES_RATES = (2500, 1200, 600, 0)


@dataclass
class Row:
    name: str
    label: str
    value: str
    hint: str | None = None
    new: bool = False
    error: str | None = None
    account_name: str | None = None


@dataclass
class Section:
    title: str
    rows: list[Row] = field(default_factory=list)


def pct(rate: int) -> str:
    return f"{rate / 100:g}".replace(".", ",")


def field_of(item: MissingItem) -> str | None:
    """The form field a missing item is entered in."""
    if item.kind == "payment_method":
        return f"payment_methods.{item.code}"
    if item.kind == "vat_rate":
        return f"vat_rates.{item.code}"
    if item.kind == "event":
        return f"events.{item.code}"
    return f"product_groups.{item.code}.{item.vat_rate}" if item.vat_rate is not None else None


def _hint(item: MissingItem | None, t: Callable[..., str]) -> str | None:
    if item is None:
        return None
    if item.source == "sales" and item.last_seen is not None:
        return t("seen_in_sales", date=item.last_seen.isoformat())
    return t("registered") if item.source == "registered" else None


def rows(step: str, plan: Plan, registered: RegisteredItems, t: Callable[..., str], lang: str) -> list[Section]:
    """The step's rows, pre-filled: the plan's account, else the BAS 2026 suggestion."""
    missing = {field_of(m): m for m in plan.missing}
    index = 1 if lang == "en" else 0

    def row(name: str, label: str, current: str | None, suggestion: str | None, hint: str | None = None) -> Row:
        """Pre-filled with the plan's account; else, for what still needs one or in a plan never saved, with the
        suggestion (a field the merchant emptied on purpose stays empty)."""
        item = missing.get(name)
        value = current or (suggestion if item is not None or plan.version == 0 else None) or ""
        return Row(name, label, value, hint or _hint(item, t), new=item is not None)

    if step == "payment-methods":
        names = {i.code: i.name for i in registered.payment_methods}
        codes = _ordered(plan.payment_methods, bas.PAYMENT_METHODS, names, _codes(plan.missing, "payment_method"))
        label = {c: names.get(c) or bas.PAYMENT_METHOD_NAMES.get(c, (c, c))[index] for c in codes}
        return [
            Section(
                t("step_payment-methods"),
                [
                    row(f"payment_methods.{c}", label[c], plan.payment_methods.get(c), bas.PAYMENT_METHODS.get(c))
                    for c in codes
                ],
            )
        ]
    if step == "vat-rates":
        rates = sorted({int(r) for r in plan.vat_rates} | set(bas.VAT_RATES) | _rates(plan.missing), reverse=True)
        return [
            Section(
                t("step_vat-rates"),
                [
                    row(
                        f"vat_rates.{r}",
                        t("vat_rate_row", rate=pct(r)),
                        plan.vat_rates.get(str(r)),
                        bas.VAT_RATES.get(r),
                    )
                    for r in rates
                    if r > 0
                ],
            )
        ]
    if step == "product-groups":
        return _product_groups(plan, registered, t, row)
    codes = _ordered(plan.events, bas.EVENTS, {}, _codes(plan.missing, "event"))
    events = [
        row(f"events.{c}", bas.EVENT_NAMES.get(c, (c, c))[index], plan.events.get(c), bas.EVENTS.get(c)) for c in codes
    ]
    series = Row("series", t("series_label"), plan.series or bas.SERIES)
    return [Section(t("step_events"), events), Section(t("series_label"), [series])]


def _product_groups(
    plan: Plan, registered: RegisteredItems, t: Callable[..., str], row: Callable[..., Row]
) -> list[Section]:
    defaults_rates = sorted({int(r) for r in plan.sales_default_by_rate} | set(STANDARD_SALES_RATES), reverse=True)
    defaults = [
        row(
            f"sales_default_by_rate.{r}",
            t("rate_default", rate=pct(r)),
            plan.sales_default_by_rate.get(str(r)),
            bas.SALES_BY_RATE.get(r),
        )
        for r in defaults_rates
    ]
    names = {i.code: i.name for i in registered.product_groups}
    groups = []
    for pg in plan.product_group_rates:
        name = f"product_groups.{pg.product_group}.{pg.vat_rate}"
        own = pg.account if pg.account_source == "product_group" else None
        suggestion = (
            bas.product_group_account(pg.product_group, names.get(pg.product_group), pg.vat_rate)
            if pg.account_source == "missing"
            else None
        )
        hint = None
        if pg.account_source == "default" and pg.account:
            hint = t("uses_default", account=pg.account)
        if "sales" in pg.seen_in and pg.last_seen:
            hint = " ".join(filter(None, [t("seen_in_sales", date=pg.last_seen.isoformat()), hint]))
        label = t("group_at_rate", group=names.get(pg.product_group) or pg.product_group, rate=pct(pg.vat_rate))
        groups.append(row(name, label, own, suggestion, hint))
    return [Section(t("sales_defaults"), defaults), Section(t("group_rows"), groups)]


def _codes(missing: Iterable[MissingItem], kind: str) -> list[str]:
    return [m.code for m in missing if m.kind == kind]


def _rates(missing: Iterable[MissingItem]) -> set[int]:
    return {int(m.code) for m in missing if m.kind == "vat_rate" and m.code.isdigit()}


def _ordered(
    mapped: Mapping[str, str], suggested: Mapping[str, str], named: Mapping[str, Any], new: list[str]
) -> list[str]:
    """Suggested codes first (in their order), then the plan's, the POS's and the sales' others, sorted."""
    rest = sorted((set(mapped) | set(named) | set(new)) - set(suggested))
    return [*suggested, *rest]


def merged(step: str, plan: Plan, form: Mapping[str, str]) -> dict[str, Any]:
    """The whole plan as ``PUT …/account-plan`` takes it: the stored plan with this step's fields replaced by
    the posted ones (an empty field removes the mapping); every other field, known to the card or not, kept."""
    body = plan.model_dump(mode="json", include=set(PlanIn.model_fields))
    # The series is asked for on the last step; until then the suggestion stands in (a plan needs one to be saved).
    body["series"] = body.get("series") or bas.SERIES
    owned = SECTIONS[step]
    for section in owned:
        if section == "series":
            body["series"] = form.get("series", "").strip().upper()
        elif section == "product_groups":
            groups: dict[str, dict[str, str]] = {g: dict(r) for g, r in body.get("product_groups", {}).items()}
            for name, value in form.items():
                if name.startswith("product_groups."):
                    group, _, rate = name.removeprefix("product_groups.").rpartition(".")
                    _put(groups.setdefault(group, {}), rate, value)
            body["product_groups"] = {g: r for g, r in groups.items() if r}
        else:
            entries = dict(body.get(section, {}))
            for name, value in form.items():
                if name.startswith(section + "."):
                    _put(entries, name.removeprefix(section + "."), value)
            body[section] = entries
    return body


def _put(entries: dict[str, str], key: str, value: str) -> None:
    value = value.strip()
    if value:
        entries[key] = value
    else:
        entries.pop(key, None)


def step_missing(step: str, plan: Plan) -> list[str]:
    """Fields of this step the saved plan still lacks (the API's ``missing``, by field)."""
    kind = KINDS[step]
    return [f for m in plan.missing if m.kind == kind and (f := field_of(m)) is not None]
