"""How long a PostgreSQL connection may stay silent: the bounds that turn a lost network into an error.

A connection that stops answering without closing (packets dropped, a link down, a host gone) raises nothing by
itself: libpq would wait for the kernel's TCP retransmission timeout (15 minutes and more), a new connection for
its SYN retries (2 minutes), and the server would keep a vanished client's backend, and its locks, for two hours
of TCP keepalive. These limits bound each, on both ends of the connection, and are one of the settings
(``DAYCLOSE_DB_*``, :mod:`dayclose.config`; defaults here):

==============================  =========================================================  ====================
what goes silent                what notices                                                after at most
==============================  =========================================================  ====================
a new connection                libpq ``connect_timeout``                                   ``connect_timeout_s``
a statement sent, no answer     ``tcp_user_timeout`` (our data not acknowledged)            ``tcp_user_timeout_s``
an idle or waiting connection   TCP keepalives (idle, then ``count`` probes ``interval``    idle + interval × count
                                apart), on our side and the server's
a statement that runs or waits  the server's ``statement_timeout``                          ``statement_timeout_s``
a pool with no live connection  the pool's wait for one                                     ``pool_timeout_s``
==============================  =========================================================  ====================

Each raises ``psycopg.OperationalError`` (or the pool's ``PoolTimeout``, one too), which the unit of work reports as
:class:`~service.ports.StorageUnavailable`: the Kafka loop pauses, workers and the relay retry.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from psycopg.conninfo import conninfo_to_dict


@dataclass(frozen=True, slots=True)
class ConnectionLimits:
    #: libpq's connect timeout (whole seconds; libpq treats less than 2 as 2).
    connect_timeout_s: int = 5
    #: TCP keepalives, on our sockets and (as session settings) the server's: a connection with nothing to say is
    #: probed after ``keepalives_idle_s`` and dropped after ``keepalives_count`` unanswered probes.
    keepalives_idle_s: int = 10
    keepalives_interval_s: int = 5
    keepalives_count: int = 3
    #: Data sent and not acknowledged for this long drops the connection (Linux ``TCP_USER_TIMEOUT``).
    tcp_user_timeout_s: float = 25.0
    #: The server cancels a statement that runs, or waits for a lock, longer than this. Above the longest
    #: legitimate statement (a day close's claim is flat, well under a second: docs/performance.md).
    statement_timeout_s: float = 120.0
    #: How long a unit of work waits for a pooled connection while none can be made.
    pool_timeout_s: float = 30.0

    def __post_init__(self) -> None:
        numbers = (self.connect_timeout_s, self.keepalives_idle_s, self.keepalives_interval_s, self.keepalives_count)
        if min(numbers) < 1 or min(self.tcp_user_timeout_s, self.statement_timeout_s, self.pool_timeout_s) <= 0:
            raise ValueError("connection limits must be positive")

    @property
    def idle_detection_s(self) -> int:
        """How long an idle connection to a silent server lives at most (keepalives)."""
        return self.keepalives_idle_s + self.keepalives_interval_s * self.keepalives_count

    def connect_kwargs(self, database_url: str = "") -> dict[str, Any]:
        """libpq parameters for ``psycopg.connect`` / a pool's ``kwargs``. ``options`` the URL already carries are
        kept, ours appended (a later ``-c`` wins in PostgreSQL)."""
        user_timeout_ms = max(1, round(self.tcp_user_timeout_s * 1000))
        server = {
            "statement_timeout": f"{max(1, round(self.statement_timeout_s * 1000))}ms",
            "tcp_keepalives_idle": str(self.keepalives_idle_s),
            "tcp_keepalives_interval": str(self.keepalives_interval_s),
            "tcp_keepalives_count": str(self.keepalives_count),
            "tcp_user_timeout": f"{user_timeout_ms}ms",
        }
        given = str(conninfo_to_dict(database_url).get("options") or "") if database_url else ""
        options = " ".join([*([given] if given else []), *(f"-c {k}={v}" for k, v in server.items())])
        return {
            "connect_timeout": self.connect_timeout_s,
            "keepalives": 1,
            "keepalives_idle": self.keepalives_idle_s,
            "keepalives_interval": self.keepalives_interval_s,
            "keepalives_count": self.keepalives_count,
            "tcp_user_timeout": user_timeout_ms,
            "options": options,
        }
