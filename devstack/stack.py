"""The whole local stack behind ``dayclose-dev up``: PostgreSQL, a Kafka cluster with every topic, the BL
stand-in with a demo company, a merchant activated with the sample plan, then ``dayclose run`` and ``dayclose
api`` as their own processes, with keys generated and the environment written to paste.

One supervisor process (:func:`serve`) owns it all: ``up`` starts it in the background and waits for it to say
it is ready (``state.json`` in the state directory); ``down`` sends it SIGTERM, and it stops the processes, the
stand-in, Kafka and PostgreSQL (whose data goes with it: the stack is for trying things, not for keeping them).
"""

from __future__ import annotations

import json
import os
import secrets
import shlex
import signal
import sys
import threading
import time
import urllib.request
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from dayclose.keys import KeyVault
from dayclose.settings import KafkaSettings
from devstack.bl_standin import BLStandIn
from devstack.kafka import MockKafkaCluster
from devstack.ports import free_port
from devstack.postgres import LocalPostgres, create_database
from devstack.processes import ServiceProcess
from devstack.publish import DEMO_ORG
from devstack.sampledata import SAMPLE_PLAN

STATE = "state.json"
ENV = "env"
TOPIC_PARTITIONS = 6
API_KEY_ID = "dev"


@dataclass
class Ports:
    api: int = 0
    run: int = 0
    bl: int = 0

    def resolved(self) -> Ports:
        return Ports(self.api or free_port(), self.run or free_port(), self.bl)


