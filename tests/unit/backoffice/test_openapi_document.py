"""The committed OpenAPI document is the app's own: BackOffice generates its client from the file."""

from __future__ import annotations

import json

from backoffice.openapi_doc import PATH, document


def test_committed_document_matches_the_app() -> None:
    committed = json.loads(PATH.read_text(encoding="utf-8"))
    assert committed == document(), "backoffice/openapi.json is stale: run `python -m backoffice.openapi_doc`"


def test_every_organization_operation_requires_a_bearer_token() -> None:
    doc = document()
    for path, operations in doc["paths"].items():
        for method, op in operations.items():
            if path.startswith("/v1/organizations/"):
                assert op.get("security") == [{"HTTPBearer": []}], f"{method} {path}"
                assert {"401", "403"} <= set(op["responses"]), f"{method} {path}"
