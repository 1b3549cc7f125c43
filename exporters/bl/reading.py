"""Reading a BL response whole, within a deadline: a read timeout bounds each wait for a byte, not a body that
trickles in a byte at a time (#24), nor one that stops short of its Content-Length."""

from __future__ import annotations

import time

import requests
from urllib3.exceptions import HTTPError as Urllib3Error


def read_body(response: requests.Response, deadline: float) -> None:
    """Read the whole body now, by ``deadline`` (``time.monotonic()``), so ``response.content`` is ready: a read
    timeout bounds each wait for a byte, this the whole (a 200 whose body trickles in forever, #24). Each read
    waits at most the read timeout, so the last one may end up to that much past the deadline. A body cut off or
    too slow raises :class:`requests.ConnectionError`: the request may have been processed."""
    parts: list[bytes] = []
    try:
        while chunk := _next_chunk(response, deadline):
            parts.append(chunk)
    except requests.ConnectionError:
        response.close()
        raise
    except (Urllib3Error, OSError) as exc:  # a read timeout, a reset, a body shorter than its Content-Length
        response.close()
        raise requests.ConnectionError(f"response body cut off ({type(exc).__name__})") from None
    # requests' own place for a body read in full (what ``Response.content`` fills when it reads it).
    response._content = b"".join(parts)  # noqa: SLF001
    response._content_consumed = True  # noqa: SLF001
    response.close()  # the body is read: the connection goes back to the pool


def _next_chunk(response: requests.Response, deadline: float) -> bytes:
    if time.monotonic() > deadline:
        raise requests.ConnectionError(f"response not complete within the timeout (HTTP {response.status_code})")
    chunk: bytes = response.raw.read1(65536, decode_content=True)
    return chunk
