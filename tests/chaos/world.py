"""The soak's workload (#24): a simulated week of store-days for many stores of many merchants, seeded.

Each store's events keep their order (one partition key per store, as the POS publishes them); stores interleave at
random. Besides plain days: receipts published after their day close but counted in it (late on the wire), days
reopened and closed again (a second, cumulative Z-report), manual exports (a Kafka command, or the API), corrections
of booked days and a plan fix (a payment method the plan lacks blocks its days until the merchant maps it) through
the API, poison messages, conflicting re-sends of a receipt, and a receipt PostgreSQL refuses (its batch is then
written a message at a time: the path of the loop's isolation bug). The week ends on Sunday 2026-10-25, when Stockholm
turns its clocks back (02:00-03:00 happens twice); some stores also sell on 2026-03-29, when 02:00-03:00 never
happens: receipts stamped in those hours, a sale after midnight on the business day before, day closes just before
and just after midnight.

``records`` is the POS's own record for the checker: every sales event that stands (first versions).
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from devstack import sampledata

STOCKHOLM = ZoneInfo("Europe/Stockholm")
SPRING_FORWARD = date(2026, 3, 29)
FALL_BACK = date(2026, 10, 25)
WEEK = tuple(FALL_BACK - timedelta(days=6 - i) for i in range(7))  # Monday 19 to Sunday 25 October 2026
NEW_METHOD, NEW_METHOD_ACCOUNT = "klarna", "1940"
StoreDay = tuple[str, str, date]


@dataclass(frozen=True)
class ApiCall:
    kind: str  # manual_export | plan_fix | correction
    org: str
    store: str | None = None


@dataclass(frozen=True)
class Step:
    kind: str  # sales | command | poison | conflict | refused | api
    records: tuple[dict[str, Any], ...] = ()
    command: dict[str, Any] | None = None
    raw: tuple[bytes, bytes] | None = None
    api: ApiCall | None = None


@dataclass(frozen=True)
class Spec:
    merchants: int
    stores: int  # per merchant
    days: tuple[date, ...] = WEEK
    receipts: tuple[int, int] = (2, 6)
    spring_share: float = 0.3  # stores that also sell on 2026-03-29
    reopen_share: float = 0.08
    late_share: float = 0.08
    manual_share: float = 0.04  # per store-day: a manual export (command) mid-day
    fix_share: float = 0.2  # merchants (at least one) whose plan lacks a payment method their stores start taking
    api_manual_exports: int = 2
    corrections: int = 2
    poison: int = 2
    conflicts: int = 2
    refused: int = 1  # receipts PostgreSQL refuses (a NUL in a text field that decoding lets through)


@dataclass
class Merchant:
    org: str
    stores: dict[str, str]  # store name → store id
    plan: dict[str, Any]  # as activated
    final_plan: dict[str, Any]  # after its plan fix, if it needs one

    @property
    def needs_fix(self) -> bool:
        return self.plan != self.final_plan


@dataclass
class World:
    merchants: list[Merchant] = field(default_factory=list)
    steps: list[Step] = field(default_factory=list)
    records: list[dict[str, Any]] = field(default_factory=list)
    conflicts: list[dict[str, Any]] = field(default_factory=list)
    #: Store-days a manual export (or a company-wide one) may have booked part of: published before it.
    manual_days: set[StoreDay] = field(default_factory=set)
    counts: Counter[str] = field(default_factory=Counter)


def build(seed: int, spec: Spec) -> World:
    rng = random.Random(f"world/{seed}")
    w = World()
    queues: list[list[Step]] = []
    fixing = set(rng.sample(range(spec.merchants), max(1, round(spec.merchants * spec.fix_share))))
    for m in range(spec.merchants):
        org = f"org-soak-{m:02d}"
        plan = {k: (dict(v) if isinstance(v, dict) else v) for k, v in sampledata.SAMPLE_PLAN.items()}
        final = {**plan, "payment_methods": {**plan["payment_methods"], NEW_METHOD: NEW_METHOD_ACCOUNT}}
        fix = m in fixing
        merchant = Merchant(org, {}, plan if fix else final, final)
        w.merchants.append(merchant)
        for s in range(spec.stores):
            store, name = f"s{s:02d}", f"m{m:02d}s{s:02d}"
            merchant.stores[name] = store
            days = sorted({*spec.days, *([SPRING_FORWARD] if rng.random() < spec.spring_share else [])})
            queues.append(_store_queue(rng, w, spec, seed, org, store, name, days, fix))
    _interleave(rng, w, queues)
    _add_global_steps(rng, w, spec)
    return w


def _store_queue(
    rng: random.Random, w: World, spec: Spec, seed: int, org: str, store: str, name: str, days: list[date], fix: bool
) -> list[Step]:
    queue: list[Step] = []
    z = rng.randint(1, 900)
    for i, day in enumerate(days):
        sd = sampledata.store_day(
            org,
            store,
            day,
            rng.randint(*spec.receipts),
            seed=seed,
            store_name=name,
            z_report_number=z,
            with_extras=rng.random() < 0.4,
        )
        if fix and i >= 2:
            _take_new_method(rng, sd)
        _stamp(rng, sd)
        receipts, others = list(sd.receipts), list(sd.others)
        w.records += receipts + others
        reopen = len(receipts) > 2 and rng.random() < spec.reopen_share
        late = 0 if reopen else rng.randint(1, max(1, len(receipts) // 2)) * (rng.random() < spec.late_share)
        first = receipts[: len(receipts) // 2] if reopen else receipts[: len(receipts) - late]
        queue.append(Step("sales", (*first, *others)))
        if rng.random() < spec.manual_share:
            command = sampledata.manual_export(org, store, command_id=f"manual-{seed}-{org}-{store}-{day}")
            queue.append(Step("command", command=command))
            w.counts["manual_exports"] += 1
        if reopen:
            z1 = sampledata.StoreDay(org, store, name, day, z, receipts=first, others=others).day_closed()
            queue += [Step("sales", (_closed_at(rng, z1, day),)), Step("sales", tuple(receipts[len(first) :]))]
            w.records.append(z1)
            z += 1
            sd.z_report_number = z
            w.counts["reopened_days"] += 1
        close = sd.day_closed(counted_cash_delta_ore=rng.choice([0, 0, -300, 500]))
        close["event_id"] = f"dayclose-{org}-{store}-{day}-z{z}"
        queue.append(Step("sales", (_closed_at(rng, close, day),)))
        w.records.append(close)
        if late:
            queue.append(Step("sales", tuple(receipts[len(receipts) - late :])))
            w.counts["late_receipts"] += late
        z += 1
    return queue


def _take_new_method(rng: random.Random, sd: sampledata.StoreDay) -> None:
    """Some card payments without a tip become the payment method the merchant's plan lacks."""
    for r in sd.receipts:
        p = r["payload"][1]
        if p["tip_ore"] == 0 and p["payments"][0]["method"] == "card" and rng.random() < 0.4:
            p["payments"][0]["method"] = NEW_METHOD


