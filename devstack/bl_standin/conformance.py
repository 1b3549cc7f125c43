"""Does every request a client sent match BL's OpenAPI document? Used by the test fixtures.

Checked per recorded request: the path is an operation of the document under the base path,
query parameters are ones the operation declares, JSON bodies validate against the request
schema with undeclared properties refused, multipart uploads carry the ``file`` part, company
calls carry a ``User-Key``, and token requests are client-credentials forms.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from decimal import Decimal
from email.parser import BytesParser
from email.policy import HTTP
from pathlib import Path
from urllib.parse import parse_qs

from devstack.bl_standin.faults import RecordedRequest
from devstack.bl_standin.openapi import DOCUMENT, OpenApiDocument

BASE_PATH = "/bla-api/v1/sp"
TOKEN_PATH = "/auth/oauth/v2/token"  # noqa: S105 - a path
#: Query parameters BL accepts beyond the subset document: the batch endpoints page with ``page``
#: (their ``Batch`` answer reports ``pageRequested``), though the published parameter list omits it.
UNDOCUMENTED_QUERY = frozenset({"page"})


def request_problems(records: Iterable[RecordedRequest], document: Path | str = DOCUMENT) -> list[str]:
    doc = OpenApiDocument(document, strict=True)
    problems: list[str] = []
    for record in records:
        where = f"{record.method} {record.path}"
        problems.extend(f"{where}: {p}" for p in _problems(doc, record))
    return problems


def _problems(doc: OpenApiDocument, record: RecordedRequest) -> list[str]:  # noqa: PLR0911 - one per rule
    if record.path == TOKEN_PATH:
        return _token_problems(record)
    if not record.path.startswith(BASE_PATH + "/"):
        return ["outside the API base path"]
    path = record.path[len(BASE_PATH) :]
    found = doc.operation(record.method, path)
    if found is None:
        return ["no such operation in the OpenAPI document"]
    _, operation = found
    problems = []
    if not record.user_key:
        problems.append("no User-Key header")
    declared = {p["name"] for p in operation.get("parameters", []) if p.get("in") == "query"}
    unknown = set(parse_qs(record.query, keep_blank_values=True)) - declared - UNDOCUMENTED_QUERY
    if unknown:
        problems.append(f"undeclared query parameters {sorted(unknown)}")
    content = operation.get("requestBody", {}).get("content", {})
    if not content:
        if record.body:
            problems.append("a body where the operation takes none")
        return problems
    if record.content_type not in content:
        return [*problems, f"content type {record.content_type!r} not one of {sorted(content)}"]
    if record.content_type == "application/json":
        try:
            body = json.loads(record.body, parse_float=Decimal)
        except ValueError:
            return [*problems, "body is not JSON"]
        problems.extend(doc.errors(content["application/json"]["schema"], body))
    elif record.content_type == "multipart/form-data":
        problems.extend(_multipart_problems(record))
    return problems


def _token_problems(record: RecordedRequest) -> list[str]:
    if record.method != "POST" or record.content_type != "application/x-www-form-urlencoded":
        return ["token request must be a POSTed form"]
    form = parse_qs(record.body.decode())
    if form.get("grant_type") != ["client_credentials"] or not form.get("client_id"):
        return ["token request is not a client-credentials grant"]
    return []


def _multipart_problems(record: RecordedRequest) -> list[str]:
    return [] if _has_file_part(record) else ["multipart without a non-empty 'file' part"]


def _has_file_part(record: RecordedRequest) -> bool:
    boundary = record.body.split(b"\r\n", 1)[0][2:].decode()
    header = f'Content-Type: multipart/form-data; boundary="{boundary}"\r\n\r\n'.encode()
    message = BytesParser(policy=HTTP).parsebytes(header + record.body)
    return any(
        p.get_param("name", header="content-disposition") == "file" and p.get_payload(decode=True)
        for p in message.iter_parts()
    )
