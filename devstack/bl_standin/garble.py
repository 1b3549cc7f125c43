"""Answers that look like answers (#24): what a gateway, a proxy or a stuck backend sends instead of BL's.

:func:`garbled` turns BL's real response into the fault's; :class:`Stall` and :class:`Drop` are written by the
server's handler (they need the socket): a body that never finishes, a response lost or sent too late.
"""

from __future__ import annotations

from dataclasses import dataclass

from devstack.bl_standin.wire import Response, json_response

#: What nginx, fronting BL's gateway, sends when its upstream failed: HTML, not BL's ApiError JSON.
GATEWAY_PAGE = (
    b"<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
    b"<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"
)


@dataclass
class Drop:
    """Lose the response: reset the connection after holding it open ``hold_s`` seconds; or, with ``late``, send
    it whole after ``hold_s`` (slower than the client's timeout)."""

    hold_s: float
    late: Response | None = None


@dataclass
class Stall:
    """A 200 whose body never finishes: headers and half the body, then a byte every ``interval_s`` until
    ``hold_s`` has passed, then a reset."""

    response: Response
    hold_s: float
    interval_s: float


def gateway_page() -> Response:
    return Response(502, GATEWAY_PAGE, "text/html")


def token_refused() -> Response:
    """BL's answer to a bearer token it no longer accepts."""
    return json_response(401, {"error": "invalid_token", "error_description": "Token missing or expired"})


def garbled(kind: str | None, response: Response, hold_s: float, interval_s: float) -> Response | Stall:
    """BL's ``response`` to a request it processed, as the fault ``kind`` delivers it."""
    if kind == "stall" and len(response.body) > 1:
        return Stall(response, hold_s, interval_s)
    if kind == "truncate" and response.body:
        return Response(response.status, response.body[: max(1, len(response.body) // 2)], response.content_type)
    if kind == "gateway":
        return gateway_page()
    return response