def _stamp(rng: random.Random, sd: sampledata.StoreDay) -> None:
    """When each receipt happened, by the POS's local clock: through the day, and on the daylight-saving days in
    the hour that does not exist (its naive local time, as a POS would stamp it) or happens twice (once each), and
    after midnight (a late evening still on the business day)."""
    day, n = sd.business_date, len(sd.receipts)
    stamps = [datetime.combine(day, time(8), STOCKHOLM) + timedelta(minutes=30 + 50 * i) for i in range(n)]
    if day in (SPRING_FORWARD, FALL_BACK) and n >= 3:
        stamps[0] = datetime(day.year, day.month, day.day, 2, 30, tzinfo=STOCKHOLM)  # missing, or first of two
        stamps[1] = datetime(day.year, day.month, day.day, 2, 30, fold=1, tzinfo=STOCKHOLM)
        stamps[-1] = datetime.combine(day + timedelta(days=1), time(0, 40), STOCKHOLM)
    elif rng.random() < 0.2:
        stamps[-1] = datetime.combine(day + timedelta(days=1), time(0, 20), STOCKHOLM)
    for r, at in zip(sd.receipts, stamps, strict=True):
        r["occurred_at"] = at.astimezone(UTC)


def _closed_at(rng: random.Random, close: dict[str, Any], day: date) -> dict[str, Any]:
    """Day closes just before or just after midnight (local), always after the day's last receipt."""
    if day in (SPRING_FORWARD, FALL_BACK):
        local = datetime.combine(day + timedelta(days=1), time(0, 55), STOCKHOLM)
    else:
        local = datetime.combine(day, time(23, 58), STOCKHOLM) + timedelta(minutes=rng.choice([0, 45]))
    close["payload"][1]["closed_at"] = local.astimezone(UTC)
    return close


