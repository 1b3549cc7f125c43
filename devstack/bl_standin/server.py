"""The stand-in's HTTP server: a threaded stdlib server with keep-alive, faults and a request log."""

from __future__ import annotations

import threading
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

from devstack.bl_standin import admin, chart
from devstack.bl_standin.api import BLApi, query_dict, token_endpoint
from devstack.bl_standin.api_error import ApiFailure
from devstack.bl_standin.faults import Decision, FaultInjector, Faults, RecordedRequest, RequestLog
from devstack.bl_standin.garble import Drop, Stall, garbled, gateway_page, token_refused
from devstack.bl_standin.httpserver import Server
from devstack.bl_standin.openapi import DOCUMENT, OpenApiDocument
from devstack.bl_standin.registry import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, Registry
from devstack.bl_standin.state import Company
from devstack.bl_standin.wire import Request, Response, json_response

BASE_PATH = "/bla-api/v1/sp"
TOKEN_PATH = "/auth/oauth/v2/token"  # noqa: S105 - a path, not a password
#: A GUID, like every BL User-Key (the API refuses anything else as KEY_MALFORMED); fixed, so it can be typed.
DEMO_USER_KEY = "de300000-c0de-4000-8000-000000000001"


class BLStandIn:
    """A local Björn Lundén API on a loopback port. ``with BLStandIn() as bl: bl.base_url``."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        client_id: str = DEFAULT_CLIENT_ID,
        client_secret: str = DEFAULT_CLIENT_SECRET,
        token_ttl_s: float = 3600.0,
        openapi_path: Path | str = DOCUMENT,
        seed: int = 0,
    ) -> None:
        self.registry = Registry(client_id, client_secret, token_ttl_s)
        self.openapi = OpenApiDocument(openapi_path)
        self.api = BLApi(self.registry, self.openapi, seed)
        self.injector = FaultInjector()
        self.requests = RequestLog()
        self._address = (host, port)
        self._server: Server | None = None
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()

    # -- lifecycle ------------------------------------------------------------------------

    def start(self) -> BLStandIn:
        if self._server is not None:
            return self
        self._stopping.clear()
        self._server = Server(self._address, self)
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.1}, name="bl-standin", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is None:
            return
        self._stopping.set()  # releases handlers holding dropped responses or sleeping latency
        self._server.shutdown()
        self._server.close_all_connections()
        self._server.server_close()
        if self._thread:
            self._thread.join(timeout=5)
        self._server = self._thread = None

    def __enter__(self) -> BLStandIn:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("stand-in not started")
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        return f"http://{self._address[0]}:{self.port}"

    @property
    def base_url(self) -> str:
        return self.url + BASE_PATH

    @property
    def token_url(self) -> str:
        return self.url + TOKEN_PATH

    @property
    def client_id(self) -> str:
        return self.registry.client_id

    @property
    def client_secret(self) -> str:
        return self.registry.client_secret

    # -- companies, faults, inspection ------------------------------------------------------

    def register_company(
        self,
        user_key: str | None = None,
        name: str = "Demo Café AB",
        org_number: str = "5566778899",
        activated: bool = True,
        fiscal_years: tuple[int, ...] | list[int] = chart.DEFAULT_FISCAL_YEARS,
    ) -> Company:
        return self.registry.register(user_key, name, org_number, activated, tuple(fiscal_years))

    def seed_demo_company(self) -> Company:
        return self.registry.company(DEMO_USER_KEY) or self.register_company(DEMO_USER_KEY, "Demo Café AB")

    def company(self, user_key: str) -> Company:
        company = self.registry.company(user_key)
        if company is None:
            raise KeyError("no company with that user key")
        return company

    def vouchers(self, user_key: str) -> list[dict[str, Any]]:
        """Every voucher booked for the company, in booking order, as BL's ``JournalEntry`` JSON."""
        company = self.company(user_key)
        with company.lock:
            return [company.entry_json(e) for e in company.entries]

    def documents(self, user_key: str) -> list[dict[str, Any]]:
        """Every document the company holds, with its bytes and the vouchers it is attached to
        (``vouchers``: ``[(series, number, financial year id)]``)."""
        company = self.company(user_key)
        with company.lock:
            by_entity = {e.entity_id: e for e in company.entries}
            return [
                {
                    "id": doc_id,
                    "name": doc["name"],
                    "content_type": doc["contentType"],
                    "content": doc["content"],
                    "vouchers": [
                        (by_entity[i].journal_id, by_entity[i].number, by_entity[i].financial_year_id)
                        for i in doc["attached_to"]
                        if i in by_entity
                    ],
                }
                for doc_id, doc in sorted(company.documents.items())
            ]

    def attachments(self, user_key: str, series: str, number: int) -> list[dict[str, Any]]:
        """The documents attached to voucher ``series number`` (any fiscal year)."""
        return [d for d in self.documents(user_key) if any(v[:2] == (series, number) for v in d["vouchers"])]

    @property
    def faults(self) -> Faults:
        return self.injector.faults

    def set_faults(self, faults: Faults | None = None, **knobs: Any) -> Faults:
        """Replace the faults: ``set_faults(throttle_next=5, retry_after_s=0)``. Counters restart."""
        new = replace(faults or Faults(), **knobs)
        self.injector.set(new)
        return new

    def reset_faults(self) -> None:
        self.injector.set(Faults())

    def expire_tokens(self) -> int:
        return self.registry.expire_tokens()

    @property
    def token_ttl_s(self) -> float:
        return self.registry.token_ttl_s

    @token_ttl_s.setter
    def token_ttl_s(self, value: float) -> None:
        self.registry.token_ttl_s = value

    def stats(self) -> dict[str, Any]:
        return {
            "requests": len(self.requests.all()),
            "peak_1s": self.requests.peak_rate(1.0),
            "per_second": self.requests.per_second(),
            "tokens_issued": self.registry.tokens_issued,
            "faults_remaining": self.injector.remaining(),
        }

    # -- one request --------------------------------------------------------------------

    def serve(
        self, method: str, path: str, query: str, headers: dict[str, str], body: bytes
    ) -> Response | Drop | Stall:
        request = Request(method, path, query_dict(query), headers, body)
        if path.startswith("/_admin"):
            return admin.handle(self, request)
        record = RecordedRequest(0.0, method, path, query, request.content_type, body, headers.get("user-key"))
        record.at = _now()
        self.requests.add(record)
        decision = self.injector.decide(method, path)
        if decision.delay_s:
            self._stopping.wait(decision.delay_s)
        if decision.reset:
            return Drop(0.0)
        response = self._fault_answer(decision) or self._answer(request)
        record.status = response.status
        f = self.faults
        if decision.drop_after_commit and response.status == 200:
            if f.drop_mode == "late":
                return Drop(f.drop_hold_s, late=response)
            return Drop(f.drop_hold_s if f.drop_mode == "timeout" else 0.0)
        if decision.garble and decision.status is None:
            return garbled(decision.garble, response, f.drop_hold_s, f.stall_interval_s)
        return response

    @staticmethod
    def _fault_answer(decision: Decision) -> Response | None:
        """The answer a fault gives instead of processing the request, if any."""
        if decision.status == 429:
            extra = {} if decision.retry_after_s is None else {"Retry-After": str(decision.retry_after_s)}
            return json_response(429, ApiFailure(429, None, "Too many requests").body(), extra)
        if decision.unauthorized:
            return token_refused()
        if decision.garble == "gateway" and decision.status:  # before processing; after: garbled()
            return gateway_page()
        if decision.refuse_document:
            # The stand-in's stand-in for whatever makes BL refuse a file (type, size, quota).
            return json_response(400, ApiFailure(400, "FILE_NOT_ALLOWED", "The document was not accepted").body())
        if decision.status:
            return json_response(
                decision.status,
                ApiFailure(decision.status, "INTERNAL_SERVER_ERROR", "Service temporarily unavailable").body(),
            )
        return None

    def _answer(self, request: Request) -> Response:
        if request.path == TOKEN_PATH:
            return token_endpoint(self.registry, request)
        if request.path.startswith(BASE_PATH + "/"):
            return self.api.handle(replace(request, path=request.path[len(BASE_PATH) :]))
        return json_response(404, {"error": f"nothing at {request.path}"})

    def hold(self, seconds: float) -> None:
        self._stopping.wait(seconds)


def _now() -> float:
    return time.monotonic()
