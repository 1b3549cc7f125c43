"""The test rigs' ports for a pod of consumer processes: DAYCLOSE_HTTP_PORT and the ports after it, one per process
(dayclose.supervisor), all free and outside the range the kernel hands outgoing connections."""

from __future__ import annotations

import socket

from devstack.ports import _ephemeral_low, free_port


def test_a_span_of_ports_is_free_and_below_the_ephemeral_range() -> None:
    base = free_port(span=3)
    assert 1024 < base and base + 3 <= _ephemeral_low()
    held = []
    try:
        for port in range(base, base + 3):
            s = socket.socket()
            s.bind(("127.0.0.1", port))
            held.append(s)
    finally:
        for s in held:
            s.close()


def test_a_span_never_starts_where_a_port_of_it_is_taken() -> None:
    taken = [socket.socket() for _ in range(40)]
    try:
        for s in taken:
            s.bind(("127.0.0.1", free_port(span=2)))
        busy = {s.getsockname()[1] for s in taken}
        for _ in range(50):
            base = free_port(span=2)
            assert not {base, base + 1} & busy
    finally:
        for s in taken:
            s.close()
