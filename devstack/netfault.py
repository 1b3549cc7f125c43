"""Network faults that do not announce themselves, between our processes and each dependency (#24).

Our processes run in a network namespace of their own (``ip netns exec``), reaching each dependency over its own
veth pair: PostgreSQL, Kafka and BL each have a link, so each can be cut alone. Two ways to cut one:

- **hard** (:meth:`Netns.hard`): the link goes down on our side. New connections fail at once (no route); the
  ones open hang, since no reset ever arrives.
- **silent** (:meth:`Netns.silent`): packets towards us are dropped on the dependency's side (a ``blackhole``
  route for our address): every connection, old or new, just stops answering. A SYN goes out and nothing comes
  back; a query is sent and no answer or acknowledgement arrives.

The dependencies listen on their link's host address: PostgreSQL and the BL stand-in directly; librdkafka's mock
cluster only listens on 127.0.0.1, so a small relay per broker (:class:`Relay`) listens on the link and the
brokers advertise it (``rd_kafka_mock_broker_set_host_port``). The relay is plain TCP, both ways; the fault is
on the link in front of it.

Needs root and ``ip`` (iproute2); ``tc netem`` is not needed (nor available here). :func:`unavailable_reason`
says why not, for a test to skip with.
"""

from __future__ import annotations

import contextlib
import ipaddress
import os
import random
import shutil
import socket
import subprocess
import threading
from dataclasses import dataclass, field

#: Namespaces and links made here are named ``dcnf<pid>…``, so a run can clear those of dead runs (only those).
PREFIX = "dcnf"


def unavailable_reason() -> str | None:
    """Why network namespaces cannot be used here (None when they can)."""
    if os.geteuid() != 0:
        return "network faults need root (ip netns, veth pairs, routes)"
    if shutil.which("ip") is None:
        return "network faults need iproute2's `ip`"
    return None


def _ip(*args: str, netns: str | None = None, check: bool = True) -> subprocess.CompletedProcess[str]:
    argv = ["ip", *(["-n", netns] if netns else []), *args]
    return subprocess.run(argv, check=check, capture_output=True, text=True, timeout=20)  # noqa: S603


@dataclass
class Link:
    """One veth pair: ``host_ip`` on the dependency's side (the host), ``ns_ip`` on ours (the namespace)."""

    name: str
    host_if: str
    ns_if: str
    host_ip: str
    ns_ip: str
    state: str = "up"  # up | hard | silent


@dataclass
class Netns:
    """A namespace for our processes with a link per dependency: ``Netns.create(["pg", "kafka", "bl", "ctl"])``."""

    name: str
    links: dict[str, Link] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @classmethod
    def create(cls, link_names: list[str]) -> Netns:
        clear_stale()
        tag = f"{PREFIX}{os.getpid()}x{random.randrange(16**3):03x}"  # noqa: S311 - a name, not a secret
        _ip("netns", "add", tag)
        ns = cls(tag)
        try:
            _ip("link", "set", "lo", "up", netns=tag)
            subnet = _free_subnet()
            for i, link in enumerate(link_names):
                ns._add_link(link, i, subnet)
        except BaseException:
            ns.close()
            raise
        return ns

    def _add_link(self, link: str, i: int, subnet: ipaddress.IPv4Network) -> None:
        base = subnet.network_address + 4 * i
        host_ip, ns_ip = str(base + 1), str(base + 2)
        short = self.name.removeprefix(PREFIX)[-7:]
        host_if, ns_if = f"h{short}{i}", f"n{short}{i}"  # at most 15 characters, as the kernel wants
        _ip("link", "add", host_if, "type", "veth", "peer", "name", ns_if)
        _ip("link", "set", ns_if, "netns", self.name)
        _ip("addr", "add", f"{host_ip}/30", "dev", host_if)
        _ip("link", "set", host_if, "up")
        _ip("addr", "add", f"{ns_ip}/30", "dev", ns_if, netns=self.name)
        _ip("link", "set", ns_if, "up", netns=self.name)
        self.links[link] = Link(link, host_if, ns_if, host_ip, ns_ip)

    def exec_prefix(self) -> list[str]:
        """Put in front of an argv to run it in the namespace (``ip netns exec`` keeps the process's pid)."""
        return ["ip", "netns", "exec", self.name]

    def hard(self, link: str) -> None:
        """The link goes down on our side: no route (new connections fail at once), open ones hang."""
        with self._lock:
            self.heal_locked(link)
            _ip("link", "set", self.links[link].ns_if, "down", netns=self.name)
            self.links[link].state = "hard"

    def silent(self, link: str) -> None:
        """Everything towards us on the link is dropped, silently: connections hang without a reset."""
        with self._lock:
            self.heal_locked(link)
            _ip("route", "add", "blackhole", f"{self.links[link].ns_ip}/32")
            self.links[link].state = "silent"

    def heal(self, link: str) -> None:
        with self._lock:
            self.heal_locked(link)

    def heal_locked(self, link: str) -> None:
        found = self.links[link]
        if found.state == "hard":
            _ip("link", "set", found.ns_if, "up", netns=self.name)
        elif found.state == "silent":
            _ip("route", "del", "blackhole", f"{found.ns_ip}/32", check=False)
        found.state = "up"

    def close(self) -> None:
        for link in self.links.values():
            if link.state == "silent":
                _ip("route", "del", "blackhole", f"{link.ns_ip}/32", check=False)
            _ip("link", "del", link.host_if, check=False)  # takes its peer in the namespace with it
        _ip("netns", "del", self.name, check=False)


