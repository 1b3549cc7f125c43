"""Free loopback ports for what the local stack, the tests and the benchmarks start (PostgreSQL, the BL stand-in,
the service's HTTP ports)."""

from __future__ import annotations

import random
import socket
from pathlib import Path


def free_port(span: int = 1) -> int:
    """A port on 127.0.0.1 free now; with ``span`` above 1, the first of ``span`` consecutive free ports (a pod of
    consumer processes serves ``DAYCLOSE_HTTP_PORT`` and the ports after it). Those are picked below the kernel's
    ephemeral range, so that no outgoing connection takes one of them before the service binds it."""
    if span == 1:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            s.bind(("127.0.0.1", 0))
            return int(s.getsockname()[1])
    low = _ephemeral_low()
    for _ in range(200):
        base = random.randrange(10_000, low - span)  # noqa: S311 - not a secret
        if all(_bindable(base + i) for i in range(span)):
            return base
    raise RuntimeError(f"no {span} consecutive free ports below {low}")


def _ephemeral_low() -> int:
    try:
        return int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 32_768


def _bindable(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True
