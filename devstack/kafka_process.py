"""librdkafka's mock cluster (:class:`devstack.kafka.MockKafkaCluster`) as a process of its own, so that separate
processes (the service, a benchmark's producers) share one cluster: ``python -m devstack.kafka_process`` runs it
(see :func:`main`); :func:`start_kafka_process` spawns that for tests and benchmarks.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Mapping
from pathlib import Path
from typing import NamedTuple

from devstack.kafka import MockKafkaCluster, MockKafkaError


def _parse_topic(spec: str) -> tuple[str, int]:
    name, _, partitions = spec.rpartition(":")
    if not name or not partitions.isdigit() or int(partitions) < 1:
        raise argparse.ArgumentTypeError(f"expected NAME:PARTITIONS, got {spec!r}")
    return name, int(partitions)


def _write_atomically(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    with os.fdopen(fd, "w") as f:
        f.write(text)
    os.replace(tmp, path)


def _stop_on_stdin_eof() -> None:
    """Our parent holds our stdin open; when it dies, EOF arrives and we stop too."""
    # os.read, not sys.stdin: a daemon thread blocked inside a buffered reader aborts shutdown.
    while os.read(sys.stdin.fileno(), 4096):
        pass
    os.kill(os.getpid(), signal.SIGTERM)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m devstack.kafka_process", description="Run librdkafka's mock Kafka cluster until SIGTERM."
    )
    parser.add_argument("--brokers", type=int, default=3)
    parser.add_argument("--topic", type=_parse_topic, action="append", default=[], metavar="NAME:PARTITIONS")
    parser.add_argument("--bootstrap-file", type=Path, help="write the bootstrap list here (atomically)")
    parser.add_argument("--stop-on-stdin-eof", action="store_true", help="exit when stdin closes")
    args = parser.parse_args(argv)

    # Block the stop signals before librdkafka starts its threads (they inherit the mask),
    # so exactly this thread receives them, in sigwait, and shuts the cluster down in order.
    stop_signals = {signal.SIGTERM, signal.SIGINT}
    signal.pthread_sigmask(signal.SIG_BLOCK, stop_signals)
    with MockKafkaCluster(args.brokers) as cluster:
        for name, partitions in args.topic:
            cluster.create_topic(name, partitions)
        if args.bootstrap_file:
            _write_atomically(args.bootstrap_file, cluster.bootstrap_servers + "\n")
        print(cluster.bootstrap_servers, flush=True)
        if args.stop_on_stdin_eof:
            threading.Thread(target=_stop_on_stdin_eof, daemon=True).start()
        received = signal.sigwait(stop_signals)
        print(f"stopping on {signal.Signals(received).name}", file=sys.stderr, flush=True)
    return 0


class KafkaProcess(NamedTuple):
    """A mock cluster in a child process; unpacks as ``(process, bootstrap_servers)``."""

    process: subprocess.Popen[bytes]
    bootstrap_servers: str

    def stop(self, timeout_s: float = 10.0) -> int:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout_s)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout_s)
        if self.process.stdin:
            self.process.stdin.close()
        return self.process.returncode


def start_kafka_process(
    brokers: int = 3, topics: Mapping[str, int] | None = None, *, timeout_s: float = 15.0
) -> KafkaProcess:
    """Spawn ``python -m devstack.kafka_process`` and wait (bounded) until its brokers listen."""
    bootstrap_file = Path(tempfile.mkdtemp(prefix="devstack-kafka-")) / "bootstrap"
    cmd = [sys.executable, "-m", "devstack.kafka_process", "--brokers", str(brokers)]
    cmd += [arg for name, n in (topics or {}).items() for arg in ("--topic", f"{name}:{n}")]
    cmd += ["--bootstrap-file", str(bootstrap_file), "--stop-on-stdin-eof"]
    process = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL)
    deadline = time.monotonic() + timeout_s
    while not bootstrap_file.exists():
        if process.poll() is not None:
            raise MockKafkaError(f"kafka process exited with {process.returncode} before it was ready")
        if time.monotonic() > deadline:
            KafkaProcess(process, "").stop()
            raise MockKafkaError(f"kafka process not ready within {timeout_s} s")
        time.sleep(0.01)  # polling a file the child writes once, under a deadline
    bootstrap = bootstrap_file.read_text().strip()
    shutil.rmtree(bootstrap_file.parent, ignore_errors=True)  # read once; the child never rewrites it
    return KafkaProcess(process, bootstrap)


if __name__ == "__main__":
    sys.exit(main())
