"""The soak's nemesis (#24): a seeded schedule of faults, and the faults themselves.

The schedule (which fault, in which order, at which step of the workload, how long, how many) comes from the seed
alone, so a failing seed replays it; thread timing on the machine does not replay, so a rare interleaving may need a
few runs of the seed. Every fault is recorded with its wall-clock start and heal, for the detection times the run
reads back from the service's log afterwards (:mod:`tests.chaos.detection`).
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import psycopg

from devstack import diskfault, netfault
from tests.chaos.stack import Stack

LINKS = ("pg", "kafka", "bl")
PG_PHASES = {
    # a batch being written: an ingest statement running
    "ingest": "SELECT count(*) FROM pg_stat_activity WHERE application_name LIKE 'dayclose-%' AND state = 'active' "
    "AND query ILIKE '%sales%' AND query NOT ILIKE '%pg_stat_activity%'",
    # a job claimed: its claim's transaction open (the store's lock held) while the job runs
    "claim": "SELECT count(*) FROM pg_stat_activity WHERE application_name LIKE 'dayclose-%' "
    "AND state = 'idle in transaction' AND query ILIKE '%pg_advisory_xact_lock(hashtext%'",
    # a voucher leased and at BL: posted or about to be, its result not yet recorded
    "booking": "SELECT count(*) FROM exports WHERE status = 'posting' AND lease_until > now()",
}
BL_KINDS = (
    "5xx",
    "429",
    "timeout_after_commit",
    "reset_after_commit",
    "late_after_commit",
    "latency",
    "stall_body",
    "truncated_json",
    "gateway_502",
    "token_401",
)


@dataclass(frozen=True)
class NemesisSpec:
    kills: int
    net: int = 1  # per link and mode
    pg_crash: int = 1  # per phase
    disk_full: int = 1
    pg_restart: int = 1
    broker_down: int = 1
    bl: int = 1  # per kind of BL fault
    api_kill_share: float = 0.5  # API calls whose process is SIGKILLed while it handles them
    during_publishing: float = 1.0  # share of kills and faults at steps of the workload; the rest after it
    alive_s: tuple[float, float] = (1.0, 9.0)  # how long after its start dayclose run is killed (it boots in ~3 s)
    #: Share of kills that wait for the timed faults under way to heal: the rest restart the service into the fault,
    #: and a fault with no kill meanwhile times its detection cleanly.
    kills_wait_for_heal: float = 0.7


@dataclass
class Fault:
    kind: str
    started: float  # time.time(), comparable with the service's log timestamps
    healed: float | None = None
    note: str = ""
    hit: bool = True  # a targeted fault (a crash mid-claim…) found its target


@dataclass
class Nemesis:
    seed: int
    spec: NemesisSpec
    stack: Stack
    skipped: dict[str, str] = field(default_factory=dict)
    #: Faults named one by one on top of the spec's (the CI seed's silent partition and crash).
    extra: list[str] = field(default_factory=list)
    faults: list[Fault] = field(default_factory=list)
    kills: int = 0
    _timers: list[threading.Timer] = field(default_factory=list)
    _busy: dict[str, threading.Event] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.rng = random.Random(f"nemesis/{self.seed}")

    # --- the schedule -----------------------------------------------------------------------------------

    def actions(self) -> list[str]:
        """Every fault of the run, in the order the seed gives them."""
        s = self.spec
        todo = ["kill"] * s.kills
        todo += [f"net:{link}:{mode}" for link in LINKS for mode in ("hard", "silent") for _ in range(s.net)]
        todo += [f"pg_crash:{phase}" for phase in PG_PHASES for _ in range(s.pg_crash)]
        todo += ["disk_full"] * s.disk_full + ["pg_restart"] * s.pg_restart + ["broker_down"] * s.broker_down
        todo += [f"bl:{kind}" for kind in BL_KINDS for _ in range(s.bl)]
        todo += self.extra
        net_reason = netfault.unavailable_reason() if self.stack.ns is None else None
        disk_reason = diskfault.unavailable_reason() if self.stack.tmpfs is None else None
        if net_reason or self.stack.ns is None:
            self.skipped["net"] = net_reason or "network faults off"
            todo = [a for a in todo if not a.startswith("net:")]
        if disk_reason or self.stack.tmpfs is None:
            self.skipped["disk_full"] = disk_reason or "disk faults off"
            todo = [a for a in todo if a != "disk_full"]
        self.rng.shuffle(todo)
        return todo

    def at_steps(self, todo: list[str], steps: int) -> tuple[dict[int, list[str]], list[str]]:
        """The share of ``todo`` placed at steps of the workload, and the rest for after it."""
        now = round(len(todo) * self.spec.during_publishing)
        placed: dict[int, list[str]] = {}
        for action in todo[:now]:
            placed.setdefault(self.rng.randrange(max(1, steps)), []).append(action)
        return placed, todo[now:]

    # --- faults ---------------------------------------------------------------------------------------------

    def do(self, action: str, note: Callable[[str], None]) -> None:
        kind, _, arg = action.partition(":")
        handler = getattr(self, f"_{kind}")
        handler(arg, note) if arg else handler(note)

    def _kill(self, note: Callable[[str], None]) -> None:
        run = self.stack.run
        assert run is not None
        if self.rng.random() < self.spec.kills_wait_for_heal:
            for busy in list(self._busy.values()):
                busy.wait(60)
        time.sleep(max(0.0, self.rng.uniform(*self.spec.alive_s) - (time.monotonic() - run.started_at)))
        if not run.alive:
            return  # it ended by itself: the driver's supervision finds out why (a crash fails the run)
        run.kill()
        self.kills += 1
        self.faults.append(Fault("kill_run", time.time(), time.time()))
        note(f"SIGKILL dayclose run #{self.kills}")
        time.sleep(self.rng.uniform(0.0, 0.5))
        run.start()

    def _net(self, arg: str, note: Callable[[str], None]) -> None:
        link, mode = arg.split(":")
        ns = self.stack.ns
        assert ns is not None
        self._wait_free(link)
        self._wait_working()
        duration = self.rng.uniform(5.0, 12.0)
        (ns.hard if mode == "hard" else ns.silent)(link)
        fault = Fault(f"net_{mode}:{link}", time.time(), note=f"{duration:.1f}s")
        self.faults.append(fault)
        note(f"{mode} partition of {link} for {duration:.1f}s")
        self._later(link, duration, lambda: (ns.heal(link), setattr(fault, "healed", time.time())))

    def _pg_crash(self, phase: str, note: Callable[[str], None]) -> None:
        self._wait_free("pg")
        if phase == "booking":  # widen the window: BL answers slowly while a voucher is at it
            self._wait_free("bl")
            self.stack.bl.set_faults(latency_s=self.rng.uniform(0.5, 1.2), methods=("POST",), paths=("/journal",))
        hit = self._wait_for(PG_PHASES[phase], timeout=15.0)
        killed = self.stack.postgres.crash()
        fault = Fault(f"pg_crash:{phase}", time.time(), note=f"{killed} processes", hit=hit)
        self.faults.append(fault)
        if phase == "booking":
            self.stack.bl.reset_faults()
        down = self.rng.uniform(0.5, 4.0)
        note(f"SIGKILL PostgreSQL {'mid ' + phase if hit else '(no ' + phase + ' seen)'}, down {down:.1f}s")
        time.sleep(down)
        self.stack.postgres.resume()  # crash recovery on the same data directory and port
        fault.healed = time.time()
        self._later("pg", 5.0, lambda: None)  # give the service time to notice before a kill restarts it

    def _disk_full(self, note: Callable[[str], None]) -> None:
        tmpfs = self.stack.tmpfs
        assert tmpfs is not None
        self._wait_free("pg")
        self._wait_working()
        duration = self.rng.uniform(5.0, 12.0)
        taken = tmpfs.fill()
        fault = Fault("disk_full:pg", time.time(), note=f"{taken // 2**20} MB taken, {duration:.1f}s")
        self.faults.append(fault)
        note(f"PostgreSQL's disk full for {duration:.1f}s")

        def free() -> None:
            tmpfs.release()
            if not self.stack.postgres.is_up():  # a WAL write that found no space is a PANIC: an operator restarts
                fault.note += ", server stopped (PANIC), restarted"
                self.stack.postgres.resume()
            fault.healed = time.time()

        self._later("pg", duration, free, refill=tmpfs.fill)

    def _pg_restart(self, note: Callable[[str], None]) -> None:
        self._wait_free("pg")
        fault = Fault("pg_restart", time.time())
        self.faults.append(fault)
        self.stack.postgres.restart()
        fault.healed = time.time()
        note("PostgreSQL restarted (fast shutdown)")
        self._later("pg", 5.0, lambda: None)  # give the service time to notice before a kill restarts it

    def _broker_down(self, note: Callable[[str], None]) -> None:
        self._wait_free("kafka")
        broker, duration = self.rng.randint(1, 3), self.rng.uniform(1.0, 5.0)
        self.stack.kafka.broker_down(broker)
        fault = Fault("broker_down", time.time(), note=f"broker {broker} {duration:.1f}s")
        self.faults.append(fault)
        note(f"broker {broker} down for {duration:.1f}s")
        self._later(
            "kafka", duration, lambda: (self.stack.kafka.broker_up(broker), setattr(fault, "healed", time.time()))
        )

    def _bl(self, kind: str, note: Callable[[str], None]) -> None:
        self._wait_free("bl")
        r = self.rng
        knobs: dict[str, Any] = {
            "5xx": {"error_rate": r.uniform(0.2, 0.6), "error_status": r.choice([500, 502, 503])},
            "429": {"throttle_next": r.randint(3, 15), "retry_after_s": r.choice([0, 1])},
            "timeout_after_commit": {"commit_then_drop": r.randint(1, 3), "drop_mode": "timeout", "drop_hold_s": 2.5},
            "reset_after_commit": {"commit_then_drop": r.randint(1, 3), "drop_mode": "reset"},
            "late_after_commit": {"commit_then_drop": r.randint(1, 3), "drop_mode": "late", "drop_hold_s": 3.0},
            "latency": {"latency_s": r.uniform(0.2, 0.8)},
            "stall_body": {"stall_body_next": r.randint(1, 3), "stall_interval_s": 0.3, "drop_hold_s": 6.0},
            "truncated_json": {"truncate_json_next": r.randint(1, 3)},
            "gateway_502": {"gateway_html_next": r.randint(1, 3), "gateway_after_commit": r.random() < 0.5},
            "token_401": {"unauthorized_next": r.choice([1, 1, 2])},
        }[kind]
        duration = r.uniform(2.0, 8.0)
        self.stack.bl.set_faults(seed=r.randrange(2**31), **knobs)
        fault = Fault(f"bl:{kind}", time.time(), note=str(knobs))
        self.faults.append(fault)
        note(f"BL {kind} {knobs} for {duration:.1f}s")
        self._later("bl", duration, lambda: (self.stack.bl.reset_faults(), setattr(fault, "healed", time.time())))

    # --- helpers ---------------------------------------------------------------------------------------------

    def _wait_for(self, query: str, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        with psycopg.connect(self.stack.database_url, autocommit=True, connect_timeout=3) as conn:
            while time.monotonic() < deadline:
                row = conn.execute(query).fetchone()
                if row and row[0]:
                    return True
                time.sleep(0.005)  # polling the server for a moment to strike, under a deadline
        return False

    def _later(
        self, resource: str, seconds: float, heal: Callable[[], object], refill: Callable[[], object] | None = None
    ) -> None:
        """Heal after ``seconds`` on a timer, so the workload goes on meanwhile; ``resource`` is busy until then.
        ``refill`` runs every half second meanwhile (a disk kept full while the database frees what it can)."""
        done = threading.Event()
        self._busy[resource] = done

        def run() -> None:
            end = time.monotonic() + seconds
            while refill is not None and time.monotonic() < end:
                refill()
                time.sleep(min(0.5, max(0.0, end - time.monotonic())))
            time.sleep(max(0.0, end - time.monotonic()))
            try:
                heal()
            finally:
                done.set()

        timer = threading.Timer(0, run)
        timer.daemon = True
        timer.start()
        self._timers.append(timer)

    def _wait_working(self, timeout: float = 30.0) -> None:
        """Until ``dayclose run`` has started and holds partitions (a fault that strikes it while it boots, or while
        its consumer still joins the group with nothing to fetch, times the boot, not the fault's detection). A
        process that does not get there within ``timeout`` is the driver's to judge."""
        run = self.stack.run
        deadline = time.monotonic() + timeout
        while run is not None and "kafka.partitions_assigned" not in run.log_since_start():
            if time.monotonic() > deadline:
                return
            time.sleep(0.1)  # polling the log of a process that is starting, under a deadline

    def _wait_free(self, resource: str) -> None:
        busy = self._busy.get(resource)
        if busy is not None:
            busy.wait(60)

    def heal_all(self) -> None:
        for busy in list(self._busy.values()):
            busy.wait(60)
        if self.stack.ns:
            for link in LINKS:
                self.stack.ns.heal(link)
        self.stack.bl.reset_faults()
        if self.stack.tmpfs:
            self.stack.tmpfs.release()
        if not self.stack.postgres.is_up():
            self.stack.postgres.resume()
