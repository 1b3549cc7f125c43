"""A PostgreSQL connection that goes quiet without closing fails within the limits of the settings (#24).

A client runs in its own network namespace (devstack.netfault) with the service's connection limits and queries
once a second; the link to the server is then cut without a reset (silent: the server's packets dropped) or taken
down (hard). Without the limits the query after the cut waits for the kernel's TCP retransmission timeout (15
minutes and more); with them it fails within about ``tcp_user_timeout``, and the next connection succeeds once the
link is back. Needs root (skipped otherwise, with the reason).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from devstack import netfault
from devstack.postgres import LocalPostgres

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(netfault.unavailable_reason() is not None, reason=str(netfault.unavailable_reason())),
]
REPO = Path(__file__).resolve().parents[3]
#: The client: query every 0.3 s, until killed; one JSON line per query: ok, or the error and how long it took.
PROBE = """
import json, sys, time, psycopg
from storage.connections import ConnectionLimits
url = sys.argv[1]
limits = ConnectionLimits(connect_timeout_s=2, keepalives_idle_s=2, keepalives_interval_s=1, keepalives_count=2,
                          tcp_user_timeout_s=2.0, statement_timeout_s=30.0)
conn = None
while True:
    began = time.monotonic()
    try:
        conn = conn or psycopg.connect(url, autocommit=True, **limits.connect_kwargs(url))
        conn.execute("SELECT 1")
        print(json.dumps({"at": time.time(), "ok": True}), flush=True)
    except psycopg.OperationalError as exc:
        print(json.dumps({"at": time.time(), "ok": False, "took": time.monotonic() - began,
                          "error": str(exc).splitlines()[0]}), flush=True)
        conn = None
    time.sleep(0.3)
"""
#: The bound the limits above give for a query on a silenced connection, with room for a loaded machine.
BOUND_S = 10.0


@pytest.fixture
def linked(tmp_path: Path) -> Iterator[tuple[netfault.Netns, str]]:
    ns = netfault.Netns.create(["pg"])
    link = ns.links["pg"]
    server = LocalPostgres(listen=("127.0.0.1", link.host_ip), clients=(f"{link.ns_ip}/32",)).start()
    try:
        yield ns, f"postgresql://dayclose@{link.host_ip}:{server.port}/postgres"
    finally:
        server.stop()
        ns.close()


def probe(ns: netfault.Netns, url: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [*ns.exec_prefix(), sys.executable, "-c", PROBE, url],
        env={**os.environ, "PYTHONPATH": str(REPO)},
        stdout=subprocess.PIPE,
        text=True,
    )


@pytest.mark.parametrize("mode", ["silent", "hard"])
def test_a_cut_link_fails_the_next_query_within_the_limits_and_the_link_back_serves_again(
    linked: tuple[netfault.Netns, str], mode: str
) -> None:
    ns, url = linked
    client = probe(ns, url)
    try:
        assert client.stdout is not None
        first = json.loads(client.stdout.readline())
        assert first["ok"], first
        cut = time.time()
        (ns.silent if mode == "silent" else ns.hard)("pg")
        failed = json.loads(client.stdout.readline())
        while failed["ok"]:  # a query may have been answered before the cut took effect
            failed = json.loads(client.stdout.readline())
        ns.heal("pg")
        again = json.loads(client.stdout.readline())
        while not again["ok"]:  # the pytest timeout bounds this: the link is back, a connection must succeed
            again = json.loads(client.stdout.readline())
    finally:
        client.kill()
        client.wait(10)
    print(f"\n{mode}: the first query after the cut failed {failed['at'] - cut:.1f}s later: {failed['error']}")
    assert failed["at"] - cut < BOUND_S, "the silenced connection was not given up within the limits"
