"""The soak's services, wired so that every fault of the nemesis can reach them (#24).

``dayclose run`` and ``dayclose api`` run as their own processes inside a network namespace (devstack.netfault), one
link per dependency: PostgreSQL listens on its link (its data directory on a size-limited tmpfs,
devstack.diskfault), the BL stand-in on its, and the Kafka mock cluster's brokers behind relays on theirs. The test
process stays outside: it publishes, drives BL's faults and reads the results over the host's side, which no fault
touches. Without root the processes run on the host, and the network and disk faults are left out (the run says so).
"""

from __future__ import annotations

import contextlib
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from devstack import diskfault, netfault
from devstack.bl_standin import BLStandIn
from devstack.harness import Topics, make_settings
from devstack.kafka import MockKafkaCluster
from devstack.ports import free_port
from devstack.postgres import LocalPostgres, create_database, with_dbname
from devstack.processes import ServiceProcess, service_env
from storage.migrate import migrate

REPO = Path(__file__).resolve().parents[2]
LINKS = ["pg", "kafka", "bl", "ctl"]
#: Tight limits so a fault is noticed in seconds, not the production minutes (the defaults: docs/reliability.md).
SERVICE_ENV = {
    "KAFKA_SESSION_TIMEOUT_MS": "3000",
    "KAFKA_HEARTBEAT_INTERVAL_MS": "300",
    "KAFKA_SOCKET_TIMEOUT_MS": "5000",
    "DAYCLOSE_RECONCILE_WAIT_SECONDS": "120",
    "DAYCLOSE_RETRY_BACKOFF_SECONDS": "0.2",
    "DAYCLOSE_RETRY_BACKOFF_MAX_SECONDS": "2",
    "BL_TIMEOUT_SECONDS": "1.5",
    "BL_CONNECT_TIMEOUT_SECONDS": "1",
    "BL_MAX_RETRIES": "2",
    # Longer than the stand-in takes to commit under the injected latency (at most 1.4 s): what the setting
    # means. A look-up after a crash waits it too, so a dead process's post still being committed is found.
    "BL_AMBIGUOUS_QUIET_SECONDS": "1.5",
    "BL_MAX_REQUESTS_PER_SECOND": "200",
    "DAYCLOSE_DB_CONNECT_TIMEOUT_SECONDS": "2",
    "DAYCLOSE_DB_TCP_USER_TIMEOUT_SECONDS": "3",
    "DAYCLOSE_DB_KEEPALIVES_IDLE_SECONDS": "2",
    "DAYCLOSE_DB_KEEPALIVES_INTERVAL_SECONDS": "1",
    "DAYCLOSE_DB_KEEPALIVES_COUNT": "2",
    "DAYCLOSE_DB_STATEMENT_TIMEOUT_SECONDS": "30",
    "DAYCLOSE_DB_POOL_TIMEOUT_SECONDS": "5",
    "DAYCLOSE_SHUTDOWN_TIMEOUT_SECONDS": "10",
    "DAYCLOSE_LOG_LEVEL": "info",
    "PYTHONPATH": str(REPO),
}


@dataclass
class Stack:
    workdir: Path
    faults_on_links: bool
    disk_mb: int | None
    ns: netfault.Netns | None = None
    tmpfs: diskfault.Tmpfs | None = None
    relays: list[netfault.Relay] = field(default_factory=list)
    run: ServiceProcess | None = None
    api: ServiceProcess | None = None

    def start(self, api_tokens: str) -> Stack:
        if self.faults_on_links:
            self.ns = netfault.Netns.create(LINKS)
        if self.disk_mb:
            # Outside pytest's private tmp (mode 0700): the server runs as another user and must reach it.
            self.tmpfs = diskfault.Tmpfs(Path(tempfile.mkdtemp(prefix="dcsoak-pgdisk-")), self.disk_mb)
        pg_link = self.ns.links["pg"] if self.ns else None
        self.postgres = LocalPostgres(
            base_dir=str(self.tmpfs.path) if self.tmpfs else None,
            listen=("127.0.0.1", pg_link.host_ip) if pg_link else ("127.0.0.1",),
            clients=(f"{pg_link.ns_ip}/32",) if pg_link else (),
            # Crashes are SIGKILLs of the server: a commit must be in the WAL on disk when it returns.
            settings={"synchronous_commit": "on", "min_wal_size": "32MB", "max_wal_size": "64MB"},
        ).start()
        self.kafka = MockKafkaCluster(3)
        if self.ns:
            host = self.ns.links["kafka"].host_ip
            for broker, listener in self.kafka.listeners().items():
                relay = netfault.Relay((host, 0), listener)
                self.relays.append(relay)
                self.kafka.advertise(broker, host, relay.address[1])
        self.bootstrap = (
            ",".join(f"{r.address[0]}:{r.address[1]}" for r in self.relays)
            if self.relays
            else self.kafka.bootstrap_servers
        )
        self.bl = BLStandIn(host=self.ns.links["bl"].host_ip if self.ns else "127.0.0.1").start()
        self.database_url = create_database(self.postgres.url, "soak")
        migrate(self.database_url)
        self.topics = Topics.fresh(self.kafka.create_topic, 4)
        self.settings = make_settings(
            self.database_url,
            self.bootstrap,
            self.topics,
            bl_base_url=self.bl.base_url,
            bl_token_url=self.bl.token_url,
            bl_client_id=self.bl.client_id,
            bl_client_secret=self.bl.client_secret,
            workers=3,
        )
        inside = with_dbname(self.postgres.url.replace("127.0.0.1", pg_link.host_ip), "soak") if pg_link else None
        env = service_env(self.settings, **SERVICE_ENV)
        if inside:
            env["DATABASE_URL"] = inside
        prefix = self.ns.exec_prefix() if self.ns else []
        self.run = ServiceProcess(env, self.workdir / "run.log", (*prefix, sys.executable, "-m", "dayclose", "run"))
        api_env = {**env, "DAYCLOSE_API_TOKENS": api_tokens, "DAYCLOSE_HTTP_PORT": str(free_port())}
        self.api_port = int(api_env["DAYCLOSE_HTTP_PORT"])
        self.api = ServiceProcess(api_env, self.workdir / "api.log", (*prefix, sys.executable, "-m", "dayclose", "api"))
        ctl = self.ns.links["ctl"].ns_ip if self.ns else "127.0.0.1"
        self.api_url = f"http://{ctl}:{self.api_port}"
        return self

    def wait_api_ready(self, timeout: float = 60.0) -> bool:
        """True once ``dayclose api`` answers /readyz (its database reachable); False if it died or timed out."""
        assert self.api is not None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and self.api.alive:
            try:
                if httpx.get(f"{self.api_url}/readyz", timeout=1).status_code == 200:
                    return True
            except httpx.TransportError:
                pass
            time.sleep(0.1)  # polling a process that is starting, under a deadline
        return False

    def close(self) -> None:
        for process in (self.run, self.api):
            if process is not None:
                process.stop(timeout=15)
        if self.ns:
            for link in LINKS:
                self.ns.heal(link)
        for relay in self.relays:
            relay.close()
        for closer in (getattr(self, "bl", None), getattr(self, "kafka", None), getattr(self, "postgres", None)):
            if closer is not None:
                _quietly(closer)
        if self.tmpfs:
            self.tmpfs.close()
        if self.ns:
            self.ns.close()


def _quietly(thing: Any) -> None:
    with contextlib.suppress(Exception):  # tearing down after a failure: the first error is the one to report
        thing.stop() if hasattr(thing, "stop") else thing.close()
