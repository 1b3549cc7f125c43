"""A throw-away PostgreSQL server from Debian's binaries, on a free loopback port, for tests and the demo.

``initdb``/``pg_ctl`` refuse to run as root, so when we are root they run as the ``postgres``
system user (created by Debian's package). When ``DATABASE_URL`` is set, :func:`postgres_from_env`
hands that database out instead and starts nothing. :mod:`devstack.postgres_process` runs one as a process of its
own.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg import sql

from devstack.ports import free_port

SUPERUSER = "dayclose"


class PostgresUnavailable(RuntimeError):
    """No PostgreSQL server binaries on this machine (and no DATABASE_URL)."""


def find_bin_dir() -> Path:
    """Newest ``/usr/lib/postgresql/<v>/bin`` with initdb, or the dir of ``initdb`` on PATH."""
    candidates = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/initdb"),
        key=lambda p: int(Path(p).parent.parent.name) if Path(p).parent.parent.name.isdigit() else 0,
    )
    if candidates:
        return Path(candidates[-1]).parent
    on_path = shutil.which("initdb")
    if on_path:
        return Path(on_path).parent
    raise PostgresUnavailable(
        "PostgreSQL server binaries not found; install them (apt-get install postgresql) or set DATABASE_URL"
    )


def with_dbname(url: str, dbname: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path="/" + dbname))


@dataclass
class _RunAs:
    uid: int | None
    gid: int | None

    def preexec(self) -> None:  # pragma: no cover - runs in the child
        if self.gid is not None:
            os.setgid(self.gid)
        if self.uid is not None:
            os.setuid(self.uid)


class LocalPostgres:
    """A private PostgreSQL cluster in a temp dir. ``start()`` takes about a second; ``stop()`` removes it."""

    def __init__(
        self,
        *,
        durable: bool = False,
        base_dir: str | None = None,
        listen: tuple[str, ...] = ("127.0.0.1",),
        settings: dict[str, str] | None = None,
        clients: tuple[str, ...] = (),
    ) -> None:
        """``listen``: the addresses it accepts connections on (a fault test adds a link's, devstack.netfault), and
        ``clients`` the networks (CIDR) it trusts besides loopback;
        ``settings``: more server settings (``-c name=value``), over the defaults."""
        self.bin_dir = find_bin_dir()
        self.durable = durable
        self.listen = listen
        self.settings = dict(settings or {})
        self.clients = clients
        self.port = 0
        self._base_dir = base_dir
        self._tmp: str | None = None
        self._run_as = _RunAs(None, None)
        self._options = ""
        self._lock = threading.Lock()

    @property
    def url(self) -> str:
        return f"postgresql://{SUPERUSER}@127.0.0.1:{self.port}/postgres"

    @property
    def data_dir(self) -> Path:
        if self._tmp is None:
            raise RuntimeError("the server has no data directory: it was never started")
        return Path(self._tmp) / "data"

    def _run(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            args,
            check=True,
            capture_output=True,
            text=True,
            preexec_fn=self._run_as.preexec if self._run_as.uid is not None else None,  # noqa: PLW1509
            cwd=self._tmp,
            timeout=60,
        )

    def start(self) -> LocalPostgres:
        self._tmp = tempfile.mkdtemp(prefix="dayclose-pg-", dir=self._base_dir)
        if os.geteuid() == 0:
            user = pwd.getpwnam("postgres")
            self._run_as = _RunAs(user.pw_uid, user.pw_gid)
            os.chown(self._tmp, user.pw_uid, user.pw_gid)
        sock_dir = Path(self._tmp)
        initdb = [
            str(self.bin_dir / "initdb"),
            "-D",
            str(self.data_dir),
            "-U",
            SUPERUSER,
            "--auth=trust",
            "--encoding=UTF8",
            "--locale=C",
        ]
        if not self.durable:
            initdb.append("--no-sync")
        try:
            self._run(*initdb)
        except subprocess.CalledProcessError as exc:
            raise PostgresUnavailable(f"initdb failed: {exc.stderr.strip()}") from exc
        if self.clients:
            with (self.data_dir / "pg_hba.conf").open("a") as hba:
                hba.writelines(f"host all all {network} trust\n" for network in self.clients)
        opts = [
            f"-c listen_addresses={','.join(self.listen)} -c unix_socket_directories={sock_dir}",
            "-c max_connections=200 -c shared_buffers=64MB",
        ]
        if not self.durable:
            opts.append("-c fsync=off -c synchronous_commit=off -c full_page_writes=off")
        # Last, so they win. A test that SIGKILLs the server (crash()) needs synchronous_commit=on: otherwise a
        # commit's WAL may still be in shared memory, and lost with it (fsync=off only bets on the OS surviving).
        opts += [f"-c {k}={v}" for k, v in self.settings.items()]
        for attempt in range(5):  # the port can be taken between picking it and binding it
            self.port = free_port()
            self._options = f"-p {self.port} " + " ".join(opts)
            try:
                self._pg_ctl_start()
                return self
            except subprocess.CalledProcessError as exc:
                if attempt == 4:
                    log = (Path(self._tmp) / "server.log").read_text(errors="replace")[-2000:]
                    raise PostgresUnavailable(f"pg_ctl start failed: {exc.stderr.strip()}\n{log}") from exc
        raise AssertionError("unreachable")

    def _pg_ctl_start(self) -> None:
        self._run(
            str(self.bin_dir / "pg_ctl"),
            "-D",
            str(self.data_dir),
            "-l",
            str(Path(str(self._tmp)) / "server.log"),
            "-w",
            "-t",
            "30",
            "-o",
            self._options,
            "start",
        )

    def restart(self, mode: str = "fast") -> None:
        """Stop and start the same cluster with the same options, on the same port (for fault tests)."""
        self.halt(mode)
        self.resume()

    def halt(self, mode: str = "fast") -> None:
        """Stop the server but keep its data: ``resume()`` brings it back on the same port (fault tests)."""
        self._run(str(self.bin_dir / "pg_ctl"), "-D", str(self.data_dir), "-m", mode, "-w", "stop")

    def resume(self) -> None:
        self._pg_ctl_start()

    def crash(self) -> int:
        """SIGKILL the server and every backend at once, as a machine losing the process would: no shutdown
        checkpoint, transactions in flight lost; ``resume()`` then runs crash recovery on the same data directory
        and port. Returns how many processes were killed."""
        pid_file = self.data_dir / "postmaster.pid"
        try:
            postmaster = int(pid_file.read_text().split("\n", 1)[0])
        except (OSError, ValueError):
            return 0
        family = [postmaster, *_children(postmaster)]
        for pid in family:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        # Until the postmaster's pid is gone (reaped, not just a zombie: its lock file names it) a new server
        # refuses to start. Init reaps it, here within a second or so; bounded by the deadline.
        deadline = time.monotonic() + 30
        while any(Path(f"/proc/{pid}").exists() for pid in family):
            if time.monotonic() > deadline:
                raise PostgresUnavailable(f"postgres processes not reaped 30 s after SIGKILL: {family}")
            time.sleep(0.05)
        return len(family)

    def is_up(self) -> bool:
        """Whether the server answers (pg_ctl status)."""
        try:
            self._run(str(self.bin_dir / "pg_ctl"), "-D", str(self.data_dir), "status")
        except subprocess.CalledProcessError:
            return False
        return True

    def stop(self) -> None:
        if self._tmp is None:
            return
        try:
            self._run(str(self.bin_dir / "pg_ctl"), "-D", str(self.data_dir), "-m", "immediate", "-w", "stop")
        except (subprocess.CalledProcessError, subprocess.TimeoutExpired):
            pass
        shutil.rmtree(self._tmp, ignore_errors=True)
        self._tmp = None

    def __enter__(self) -> LocalPostgres:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _children(parent: int) -> list[int]:
    """Direct children of ``parent`` (a postmaster's backends and auxiliary processes), from /proc."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[1]) == parent:
            found.append(int(stat.parent.name))
    return found


class ExternalPostgres:
    """A server given by ``DATABASE_URL``; nothing is started or stopped."""

    def __init__(self, url: str) -> None:
        self.url = url

    def start(self) -> ExternalPostgres:
        return self

    def stop(self) -> None:
        pass


def postgres_from_env() -> LocalPostgres | ExternalPostgres:
    url = os.environ.get("DATABASE_URL", "").strip()
    return ExternalPostgres(url) if url else LocalPostgres()


def create_database(server_url: str, name: str, template: str | None = None) -> str:
    """Create database ``name`` on the server (optionally from a template) and return its URL."""
    with psycopg.connect(server_url, autocommit=True) as conn:
        stmt = sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name))
        if template:
            stmt = sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(sql.Identifier(name), sql.Identifier(template))
        conn.execute(stmt)
    return with_dbname(server_url, name)


def drop_database(server_url: str, name: str) -> None:
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
