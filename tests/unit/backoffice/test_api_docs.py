"""Swagger UI: off unless asked for, and when on, served by the API alone (no CDN, no third-party request)."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from backoffice.api_docs import STATIC
from backoffice.app import create_app
from backoffice.auth import TokenVerifier
from backoffice.context import Context
from backoffice.openapi_doc import _no_uow, _NoBL, _NoChecks, _NoReports
from service.secrets import Secret


def app(docs: bool) -> TestClient:
    verifier = TokenVerifier((Secret("k:" + "x" * 32),))
    ctx = Context(uow=_no_uow, bl=_NoBL(), verifier=verifier, sales_retention_days=400, reports=_NoReports())
    return TestClient(create_app(ctx, _NoChecks(), max_body_bytes=1024, docs=docs))


def test_there_is_no_docs_page_unless_enabled() -> None:
    with app(docs=False) as client:
        assert client.get("/docs").status_code == 404
        assert client.get("/redoc").status_code == 404
        assert client.get("/docs/assets/swagger-ui-bundle.js").status_code == 404


def test_the_docs_page_and_everything_it_loads_come_from_the_api_itself() -> None:
    with app(docs=True) as client:
        page = client.get("/docs")
        assert page.status_code == 200 and "SwaggerUIBundle" in page.text
        loaded = re.findall(r"""(?:src|href)=["']([^"']+)["']""", page.text) + re.findall(r"url: '([^']+)'", page.text)
        assert loaded and all(url.startswith("/") and not url.startswith("//") for url in loaded), loaded
        assert "http" not in page.text.lower().replace("http-equiv", "")
        for url in loaded:
            assert client.get(url).status_code == 200, url
        script = client.get("/docs/assets/swagger-ui-bundle.js")
        assert "javascript" in script.headers["content-type"] and len(script.content) > 100_000
        assert client.get("/openapi.json").json()["info"]["title"] == "dayclose BackOffice API"
    assert (STATIC / "swagger-ui.css").is_file()
