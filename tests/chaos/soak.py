"""One soak run (#24): the simulated week (:mod:`tests.chaos.world`) published to ``dayclose run`` and ``dayclose
api`` running as their own processes, under the seeded nemesis (:mod:`tests.chaos.nemesis`); then every fault
healed, the service given time to finish, and the independent checker (:mod:`tests.chaos.checker`) run over what
the POS produced, what BL holds and what the topics carry.

The driver may read PostgreSQL to know when the service is done (nothing left to do); the verdict never does.
Every failure names the seed and the command that replays it.
"""

from __future__ import annotations

import json
import os
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import psycopg
from confluent_kafka import KafkaError, Message, Producer

from devstack import diskfault, netfault
from devstack.harness import Harness
from tests.chaos import detection
from tests.chaos import world as wl
from tests.chaos.books import StoreDay, expected_books, net, read_vouchers
from tests.chaos.checker import History, Verdict, check
from tests.chaos.merchants import BackOffice
from tests.chaos.nemesis import Nemesis, NemesisSpec
from tests.chaos.stack import Stack
from tests.tokens import SERVICE_TOKEN

ALLOWED_FAILURES = {
    "BL_UNAVAILABLE",  # BL faults: retried
    "CLIENT_CREDENTIALS_INVALID",  # our token refused twice in a row: retried
    "UNMAPPED_ITEMS",  # a payment method the plan lacks, until the merchant maps it
    "POISON_MESSAGE",
    "RECEIPT_CONFLICT",
    "INVALID_EVENT",  # the receipt PostgreSQL refuses
    "RECONCILIATION_MISMATCH",  # late receipts later than the wait (faults can delay them): booked when they come
}
#: What the driver reads to know the service has nothing left to do (never part of the verdict).
PENDING = {
    "open jobs": "SELECT count(*) FROM export_jobs",
    "unbooked exports": "SELECT count(*) FROM exports WHERE status <> 'booked'",
    "unsent outbox rows": "SELECT count(*) FROM outbox WHERE sent_at IS NULL",
}


def replay_hint(seed: int) -> str:
    return f"replay: SOAK_SEED={seed} make soak   (or SOAK_SEED={seed} .venv/bin/python -m pytest tests/chaos -m soak)"


class SoakFailure(AssertionError):
    pass


@dataclass
class Report:
    seed: int
    log: list[str] = field(default_factory=list)
    counts: Counter[str] = field(default_factory=Counter)
    skipped: dict[str, str] = field(default_factory=dict)
    table: list[dict[str, Any]] = field(default_factory=list)
    verdict: Verdict | None = None
    seconds: float = 0.0

    def note(self, text: str) -> None:
        self.log.append(f"{time.strftime('%H:%M:%S')} {text}")

    def summary(self) -> str:
        v = self.verdict
        checked = (
            f"{v.store_days} store-days, {v.vouchers} vouchers, {v.outcomes} outcomes "
            f"(+{v.duplicate_outcomes} redelivered), {v.dead_letters} dead letters, failures {dict(v.failures)}"
            if v
            else "not checked"
        )
        return (
            f"soak seed {self.seed}: {self.counts['kill_run']} SIGKILLs of dayclose run, {self.counts['kill_api']} of "
            f"dayclose api, faults {dict(sorted(self.counts.items()))}; {checked}; {self.seconds:.0f}s"
            + (f"; skipped: {self.skipped}" if self.skipped else "")
        )


