"""One seeded fault run: the service as its own process under SIGKILLs, BL faults, broker outages and a
PostgreSQL restart, then the books checked against an independent oracle.

The *schedule* (which fault, at which step, how long) comes from the seed, so a failing seed replays the
same schedule; thread timing on the machine is not replayable, so a rare interleaving may need a few
replays. Every failure message names the seed and the replay command.
"""

from __future__ import annotations

import random
import re
import threading
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import psycopg

from devstack.bl_standin import BLStandIn
from devstack.harness import Harness, Topics, make_settings
from devstack.kafka import MockKafkaCluster
from devstack.postgres import LocalPostgres, create_database
from devstack.processes import ServiceProcess, service_env
from devstack.sampledata import SAMPLE_PLAN
from storage.migrate import migrate
from tests.chaos import workload as wl
from tests.integration.pipeline.oracle import booked_totals, expected_totals

#: Sales no export holds: above their store-day's latest watermark, or named by a reversed export not booked again.
UNCLAIMED_SALES = """SELECT count(*) FROM sales s
    WHERE s.id > (SELECT coalesce(max(w.watermark), 0) FROM exports w WHERE w.organization_id = s.organization_id
                  AND w.store_id = s.store_id AND w.business_date = s.business_date)
       OR EXISTS (SELECT 1 FROM exports r WHERE r.organization_id = s.organization_id AND r.store_id = s.store_id
                  AND r.business_date = s.business_date AND r.reason_code = 'REVERSED' AND r.released_by IS NULL
                  AND r.sales_ids @> s.id)"""

REPO = Path(__file__).resolve().parents[2]
REFERENCE = re.compile(r"DC-[0-9a-f]{16}")
SERVICE = ("-m", "dayclose", "run")


@dataclass(frozen=True)
class Plan:
    kills: int
    stores: int
    days: int
    receipts: tuple[int, int] = (3, 12)
    bl_episodes: int = 4
    broker_outages: int = 1
    postgres_restarts: int = 1
    settle_timeout_s: float = 120.0


@dataclass
class Report:
    seed: int
    faults: Counter[str] = field(default_factory=Counter)
    log: list[str] = field(default_factory=list)
    store_days: int = 0
    vouchers: int = 0
    outcomes: int = 0
    dead_letters: int = 0
    duplicate_dead_letters: int = 0
    vouchers_by_trigger: Counter[str] = field(default_factory=Counter)
    seconds: float = 0.0

    def note(self, kind: str, text: str) -> None:
        self.faults[kind] += 1
        self.log.append(f"{time.strftime('%H:%M:%S')} {kind}: {text}")


def replay_hint(seed: int) -> str:
    return f"replay: CHAOS_SEEDS={seed} .venv/bin/python -m pytest tests/chaos -m chaos -x"


class ChaosFailure(AssertionError):
    pass


