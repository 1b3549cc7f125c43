"""A throw-away PostgreSQL (:class:`devstack.postgres.LocalPostgres`) as a process of its own::

python -m devstack.postgres_process    # start one, print its URL, live until SIGTERM
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
import time
from pathlib import Path

from devstack.postgres import LocalPostgres


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Run a throw-away PostgreSQL until SIGTERM.")
    parser.add_argument("--url-file", help="write the server URL to this file")
    args = parser.parse_args(argv)
    started = time.monotonic()
    server = LocalPostgres().start()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    try:
        if args.url_file:
            tmp = args.url_file + ".tmp"
            Path(tmp).write_text(server.url)
            os.replace(tmp, args.url_file)
        print(f"postgres ready in {time.monotonic() - started:.2f}s: {server.url}", flush=True)
        stop.wait()
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
