"""`dayclose api` as its own process, configured from the environment as operators run it."""

from __future__ import annotations

import socket
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from devstack.processes import ServiceProcess, service_env
from tests.integration.api.conftest import Api
from tests.promtool import check_metrics
from tests.tokens import SERVICE_TOKEN, mint


@contextmanager
def api_process(api: Api, tmp_path: Path) -> Iterator[tuple[ServiceProcess, str]]:
    """``dayclose api`` as operators run it, ready; stopped with SIGTERM afterwards."""
    env = service_env(api.settings, DAYCLOSE_API_TOKENS=f"old:{'o' * 40},{SERVICE_TOKEN.reveal()}")
    url = f"http://127.0.0.1:{env['DAYCLOSE_HTTP_PORT']}"
    process = ServiceProcess(env, tmp_path / "api.log", argv=(sys.executable, "-m", "dayclose", "api")).start()
    try:
        deadline = time.monotonic() + 20
        ready = None
        while time.monotonic() < deadline and process.alive:
            try:
                ready = httpx.get(f"{url}/readyz", timeout=1)
                break
            except httpx.TransportError:
                time.sleep(0.1)  # polling a deadline loop while the process starts
        assert ready is not None and ready.status_code == 200, process.log_tail()
        yield process, url
    finally:
        # uvicorn shuts down gracefully, then re-raises the SIGTERM it caught: -15 is its clean exit.
        assert process.stop() in (0, -15), process.log_tail()


def test_dayclose_api_serves_until_sigterm(api: Api, tmp_path: Path) -> None:
    with api_process(api, tmp_path) as (_process, url):
        assert httpx.get(f"{url}/v1/organizations/org-p/bjorn-lunden").status_code == 401
        token = mint("org-p")
        r = httpx.get(f"{url}/v1/organizations/org-p/bjorn-lunden", headers={"Authorization": f"Bearer {token}"})
        assert (r.status_code, r.json()["status"]) == (200, "setup")
        scrape = httpx.get(f"{url}/metrics").content
    log = (tmp_path / "api.log").read_text()
    assert "Application shutdown complete" in log
    assert '"route": "/v1/organizations/{organization_id}/bjorn-lunden"' in log and "org-p" not in log
    # the scrape of the real process: its own series only, with the requests above by route template
    check_metrics(scrape)
    assert b'dayclose_build_info{process="api"' in scrape and b"dayclose_events_consumed" not in scrape
    assert (
        b'dayclose_api_requests_total{method="GET",route="/v1/organizations/{organization_id}/bjorn-lunden",'
        b'status="401"} 1.0' in scrape
    )


# --- an anonymous 100 MB upload (#13) -----------------------------------------------------------------------

UPLOAD_BYTES = 100 * 1024 * 1024
#: What the process may grow by while refusing it: allocator noise, not the body (which once cost 168 MB).
MAX_GROWTH_BYTES = 4 * 1024 * 1024


def rss_bytes(pid: int) -> tuple[int, int]:
    """(current resident memory, its high-water mark) of a process, from the kernel."""
    fields = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines() if ":" in line)
    return int(fields["VmRSS"].split()[0]) * 1024, int(fields["VmHWM"].split()[0]) * 1024


def upload(url: str, path: str, size: int, chunked: bool, token: str | None = None) -> bytes:
    """PUT ``size`` bytes over a raw socket, reading the answer while still sending (the server may answer,
    and close, long before the body is through). Returns what the server sent."""
    host, port = url.removeprefix("http://").split(":")
    head = [
        f"PUT {path} HTTP/1.1",
        f"Host: {host}",
        "Content-Type: application/json",
        "Transfer-Encoding: chunked" if chunked else f"Content-Length: {size}",
        *([f"Authorization: Bearer {token}"] if token else []),
    ]
    piece = b"a" * 65536
    answer = bytearray()
    with socket.create_connection((host, int(port)), timeout=60) as sock:
        reader = threading.Thread(target=_read_all, args=(sock, answer), daemon=True)
        reader.start()
        try:
            sock.sendall("\r\n".join(head).encode() + b"\r\n\r\n")
            for _ in range(size // len(piece)):
                sock.sendall(b"10000\r\n" + piece + b"\r\n" if chunked else piece)
            sock.sendall(b"0\r\n\r\n" if chunked else b"")
        except OSError:
            pass  # the server stopped reading and closed: the point of the limit
        reader.join(60)
    return bytes(answer)


def _read_all(sock: socket.socket, into: bytearray) -> None:
    try:
        while chunk := sock.recv(65536):
            into.extend(chunk)
    except OSError:
        return


def test_an_anonymous_100_mb_upload_does_not_grow_the_api_process(api: Api, tmp_path: Path) -> None:
    """Finding 2: the body was read whole before authentication; 100 MB grew the process by 168 MB for good.
    Now a declared 100 MB is refused with 413 before a byte is read, an undeclared (chunked) one without a
    token with 401 before a byte is read, and with a token with 413 after the limit plus a chunk; memory
    stays where it was."""
    path = "/v1/organizations/org-p/bjorn-lunden/key"
    token = mint("org-p")
    cases = [(False, None), (True, None), (True, token)]  # (chunked, token)
    with api_process(api, tmp_path) as (process, url):
        for chunked, with_token in cases:  # warm up: first requests import and allocate what later ones reuse
            upload(url, path, 4 * 1024 * 1024, chunked, with_token)
            httpx.put(f"{url}{path}", json={"public_key": "x"})
        before, peak_before = rss_bytes(process.pid)
        answers = [upload(url, path, UPLOAD_BYTES, chunked, with_token) for chunked, with_token in cases]
        after, peak_after = rss_bytes(process.pid)
        still_serving = httpx.get(f"{url}/readyz").status_code
    print(
        f"API process RSS before {before / 2**20:.1f} MiB, after {after / 2**20:.1f} MiB; "
        f"peak before {peak_before / 2**20:.1f} MiB, after {peak_after / 2**20:.1f} MiB"
    )
    statuses = [answer.split(b" ", 2)[1] for answer in answers]
    assert statuses == [b"413", b"401", b"413"], [a[:300] for a in answers]
    assert all(b"connection: close" in answer.lower() for answer in answers)
    assert after - before <= MAX_GROWTH_BYTES and peak_after - peak_before <= MAX_GROWTH_BYTES
    assert still_serving == 200