class SoakRun:
    def __init__(
        self,
        seed: int,
        world: wl.Spec,
        nemesis: NemesisSpec,
        workdir: Path,
        *,
        settle_timeout_s: float = 300.0,
        one_voucher_per_z: bool = False,
    ) -> None:
        self.seed, self.workdir, self.settle_timeout_s = seed, workdir, settle_timeout_s
        self.one_voucher_per_z = one_voucher_per_z
        self.world = wl.build(seed, world)
        self.report = Report(seed)
        root = netfault.unavailable_reason() is None
        self.stack = Stack(
            workdir, faults_on_links=root, disk_mb=512 if diskfault.unavailable_reason() is None else None
        )
        self.nemesis = Nemesis(seed, nemesis, self.stack)
        self.poison_offsets: set[tuple[str, int, int]] = set()
        self.companies: dict[str, str] = {}

    # --- the run ------------------------------------------------------------------------------------------

    def run(self) -> Report:
        started = time.monotonic()
        try:
            self._setup()
            self._drive()
            self._heal_and_settle()
            self._check()
        except Exception as exc:
            raise SoakFailure(self._failure(exc)) from exc
        finally:
            self.report.seconds = time.monotonic() - started
            self._write_report()
            if getattr(self, "harness", None) is not None:
                self.harness.close()
            if getattr(self, "producer", None) is not None:
                self.producer.flush(10)
            self.stack.close()
        return self.report

    def _failure(self, exc: BaseException) -> str:
        r = self.report
        tail = self.stack.run.log_tail(20) if self.stack.run else ""
        return (
            f"soak seed {self.seed} failed: {exc}\n{replay_hint(self.seed)}\nfaults so far: {dict(r.counts)}\n"
            f"last of the schedule:\n  " + "\n  ".join(r.log[-40:]) + f"\ndayclose run's log "
            f"({self.workdir / 'run.log'}), last lines:\n{tail}"
        )

    def _setup(self) -> None:
        self.stack.start(api_tokens=SERVICE_TOKEN.reveal())
        self.report.skipped = {}
        self.harness = Harness(self.stack.settings, self.stack.topics)
        for m in self.world.merchants:
            company = self.stack.bl.register_company(name=f"{m.org} AB")
            self.companies[m.org] = company.user_key
            self.harness.activate(m.org, company.user_key, m.plan, date(2026, 1, 1))
        self.producer = Producer({**self.stack.settings.kafka.client_config(), "enable.idempotence": True})
        self.backoffice = BackOffice(self.stack, self.world, self.seed, self.nemesis, self.report.note, self._supervise)
        assert self.stack.run is not None and self.stack.api is not None
        self.stack.run.start()
        self.stack.api.start()
        if not self.stack.wait_api_ready():
            raise SoakFailure(f"dayclose api did not start:\n{self.stack.api.log_tail(20)}")

    def _drive(self) -> None:
        todo = self.nemesis.actions()
        self.report.skipped = dict(self.nemesis.skipped)
        placed, rest = self.nemesis.at_steps(todo, len(self.world.steps))
        for i, step in enumerate(self.world.steps):
            self._supervise()
            self._publish(step)
            for action in placed.get(i, []):
                self._act(action)
        for action in rest:
            self._supervise()
            self._act(action)
        while self.nemesis.kills < self.nemesis.spec.kills:  # kills that found the process already gone
            self._supervise()
            self._act("kill")

    def _act(self, action: str) -> None:
        self.nemesis.do(action, self.report.note)

    # --- publishing and the API ------------------------------------------------------------------------------

    def _publish(self, step: wl.Step) -> None:
        topics = self.stack.topics
        offsets: list[tuple[str, int, int]] = []

        def delivered(err: KafkaError | None, msg: Message) -> None:
            if err is None:
                offsets.append((msg.topic() or "", msg.partition() or 0, msg.offset() or 0))

        if step.kind == "api" and step.api is not None:
            self.backoffice.call(step.api)
            return
        if step.kind == "command" and step.command is not None:
            key, value = step.command["organization_id"].encode(), self.harness.command_codec.encode(step.command)
            self.producer.produce(topics.commands, key=key, value=value)
        elif step.kind == "poison" and step.raw is not None:
            self.producer.produce(topics.sales, key=step.raw[0], value=step.raw[1], on_delivery=delivered)
        for rec in step.records:
            key = f"{rec['organization_id']}/{rec['store_id']}".encode()
            callback = delivered if step.kind in ("conflict", "refused") else None
            self.producer.produce(
                topics.sales, key=key, value=self.harness.sales_codec.encode(rec), on_delivery=callback
            )
        if self.producer.flush(60):
            raise SoakFailure("the workload could not be published (Kafka, seen from the test, is down)")
        self.poison_offsets |= set(offsets)

    # --- supervision, healing, settling --------------------------------------------------------------------

    def _supervise(self) -> None:
        """A process that ended by itself after it started is a failure (the loop's isolation bug ended ``dayclose
        run`` so); one that ended while starting (its database unreachable: it fails fast by design) is restarted."""
        for name, process, started in (
            ("dayclose run", self.stack.run, "service.started"),
            ("dayclose api", self.stack.api, "Application startup complete"),
        ):
            assert process is not None
            if process.alive:
                continue
            log = process.log_since_start()
            if started in log:
                raise SoakFailure(f"{name} exited by itself (code {process.process and process.process.returncode})")
            self.report.counts[f"startup_failure:{name}"] += 1
            process.start()

    def _heal_and_settle(self) -> None:
        self.nemesis.heal_all()
        self._supervise()
        books = expected_books(self.world.records, {m.org: m.final_plan for m in self.world.merchants})
        deadline = time.monotonic() + self.settle_timeout_s
        while True:
            self._supervise()
            pending = self._pending()
            wrong = self._days_off(books)
            if not any(pending.values()) and not wrong:
                return
            if time.monotonic() > deadline:
                raise SoakFailure(
                    f"not settled in {self.settle_timeout_s:.0f}s: {pending}; store-days not (yet) as sold "
                    f"(BL − expected, öre per account): {self._off_by(books, sorted(wrong)[:10])}"
                )
            time.sleep(1.0)  # the service works meanwhile; checked against a deadline

    def _pending(self) -> dict[str, int]:
        try:
            with psycopg.connect(self.stack.database_url, connect_timeout=3) as conn:
                return {what: int(conn.execute(sql).fetchone()[0]) for what, sql in PENDING.items()}  # type: ignore[index]
        except psycopg.OperationalError:
            return {"database unreachable": 1}

    def _off_by(self, books: dict[StoreDay, Counter[str]], days: list[StoreDay]) -> dict[StoreDay, dict[str, int]]:
        """What BL holds less what the store-day must book, per account: what an investigation starts from."""
        got = self._booked_per_day()
        out = {}
        for day in days:
            diff = net(got.get(day, []))
            diff.subtract(books[day])
            out[day] = {account: amount for account, amount in sorted(diff.items()) if amount}
        return out

    def _booked_per_day(self) -> dict[StoreDay, list[dict[str, Any]]]:
        got: dict[StoreDay, list[dict[str, Any]]] = {}
        for m in self.world.merchants:
            vouchers = self.stack.bl.vouchers(self.companies[m.org])
            read, _ = read_vouchers(m.org, vouchers, {**m.stores, **{s: s for s in m.stores.values()}})
            for b in read:
                if b.store_day:
                    got.setdefault(b.store_day, []).append(b.voucher)
        return got

    def _days_off(self, books: dict[StoreDay, Counter[str]]) -> list[StoreDay]:
        """Store-days whose vouchers in BL do not (yet) add up to what they must book."""
        got = self._booked_per_day()
        return [k for k in books if net(got.get(k, [])) != books[k]]

    # --- the verdict ----------------------------------------------------------------------------------------

    def _check(self) -> None:
        w = self.world
        history = History(
            records=w.records,
            plans={m.org: m.final_plan for m in w.merchants},
            companies=self.companies,
            stores={m.org: {**m.stores, **{s: s for s in m.stores.values()}} for m in w.merchants},
            poison=self.poison_offsets,
            dead_lettered_content=w.conflicts,
            manual_days=w.manual_days,
            allowed_failures=ALLOWED_FAILURES,
        )
        verdict = check(
            history,
            f"{self.stack.bl.url}/_admin",
            self.stack.bootstrap,
            self.stack.topics.outcomes,
            self.stack.topics.dead_letters,
            one_voucher_per_z=self.one_voucher_per_z,
        )
        self.report.verdict = verdict
        self.report.counts.update(
            Counter(f.kind.split(":")[0] if f.kind.startswith("kill") else f.kind for f in self.nemesis.faults)
        )
        lines = detection.read_log(self.workdir / "run.log")
        outcome = "checker: nothing lost, nothing doubled" if not verdict.problems else "checker FAILED"
        self.report.table = detection.table(self.nemesis.faults, lines, outcome)
        if verdict.problems:
            raise SoakFailure(f"{len(verdict.problems)} invariant(s) broken:\n  " + "\n  ".join(verdict.problems[:40]))

    def _write_report(self) -> None:
        r = self.report
        data = {
            "seed": r.seed,
            "summary": r.summary(),
            "counts": dict(r.counts),
            "skipped": r.skipped,
            "table": r.table,
            "faults": [asdict(f) for f in self.nemesis.faults],
            "world": dict(self.world.counts),
            "schedule": r.log,
        }
        text = json.dumps(data, indent=1, default=str)
        (self.workdir / "soak-report.json").write_text(text)
        (self.workdir / "soak-table.md").write_text(detection.markdown(r.table))
        if os.environ.get("SOAK_REPORT"):
            Path(os.environ["SOAK_REPORT"]).write_text(text)
