"""BL's endpoints as the stand-in answers them: token, company guard, and the routes we use."""

from __future__ import annotations

import base64
import random
import re
import uuid
from collections.abc import Callable
from email.parser import BytesParser
from email.policy import HTTP
from urllib.parse import parse_qs

from devstack.bl_standin.api_error import ApiFailure, bad
from devstack.bl_standin.booking import book
from devstack.bl_standin.journal import journal_batch, parse_date
from devstack.bl_standin.openapi import OpenApiDocument
from devstack.bl_standin.registry import Registry
from devstack.bl_standin.state import Company
from devstack.bl_standin.wire import Request, Response, json_response

Handler = Callable[[Company, Request, dict[str, str]], Response]


def token_endpoint(registry: Registry, request: Request) -> Response:
    """OAuth2 client credentials: form body (or HTTP Basic) → bearer token."""
    if request.method != "POST":
        return json_response(405, {"error": "invalid_request", "error_description": "POST only"})
    form = {k: v[0] for k, v in parse_qs(request.body.decode("utf-8", "replace")).items()}
    client_id, client_secret = form.get("client_id"), form.get("client_secret")
    auth = request.headers.get("authorization", "")
    if auth.lower().startswith("basic "):
        try:
            client_id, _, client_secret = base64.b64decode(auth[6:]).decode().partition(":")
        except ValueError:
            client_id = client_secret = None
    if form.get("grant_type") != "client_credentials":
        return json_response(400, {"error": "unsupported_grant_type", "error_description": "client_credentials only"})
    if not registry.credentials_ok(client_id, client_secret):
        return json_response(401, {"error": "invalid_client", "error_description": "Client authentication failed"})
    token, ttl = registry.issue_token()
    return json_response(
        200,
        {
            "access_token": token,
            "token_type": "Bearer",
            "expires_in": max(1, round(ttl)),
            "scope": "USER_IDENTITY",
        },
    )


