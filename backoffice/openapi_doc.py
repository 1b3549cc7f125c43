"""The committed OpenAPI document (backoffice/openapi.json): ``python -m backoffice.openapi_doc`` rewrites it
from the app; a test fails when the two differ."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from fastapi import FastAPI

from backoffice.auth import TokenVerifier
from backoffice.context import Context
from mapping.periods import FiscalYear
from service.exporter import Attachment, Chart, ChartNames, CompanyDetails
from service.model import ReportSource
from service.secrets import Secret

PATH = Path(__file__).with_name("openapi.json")


class _NoBL:
    def verify(self, user_key: str) -> CompanyDetails:
        raise NotImplementedError

    def chart(self, user_key: str) -> Chart:
        raise NotImplementedError

    def fiscal_years(self, user_key: str) -> list[FiscalYear]:
        raise NotImplementedError


class _NoReports:
    def render(self, source: ReportSource, names: ChartNames) -> Attachment:
        raise NotImplementedError


class _NoChecks:
    def liveness(self) -> tuple[bool, dict[str, Any]]:
        raise NotImplementedError

    def readiness(self) -> tuple[bool, dict[str, Any]]:
        raise NotImplementedError


def _no_uow() -> Any:
    raise NotImplementedError


def app_without_io() -> FastAPI:
    """The app with placeholder adapters: enough to build its OpenAPI document (or to be refused by it)."""
    from backoffice.app import create_app

    ctx = Context(
        uow=_no_uow,
        bl=_NoBL(),
        verifier=TokenVerifier((Secret("unused:" + "x" * 32),)),
        sales_retention_days=400,
        reports=_NoReports(),
    )
    return create_app(ctx, _NoChecks(), max_body_bytes=256 * 1024)


def document() -> dict[str, Any]:
    """The app's OpenAPI document, built without any I/O."""
    return app_without_io().openapi()


def render() -> str:
    return json.dumps(document(), indent=2, ensure_ascii=False, sort_keys=True) + "\n"


if __name__ == "__main__":
    PATH.write_text(render(), encoding="utf-8")
    print(f"wrote {PATH}")