def _interleave(rng: random.Random, w: World, queues: list[list[Step]]) -> None:
    while queues := [q for q in queues if q]:
        queue = rng.choice(queues)
        step = queue.pop(0)
        w.steps.append(step)
        if step.kind == "command" and step.command is not None:
            _mark_manual(w, step.command["organization_id"], step.command["payload"][1]["store_id"])


def _mark_manual(w: World, org: str, store: str | None) -> None:
    for step in w.steps:
        for rec in step.records:
            if rec["organization_id"] == org and (store is None or rec["store_id"] == store):
                w.manual_days.add((org, rec["store_id"], rec["business_date"]))


def _add_global_steps(rng: random.Random, w: World, spec: Spec) -> None:
    """Poison, conflicting re-sends and the API's calls, at seeded places in the stream."""
    n = len(w.steps)
    for i in range(spec.poison):
        key = f"{rng.choice(w.merchants).org}/s00".encode()
        w.steps.insert(rng.randrange(n), Step("poison", raw=(key, b"\x00soak-poison-%d" % i)))
    receipts = [r for r in w.records if r["payload"][0] == sampledata.RECEIPT]
    for original in rng.sample(receipts, min(spec.conflicts, len(receipts))):
        name, payload = original["payload"]
        changed = {
            **payload,
            "tip_ore": payload["tip_ore"] + 100,
            "payments": [{**payload["payments"][0], "amount_ore": payload["payments"][0]["amount_ore"] + 100}],
        }
        resend = {**original, "event_id": original["event_id"] + "-resend", "payload": (name, changed)}
        at = next(i for i, s in enumerate(w.steps) if any(r is original for r in s.records))
        w.steps.insert(rng.randint(at + 1, len(w.steps)), Step("conflict", records=(resend,)))
        w.conflicts.append(resend)
    for i in range(spec.refused):  # an extra receipt, in no Z-report: dead-lettered, never booked
        original = rng.choice(receipts)
        name, payload = original["payload"]
        bad = {**payload, "receipt_id": f"{payload['receipt_id']}-nul{i}", "receipt_number": "12\x0034"}
        refused = {**original, "event_id": f"{original['event_id']}-nul{i}", "payload": (name, bad)}
        at = next(i for i, s in enumerate(w.steps) if any(r is original for r in s.records))
        w.steps.insert(at + 1, Step("refused", records=(refused,)))
        w.conflicts.append(refused)
    for merchant in (m for m in w.merchants if m.needs_fix):
        w.steps.insert(int(len(w.steps) * rng.uniform(0.5, 0.8)), Step("api", api=ApiCall("plan_fix", merchant.org)))
    for _ in range(spec.api_manual_exports):
        at = rng.randrange(len(w.steps))
        org = rng.choice(w.merchants).org
        w.steps.insert(at, Step("api", api=ApiCall("manual_export", org)))
        _mark_manual_before(w, at, org)
    for _ in range(spec.corrections):
        at = int(len(w.steps) * rng.uniform(0.3, 0.9))
        w.steps.insert(at, Step("api", api=ApiCall("correction", rng.choice(w.merchants).org)))
    w.counts.update(Counter(s.kind for s in w.steps))


def _mark_manual_before(w: World, at: int, org: str) -> None:
    for step in w.steps[:at]:
        for rec in step.records:
            if rec["organization_id"] == org:
                w.manual_days.add((org, rec["store_id"], rec["business_date"]))