def clear_stale() -> None:
    """Remove namespaces left by runs of this module whose process is gone (a killed test run; their veth pairs go
    with them), and blackhole routes of ours to addresses no interface has any more."""
    listed = _ip("netns", "list", check=False).stdout.split()
    for name in [n for n in listed if n.startswith(PREFIX)]:
        pid = name.removeprefix(PREFIX).split("x", 1)[0]
        if pid.isdigit() and not os.path.exists(f"/proc/{pid}"):
            _ip("netns", "del", name, check=False)
    for line in _ip("route", "show", "type", "blackhole", check=False).stdout.splitlines():
        target = line.split()[1] if len(line.split()) > 1 else ""
        if target.startswith("10.231."):
            network = ipaddress.ip_network(target, strict=False)
            if not _address_in_use(network):
                _ip("route", "del", "blackhole", target, check=False)


def _address_in_use(network: ipaddress.IPv4Network | ipaddress.IPv6Network) -> bool:
    for line in _ip("-o", "addr", "show", check=False).stdout.splitlines():
        for word in line.split():
            if "/" in word and word[0].isdigit():
                with contextlib.suppress(ValueError):
                    if ipaddress.ip_interface(word).network.overlaps(network):
                        return True
    return False


def _free_subnet() -> ipaddress.IPv4Network:
    """A /24 in 10.231.0.0/16 that no interface on the host uses."""
    for _ in range(200):
        candidate = ipaddress.IPv4Network(f"10.231.{random.randrange(256)}.0/24")  # noqa: S311
        if not _address_in_use(candidate):
            return candidate
    raise RuntimeError("no free subnet in 10.231.0.0/16 for the fault namespace")


class Relay:
    """Plain TCP from ``listen`` to ``target``, both ways, a thread per direction: what the fault link puts in
    front of a service that only listens on 127.0.0.1. An end that closes closes the other; an error resets both."""

    def __init__(self, listen: tuple[str, int], target: tuple[str, int]) -> None:
        self.target = target
        self._server = socket.create_server(listen, reuse_port=False)
        self.address: tuple[str, int] = self._server.getsockname()[:2]
        self._stop = threading.Event()
        self._open: set[socket.socket] = set()
        self._lock = threading.Lock()
        threading.Thread(target=self._accept, name=f"relay-{self.address[1]}", daemon=True).start()

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                client, _ = self._server.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(self.target, timeout=5)
                upstream.settimeout(None)
            except OSError:
                _reset(client)
                continue
            with self._lock:
                self._open |= {client, upstream}
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket) -> None:
        try:
            while chunk := source.recv(65536):
                sink.sendall(chunk)
            with contextlib.suppress(OSError):
                sink.shutdown(socket.SHUT_WR)
        except OSError:
            _reset(source)
            _reset(sink)
        finally:
            with self._lock:
                self._open.discard(source)

    def close(self) -> None:
        self._stop.set()
        with contextlib.suppress(OSError):
            self._server.close()
        with self._lock:
            for s in list(self._open):
                _reset(s)
            self._open.clear()


def _reset(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
    with contextlib.suppress(OSError):
        sock.close()
