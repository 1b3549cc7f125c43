"""The midnight benchmark's pod (issue #27): its CPU and memory are summed over every process the pod runs, and a
figure is refused when a process is missing or was replaced, so a pod of two is never measured as cheaper than it is."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from bench.midnight import nights_of
from bench.pod import Pod, children_of, rig_cpu_seconds

#: A parent that starts two children which burn a little CPU, then waits (a stand-in for the supervisor).
PARENT = """
import subprocess, sys
busy = "import time\\nend = time.process_time() + 0.2\\nwhile time.process_time() < end: pass\\ntime.sleep(60)"
children = [subprocess.Popen([sys.executable, "-c", busy]) for _ in range(2)]
print("started", flush=True)
for c in children: c.wait()
"""


@pytest.fixture
def parent() -> Iterator[subprocess.Popen[str]]:
    proc = subprocess.Popen([sys.executable, "-c", PARENT], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None and proc.stdout.readline().strip() == "started"
    yield proc
    for child in children_of(proc.pid):
        subprocess.run(["kill", str(child)], check=False)
    proc.kill()
    proc.wait()


def test_the_pods_cpu_and_memory_cover_the_supervisor_and_each_child(parent: subprocess.Popen[str]) -> None:
    pod = Pod.of(parent.pid, 2)
    assert len(pod.children) == 2 and pod.pids[0] == parent.pid
    deadline = time.monotonic() + 20
    while min(pod.cpu_seconds()[c] for c in pod.children) < 0.15 and time.monotonic() < deadline:
        time.sleep(0.05)  # polling /proc until each child has burnt its CPU, not hiding a race
    cpu = pod.cpu_seconds()
    assert set(cpu) == set(pod.pids) and all(cpu[c] >= 0.15 for c in pod.children)
    assert all(rss > 0 for rss in pod.peak_rss_bytes().values())
    pod.check()


def test_a_pod_with_fewer_or_other_processes_than_set_is_refused(parent: subprocess.Popen[str]) -> None:
    with pytest.raises(RuntimeError, match="3 consumer process"):
        Pod.of(parent.pid, 3)
    with pytest.raises(RuntimeError, match="1 consumer process"):
        Pod.of(parent.pid, 1)  # one process set, but it runs children: not what the setting says
    pod = Pod.of(parent.pid, 2)
    subprocess.run(["kill", str(pod.children[0])], check=True)
    deadline = time.monotonic() + 20
    while pod.children[0] in children_of(parent.pid) and time.monotonic() < deadline:
        time.sleep(0.05)  # until the kernel reaps it
    with pytest.raises(RuntimeError, match="children were"):
        pod.check()


def test_the_rig_counts_the_pod_postgres_with_its_backends_and_this_process(tmp_path: Path) -> None:
    (tmp_path / "postmaster.pid").write_text(f"{os.getppid()}\n/data\n")  # a server: this test's parent
    rig = rig_cpu_seconds(Pod(os.getpid(), ()), tmp_path)
    assert set(rig) == {"pod", "postgres", "stand_in_broker_bench"} and rig["postgres"] > 0


def test_a_pod_of_two_books_a_third_night_with_one_to_compare() -> None:
    assert [(n, p) for n, _, p in nights_of(2, compare=True)] == [
        ("cold", 2),
        ("steady", 2),
        ("steady-one-process", 1),
    ]
    assert [(n, p) for n, _, p in nights_of(2, compare=False)] == [("cold", 2), ("steady", 2)]
    assert [(n, p) for n, _, p in nights_of(1, compare=True)] == [("cold", 1), ("steady", 1)]
