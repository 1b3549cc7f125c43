"""A seeded multi-store, multi-day stream with manual exports and a few poison messages interleaved.

Each store's own events stay in order (one partition key per store, as the POS publishes them); the
stores are interleaved at random. The oracle needs only ``records``: every sales record published.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from devstack import sampledata

ORG = "org-chaos"
FIRST_DAY = date(2026, 11, 2)


@dataclass(frozen=True)
class Step:
    kind: str  # "sales" | "command" | "poison"
    records: tuple[dict[str, Any], ...] = ()
    command: dict[str, Any] | None = None
    raw: tuple[bytes, bytes] | None = None


@dataclass
class Workload:
    steps: list[Step] = field(default_factory=list)
    records: list[dict[str, Any]] = field(default_factory=list)
    store_days: list[tuple[str, date]] = field(default_factory=list)
    manual_exports: int = 0
    poison: int = 0


def build(seed: int, stores: int, days: int, receipts: tuple[int, int], poison: int = 2) -> Workload:
    rng = random.Random(f"workload/{seed}")
    w = Workload()
    queues: list[list[Step]] = []
    for s in range(stores):
        store = f"c{s:02d}"
        queue: list[Step] = []
        for d in range(days):
            day = FIRST_DAY + timedelta(days=d)
            sd = sampledata.store_day(
                ORG,
                store,
                day,
                rng.randint(*receipts),
                seed=seed,
                z_report_number=d + 1,
                with_extras=rng.random() < 0.5,
            )
            events = list(sd.events())
            cuts = sorted(rng.sample(range(1, len(events)), k=min(2, len(events) - 1)))
            for part in _split(events, cuts):
                queue.append(Step("sales", tuple(part)))
                if rng.random() < 0.25:  # BackOffice: "export now", for this store or the whole company
                    target = store if rng.random() < 0.5 else None
                    queue.append(
                        Step(
                            "command",
                            command=sampledata.manual_export(
                                ORG, target, command_id=f"manual-{seed}-{store}-{day}-{len(queue)}"
                            ),
                        )
                    )
                    w.manual_exports += 1
            close = sd.day_closed(counted_cash_delta_ore=rng.choice([0, 0, -300, 500]))
            queue.append(Step("sales", (close,)))
            w.records += [*events, close]
            w.store_days.append((store, day))
        queues.append(queue)
    while any(queues):
        queue = rng.choice([q for q in queues if q])
        w.steps.append(queue.pop(0))
    for n in range(poison):
        key = f"{ORG}/c{rng.randrange(stores):02d}".encode()
        w.steps.insert(rng.randrange(len(w.steps) + 1), Step("poison", raw=(key, b"\x00chaos-poison-%d" % n)))
    w.poison = poison
    return w


def _split(items: list[Any], cuts: list[int]) -> list[list[Any]]:
    bounds = [0, *cuts, len(items)]
    return [items[a:b] for a, b in zip(bounds, bounds[1:], strict=False) if b > a]