@dataclass
class Stack:
    """What ``up`` printed and ``down`` needs: the supervisor's pid and the environment of the stack."""

    pid: int
    env: dict[str, str]
    urls: list[tuple[str, str]] = field(default_factory=list)

    @classmethod
    def load(cls, directory: Path) -> Stack | None:
        try:
            data = json.loads((directory / STATE).read_text())
        except (OSError, ValueError):
            return None
        return cls(int(data["pid"]), dict(data["env"]), [tuple(u) for u in data["urls"]])

    def alive(self) -> bool:
        try:
            os.kill(self.pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True


def urls(env: dict[str, str]) -> list[tuple[str, str]]:
    """What a person opens, in the order ``up`` prints it. A new page served by the stack (e.g. the integration
    card of ``dayclose api``) is one more entry here."""
    return [
        ("BackOffice API", env["DEV_API_URL"]),
        ("BackOffice card (the merchant's screens; sign-in link valid 1 h)", env["DEV_CARD_URL"]),
        ("API docs (Swagger UI)", env["DEV_API_URL"] + "/docs"),
        ("API metrics", env["DEV_API_URL"] + "/metrics"),
        ("consumer metrics", env["DEV_METRICS_URL"]),
        ("BL stand-in admin", env["BL_ADMIN_URL"] + "/companies/" + env["BL_DEMO_USER_KEY"] + "/vouchers"),
    ]


def env_file(env: dict[str, str]) -> str:
    lines = ["# dayclose-dev up: the local stack's environment. Load it with: source .dayclose-dev/env"]
    lines += [f"export {name}={shlex.quote(value)}" for name, value in env.items()]
    return "\n".join(lines) + "\n"


def _write_atomically(path: Path, text: str) -> None:
    tmp = path.with_suffix(".tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


def _ready(url: str, deadline: float, process: ServiceProcess) -> None:
    while time.monotonic() < deadline:
        if not process.alive:
            raise RuntimeError(f"{' '.join(process.argv[-2:])} exited; its log:\n{process.log_tail()}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 - a loopback URL we built
                if response.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.2)  # deadline-bounded polling interval
    raise TimeoutError(f"{url} not ready in time; its log:\n{process.log_tail()}")


def _activate(database_url: str, kek: str, user_key: str) -> None:
    """The demo merchant, as after BackOffice's wizard: active since 2026-01-01 with the sample account plan."""
    import psycopg

    from service.model import IntegrationStatus
    from service.secrets import Secret
    from storage.codecs import plan_from_json
    from storage.integrations import PostgresIntegrations

    with psycopg.connect(database_url) as conn:
        integrations = PostgresIntegrations(conn, KeyVault(Secret(kek)))
        integrations.save(
            DEMO_ORG,
            user_key=Secret(user_key),
            status=IntegrationStatus.ACTIVE,
            start_date=date(2026, 1, 1),
            company_name="Demo Café AB",
        )
        integrations.save_plan(plan_from_json(DEMO_ORG, SAMPLE_PLAN))


@dataclass
class _Running:
    """What the supervisor started, stopped in reverse order."""

    pg: LocalPostgres
    kafka: MockKafkaCluster
    bl: BLStandIn
    processes: list[ServiceProcess] = field(default_factory=list)

    def stop(self) -> None:
        for process in reversed(self.processes):
            process.stop(timeout=40)
        self.bl.stop()
        self.kafka.close()
        self.pg.stop()


def _start(running: _Running, directory: Path, ports: Ports, timeout_s: float) -> dict[str, str]:
    """Database, topics, demo company and merchant, then both processes, ready; returns the environment."""
    from backoffice.signing_keys import api_signing_keys
    from dayclose.commands.token import mint_token
    from devstack.card import signin_url
    from service.secrets import Secret
    from storage.migrate import migrate

    database_url = create_database(running.pg.url, "dayclose")
    migrate(database_url)
    topics = KafkaSettings("")
    for topic in (topics.sales_topic, topics.commands_topic, topics.outcomes_topic, topics.dead_letter_topic):
        running.kafka.create_topic(topic, TOPIC_PARTITIONS)
    bl = running.bl
    company = bl.seed_demo_company()
    kek, api_key = KeyVault.generate_key(), f"{API_KEY_ID}:{secrets.token_urlsafe(48)}"
    _activate(database_url, kek, company.user_key)
    env = {
        "DATABASE_URL": database_url,
        "KAFKA_BOOTSTRAP_SERVERS": running.kafka.bootstrap_servers,
        "BL_BASE_URL": bl.base_url,
        "BL_TOKEN_URL": bl.token_url,
        "BL_CLIENT_ID": bl.client_id,
        "BL_CLIENT_SECRET": bl.client_secret,
        "DAYCLOSE_KEY_ENCRYPTION_KEY": kek,
        "DAYCLOSE_API_TOKENS": api_key,
    }
    for name, port, extra in (
        ("run", ports.run, {"DAYCLOSE_RECONCILE_WAIT_SECONDS": "30"}),
        ("api", ports.api, {"DAYCLOSE_API_DOCS": "true", "DAYCLOSE_CARD_ENABLED": "true"}),
    ):
        child = {**env, **extra, "DAYCLOSE_HTTP_PORT": str(port), "DAYCLOSE_LOG_FORMAT": "json"}
        argv = (sys.executable, "-m", "dayclose", name)
        running.processes.append(ServiceProcess(child, directory / "logs" / f"{name}.log", argv=argv).start())
    deadline = time.monotonic() + timeout_s
    for process, port in zip(running.processes, (ports.run, ports.api), strict=True):
        _ready(f"http://127.0.0.1:{port}/readyz", deadline, process)
    return env | {
        "DEV_API_URL": f"http://127.0.0.1:{ports.api}",
        "DEV_METRICS_URL": f"http://127.0.0.1:{ports.run}/metrics",
        "DEV_ORG": DEMO_ORG,
        "DEV_TOKEN": mint_token(api_signing_keys((Secret(api_key),))[0], DEMO_ORG, ttl_s=3600),
        "DEV_CARD_URL": signin_url(f"http://127.0.0.1:{ports.api}", DEMO_ORG, Secret(api_key)),
        "BL_ADMIN_URL": bl.url + "/_admin",
        "BL_DEMO_USER_KEY": company.user_key,
    }


def serve(directory: Path, ports: Ports, timeout_s: float = 120.0) -> int:
    """The supervisor: start everything, write the state, live until SIGTERM/SIGINT, stop everything."""
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    (directory / "logs").mkdir(parents=True, exist_ok=True)
    ports = ports.resolved()
    started = time.monotonic()
    pg = LocalPostgres().start()
    try:
        running = _Running(pg, MockKafkaCluster(brokers=1), BLStandIn(port=ports.bl).start())
    except Exception:
        pg.stop()
        raise
    try:
        env = _start(running, directory, ports, timeout_s)
        _write_atomically(directory / ENV, env_file(env))
        state = {"pid": os.getpid(), "env": env, "urls": urls(env), "took_s": round(time.monotonic() - started, 1)}
        _write_atomically(directory / STATE, json.dumps(state, indent=2))
        print(f"local stack ready in {state['took_s']} s", flush=True)
        reported: set[str] = set()
        while not stop.wait(1.0):
            for process in running.processes:
                if not process.alive and process.argv[-1] not in reported:
                    reported.add(process.argv[-1])
                    print(f"dayclose {process.argv[-1]} exited; see {process.log_path}", flush=True)
        return 0
    except Exception as exc:  # noqa: BLE001 - reported to `up`, which prints it
        print(f"the local stack did not start: {type(exc).__name__}: {exc}", flush=True)
        return 1
    finally:
        running.stop()
        for name in (STATE, ENV):
            (directory / name).unlink(missing_ok=True)


def status_line(stack: Stack) -> str:
    return f"local stack running (supervisor pid {stack.pid})"


def describe(stack: Stack, directory: Path) -> str:
    """What ``up`` prints: the URLs, the environment to paste, and what to try next."""
    width = max(len(label) for label, _ in stack.urls)
    lines = [status_line(stack), ""]
    lines += [f"  {label:<{width}}  {url}" for label, url in stack.urls]
    lines += ["", f"Environment ({directory / ENV}; load it into your shell with `source {directory / ENV}`):", ""]
    lines += [f"  export {name}={shlex.quote(value)}" for name, value in stack.env.items()]
    lines += [
        "",
        f"The merchant {stack.env['DEV_ORG']!r} is active with the sample account plan; DEV_TOKEN is its API token",
        "(valid an hour; mint another with `dayclose token --org demo-org`). Next:",
        "  dayclose-dev publish-day          # a sample store day and its day close, then wait for the voucher",
        "  dayclose exports list --org demo-org",
        "  dayclose-dev down                 # stop everything (the data goes with it)",
    ]
    return "\n".join(lines)


def read_env_file(directory: Path) -> dict[str, Any]:
    stack = Stack.load(directory)
    return dict(stack.env) if stack else {}