class ChaosRun:
    def __init__(self, seed: int, plan: Plan, workdir: Path) -> None:
        self.seed, self.plan, self.workdir = seed, plan, workdir
        self.rng = random.Random(f"faults/{seed}")
        self.report = Report(seed)
        self.workload = wl.build(seed, plan.stores, plan.days, plan.receipts)

    # --- the run ----------------------------------------------------------------------------------

    def run(self) -> Report:
        started = time.monotonic()
        self.postgres = LocalPostgres().start()
        self.kafka = MockKafkaCluster(3)
        self.bl = BLStandIn().start()
        self.service: ServiceProcess | None = None
        self.harness: Harness | None = None
        try:
            self._setup()
            self._publish_with_faults()
            self._kill_during_exports()
            self._settle()
            self._check()
        except Exception as exc:
            tail = self.service.log_tail(15) if self.service else ""
            raise ChaosFailure(
                f"chaos seed {self.seed} failed: {exc}\n{replay_hint(self.seed)}\n"
                f"faults: {dict(self.report.faults)}\nschedule:\n  "
                + "\n  ".join(self.report.log)
                + f"\nservice log ({self.workdir / 'service.log'}), last lines:\n{tail}"
            ) from exc
        finally:
            if self.service is not None:
                self.service.stop(timeout=20)
            if self.harness is not None:
                self.harness.close()
            self.bl.stop()
            self.kafka.close()
            self.postgres.stop()
        self.report.seconds = round(time.monotonic() - started, 1)
        return self.report

    def _setup(self) -> None:
        db = create_database(self.postgres.url, "chaos")
        migrate(db)
        self.database_url = db
        company = self.bl.register_company(name="Kaoskaféet AB")
        self.user_key = company.user_key
        topics = Topics.fresh(self.kafka.create_topic, 4)
        settings = make_settings(
            db,
            self.kafka.bootstrap_servers,
            topics,
            bl_base_url=self.bl.base_url,
            bl_token_url=self.bl.token_url,
            bl_client_id=self.bl.client_id,
            bl_client_secret=self.bl.client_secret,
            workers=3,
        )
        self.harness = Harness(settings, topics)
        self.harness.activate(wl.ORG, company.user_key, SAMPLE_PLAN, date(2026, 1, 1))
        env = service_env(
            settings,
            **{
                "PYTHONPATH": str(REPO),
                "KAFKA_SESSION_TIMEOUT_MS": "3000",
                "KAFKA_HEARTBEAT_INTERVAL_MS": "300",
                "DAYCLOSE_RECONCILE_WAIT_SECONDS": "20",
                "DAYCLOSE_RETRY_BACKOFF_SECONDS": "0.2",
                "DAYCLOSE_RETRY_BACKOFF_MAX_SECONDS": "2",
                "BL_TIMEOUT_SECONDS": "1.5",
                "BL_MAX_RETRIES": "2",
                # Longer than the stand-in takes to commit under the injected latency (at most 1.4 s): what the setting
                # means. A look-up after a crash waits it too, so a dead process's post still being committed is found.
                "BL_AMBIGUOUS_QUIET_SECONDS": "1.5",
                "BL_MAX_REQUESTS_PER_SECOND": "200",
                "BL_MAX_REQUESTS_PER_SECOND_PER_COMPANY": "200",
                "DAYCLOSE_LOG_LEVEL": "info",
            },
        )
        import sys

        self.service = ServiceProcess(env, self.workdir / "service.log", (sys.executable, *SERVICE)).start()

    def _publish_with_faults(self) -> None:
        steps = self.workload.steps
        n = len(steps)
        kills_here = min(self.plan.kills // 2, n)
        at: dict[int, list[str]] = defaultdict(list)
        for i in self.rng.sample(range(n), kills_here):
            at[i].append("kill")
        for _ in range(self.plan.bl_episodes):
            at[self.rng.randrange(n)].append("bl")
        for _ in range(self.plan.broker_outages):
            at[self.rng.randrange(n)].append("broker")
        for _ in range(self.plan.postgres_restarts):
            at[self.rng.randrange(n)].append("postgres")
        for i, step in enumerate(steps):
            self._publish(step)
            for action in at.get(i, []):
                getattr(self, f"_fault_{action}")()

    def _kill_during_exports(self) -> None:
        while self.service is not None and self.service.kills < self.plan.kills:
            if self.rng.random() < 0.3:
                self._fault_bl()
            self._fault_kill(work_s=self.rng.uniform(0.2, 2.5))

    def _settle(self) -> None:
        self.bl.reset_faults()
        assert self.service is not None
        if not self.service.alive:
            self.service.start()
        expected = expected_totals(self.workload.records)
        deadline = time.monotonic() + self.plan.settle_timeout_s
        while True:
            state = self._db_state()
            booked = booked_totals(self.bl.vouchers(self.user_key))
            if (
                state["open_jobs"] == 0
                and state["unbooked_exports"] == 0
                and state["unsent_outbox"] == 0
                and state["unclaimed_sales"] == 0
                and state["pending_documents"] == 0
                and booked == expected
            ):
                break
            if not self.service.alive:
                raise ChaosFailure(f"service exited by itself (code {self.service.process.returncode})")
            if time.monotonic() > deadline:
                diff = {
                    k: booked.get(k, 0) - expected.get(k, 0)
                    for k in set(booked) | set(expected)
                    if booked.get(k, 0) != expected.get(k, 0)
                }
                raise ChaosFailure(
                    f"did not settle in {self.plan.settle_timeout_s:.0f}s: {state}; "
                    f"booked − expected per account: {diff}"
                )
            time.sleep(0.25)

    # --- faults --------------------------------------------------------------------------------------

    def _publish(self, step: wl.Step) -> None:
        h = self.harness
        if step.kind == "sales":
            h.publish_sales(step.records)
        elif step.kind == "command":
            assert step.command is not None
            h.publish_command(step.command)
        else:
            assert step.raw is not None
            h.publish_sales([], raw=[step.raw])

    def _fault_kill(self, work_s: float | None = None) -> None:
        assert self.service is not None
        time.sleep(self.rng.uniform(0.0, 0.8) if work_s is None else work_s)  # let it get into something
        self.service.kill()
        self.report.note("kill", f"SIGKILL #{self.service.kills}")
        time.sleep(self.rng.uniform(0.0, 0.5))
        self.service.start()

    def _fault_bl(self) -> None:
        kinds = ["5xx", "429", "timeout_after_commit", "reset_after_commit", "attach_lost", "latency", "clear"]
        kind = self.rng.choice(kinds)
        seed = self.rng.randrange(2**31)
        knobs: dict[str, Any] = {
            "5xx": {"error_rate": self.rng.uniform(0.1, 0.5), "error_status": self.rng.choice([500, 502, 503])},
            "429": {"throttle_next": self.rng.randint(3, 15), "retry_after_s": self.rng.choice([0, 1])},
            "timeout_after_commit": {
                "commit_then_drop": self.rng.randint(1, 3),
                "drop_mode": "timeout",
                "drop_hold_s": 2.5,
            },
            "reset_after_commit": {"commit_then_drop": self.rng.randint(1, 3), "drop_mode": "reset"},
            # BL attaches the day report and the answer is lost: the next attempt must find it, not attach again.
            "attach_lost": {
                "documents_commit_then_drop": self.rng.randint(1, 3),
                "drop_mode": self.rng.choice(["timeout", "reset"]),
                "drop_hold_s": 2.5,
            },
            "latency": {"latency_s": self.rng.uniform(0.2, 0.8), "latency_jitter_s": 0.6},
            "clear": {},
        }[kind]
        self.bl.set_faults(seed=seed, **knobs)
        self.report.note(f"bl_{kind}", str(knobs))

    def _fault_broker(self) -> None:
        broker = self.rng.randint(1, 3)
        down_s = self.rng.uniform(1.0, 3.0)
        self.kafka.broker_down(broker)
        self.report.note("broker_down", f"broker {broker} for {down_s:.1f}s")
        timer = threading.Timer(down_s, self.kafka.broker_up, (broker,))
        timer.start()
        timer.join()  # the service sees the outage; our own publishing waits it out too

    def _fault_postgres(self) -> None:
        started = time.monotonic()
        self.postgres.restart()  # fast shutdown: open connections are cut, in-flight transactions lost
        self.report.note("postgres_restart", f"down {time.monotonic() - started:.1f}s")

    # --- the invariants ---------------------------------------------------------------------------------

    def _db_state(self) -> dict[str, int]:
        try:
            with psycopg.connect(self.database_url, connect_timeout=3) as conn:
                one = lambda sql: int(conn.execute(sql).fetchone()[0])  # noqa: E731
                return {
                    "open_jobs": one("SELECT count(*) FROM export_jobs"),
                    "unbooked_exports": one("SELECT count(*) FROM exports WHERE status <> 'booked'"),
                    "unsent_outbox": one("SELECT count(*) FROM outbox WHERE sent_at IS NULL"),
                    "unclaimed_sales": one(UNCLAIMED_SALES),
                    "pending_documents": one("SELECT count(*) FROM exports WHERE document_status = 'pending'"),
                }
        except psycopg.OperationalError:
            keys = ("open_jobs", "unbooked_exports", "unsent_outbox", "unclaimed_sales", "pending_documents")
            return dict.fromkeys(keys, -1)

    def _check(self) -> None:
        vouchers = self.bl.vouchers(self.user_key)
        with psycopg.connect(self.database_url) as conn:
            exports = {
                r[0]: r
                for r in conn.execute(
                    "SELECT reference, store_id, business_date, status, attempts, export_id::text, reason_code "
                    "FROM exports"
                )
            }
            self.report.vouchers_by_trigger = Counter(
                dict(
                    conn.execute(
                        "SELECT trigger, count(*) FROM exports WHERE voucher_number IS NOT NULL GROUP BY trigger"
                    )
                )
            )
        outcomes, dead = self._read_events()
        problems: list[str] = []

        # Every voucher balanced, carrying the reference of exactly one export row; no reference twice.
        refs: Counter[str] = Counter()
        per_day_booked: dict[tuple[str, date], list[dict[str, Any]]] = defaultdict(list)
        for v in vouchers:
            total = sum((Decimal(str(r["amount"])) for r in v["ledgerEntries"]), Decimal(0))
            if total != 0:
                problems.append(f"voucher {v['journalEntryId']} does not balance ({total} SEK)")
            found = REFERENCE.findall(v["journalEntryText"] or "")
            if len(found) != 1 or found[0] not in exports:
                problems.append(f"voucher {v['journalEntryId']} has no export row: {v['journalEntryText']!r}")
                continue
            refs[found[0]] += 1
            _, store, day, *_ = exports[found[0]]
            per_day_booked[(store, day)].append(v)
        problems += [f"reference {r} booked {n} times" for r, n in refs.items() if n > 1]
        problems += self._check_documents(vouchers)
        problems += self._check_store_days(vouchers, per_day_booked)
        problems += self._check_events(exports, outcomes, dead)
        r = self.report
        r.vouchers, r.outcomes = len(vouchers), len(outcomes)
        if problems:
            raise ChaosFailure(f"{len(problems)} invariant(s) broken:\n  " + "\n  ".join(problems[:30]))

    def _check_documents(self, vouchers: list[dict[str, Any]]) -> list[str]:
        """Every voucher carries exactly one document, its own day report (named with its reference), through
        kills between posting and attaching and lost answers to the attach."""
        names = {d["id"]: d["name"] for d in self.bl.documents(self.user_key)}
        problems = []
        for v in vouchers:
            found = REFERENCE.findall(v["journalEntryText"] or "")
            ours = [i for i in v["documentIds"] if found and found[0] in names.get(i, "")]
            if len(v["documentIds"]) != 1 or len(ours) != 1:
                problems.append(
                    f"voucher {v['journalEntryId']} has documents {[names.get(i) for i in v['documentIds']]}"
                )
        if len(names) != len(vouchers):
            problems.append(f"{len(names)} documents in BL for {len(vouchers)} vouchers")
        return problems

    def _check_store_days(
        self, vouchers: list[dict[str, Any]], per_day_booked: dict[tuple[str, date], list[dict[str, Any]]]
    ) -> list[str]:
        problems = []
        # Every store-day booked exactly once: its vouchers sum, account by account, to what was sold.
        by_day: dict[tuple[str, date], list[dict[str, Any]]] = defaultdict(list)
        for rec in self.workload.records:
            by_day[(rec["store_id"], rec["business_date"])].append(rec)
        for key, records in sorted(by_day.items()):
            if booked_totals(per_day_booked.get(key, [])) != expected_totals(records):
                problems.append(
                    f"store-day {key}: booked {dict(booked_totals(per_day_booked.get(key, [])))} "
                    f"≠ sold {dict(expected_totals(records))}"
                )
        problems += [f"vouchers for a store-day never sold: {k}" for k in per_day_booked if k not in by_day]
        if booked_totals(vouchers) != expected_totals(self.workload.records):
            problems.append("Σ booked per account ≠ Σ sold")
        self.report.store_days = len(by_day)
        return problems

    def _check_events(
        self, exports: dict[str, Any], outcomes: list[dict[str, Any]], dead: list[dict[str, Any]]
    ) -> list[str]:
        problems = []
        # Every failure has its outcome event; every booking its success event.
        failed_ids = {o["export_id"] for o in outcomes if o["status"] == "FAILED" and o["export_id"]}
        ok_ids = {o["export_id"] for o in outcomes if o["status"] == "SUCCEEDED"}
        for ref, (_, store, day, status, attempts, export_id, reason) in exports.items():
            if status == "booked" and reason != "NOTHING_TO_BOOK" and export_id not in ok_ids:
                problems.append(f"export {ref} ({store} {day}) booked without a SUCCEEDED outcome")
            if attempts > 1 and reason != "NOTHING_TO_BOOK" and export_id not in failed_ids:
                problems.append(f"export {ref} failed {attempts - 1}× without a FAILED outcome")
        reasons = Counter(o["failure"]["reason_code"] for o in outcomes if o["status"] == "FAILED")
        unexpected = set(reasons) - {"BL_UNAVAILABLE", "POISON_MESSAGE"}
        if unexpected:
            problems.append(f"unexpected failure reasons: {dict(reasons)}")
        poison_seen = {(d["source_partition"], d["source_offset"]) for d in dead}
        if len(poison_seen) != self.workload.poison:
            problems.append(f"{self.workload.poison} poison messages, {len(poison_seen)} dead-lettered")
        if reasons["POISON_MESSAGE"] < self.workload.poison:
            problems.append(f"{self.workload.poison} poison messages, {reasons['POISON_MESSAGE']} failure events")

        self.report.dead_letters, self.report.duplicate_dead_letters = len(dead), len(dead) - len(poison_seen)
        return problems

    def _read_events(self) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        h = self.harness
        quiet = 0
        while quiet < 3:
            before = len(h.outcomes) + len(h.dead_letters)
            h.poll_outcomes(timeout=0.5)
            quiet = quiet + 1 if len(h.outcomes) + len(h.dead_letters) == before else 0
        outcomes = list({o["event_id"]: o for o in h.outcomes}.values())
        return outcomes, list({d["dead_letter_id"]: d for d in h.dead_letters}.values())
