"""The stand-in's HTTP layer: a threaded stdlib server with keep-alive that tracks its connections, and the
handler that writes each outcome: BL's response, a lost one (:class:`Drop`) or one that never finishes
(:class:`Stall`)."""

from __future__ import annotations

import socket
import struct
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from devstack.bl_standin.garble import Drop, Stall
from devstack.bl_standin.wire import Response

if TYPE_CHECKING:
    from devstack.bl_standin.server import BLStandIn


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 256

    def __init__(self, address: tuple[str, int], standin: BLStandIn) -> None:
        self.standin = standin
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        super().__init__(address, Handler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        if isinstance(sys.exc_info()[1], ConnectionError):
            return  # a client that hung up (its timeout, or its process ended): normal for a test server
        super().handle_error(request, client_address)

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._connections_lock:
            self._connections.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self._connections_lock:
            self._connections.discard(request)
        super().shutdown_request(request)

    def close_all_connections(self) -> None:
        with self._connections_lock:
            connections = list(self._connections)
        for conn in connections:
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = 30  # idle keep-alive connections are closed after this
    server: Server

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        pass

    def do_GET(self) -> None:
        split = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        headers = {k.lower(): v for k, v in self.headers.items()}
        outcome = self.server.standin.serve(self.command, split.path, split.query, headers, body)
        if isinstance(outcome, Drop):
            if outcome.hold_s:
                self.server.standin.hold(outcome.hold_s)
            if outcome.late is not None:
                self._answer(outcome.late)
                return
            self._reset()
            return
        if isinstance(outcome, Stall):
            self._stall(outcome)
            return
        self._answer(outcome)

    def _reset(self) -> None:
        # SO_LINGER 0: closing sends a TCP RST, as a dying load balancer would.
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.close_connection = True

    def _stall(self, stall: Stall) -> None:
        """Headers for the whole body, half of it, then a byte now and then (never a whole read timeout's silence)
        until the hold is over; then a reset."""
        outcome, body = stall.response, stall.response.body
        self._head(outcome)
        half = len(body) // 2
        self.wfile.write(body[:half])
        self.wfile.flush()
        deadline = time.monotonic() + stall.hold_s
        for i in range(half, len(body) - 1):
            if time.monotonic() >= deadline:
                break
            self.server.standin.hold(stall.interval_s)
            self.wfile.write(body[i : i + 1])
            self.wfile.flush()
        self._reset()

    def _head(self, outcome: Response) -> None:
        self.send_response(outcome.status)
        self.send_header("Content-Type", outcome.content_type)
        self.send_header("Content-Length", str(len(outcome.body)))
        for name, value in outcome.headers.items():
            self.send_header(name, value)
        self.end_headers()

    def _answer(self, outcome: Response) -> None:
        self._head(outcome)
        self.wfile.write(outcome.body)

    do_POST = do_PUT = do_DELETE = do_PATCH = do_GET
