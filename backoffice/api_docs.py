"""Swagger UI for the API at ``/docs``, only when ``DAYCLOSE_API_DOCS=true``, served entirely by the API itself.

FastAPI's default page loads Swagger UI's script and style from a CDN (and a favicon from fastapi.tiangolo.com):
a browser on a locked-down network gets nothing, and every visit tells a third party our API's address. Here the
assets come from the ``fastapi-offline`` package (pinned in constraints.txt), mounted under :data:`ASSETS`; the
page requests nothing but this API. Off by default: the committed OpenAPI document
(``backoffice/openapi.json``) is the contract, and production has no use for a console at ``/docs``.
"""

from __future__ import annotations

from pathlib import Path

import fastapi_offline
from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

DOCS = "/docs"
ASSETS = "/docs/assets"
#: Swagger UI's bundle, its style and a favicon, as the package ships them.
STATIC = Path(fastapi_offline.__file__).with_name("static")


def add_swagger_ui(app: FastAPI) -> None:
    """``/docs`` (Swagger UI on ``app.openapi_url``) and its assets under ``/docs/assets``."""
    app.mount(ASSETS, StaticFiles(directory=STATIC), name="docs-assets")

    @app.get(DOCS, include_in_schema=False)
    def swagger_ui() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=app.openapi_url or "/openapi.json",
            title=f"{app.title} - Swagger UI",
            swagger_js_url=f"{ASSETS}/swagger-ui-bundle.js",
            swagger_css_url=f"{ASSETS}/swagger-ui.css",
            swagger_favicon_url=f"{ASSETS}/favicon.png",
        )