class BLApi:
    def __init__(self, registry: Registry, openapi: OpenApiDocument, seed: int = 0) -> None:
        self.registry = registry
        self.openapi = openapi
        self._random = random.Random(seed)
        self.routes: list[tuple[str, re.Pattern[str], Handler]] = [
            ("GET", re.compile(r"^/details$"), self.details),
            ("GET", re.compile(r"^/financialyear$"), self.financial_years),
            ("GET", re.compile(r"^/financialyear/date/(?P<date>[^/]+)$"), self.financial_year_by_date),
            ("GET", re.compile(r"^/account$"), self.accounts),
            ("GET", re.compile(r"^/costcenter$"), self.cost_centres),
            ("POST", re.compile(r"^/journal$"), self.post_journal),
            ("GET", re.compile(r"^/journal/entry/batch$"), self.search_journal),
            (
                "GET",
                re.compile(r"^/journal/entry/(?P<series>[^/]+)/(?P<number>[0-9]+)/(?P<date>[^/]+)$"),
                self.get_journal_entry,
            ),
            ("POST", re.compile(r"^/document$"), self.post_document),
            ("GET", re.compile(r"^/document$"), self.list_documents),
            (
                "POST",
                re.compile(r"^/document/attachto/(?P<type>[^/]+)/(?P<entity>[0-9]+)$"),
                self.attach_new_document,
            ),
        ]

    def handle(self, request: Request) -> Response:  # noqa: PLR0911 - one exit per BL answer
        """Authenticate, find the company, validate the body, route. BL-shaped errors throughout."""
        bearer = request.headers.get("authorization", "")
        token = bearer[7:] if bearer.lower().startswith("bearer ") else None
        if not self.registry.token_valid(token):
            return json_response(401, {"error": "invalid_token", "error_description": "Token missing or expired"})
        if request.path == "/isalive":
            return json_response(200, {"alive": True})
        company = self.registry.company(request.headers.get("user-key"))
        if company is None:
            return self._unknown_key()
        if not company.activated:
            return json_response(
                403,
                ApiFailure(403, None, "The requested resource is out of allowed scope for this integration").body(),
            )
        for method, pattern, handler in self.routes:
            match = pattern.match(request.path)
            if match and method == request.method:
                try:
                    self._validate_body(request)
                    return handler(company, request, match.groupdict())
                except ApiFailure as failure:
                    return json_response(failure.status, failure.body())
        return json_response(
            404, ApiFailure(404, "RESOURCE_NOT_FOUND", f"No route {request.method} {request.path}").body()
        )

    def _unknown_key(self) -> Response:
        # BL answers an unknown User-Key with a 500 whose body is not stable: vary it.
        if self._random.random() < 0.5:
            return Response(500, f"Internal Server Error ({uuid.uuid4()})".encode(), "text/plain")
        return json_response(
            500,
            {
                "status": "500 INTERNAL_SERVER_ERROR",
                "message": "Unexpected error",
                "debugMessage": f"NullPointerException at {uuid.uuid4().hex[:8]}",
            },
        )

    def _validate_body(self, request: Request) -> None:
        schema = self.openapi.json_body_schema(request.method, request.path)
        if schema is None:
            return
        if request.content_type != "application/json":
            raise ApiFailure(415, None, f"Content type '{request.content_type}' not supported")
        try:
            body = request.json()
        except ValueError:
            raise bad("JSON_ERROR", "Malformed JSON request") from None
        problems = self.openapi.errors(schema, body)
        if problems:
            raise ApiFailure(
                400,
                "DESERIALIZATION_FAILED",
                "Request body does not match the schema",
                [{"object": "request", "field": p.split(":", 1)[0], "message": p} for p in problems],
            )

    # -- routes --------------------------------------------------------------------------

    def details(self, company: Company, request: Request, _: dict[str, str]) -> Response:
        return json_response(
            200,
            {
                "entityId": company.entity_id,
                "name": company.name,
                "orgNumber": company.org_number,
                "country": "Sverige",
            },
        )

    def financial_years(self, company: Company, request: Request, _: dict[str, str]) -> Response:
        with company.lock:
            return json_response(200, [fy.to_json(company.entity_id, None) for fy in company.financial_years])

    def financial_year_by_date(self, company: Company, request: Request, args: dict[str, str]) -> Response:
        day = parse_date(args["date"])
        fy = company.financial_year_for(day)
        if fy is None:
            raise ApiFailure(404, "FINANCIAL_YEAR_NOT_FOUND", f"No financial year for {day}")
        with company.lock:
            latest = max((e.entry_date for e in company.entries if e.financial_year_id == fy.id), default=None)
            return json_response(200, fy.to_json(company.entity_id, latest))

    def accounts(self, company: Company, request: Request, _: dict[str, str]) -> Response:
        with company.lock:
            return json_response(
                200,
                [
                    {
                        "entityId": company.entity_id,
                        "id": k,
                        "name": v["name"],
                        "closed": v["closed"],
                        "vatCode": v.get("vatCode", "0"),
                        "type": _account_type(k),
                    }
                    for k, v in sorted(company.accounts.items())
                ],
            )

    def cost_centres(self, company: Company, request: Request, _: dict[str, str]) -> Response:
        with company.lock:
            return json_response(
                200,
                [
                    {"entityId": company.entity_id, "id": k, "name": v["name"], "closed": v["closed"]}
                    for k, v in sorted(company.cost_centres.items())
                ],
            )

    def post_journal(self, company: Company, request: Request, _: dict[str, str]) -> Response:
        entry = book(company, request.json())
        with company.lock:
            return json_response(200, company.entry_json(entry))

    def search_journal(self, company: Company, request: Request, _: dict[str, str]) -> Response:
        return json_response(200, journal_batch(company, request.query))

    def get_journal_entry(self, company: Company, request: Request, args: dict[str, str]) -> Response:
        day = parse_date(args["date"])
        fy = company.financial_year_for(day)
        with company.lock:
            for entry in company.entries:
                if (
                    entry.journal_id == args["series"]
                    and entry.number == int(args["number"])
                    and fy is not None
                    and entry.financial_year_id == fy.id
                ):
                    return json_response(200, company.entry_json(entry))
        raise ApiFailure(404, "JOURNAL_ENTRY_NOT_FOUND", "Journal entry not found")

    def post_document(self, company: Company, request: Request, _: dict[str, str]) -> Response:
        if request.content_type != "multipart/form-data":
            raise ApiFailure(415, None, f"Content type '{request.content_type}' not supported")
        header = f"Content-Type: {request.headers['content-type']}\r\n\r\n".encode()
        message = BytesParser(policy=HTTP).parsebytes(header + request.body)
        for part in message.iter_parts():
            if part.get_param("name", header="content-disposition") == "file":
                payload = part.get_payload(decode=True)
                content = payload if isinstance(payload, bytes) else b""
                if not content:
                    raise bad("FILE_IS_EMPTY", "The file is empty")
                name = part.get_filename() or "document"
                return json_response(200, company.add_document(name, content, part.get_content_type()))
        raise bad("FILE_DATA_OR_FILE_NAME_MISSING", "Multipart part 'file' is missing")

    def attach_new_document(self, company: Company, request: Request, args: dict[str, str]) -> Response:
        """``POST /document/attachto/{entityType}/{entityId}?fileName=…`` with ``{"data": base64}``."""
        if args["type"].upper() != "JOURNAL":
            raise bad("ENTITY_TYPE_NOT_SUPPORTED", f"The stand-in attaches to JOURNAL only, not {args['type']}")
        body = request.json()
        try:
            content = base64.b64decode(str(body.get("data") or ""), validate=True)
        except ValueError:
            raise bad("VALUE_INVALID", "data must be base64") from None
        if not content:
            raise bad("FILE_IS_EMPTY", "The file is empty")
        name = request.query.get("fileName") or "document"
        content_type = "application/pdf" if content.startswith(b"%PDF-") else "application/octet-stream"
        return json_response(200, company.attach_new_document(int(args["entity"]), name, content, content_type))

    def list_documents(self, company: Company, request: Request, _: dict[str, str]) -> Response:
        with company.lock:
            return json_response(200, [company.document_json(doc_id) for doc_id in sorted(company.documents)])


def _account_type(account: str) -> str:
    return {"1": "asset", "2": "liability"}.get(account[0], "income" if account[0] == "3" else "expense")


def query_dict(raw: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(raw, keep_blank_values=True).items()}


__all__ = ["BLApi", "query_dict", "token_endpoint"]
