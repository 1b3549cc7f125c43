"""One pod's processes as the kernel sees them: ``dayclose run`` and, with ``DAYCLOSE_CONSUMER_PROCESSES`` above 1,
the consumer processes it supervises (its children, :mod:`dayclose.supervisor`). CPU (user + system) summed over all
of them, and each one's peak resident memory (``VmHWM``), read from ``/proc``.

The children are found by their parent id (every ``/proc/<pid>/stat``), and their number is checked against the
setting: a figure summed over fewer processes than the pod runs would look cheaper than it is.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

TICK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(stat: Path) -> float:
    """User + system CPU of the process (or thread) whose ``/proc/…/stat`` is ``stat``; 0 when it is gone."""
    try:
        fields = stat.read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / TICK


def children_of(pid: int) -> list[int]:
    """The processes whose parent is ``pid`` (now), in pid order."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # ended meanwhile
        if int(fields[1]) == pid:
            found.append(int(entry.name))
    return sorted(found)


def tree_cpu_seconds(pid: int) -> float:
    """User + system CPU of ``pid``, of its children it has reaped (a PostgreSQL backend that ended) and of those
    alive now: a server and its workers, e.g. PostgreSQL's postmaster."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    own = sum(int(v) for v in fields[11:15]) / TICK  # utime, stime, cutime, cstime
    return own + sum(cpu_seconds(Path(f"/proc/{child}/stat")) for child in children_of(pid))


def peak_rss_bytes(pid: int) -> int:
    """The kernel's high-water mark of ``pid``'s resident memory (0 when it is gone)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    except OSError:
        return 0
    return 0


@dataclass(frozen=True)
class Pod:
    """``pid`` (what the pod started) and the consumer processes it supervises (none when it is the only one)."""

    pid: int
    children: tuple[int, ...]

    @classmethod
    def of(cls, pid: int, processes: int) -> Pod:
        """The pod started as ``pid`` with ``processes`` consumer processes: its children must number exactly that
        (none for one process: ``dayclose run`` then consumes itself)."""
        children = tuple(children_of(pid)) if processes > 1 else ()
        expected = processes if processes > 1 else 0
        if len(children) != expected or (processes == 1 and children_of(pid)):
            raise RuntimeError(f"pod {pid}: {processes} consumer process(es) set, children {children_of(pid)}")
        return cls(pid, children)

    @property
    def pids(self) -> tuple[int, ...]:
        return (self.pid, *self.children)

    def cpu_seconds(self) -> dict[int, float]:
        """User + system CPU of each process of the pod so far, by pid (each one's threads; a child that ended would
        read 0, so :meth:`check` is called at the end of a measurement)."""
        return {pid: cpu_seconds(Path(f"/proc/{pid}/stat")) for pid in self.pids}

    def check(self) -> None:
        """Raise unless the pod still runs the same processes (none ended or was replaced)."""
        now = tuple(children_of(self.pid)) if self.children else ()
        if now != self.children:
            raise RuntimeError(f"pod {self.pid}: children were {self.children}, now {now}")

    def peak_rss_bytes(self) -> dict[int, int]:
        """Each process's peak RSS so far, by pid (the supervisor first)."""
        return {pid: peak_rss_bytes(pid) for pid in self.pids}


def rig_cpu_seconds(pod: Pod, postgres_data_dir: Path) -> dict[str, float]:
    """CPU seconds so far of what shares this node's cores with the pod: the pod's processes, PostgreSQL (the
    postmaster named in its pid file, and its backends) and this process (the BL stand-in, the mock broker and the
    benchmark's own clients run in it)."""
    postmaster = int((postgres_data_dir / "postmaster.pid").read_text().split("\n", 1)[0])
    return {
        "pod": sum(pod.cpu_seconds().values()),
        "postgres": tree_cpu_seconds(postmaster),
        "stand_in_broker_bench": cpu_seconds(Path(f"/proc/{os.getpid()}/stat")),
    }


def machine_busy_seconds() -> float:
    """CPU seconds every core of the machine spent busy so far (``/proc/stat``: all but idle and I/O wait): the
    pod, and on this rig PostgreSQL, the BL stand-in, the mock broker and the benchmark too."""
    fields = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:9]]
    user, nice, system, _idle, _iowait, irq, softirq, steal = fields
    return (user + nice + system + irq + softirq + steal) / TICK
